// End-to-end: disclosure on application through the real gongkaid and gongkai.
#include <catch2/catch.hpp>

#include <atomic>
#include <random>
#include <thread>

#include "gongkai/disclosure/calendar.h"
#include "gongkai/disclosure/request.h"
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

namespace {

using gongkai::test::HttpResult;

// A daemon with the shipped calendar and the given [disclosure] limits.
void UseRequests(DaemonProcess& d, int forms_per_hour = 0, int lookups_per_minute = 0) {
  WriteFile(d.config(), Slurp(d.config()) +
                            "[disclosure]\ncalendar = " + gongkai::test::kShippedCalendar +
                            "\nforms_per_hour = " + std::to_string(forms_per_hour) +
                            "\nlookups_per_minute = " + std::to_string(lookups_per_minute) + "\n");
}

std::string Form(const std::string& name, const std::string& extra = "") {
  return R"({"applicant":{"type":"person","name":")" + name +
         R"(","contact":"13800138000"},"description":"请公开某某村土地征收补偿方案")" + extra + "}";
}

HttpResult Post(DaemonProcess& d, const std::string& path, const std::string& body,
                const std::string& token = "") {
  return d.Request("POST", path, token, {}, body);
}

std::string ErrorCode(const HttpResult& r) {
  return r.json()->getObject("error")->getValue<std::string>("code");
}

// "YYYY-MM-DD", `days` days before today.
std::string DaysAgo(int days) {
  return gongkai::disclosure::FormatDate(gongkai::disclosure::LocalToday() -
                                         std::chrono::days(days));
}

}  // namespace

TEST_CASE("e2e: a request from the online form to its reply, over HTTP", "[e2e]") {
  DaemonProcess d;
  UseRequests(d);
  d.Start();
  const std::string today = gongkai::disclosure::FormatDate(gongkai::disclosure::LocalToday());

  auto made = Post(d, "/api/v1/requests", Form("张三"));
  REQUIRE(made.status == 201);
  const auto answer = made.json();
  const std::string code = answer->getValue<std::string>("code");
  CHECK(code.size() == 24);  // 120 random bits
  CHECK(answer->getValue<std::string>("received") == today);
  CHECK(answer->getValue<std::string>("status") == "open");
  CHECK(answer->getValue<std::string>("due") ==
        gongkai::disclosure::FormatDate(gongkai::test::ShippedCalendar()
                                            .AddWorkdays(gongkai::disclosure::LocalToday(), 20)
                                            .date));

  // The public tracking view: status and dates, nothing personal.
  auto tracked = d.Get("/api/v1/requests/" + code);
  REQUIRE(tracked.status == 200);
  CHECK(tracked.body.find("张三") == std::string::npos);
  CHECK(tracked.body.find("13800138000") == std::string::npos);
  CHECK(tracked.body.find("土地征收") == std::string::npos);
  CHECK(tracked.json()->getValue<std::string>("channel") == "online");
  // An inspector sees the applicant.
  auto inspected = d.Get("/api/v1/requests/" + code, d.inspector());
  CHECK(inspected.json()->getObject("applicant")->getValue<std::string>("name") == "张三");

  // The admin's events; the impossible ones change nothing.
  const std::string events = "/api/v1/requests/" + code + "/events";
  CHECK(Post(d, events, R"({"event":"withdrawn","date":")" + today + "\"}").status == 401);
  CHECK(Post(d, events, R"({"event":"withdrawn","date":")" + today + "\"}", d.inspector()).status ==
        403);
  auto ext = Post(d, events,
                  R"({"event":"extended","date":")" + today +
                      R"(","days":20,"approved_by":"李四","note":"需要协调"})",
                  d.admin());
  REQUIRE(ext.status == 200);
  CHECK(ext.json()->getValue<bool>("extended"));
  const struct {
    std::string body;
    int status;
  } refused[] = {
      {R"({"event":"extended","date":")" + today + R"(","days":5,"approved_by":"李四"})", 409},
      {R"({"event":"supplemented","date":")" + today + "\"}", 409},
      {R"({"event":"replied","date":"2000-01-01","outcome":"disclosed"})", 409},
      {R"({"event":"replied","date":")" + today + R"(","outcome":"maybe"})", 400},
      {R"({"event":"replied","date":")" + today +
           R"(","outcome":"disclosed","reply_document":"nosuchdoc"})",
       409},
      {R"({"event":"received","date":")" + today + "\"}", 400},
      {R"({"event":"teleported","date":")" + today + "\"}", 400},
      {R"({"event":"withdrawn","date":"2026-02-30"})", 400},
      {R"({"event":"withdrawn","date":"9999-12-31"})", 409},
      {R"({"event":"extended","date":")" + today + R"(","days":"20"})", 400},
      {R"({"event":"withdrawn","date":)" + std::string("20261205}"), 400},
      {R"(["withdrawn"])", 400},
      {"not json at all", 400},
  };
  for (const auto& [body, status] : refused) {
    INFO(body);
    auto r = Post(d, events, body, d.admin());
    CHECK(r.status == status);
  }
  CHECK(Post(d, "/api/v1/requests/nosuchcode/events",
             R"({"event":"withdrawn","date":")" + today + "\"}", d.admin())
            .status == 404);
  auto still = d.Get("/api/v1/requests/" + code, d.admin()).json();
  CHECK(still->getArray("events")->size() == 2);

  auto replied = Post(
      d, events, R"({"event":"replied","date":")" + today + R"(","outcome":"partial"})", d.admin());
  REQUIRE(replied.status == 200);
  auto closed = d.Get("/api/v1/requests/" + code).json();
  CHECK(closed->getValue<std::string>("status") == "closed");
  CHECK(closed->getValue<std::string>("outcome") == "partial");
  CHECK(closed->getValue<std::string>("replied") == today);
  CHECK(closed->getArray("events")->size() == 3);

  // Another channel needs an admin, who gives the date of receipt.
  const std::string by_post =
      Form("王五", R"(,"channel":"post","received":")" + DaysAgo(40) + "\"");
  auto anonymous_post = Post(d, "/api/v1/requests", by_post);
  CHECK(anonymous_post.status == 403);
  auto registered = Post(d, "/api/v1/requests", by_post, d.admin());
  REQUIRE(registered.status == 201);
  const std::string late = registered.json()->getValue<std::string>("code");

  // The inspector's list: overdue first among the open ones.
  auto list = d.Get("/api/v1/requests?overdue=true", d.inspector());
  REQUIRE(list.status == 200);
  CHECK(list.json()->getValue<int64_t>("total") == 1);
  CHECK(list.json()->getArray("results")->getObject(0)->getValue<std::string>("code") == late);
  CHECK(d.Get("/api/v1/requests?status=closed", d.inspector()).json()->getValue<int64_t>("total") ==
        1);
  CHECK(d.Get("/api/v1/requests").status == 401);
  CHECK(d.Get("/api/v1/requests?status=lost", d.inspector()).status == 400);

  // The overdue one is in the status, the metrics and, once a day, the log.
  CHECK(d.Eventually([&] {
    return d.Get("/api/v1/status", d.inspector())
               .json()
               ->getObject("requests")
               ->getValue<int64_t>("overdue") == 1;
  }));
  CHECK(d.Get("/metrics", d.inspector()).body.find("gongkai_requests{state=\"overdue\"} 1") !=
        std::string::npos);
  CHECK(d.Eventually(
      [&] { return d.log().find("request " + late + " is OVERDUE") != std::string::npos; }));
  auto status = d.Cli("status");
  CHECK(status.out.find("1 overdue") != std::string::npos);
  CHECK(status.out.find(late + "  due") != std::string::npos);
}

TEST_CASE("e2e: hostile request bodies get a clear 4xx and leave nothing behind", "[e2e]") {
  DaemonProcess d;
  UseRequests(d);
  d.Start();
  const std::string huge(size_t{70} * 1024, 'x');
  const std::string long_name(600, 'a');
  const struct {
    std::string body;
    int status;
  } bad[] = {
      {"", 400},
      {"{", 400},
      {"[]", 400},
      {R"({"applicant":"张三","description":"x"})", 400},
      {R"({"applicant":{"name":"张三"},"description":"x"})", 400},  // no contact
      {R"({"applicant":{"name":"","contact":"1"},"description":"x"})", 400},
      {R"({"applicant":{"name":"张三","contact":"1"},"description":""})", 400},
      {R"({"applicant":{"name":")" + long_name + R"(","contact":"1"},"description":"x"})", 400},
      {R"({"applicant":{"name":"张三","contact":"1","type":"alien"},"description":"x"})", 400},
      {R"({"applicant":{"name":7,"contact":"1"},"description":"x"})", 400},
      {R"({"applicant":{"name":"张三","contact":"1"},"description":")" + huge + "\"}", 413},
      {R"({"applicant":{"name":"张三","contact":"1"},"description":"x","received":"2020-01-01"})",
       403},
  };
  for (const auto& [body, status] : bad) {
    INFO(body.substr(0, 120));
    auto r = Post(d, "/api/v1/requests", body);
    CHECK(r.status == status);
  }
  // An admin's date in the future, or a channel that is not one.
  CHECK(Post(d, "/api/v1/requests", Form("张三", R"(,"received":"2999-01-01","channel":"post")"),
             d.admin())
            .status == 400);
  CHECK(Post(d, "/api/v1/requests", Form("张三", R"(,"channel":"pigeon")"), d.admin()).status ==
        400);
  auto none = d.Get("/api/v1/requests", d.inspector()).json();
  CHECK(none->getValue<int64_t>("total") == 0);
  CHECK(d.Get("/api/v1/status", d.inspector()).json()->getValue<int64_t>("records") == 0);
}

TEST_CASE("e2e: forms and tracking lookups are rate-limited per address, the same for any code",
          "[e2e]") {
  DaemonProcess d;
  UseRequests(d, /*forms_per_hour=*/2, /*lookups_per_minute=*/3);
  d.Start();
  auto first = Post(d, "/api/v1/requests", Form("张三"));
  REQUIRE(first.status == 201);
  const std::string code = first.json()->getValue<std::string>("code");
  CHECK(Post(d, "/api/v1/requests", Form("李四")).status == 201);
  auto third = Post(d, "/api/v1/requests", Form("王五"));
  CHECK(third.status == 429);
  CHECK(ErrorCode(third) == "rate_limited");
  CHECK(Post(d, "/api/v1/requests", Form("王五"), d.admin()).status == 201);  // admins are not

  // Guessing: unknown codes are 404 like any, then everything is 429, the
  // real code too, with the same body.
  CHECK(d.Get("/api/v1/requests/aaaaaaaaaaaaaaaaaaaaaaaa").status == 404);
  CHECK(d.Get("/api/v1/requests/bbbbbbbbbbbbbbbbbbbbbbbb").status == 404);
  CHECK(d.Get("/api/v1/requests/" + code).status == 200);
  auto guessed = d.Get("/api/v1/requests/cccccccccccccccccccccccc");
  auto real = d.Get("/api/v1/requests/" + code);
  CHECK(guessed.status == 429);
  CHECK(real.status == 429);
  CHECK(guessed.body == real.body);
  CHECK(d.Get("/api/v1/requests/" + code, d.inspector()).status == 200);
}

TEST_CASE("e2e: concurrent events on one request: one extension, the rest refused", "[e2e]") {
  DaemonProcess d;
  UseRequests(d);
  d.Start();
  auto made = Post(d, "/api/v1/requests", Form("张三"));
  REQUIRE(made.status == 201);
  const std::string code = made.json()->getValue<std::string>("code");
  const std::string today = gongkai::disclosure::FormatDate(gongkai::disclosure::LocalToday());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, conflict{0}, other{0};
  threads.reserve(8);
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      auto r = Post(d, "/api/v1/requests/" + code + "/events",
                    R"({"event":"extended","date":")" + today + R"(","days":)" +
                        std::to_string(t + 1) + R"(,"approved_by":"局长"})",
                    d.admin());
      (r.status == 200 ? ok : r.status == 409 ? conflict : other)++;
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 1);
  CHECK(conflict == 7);
  CHECK(other == 0);
  CHECK(d.Get("/api/v1/requests/" + code, d.admin()).json()->getArray("events")->size() == 2);
  CHECK(d.Stop() == 0);
  auto verify = d.Cli("verify");
  INFO(verify.out);
  CHECK(verify.exit_code == 0);
}

TEST_CASE("e2e: gongkai requests add, event, list and show, with the daemon stopped and running",
          "[e2e]") {
  DaemonProcess d;
  UseRequests(d);
  d.Start();
  CHECK(d.Stop() == 0);  // the archive exists; now nothing runs
  const std::string received = DaysAgo(3);
  auto added = d.Cli(
      "requests add --name 赵六 --contact zhao@example.cn --description 预算公开 "
      "--channel post --received " +
      received + " --json");
  REQUIRE(added.exit_code == 0);
  Poco::JSON::Parser parser;
  const std::string code =
      parser.parse(added.out).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("code");
  CHECK(d.Cli("requests add --name x --contact y --description z --received 2999-01-01 2>&1")
            .exit_code == 1);
  CHECK(d.Cli("requests event " + code + " teleported 2>&1").exit_code == 2);

  d.Start();
  auto ext = d.Cli("requests event " + code + " extended --days 10 --approved-by 局长 --json");
  CHECK(ext.exit_code == 0);
  CHECK(d.Cli("requests event " + code + " extended --days 10 --approved-by 局长 2>&1").exit_code ==
        1);
  auto replied = d.Cli("requests event " + code + " replied --outcome unavailable.not_held");
  CHECK(replied.exit_code == 0);
  CHECK(replied.out.find("closed (unavailable.not_held)") != std::string::npos);
  auto list = d.Cli("requests list");
  CHECK(list.out.find(code + "  received " + received) != std::string::npos);
  auto show = d.Cli("requests show " + code);
  CHECK(show.out.find("赵六") != std::string::npos);
  CHECK(show.out.find("extended +10 working days, approved by 局长") != std::string::npos);
  CHECK(d.Cli("requests show nosuchcode 2>&1").exit_code == 1);
  // The daemon's HTTP view agrees with what the CLI recorded through it.
  auto viewed = d.Get("/api/v1/requests/" + code).json();
  CHECK(viewed->getValue<std::string>("outcome") == "unavailable.not_held");
  CHECK(viewed->getArray("events")->size() == 3);
}

TEST_CASE("e2e: personal data in requests reaches inspectors and nothing else (property)",
          "[e2e][privacy]") {
  DaemonProcess d;
  UseRequests(d, 1000, 1000);
  WriteFile(d.FilePath("pub", "公告.txt"), "本乡公告\n");  // so the export has a document too
  d.Start();
  d.WaitIdle(1);
  const unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  auto marker = [&](const char* prefix) {
    static const char kChars[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";
    std::string out = prefix;
    for (int i = 0; i < 10; ++i) out += kChars[rng() % 24];
    return out;
  };
  auto digits = [&](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += static_cast<char>('0' + rng() % 10);
    return out;
  };
  std::vector<std::string> secrets;  // every piece of personal data sent
  std::vector<std::string> answers;  // every answer an anonymous caller got
  std::vector<std::string> names;    // the applicants, for the positive control
  auto anonymous = [&](const HttpResult& r) {
    answers.push_back(r.body);
    return r;
  };
  const auto& outcomes = gongkai::disclosure::Outcomes();
  constexpr int kRequests = 12;
  for (int i = 0; i < kRequests; ++i) {
    const std::string name = marker("姓名"), id = digits(17) + "X", phone = "1" + digits(10),
                      address = marker("住址"), description = marker("描述"),
                      delivery = marker("方式"), note = marker("备注"), approver = marker("审批");
    for (const auto& s : {name, id, phone, address, description, delivery, note, approver})
      secrets.push_back(s);
    names.push_back(name);
    const std::string applicant = R"({"applicant":{"type":"person","name":")" + name +
                                  R"(","id_number":")" + id + R"(","contact":")" + phone +
                                  R"(","address":")" + address + R"("},"description":")" +
                                  description + R"(","delivery":")" + delivery + "\"";
    // The way in: the online form, an admin over HTTP, or the CLI; the
    // latter two with a date of receipt in the past.
    const int way = static_cast<int>(rng() % 3);
    const int age = way == 0 ? 0 : 20 + static_cast<int>(rng() % 40);
    std::string code;
    if (way == 0) {
      auto r = anonymous(Post(d, "/api/v1/requests", applicant + "}"));
      REQUIRE(r.status == 201);
      code = r.json()->getValue<std::string>("code");
    } else if (way == 1) {
      auto r =
          Post(d, "/api/v1/requests",
               applicant + R"(,"channel":"email","received":")" + DaysAgo(age) + "\"}", d.admin());
      REQUIRE(r.status == 201);
      code = r.json()->getValue<std::string>("code");
    } else {
      // The personal part through stdin, never on the command line.
      auto r = gongkai::test::RunCommand(
          "printf '%s' " + gongkai::test::Quote(applicant + "}") + " | " + GONGKAI_PATH +
          " --config " + gongkai::test::Quote(d.config()) +
          " requests add --json --channel fax --from - --received " + DaysAgo(age));
      REQUIRE(r.exit_code == 0);
      Poco::JSON::Parser parser;
      code = parser.parse(r.out).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("code");
    }
    // A random path through the events, dated from receipt to today.
    static const std::vector<std::vector<std::string>> kScripts = {
        {"supplement_requested", "supplemented", "replied"},
        {"consultation_started", "consultation_ended", "extended", "replied"},
        {"extended", "withdrawn"},
        {"abandoned"},
        {"supplement_requested", "abandoned"},
        {}};
    const auto& script = kScripts[rng() % kScripts.size()];
    int day = age;
    for (const std::string& event : script) {  // within the 20 working days
      day = std::max(0, day - static_cast<int>(rng() % 3));
      std::string body =
          R"({"event":")" + event + R"(","date":")" + DaysAgo(day) + R"(","note":")" + note + "\"";
      if (event == "extended")
        body += R"(,"days":)" + std::to_string(1 + rng() % 20) + R"(,"approved_by":")" + approver +
                "\"";
      if (event == "replied") body += R"(,"outcome":")" + outcomes[rng() % outcomes.size()] + "\"";
      auto r = Post(d, "/api/v1/requests/" + code + "/events", body + "}", d.admin());
      INFO(body);
      REQUIRE(r.status == 200);
    }
    // An impossible event carrying the same data is refused (and logged).
    auto refused =
        Post(d, "/api/v1/requests/" + code + "/events",
             R"({"event":"supplemented","date":")" + DaysAgo(0) + R"(","note":")" + note + "\"}",
             d.admin());
    CHECK(refused.status == 409);
    // What the public can ask.
    CHECK(anonymous(d.Get("/api/v1/requests/" + code)).status == 200);
    anonymous(d.Get("/api/v1/requests/" + code + "x"));
    anonymous(d.Get("/api/v1/search?q=" + name));
    anonymous(Post(d, "/api/v1/requests/" + code + "/events", R"({"event":"withdrawn"})"));
    anonymous(Post(d, "/api/v1/requests",
                   R"({"applicant":{"name":")" + name + R"("},"description":")" + description +
                       "\"}"));  // no contact: 400
  }
  anonymous(d.Get("/api/v1/requests"));
  anonymous(d.Get("/metrics"));
  anonymous(d.Get("/api/v1/log/checkpoint"));

  // Positive control: the data is there, for inspectors.
  const std::string listed = d.Get("/api/v1/requests", d.inspector()).body;
  for (const std::string& name : names) CHECK(listed.find(name) != std::string::npos);

  const std::string entries = d.Get("/api/v1/log/entries", d.inspector()).body;
  const std::string metrics = d.Get("/metrics", d.inspector()).body;
  const std::string status = d.Get("/api/v1/status", d.inspector()).body;
  CHECK(entries.find("request.received") != std::string::npos);
  const std::string bag = d.root() + "/requests-bag.tar";
  auto exported = d.Cli("export --out " + gongkai::test::Quote(bag));
  REQUIRE(exported.exit_code == 0);
  auto checked = d.Cli("verify-bag " + gongkai::test::Quote(bag) + " --json");
  INFO(checked.out);
  CHECK(checked.exit_code == 0);
  const std::string bag_bytes = Slurp(bag);
  CHECK(bag_bytes.find("request.received") != std::string::npos);  // request records are in it
  CHECK(d.Stop() == 0);
  auto verify = d.Cli("verify --json");
  INFO(verify.out);
  CHECK(verify.exit_code == 0);
  const std::string log = d.log();
  for (const std::string& s : secrets) {
    INFO("personal data " << s);
    for (const std::string& a : answers) CHECK(a.find(s) == std::string::npos);
    CHECK(entries.find(s) == std::string::npos);
    CHECK(metrics.find(s) == std::string::npos);
    CHECK(status.find(s) == std::string::npos);
    CHECK(bag_bytes.find(s) == std::string::npos);
    const size_t in_log = log.find(s);
    CHECK(in_log == std::string::npos);
    if (in_log != std::string::npos)  // the line, to see who wrote it
      FAIL_CHECK(log.substr(log.rfind('\n', in_log) + 1, 400));
    CHECK(verify.out.find(s) == std::string::npos);
  }
}

TEST_CASE("e2e: a reply letter must be restricted, and stays out of public view", "[e2e]") {
  DaemonProcess d;
  UseRequests(d);
  WriteFile(d.FilePath("pub", "答复书.txt"), "关于张三申请的答复：予以公开\n");
  d.Start();
  d.WaitIdle(1);
  const std::string doc = d.FirstId("答复书");
  REQUIRE_FALSE(doc.empty());
  CHECK(d.Get("/api/v1/documents/" + doc).status == 200);
  auto made = Post(d, "/api/v1/requests", Form("张三"));
  REQUIRE(made.status == 201);
  const std::string code = made.json()->getValue<std::string>("code");
  const std::string today = gongkai::disclosure::FormatDate(gongkai::disclosure::LocalToday());
  const std::string reply = R"({"event":"replied","date":")" + today +
                            R"(","outcome":"disclosed","reply_document":")" + doc + "\"}";
  // Public, it is refused (it may be the regulation that was handed over).
  auto refused = Post(d, "/api/v1/requests/" + code + "/events", reply, d.admin());
  CHECK(refused.status == 409);
  CHECK(refused.body.find("classify it restricted first") != std::string::npos);
  CHECK(d.Get("/api/v1/documents/" + doc).status == 200);
  REQUIRE(Post(d, "/api/v1/documents/" + doc + "/classification",
               R"({"classification":"restricted"})", d.admin())
              .status == 200);
  auto replied = Post(d, "/api/v1/requests/" + code + "/events", reply, d.admin());
  REQUIRE(replied.status == 200);
  CHECK(replied.json()->getArray("events")->getObject(1)->getValue<std::string>("reply_document") ==
        doc);
  // Not to the public, in no way; inspectors still see it.
  CHECK(d.Eventually([&] { return d.Get("/api/v1/documents/" + doc).status == 404; }));
  CHECK(d.Eventually([&] { return d.SearchPaths("答复书").empty(); }));
  CHECK(d.Get("/api/v1/documents/" + doc, d.inspector()).status == 200);
  // The tracking view does not name the letter.
  CHECK(d.Get("/api/v1/requests/" + code).body.find(doc) == std::string::npos);
  // Made public again by mistake, it still stays out of public view.
  auto published = Post(d, "/api/v1/documents/" + doc + "/classification",
                        R"({"classification":"public"})", d.admin());
  CHECK(published.status == 200);
  CHECK(d.Get("/api/v1/documents/" + doc).status == 404);
  CHECK(d.Eventually([&] { return !d.SearchPaths("答复书", d.inspector()).empty(); }));
  CHECK(d.SearchPaths("答复书").empty());
}

TEST_CASE("e2e: next year's holiday file is taken up by a reload", "[e2e]") {
  DaemonProcess d;
  // The admin's calendar folder: the shipped 2026 and, later, a 2027 file.
  WriteFile(d.root() + "/calendar/2026.json",
            Slurp(gongkai::test::kShippedCalendar + "/2026.json"));
  WriteFile(d.config(), Slurp(d.config()) + "[disclosure]\ncalendar = calendar\n");
  d.Start();
  const std::string path = "/api/v1/calendar/workdays?from=2026-12-25&add=10";
  REQUIRE(d.Get(path).json()->getValue<bool>("provisional"));
  // 2027 with New Year's Day off (and nothing else, for the test).
  WriteFile(
      d.root() + "/calendar/2027.json",
      R"({"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]})");
  const pid_t before = d.pid();
  d.RestartWithHup();
  CHECK(d.pid() == before);  // restarted in place
  auto counted = d.Get(path).json();
  CHECK_FALSE(counted->getValue<bool>("provisional"));
  // Dec 28-31, then Jan 4-8 and the 11th: the 1st is off.
  CHECK(counted->getValue<std::string>("date") == "2027-01-11");
  CHECK(d.log().find("the holiday files changed") != std::string::npos);
  // A reload with nothing changed restarts nothing.
  ::kill(d.pid(), SIGHUP);
  CHECK(d.Eventually([&] { return d.log().find("SIGHUP: reloaded") != std::string::npos; }));
}

TEST_CASE("e2e: the annual report's table 三 over HTTP and the CLI", "[e2e]") {
  DaemonProcess d;
  UseRequests(d);
  WriteFile(d.config(), Slurp(d.config()) + "agency = 测试乡人民政府\n");
  d.Start();
  const int year = gongkai::disclosure::YearOf(gongkai::disclosure::LocalToday());
  const std::string today = gongkai::disclosure::FormatDate(gongkai::disclosure::LocalToday());
  std::vector<std::string> codes;
  for (const char* type : {"person", "person", "business"}) {
    auto made = Post(d, "/api/v1/requests",
                     R"({"applicant":{"type":")" + std::string(type) +
                         R"(","name":"某人","contact":"1"},"description":"请公开"})");
    REQUIRE(made.status == 201);
    codes.push_back(made.json()->getValue<std::string>("code"));
  }
  REQUIRE(Post(d, "/api/v1/requests/" + codes[0] + "/events",
               R"({"event":"replied","date":")" + today + R"(","outcome":"disclosed"})", d.admin())
              .status == 200);
  const std::string path = "/api/v1/reports/annual?year=" + std::to_string(year);
  CHECK(d.Get(path).status == 401);
  auto report = d.Get(path, d.inspector());
  REQUIRE(report.status == 200);
  auto table = report.json()->getObject("table3");
  CHECK(report.json()->getValue<std::string>("agency") == "测试乡人民政府");
  CHECK(table->getObject("new")->getValue<int64_t>("person") == 2);
  CHECK(table->getObject("new")->getValue<int64_t>("business") == 1);
  CHECK(table->getObject("new")->getValue<int64_t>("total") == 3);
  CHECK(table->getObject("disclosed")->getValue<int64_t>("person") == 1);
  CHECK(table->getObject("results_total")->getValue<int64_t>("total") == 1);
  CHECK(table->getObject("carried_forward")->getValue<int64_t>("total") == 2);
  auto html = d.Get(path + "&format=html", d.inspector());
  CHECK(html.headers["content-type"] == "text/html; charset=utf-8");
  CHECK(html.body.find("三、收到和处理政府信息公开申请情况") != std::string::npos);
  auto csv = d.Get(path + "&format=csv", d.inspector());
  CHECK(csv.body.find("\"一、本年新收政府信息公开申请数量\",2,1,0,0,0,0,3\n") != std::string::npos);
  CHECK(d.Get("/api/v1/reports/annual?year=20x6", d.inspector()).status == 400);
  CHECK(d.Get(path + "&format=pdf", d.inspector()).status == 400);

  const std::string file = d.root() + "/report.html";
  auto cli = d.Cli("report annual --year " + std::to_string(year) + " --html " +
                   gongkai::test::Quote(file));
  CHECK(cli.exit_code == 0);
  CHECK(cli.out.find("一、本年新收: 3") != std::string::npos);
  CHECK(Slurp(file) == html.body);
  CHECK(d.Cli("report annual --year " + std::to_string(year) + " --csv").out == csv.body);
  CHECK(d.Cli("report annual --year 26 2>&1").exit_code == 2);
}
