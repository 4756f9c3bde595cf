#include "gongkai/disclosure/calendar.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gongkai::disclosure {
namespace {

namespace fs = std::filesystem;
using std::chrono::days;

bool IsWeekend(Date date) {
  const std::chrono::weekday wd{date};
  return wd == std::chrono::Saturday || wd == std::chrono::Sunday;
}

// "2026.json" -> 2026; nullopt for other names (LICENSE, schema.json, ...).
std::optional<int> YearOfFileName(const std::string& name) {
  if (name.size() != 9 || name.substr(4) != ".json") return std::nullopt;
  for (size_t i = 0; i < 4; ++i)
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return std::nullopt;
  return std::stoi(name.substr(0, 4));
}

}  // namespace

std::optional<Date> ParseDate(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
  const auto number = [&](size_t at, size_t len) {
    return std::stoi(std::string(t.substr(at, len)));
  };
  const std::chrono::year_month_day ymd{std::chrono::year(number(0, 4)),
                                        std::chrono::month(static_cast<unsigned>(number(5, 2))),
                                        std::chrono::day(static_cast<unsigned>(number(8, 2)))};
  if (!ymd.ok()) return std::nullopt;
  return Date(ymd);
}

std::string FormatDate(Date date) {
  const std::chrono::year_month_day ymd{date};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

int YearOf(Date date) { return static_cast<int>(std::chrono::year_month_day{date}.year()); }

std::vector<std::string> CalendarFolders(const std::string& configured) {
  std::vector<std::string> folders{kPackagedCalendar};
  if (!configured.empty() && configured != kPackagedCalendar) folders.push_back(configured);
  return folders;
}

Date LocalToday() { return LocalDate(std::chrono::system_clock::now()); }

Date LocalDate(std::chrono::system_clock::time_point t) {
  const std::time_t now = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&now, &tm);
  return Date(std::chrono::year_month_day{std::chrono::year(tm.tm_year + 1900),
                                          std::chrono::month(static_cast<unsigned>(tm.tm_mon + 1)),
                                          std::chrono::day(static_cast<unsigned>(tm.tm_mday))});
}

Result<WorkCalendar> WorkCalendar::Load(const std::vector<std::string>& folders) {
  WorkCalendar calendar;
  for (const std::string& folder : folders) {
    std::error_code ec;
    const fs::file_status status = fs::status(folder, ec);
    if (status.type() == fs::file_type::not_found) continue;
    if (ec) return Status::IOError("calendar folder " + folder + ": " + ec.message());
    if (!fs::is_directory(status))
      return Status::Invalid("calendar " + folder + " is not a folder");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder, ec))
      if (YearOfFileName(entry.path().filename().string())) files.push_back(entry.path());
    if (ec) return Status::FromErrno(ec.value(), "calendar folder " + folder);
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      std::ifstream in(file, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      if (!in) return Status::FromErrno(errno, "cannot read calendar file " + file.string());
      if (Status s = calendar.AddYear(text.str(), file.string()); !s.ok()) return s;
    }
  }
  return calendar;
}

Status WorkCalendar::AddYear(const std::string& json, const std::string& source) {
  const auto bad = [&](const std::string& what) {
    return Status::Invalid("calendar file " + source + ": " + what);
  };
  std::map<Date, bool> days_listed;
  int year = 0;
  try {
    auto root = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
    if (!root || !root->has("year") || !root->isArray("days"))
      return bad("expected {\"year\": YYYY, \"days\": [...]} (the holiday-cn format)");
    year = root->getValue<int>("year");
    auto list = root->getArray("days");
    for (size_t i = 0; i < list->size(); ++i) {
      auto day = list->getObject(static_cast<unsigned>(i));
      if (!day || !day->has("date") || !day->has("isOffDay"))
        return bad("days[" + std::to_string(i) + "]: expected {\"date\", \"isOffDay\"}");
      const auto date = ParseDate(day->getValue<std::string>("date"));
      if (!date) return bad("days[" + std::to_string(i) + "]: date is not YYYY-MM-DD");
      const int y = YearOf(*date);
      if (y < year - 1 || y > year + 1)
        return bad(FormatDate(*date) + " is not in or beside the year " + std::to_string(year));
      days_listed[*date] = day->getValue<bool>("isOffDay");
    }
  } catch (const std::exception& e) {
    return bad(std::string("not valid JSON in the holiday-cn format: ") + e.what());
  }
  if (year < 1949 || year > 9999) return bad("year " + std::to_string(year) + " out of range");
  files_[year] = std::move(days_listed);
  Rebuild();
  return Status::OK();
}

void WorkCalendar::Rebuild() {
  listed_.clear();
  known_.clear();
  for (const auto& [year, listed] : files_) {
    if (listed.empty()) continue;
    known_.insert(year);
    for (const auto& [date, off] : listed) {
      // A date of the neighbouring year counts unless that year's own file lists it.
      const auto own = files_.find(YearOf(date));
      if (YearOf(date) == year || own == files_.end() || !own->second.count(date))
        listed_[date] = off;
    }
  }
}

bool WorkCalendar::IsWorkday(Date date, bool* provisional) const {
  if (auto it = listed_.find(date); it != listed_.end()) return !it->second;
  if (provisional && !Known(YearOf(date))) *provisional = true;
  return !IsWeekend(date);
}

CountedDate WorkCalendar::AddWorkdays(Date from, int n) const {
  CountedDate out{from, false};
  for (int left = n; left > 0;) {
    out.date += days(1);
    if (IsWorkday(out.date, &out.provisional)) --left;
  }
  return out;
}

int WorkCalendar::WorkdaysBetween(Date from, Date to, bool* provisional) const {
  int n = 0;
  for (Date d = from + days(1); d <= to; d += days(1))
    if (IsWorkday(d, provisional)) ++n;
  return n;
}

std::string NextYearWarning(const WorkCalendar& calendar, Date today) {
  const std::chrono::year_month_day ymd{today};
  const int next = static_cast<int>(ymd.year()) + 1;
  if (ymd.month() < std::chrono::November || calendar.Known(next)) return "";
  return "calendar: no holiday data for " + std::to_string(next) +
         " yet: deadlines reaching into it are provisional until " + std::to_string(next) +
         ".json (the State Council's notice, holiday-cn format) is added to the [disclosure] "
         "calendar folder or the package is updated";
}

std::string WorkdaysJson(const WorkCalendar& calendar, Date from, int add) {
  const CountedDate due = calendar.AddWorkdays(from, add);
  return "{\"from\":\"" + FormatDate(from) + "\",\"add\":" + std::to_string(add) + ",\"date\":\"" +
         FormatDate(due.date) + "\",\"provisional\":" + (due.provisional ? "true" : "false") + "}";
}

}  // namespace gongkai::disclosure
