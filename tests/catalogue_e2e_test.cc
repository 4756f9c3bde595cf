// End-to-end: the 公开目录 and the timeliness report through the real
// gongkaid and gongkai: 索引号 in every answer, only the public view listed,
// and the numbers kept across a restart and a reindex.
#include <catch2/catch.hpp>

#include <Poco/JSON/Array.h>

#include <set>

#include "gongkai/disclosure/calendar.h"
#include "support/calendar.h"
#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::Slurp;
using gongkai::test::WriteFile;

namespace {

constexpr const char* kCode = "11350602MB1234567X";

std::string DaysAgo(int days) {
  return gongkai::disclosure::FormatDate(gongkai::disclosure::LocalToday() -
                                         std::chrono::days(days));
}

// The index_no of each result of a catalogue answer, by title.
std::map<std::string, std::string> IndexNumbers(const Poco::JSON::Object::Ptr& catalogue) {
  std::map<std::string, std::string> out;
  auto results = catalogue->getArray("results");
  for (size_t i = 0; i < results->size(); ++i) {
    auto e = results->getObject(static_cast<unsigned>(i));
    out[e->getValue<std::string>("title")] = e->getValue<std::string>("index_no");
  }
  return out;
}

}  // namespace

TEST_CASE("e2e: the catalogue lists the public view with 索引号 that survive restart and reindex",
          "[e2e]") {
  DaemonProcess d({{"pub", "category = 法定主动公开内容/其他\n"},
                   {"review", "review = required\n"},
                   {"secret", "classification = restricted\n"}});
  WriteFile(d.config(), Slurp(d.config()) +
                            "[disclosure]\nagency = 测试乡人民政府\nagency_code = " + kCode +
                            "\ncalendar = " + gongkai::test::kShippedCalendar + "\n");
  const std::string created = DaysAgo(60);  // published today: late by 条例第二十六条
  WriteFile(d.SharePath("pub") + "/rule.txt", "关于加强村级财务管理的规定 全文\n");
  WriteFile(d.SharePath("pub") + "/rule.txt.meta.json",
            R"({"title":"村级财务管理规定","doc_number":"某政规〔2026〕1号",)"
            R"("category":"法定主动公开内容/行政规范性文件","summary":"财务","created":")" +
                created + R"("})");
  WriteFile(d.SharePath("pub") + "/通知.txt", "停水通知 财务室\n");
  WriteFile(d.SharePath("review") + "/待审.txt", "待审核的财务公开\n");
  WriteFile(d.SharePath("secret") + "/内部.txt", "内部财务\n");
  d.Start();
  d.WaitIdle(4);

  // Anonymous: the two public approved documents, nothing else.
  auto r = d.Get("/api/v1/catalogue");
  REQUIRE(r.status == 200);
  auto c = r.json();
  CHECK(c->getValue<int64_t>("total") == 2);
  auto numbers = IndexNumbers(c);
  const std::string year =
      std::to_string(gongkai::disclosure::YearOf(gongkai::disclosure::LocalToday()));
  CHECK(std::set<std::string>{numbers["村级财务管理规定"], numbers["通知"]} ==
        std::set<std::string>{kCode + ("/" + year + "-00001"), kCode + ("/" + year + "-00002")});
  auto categories = c->getObject("categories");
  CHECK(categories->getValue<int64_t>("法定主动公开内容/行政规范性文件") == 1);
  CHECK(categories->getValue<int64_t>("法定主动公开内容/其他") == 1);  // the share's default
  CHECK(d.Get("/api/v1/catalogue?category=%E6%B3%95%E5%AE%9A%E4%B8%BB%E5%8A%A8%E5%85%AC%E5%BC%80"
              "%E5%86%85%E5%AE%B9")  // 法定主动公开内容: both, below it
            .json()
            ->getValue<int64_t>("total") == 2);
  CHECK(d.Get("/api/v1/catalogue?year=2001").json()->getValue<int64_t>("total") == 0);
  CHECK(d.Get("/api/v1/catalogue?limit=1").json()->getArray("results")->size() == 1);
  CHECK(d.Get("/api/v1/catalogue?year=twenty").status == 400);
  CHECK(d.Get("/api/v1/catalogue?limit=5000").status == 400);
  auto csv = d.Get("/api/v1/catalogue?format=csv");
  CHECK(csv.status == 200);
  CHECK(csv.body.rfind("index_no,title,", 0) == 0);
  CHECK(csv.body.find("内部") == std::string::npos);

  // The number is in search hits and on the document.
  const std::string rule_no = numbers["村级财务管理规定"];
  CHECK(d.Eventually([&] {
    auto s = d.Search("村级财务管理");
    return s.status == 200 && s.body.find("\"index_no\":\"" + rule_no + "\"") != std::string::npos;
  }));
  const std::string rule_id = d.FirstId("村级财务管理");
  // The search page carries the results for browsers without JavaScript:
  // what an anonymous caller may see, escaped, linked to the file.
  auto page = d.Get("/?q=%E8%B4%A2%E5%8A%A1");  // 财务
  REQUIRE(page.status == 200);
  CHECK(page.body.find("<noscript>\n<p class=\"result-count\">共 ") != std::string::npos);
  CHECK(page.body.find("/api/v1/documents/" + rule_id + "/versions/1/content") !=
        std::string::npos);
  CHECK(page.body.find(rule_no) != std::string::npos);
  CHECK(page.body.find("内部") == std::string::npos);  // the restricted one
  CHECK(d.Get("/").body.find("result-count") == std::string::npos);
  CHECK(d.Get("/api/v1/documents/" + rule_id).json()->getValue<std::string>("index_no") == rule_no);

  // Approval publishes the pending one: the next number.
  const std::string pending_id = d.FirstId("待审核", d.inspector());
  REQUIRE(!pending_id.empty());
  CHECK(d.Get("/api/v1/documents/" + pending_id, d.inspector())
            .json()
            ->getValue<std::string>("index_no")
            .empty());
  REQUIRE(d.Request("POST", "/api/v1/documents/" + pending_id + "/approve", d.admin()).status ==
          200);
  r = d.Get("/api/v1/catalogue");
  CHECK(r.json()->getValue<int64_t>("total") == 3);
  CHECK(IndexNumbers(r.json())["待审"] == kCode + ("/" + year + "-00003"));

  // Timeliness (inspectors only): the rule was published 60 days after it was made.
  CHECK(d.Get("/api/v1/reports/timeliness").status == 401);
  r = d.Get("/api/v1/reports/timeliness", d.inspector());
  REQUIRE(r.status == 200);
  auto docs = r.json()->getObject("documents");
  CHECK(docs->getValue<int64_t>("published") == 3);
  CHECK(docs->getValue<int64_t>("undated") == 2);
  REQUIRE(docs->getArray("late_documents")->size() == 1);
  CHECK(docs->getArray("late_documents")->getObject(0)->getValue<std::string>("index_no") ==
        rule_no);

  // Restart and reindex: the same numbers; verify checks them against the records.
  const std::string before = d.Get("/api/v1/catalogue?format=csv").body;
  CHECK(d.Stop() == 0);
  CHECK(d.Cli("reindex").exit_code == 0);
  CHECK(d.Cli("verify").exit_code == 0);
  auto cli = d.Cli("catalogue --csv");
  CHECK(cli.exit_code == 0);
  CHECK(cli.out == before);
  cli = d.Cli("report timeliness --json");
  CHECK(cli.exit_code == 0);
  CHECK(cli.out.find(rule_no) != std::string::npos);
  d.Start();
  CHECK(d.Get("/api/v1/catalogue?format=csv").body == before);
  CHECK(d.log().find("agency_code is not set") == std::string::npos);

  // /metrics (with a token) carries the same counts, and the share's freshness.
  const std::string late = "gongkai_timeliness{year=\"" + year + "\",count=\"documents_late\"} 1";
  CHECK(d.Eventually(
      [&] { return d.Get("/metrics", d.inspector()).body.find(late) != std::string::npos; }));
  const std::string metrics = d.Get("/metrics", d.inspector()).body;
  CHECK(metrics.find("gongkai_timeliness{year=\"" + year + "\",count=\"documents_published\"} 3") !=
        std::string::npos);
  CHECK(metrics.find("gongkai_freshness_overdue{share=\"pub\",category=\"\"} 0") !=
        std::string::npos);
  CHECK(d.Get("/metrics").body.find("gongkai_timeliness") == std::string::npos);
}

TEST_CASE("e2e: an admin enters the annual report's figures – signed and shown in the report",
          "[e2e]") {
  DaemonProcess d;
  WriteFile(d.config(), Slurp(d.config()) + "[disclosure]\nagency = 测试乡人民政府\ncalendar = " +
                            gongkai::test::kShippedCalendar + "\n");
  d.Start();
  const int year = gongkai::disclosure::YearOf(gongkai::disclosure::LocalToday()) - 1;
  const std::string path = "/api/v1/reports/annual/" + std::to_string(year) + "/figures";
  const std::string figures = R"({"table2":{"licensing":4,"penalties":2,"fees":"1.25"},)"
                              R"("table4":{"review":{"upheld":1,"pending":1,"total":2}}})";

  CHECK(d.Request("PUT", path, "", {}, figures).status == 401);
  CHECK(d.Request("PUT", path, d.inspector(), {}, figures).status == 403);
  auto bad =
      d.Request("PUT", path, d.admin(), {}, R"({"table4":{"review":{"upheld":1,"total":2}}})");
  CHECK(bad.status == 400);
  CHECK(bad.body.find("总计: 2, but its results add up to 1") != std::string::npos);
  CHECK(d.Request("PUT", "/api/v1/reports/annual/1999/figures", d.admin(), {}, "{}").status == 400);

  auto put = d.Request("PUT", path, d.admin(), {}, figures);
  REQUIRE(put.status == 200);
  CHECK(put.json()->getObject("figures")->getObject("table2")->getValue<std::string>("fees") ==
        "1.25");
  const int64_t log_index = put.json()->getValue<int64_t>("log_index");

  auto report = d.Get("/api/v1/reports/annual?year=" + std::to_string(year), d.inspector());
  REQUIRE(report.status == 200);
  auto json = report.json();
  CHECK(json->getObject("table2")->getObject("licensing")->getValue<int64_t>("decisions") == 4);
  CHECK(json->getObject("table4")->getObject("review")->getValue<int64_t>("total") == 2);
  CHECK(json->getObject("figures")->getValue<int64_t>("log_index") == log_index);
  // The record holds the figures; the log's entries show it to inspectors.
  auto entries = d.Get("/api/v1/log/entries?start=" + std::to_string(log_index) +
                           "&end=" + std::to_string(log_index + 1),
                       d.inspector());
  CHECK(entries.body.find("report.figures") != std::string::npos);

  // The CLI enters them too (with the daemon running and stopped); verify agrees.
  WriteFile(d.root() + "/figures.json", R"({"table2":{"coercion":3}})");
  auto cli = d.Cli("report figures --year " + std::to_string(year) + " --from " +
                   gongkai::test::Quote(d.root() + "/figures.json") + " --json");
  CHECK(cli.exit_code == 0);
  CHECK(cli.out.find("\"coercion\":3") != std::string::npos);
  CHECK(d.Stop() == 0);
  cli = d.Cli("report figures --year " + std::to_string(year) + " --from - < " +
              gongkai::test::Quote(d.root() + "/figures.json"));
  CHECK(cli.exit_code == 0);
  WriteFile(d.root() + "/bad.json", R"({"x":1})");
  CHECK(d.Cli("report figures --year " + std::to_string(year) + " --from " +
              gongkai::test::Quote(d.root() + "/bad.json") + " 2>&1")
            .exit_code == 1);
  CHECK(d.Cli("verify").exit_code == 0);
  cli = d.Cli("report annual --year " + std::to_string(year) + " --json");
  CHECK(cli.out.find(R"("coercion":{"decisions":3})") != std::string::npos);
  CHECK(cli.out.find(R"("licensing":{"decisions":0})") != std::string::npos);  // replaced whole
}
