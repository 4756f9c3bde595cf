// The working-day calendar on real dates: the State Council's notices as the
// project ships them (data/calendar, holiday-cn files).
#include <catch2/catch.hpp>

#include "gongkai/disclosure/calendar.h"
#include "support/calendar.h"
#include "support/temp_dir.h"

using gongkai::disclosure::CalendarFolders;
using gongkai::disclosure::Date;
using gongkai::disclosure::FormatDate;
using gongkai::disclosure::NextYearWarning;
using gongkai::disclosure::ParseDate;
using gongkai::disclosure::WorkCalendar;
using gongkai::test::D;
using gongkai::test::TempDir;
using gongkai::test::WriteFile;

namespace {

// "YYYY-MM-DD" or "YYYY-MM-DD provisional": N working days after `from`.
std::string Add(const WorkCalendar& c, const char* from, int n) {
  auto due = c.AddWorkdays(D(from), n);
  return FormatDate(due.date) + (due.provisional ? " provisional" : "");
}

}  // namespace

TEST_CASE("calendar: dates are YYYY-MM-DD and exist", "[calendar]") {
  CHECK(ParseDate("2024-02-29").has_value());
  CHECK(FormatDate(D("2024-02-29")) == "2024-02-29");
  for (const char* bad : {"2026-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "2026-01-1",
                          "2026/01/01", " 2026-01-01", "2026-01-01 ", "", "二〇二六-01-01"})
    CHECK_FALSE(ParseDate(bad).has_value());
}

TEST_CASE("calendar: the shipped notices, 2007 to 2026 – 2027 not yet announced", "[calendar]") {
  const WorkCalendar& c = gongkai::test::ShippedCalendar();
  CHECK(c.Known(2007));
  CHECK(c.Known(2026));
  CHECK_FALSE(c.Known(2027));  // its file is there, with no days yet
  CHECK_FALSE(c.Known(2006));
}

TEST_CASE("calendar: National Day 2026, its 调休 Sunday and Saturday", "[calendar]") {
  const WorkCalendar& c = gongkai::test::ShippedCalendar();
  bool provisional = false;
  CHECK(c.IsWorkday(D("2026-09-20"), &provisional));  // Sunday, worked
  CHECK_FALSE(c.IsWorkday(D("2026-09-19")));          // the Saturday before is not
  CHECK_FALSE(c.IsWorkday(D("2026-09-25")));          // 中秋, a Friday
  for (const char* off : {"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-07"})
    CHECK_FALSE(c.IsWorkday(D(off)));
  CHECK(c.IsWorkday(D("2026-10-10")));  // Saturday, worked
  CHECK_FALSE(provisional);
  CHECK(Add(c, "2026-09-30", 3) == "2026-10-10");  // Oct 8, 9, and the Saturday
  CHECK(Add(c, "2026-09-18", 1) == "2026-09-20");  // Friday -> the worked Sunday
  // Received on the worked Sunday: the count starts on Monday, over 中秋 and the week.
  CHECK(Add(c, "2026-09-20", 20) == "2026-10-23");
  CHECK(c.WorkdaysBetween(D("2026-09-30"), D("2026-10-11")) == 3);
}

TEST_CASE("calendar: Spring Festival 2026 and 2025", "[calendar]") {
  const WorkCalendar& c = gongkai::test::ShippedCalendar();
  CHECK(c.IsWorkday(D("2026-02-14")));  // Saturday before, worked
  CHECK_FALSE(c.IsWorkday(D("2026-02-16")));
  CHECK_FALSE(c.IsWorkday(D("2026-02-23")));  // a Monday, still off
  CHECK(c.IsWorkday(D("2026-02-28")));        // Saturday after, worked
  CHECK(Add(c, "2026-02-13", 1) == "2026-02-14");
  CHECK(Add(c, "2026-02-13", 2) == "2026-02-24");
  CHECK(Add(c, "2025-01-24", 20) == "2025-02-27");
}

TEST_CASE("calendar: received on a Saturday, the count starts the day after", "[calendar]") {
  const WorkCalendar& c = gongkai::test::ShippedCalendar();
  CHECK(Add(c, "2026-03-07", 20) == "2026-04-03");  // ends the day before 清明 begins
  CHECK(Add(c, "2026-02-14", 0) == "2026-02-14");   // 0 working days: the date itself
}

TEST_CASE("calendar: across the year boundary, 元旦 and its worked Sunday", "[calendar]") {
  const WorkCalendar& c = gongkai::test::ShippedCalendar();
  CHECK_FALSE(c.IsWorkday(D("2026-01-02")));
  CHECK(c.IsWorkday(D("2026-01-04")));  // Sunday, worked
  CHECK(Add(c, "2025-12-20", 20) == "2026-01-19");
}

TEST_CASE("calendar: a year without data makes a count through it provisional", "[calendar]") {
  const WorkCalendar& c = gongkai::test::ShippedCalendar();
  CHECK(Add(c, "2026-12-01", 5) == "2026-12-08");  // stays in 2026
  CHECK(Add(c, "2026-12-04", 20) == "2027-01-01 provisional");
  bool provisional = false;
  CHECK(c.IsWorkday(D("2027-03-01"), &provisional));  // a Monday, as far as anyone knows
  CHECK(provisional);
  provisional = false;
  CHECK(c.WorkdaysBetween(D("2026-12-24"), D("2026-12-31"), &provisional) == 5);
  CHECK_FALSE(provisional);
  // An empty calendar knows nothing: every count is provisional, none is silent.
  CHECK(Add(WorkCalendar(), "2026-03-02", 1) == "2026-03-03 provisional");
}

TEST_CASE("calendar: an admin's folder adds a year or replaces one", "[calendar]") {
  TempDir dir;
  WriteFile(dir.path() + "/2027.json",
            R"({"year": 2027, "papers": [], "days": [
                 {"name": "元旦", "date": "2027-01-01", "isOffDay": true},
                 {"name": "春节", "date": "2027-02-07", "isOffDay": false}]})");
  WriteFile(dir.path() + "/README.txt", "not a year");
  auto c = WorkCalendar::Load(CalendarFolders(dir.path()));
  REQUIRE(c.ok());
  CHECK(CalendarFolders(dir.path()).size() == 2);
  auto both = WorkCalendar::Load({gongkai::test::kShippedCalendar, dir.path()});
  REQUIRE(both.ok());
  CHECK(both->Known(2027));
  CHECK(Add(*both, "2026-12-04", 20) == "2027-01-04");  // 2027-01-01 is off now
  CHECK(both->IsWorkday(D("2027-02-07")));              // a Sunday, worked
  // Replacing: the admin's 2026 has no National Day.
  WriteFile(dir.path() + "/2026.json",
            R"({"year": 2026, "days": [{"name": "x", "date": "2026-05-01", "isOffDay": true}]})");
  auto replaced = WorkCalendar::Load({gongkai::test::kShippedCalendar, dir.path()});
  REQUIRE(replaced.ok());
  CHECK(replaced->IsWorkday(D("2026-10-01")));
}

TEST_CASE("calendar: a broken file is an error naming it, not a silent Monday to Friday",
          "[calendar]") {
  TempDir dir;
  const auto load_error = [&](const std::string& text) {
    WriteFile(dir.path() + "/2030.json", text);
    auto c = WorkCalendar::Load({dir.path()});
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message().find("2030.json") != std::string::npos);
    return c.status().message();
  };
  CHECK(load_error("{not json").find("holiday-cn") != std::string::npos);
  CHECK(load_error(R"({"year": 2030})").find("days") != std::string::npos);
  CHECK(load_error(R"({"year": 2030, "days": [{"date": "2030-02-30", "isOffDay": true}]})")
            .find("YYYY-MM-DD") != std::string::npos);
  CHECK(load_error(R"({"year": 2030, "days": [{"date": "2035-01-01", "isOffDay": true}]})")
            .find("2035-01-01") != std::string::npos);
  CHECK(load_error(R"({"year": 2030, "days": [{"date": "2030-01-01"}]})").find("isOffDay") !=
        std::string::npos);
  CHECK(WorkCalendar::Load({dir.path() + "/no-such-folder"}).ok());
}

TEST_CASE("calendar: from 1 November the daemon warns when next year's notice is missing",
          "[calendar]") {
  const WorkCalendar& c = gongkai::test::ShippedCalendar();
  CHECK(NextYearWarning(c, D("2026-10-31")).empty());
  const std::string warning = NextYearWarning(c, D("2026-11-01"));
  CHECK(warning.find("2027") != std::string::npos);
  CHECK(warning.find("provisional") != std::string::npos);
  CHECK(NextYearWarning(c, D("2025-12-31")).empty());  // 2026 is known
}
