// End-to-end: disclosure on application through the real gongkaid and gongkai.
#include <catch2/catch.hpp>

#include "gongkai/disclosure/calendar.h"
#include "support/calendar.h"
#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::Slurp;
using gongkai::test::WriteFile;

namespace {

// A daemon whose calendar is the project's holiday files.
void UseShippedCalendar(DaemonProcess& d) {
  WriteFile(d.config(), Slurp(d.config()) + "[disclosure]\nagency = 測試鄉人民政府\ncalendar = " +
                            gongkai::test::kShippedCalendar + "\n");
}

}  // namespace

TEST_CASE("e2e: working days over HTTP and the CLI, by the shipped holiday calendar", "[e2e]") {
  DaemonProcess d;
  UseShippedCalendar(d);
  d.Start();

  // Anonymous callers may count: the National Day week and its worked Saturday.
  auto r = d.Get("/api/v1/calendar/workdays?from=2026-09-30&add=3");
  REQUIRE(r.status == 200);
  CHECK(r.body == R"({"from":"2026-09-30","add":3,"date":"2026-10-10","provisional":false})");
  // Into 2027, whose notice is not out: provisional, never a silent Monday to Friday.
  r = d.Get("/api/v1/calendar/workdays?from=2026-12-04&add=20");
  REQUIRE(r.status == 200);
  CHECK(r.json()->getValue<std::string>("date") == "2027-01-01");
  CHECK(r.json()->getValue<bool>("provisional"));

  for (const char* bad :
       {"from=2026-02-30&add=1", "from=2026-09-30&add=-1", "from=2026-09-30&add=1001",
        "from=2026-09-30", "add=3", "from=%E4%BA%8C&add=3", "from=2026-09-30&add=3x"}) {
    INFO(bad);
    r = d.Get(std::string("/api/v1/calendar/workdays?") + bad);
    CHECK(r.status == 400);
    CHECK(r.json()->getObject("error")->getValue<std::string>("code") == "bad_request");
  }

  auto cli = d.Cli("workdays 2026-09-18 1");
  CHECK(cli.exit_code == 0);
  CHECK(cli.out == "2026-09-20\n");  // Friday -> the worked Sunday
  cli = d.Cli("workdays 2026-12-04 20 --json");
  CHECK(cli.exit_code == 0);
  CHECK(cli.out == R"({"from":"2026-12-04","add":20,"date":"2027-01-01","provisional":true})"
                   "\n");
  CHECK(d.Cli("workdays 2026-13-01 1").exit_code == 2);
  CHECK(d.Cli("workdays 2026-09-18 lots").exit_code == 2);

  const std::string log = d.log();
  CHECK(log.find("calendar: holiday data for 2007-2026") != std::string::npos);
  // From 1 November the missing next year is named in the log (once a day).
  if (!NextYearWarning(gongkai::test::ShippedCalendar(), gongkai::disclosure::LocalToday()).empty())
    CHECK(d.Eventually([&] { return d.log().find("no holiday data for") != std::string::npos; }));
}

TEST_CASE("e2e: a broken calendar file stops the start with one line naming it", "[e2e]") {
  DaemonProcess d;
  WriteFile(d.root() + "/calendar/2031.json", "{\"year\": 2031, \"days\": [oops]}");
  WriteFile(d.config(), Slurp(d.config()) + "[disclosure]\ncalendar = calendar\n");
  auto run = gongkai::test::RunCommand("timeout 60 " + std::string(GONGKAID_PATH) + " --config " +
                                       gongkai::test::Quote(d.config()) + " 2>&1");
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("cannot start") != std::string::npos);
  CHECK(run.out.find("calendar/2031.json") != std::string::npos);
}
