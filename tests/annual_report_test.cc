// The annual report's table 三 from requests made through the real ledger
// and catalog over two years, against tables counted by hand here.
#include <catch2/catch.hpp>

#include "annual_report.h"
#include "gongkai/ledger/ledger.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/verify.h"
#include "support/calendar.h"
#include "support/clock_env.h"
#include "support/temp_dir.h"

using gongkai::daemon::AnnualReport;
using gongkai::daemon::ComputeTable3;
using gongkai::daemon::Table3;
using gongkai::disclosure::RequestEvent;
using gongkai::test::D;
using gongkai::test::ShippedCalendar;
namespace storage = gongkai::storage;
namespace ledger = gongkai::ledger;

namespace {

struct Office {
  gongkai::test::TempDir dir;
  gongkai::test::ClockEnv env{"2025-01-01"};  // moved to each event's day
  std::unique_ptr<storage::Catalog> catalog;
  std::unique_ptr<storage::SigningKey> key;
  std::unique_ptr<ledger::Ledger> ledger;

  Office() {
    auto c = storage::OpenSqliteCatalog(dir / "catalog.sqlite", &env);
    auto k = storage::SigningKey::Generate();
    REQUIRE((c.ok() && k.ok()));
    catalog = std::move(*c);
    key = std::move(*k);
    ledger = std::make_unique<ledger::Ledger>(catalog.get(), &env, "annual.test");
  }
  // Registers a request received on `received`, signed on `signed_on`.
  std::string Receive(const char* type, const char* received, const char* signed_on = nullptr) {
    env.At(signed_on ? signed_on : received);
    ledger::NewRequest r;
    r.channel = "post";
    r.received = D(received);
    r.applicant = {type, "申请人", "", "13800138000", ""};
    r.description = "请公开";
    auto st = ledger->Register(r, ShippedCalendar(), *key);
    REQUIRE(st.ok());
    return st->row.code;
  }
  void Event(const std::string& code, RequestEvent e, const char* date, std::string outcome = "",
             const char* signed_on = nullptr) {
    env.At(signed_on ? signed_on : date);
    ledger::RequestChange c;
    c.code = code;
    c.in.event = e;
    c.in.date = D(date);
    c.in.outcome = std::move(outcome);
    c.in.days = 10;  // an extension's
    c.in.approved_by = "主任";
    auto st = ledger->AddRequestEvent(c, ShippedCalendar(), *key);
    INFO(st.status().ToString());
    REQUIRE(st.ok());
  }
  Table3 Report(int year) {
    auto all = ledger::LoadRequests(*catalog, ShippedCalendar());
    REQUIRE(all.ok());
    return ComputeTable3(*all, year);
  }
  AnnualReport Full(int year) {
    auto report = gongkai::daemon::LoadAnnualReport(*catalog, ShippedCalendar(), "某乡", year);
    REQUIRE(report.ok());
    return *report;
  }
  // Archives a version of `path` on `day` with sidecar metadata `meta`;
  // returns its document's id.
  std::string Publish(const std::string& path, const std::string& meta, const char* day,
                      const std::string& doc = "", bool review = false) {
    env.At(day);
    ledger::Change c;
    c.doc_id = doc;
    c.share = "pub";
    c.path = path;
    c.sha256 = storage::Hex(storage::Sha256Of(path + meta + day));
    c.size = 1;
    c.meta = meta;
    c.review_required = review;
    std::vector<ledger::Change> one{c};
    REQUIRE(ledger->Apply(one, *key).ok());
    return one[0].doc_id;
  }
};

// The non-zero cells, "row/column" -> n, to compare with a table by hand.
std::map<std::string, int64_t> NonZero(const Table3& t) {
  std::map<std::string, int64_t> out;
  for (const auto& [row, columns] : t.cells)
    for (const auto& [column, n] : columns)
      if (n != 0) out[row + "/" + column] = n;
  return out;
}

}  // namespace

TEST_CASE("annual report: table 三 over two years, carried over and forward, as signed",
          "[report]") {
  Office o;
  // 2025: one answered in the year, two carried into 2026.
  const std::string a = o.Receive("person", "2025-06-02");
  o.Event(a, RequestEvent::kReplied, "2025-06-20", "disclosed");
  const std::string b = o.Receive("person", "2025-11-10");
  const std::string c = o.Receive("business", "2025-12-22");
  // 2026.
  o.Event(b, RequestEvent::kReplied, "2026-01-15", "refused.third_party");
  const std::string d = o.Receive("research", "2026-03-02");
  o.Event(d, RequestEvent::kSupplementRequested, "2026-03-05");
  o.Event(d, RequestEvent::kAbandoned, "2026-04-30");  // never supplemented: （六）1
  const std::string e = o.Receive("person", "2026-05-06");
  o.Event(e, RequestEvent::kWithdrawn, "2026-05-11");  // （六）3
  const std::string f = o.Receive("person", "2026-07-01");
  o.Event(f, RequestEvent::kExtended, "2026-07-20");
  o.Event(f, RequestEvent::kReplied, "2026-08-10", "partial");
  const std::string g = o.Receive("nonprofit", "2026-12-21");  // open at the year's end
  o.Event(g, RequestEvent::kReplied, "2027-01-05", "unavailable.not_held");
  // Received on 30 December, registered on 4 January: counts in 2027.
  const std::string h = o.Receive("legal_service", "2026-12-30", "2027-01-04");
  // Replied on 30 December, recorded on 6 January: 2026 keeps it open.
  const std::string i = o.Receive("other", "2026-11-02");
  o.Event(i, RequestEvent::kReplied, "2026-12-30", "not_processed.repeat", "2027-01-06");

  const Table3 y2025 = o.Report(2025);
  CHECK(y2025.problems.empty());
  CHECK(NonZero(y2025) == std::map<std::string, int64_t>{{"new/person", 2},
                                                         {"new/business", 1},
                                                         {"new/total", 3},
                                                         {"disclosed/person", 1},
                                                         {"disclosed/total", 1},
                                                         {"results_total/person", 1},
                                                         {"results_total/total", 1},
                                                         {"carried_forward/person", 1},
                                                         {"carried_forward/business", 1},
                                                         {"carried_forward/total", 2}});

  const Table3 y2026 = o.Report(2026);
  CHECK(y2026.problems.empty());
  CHECK(NonZero(y2026) == std::map<std::string, int64_t>{{"carried_over/person", 1},
                                                         {"carried_over/business", 1},
                                                         {"carried_over/total", 2},
                                                         {"new/research", 1},
                                                         {"new/person", 2},
                                                         {"new/nonprofit", 1},
                                                         {"new/other", 1},
                                                         {"new/total", 5},
                                                         {"refused.third_party/person", 1},
                                                         {"refused.third_party/total", 1},
                                                         {"other.no_supplement/research", 1},
                                                         {"other.no_supplement/total", 1},
                                                         {"other.other/person", 1},
                                                         {"other.other/total", 1},
                                                         {"partial/person", 1},
                                                         {"partial/total", 1},
                                                         {"results_total/person", 3},
                                                         {"results_total/research", 1},
                                                         {"results_total/total", 4},
                                                         {"carried_forward/business", 1},
                                                         {"carried_forward/nonprofit", 1},
                                                         {"carried_forward/other", 1},
                                                         {"carried_forward/total", 3}});

  const Table3 y2027 = o.Report(2027);
  CHECK(y2027.problems.empty());
  // Each year's 二 is the year before's 四.
  for (const auto& [column, n] : y2026.cells.at("carried_forward"))
    CHECK(y2027.cells.at("carried_over").at(column) == n);
  CHECK(y2027.cells.at("new").at("legal_service") == 1);
  CHECK(y2027.cells.at("unavailable.not_held").at("nonprofit") == 1);
  CHECK(y2027.cells.at("not_processed.repeat").at("other") == 1);
  CHECK(y2027.cells.at("carried_forward").at("total") == 2);  // c and h

  // Reproducible: more history later changes no closed year.
  const std::string before = gongkai::daemon::AnnualReportJson(o.Full(2026));
  o.Event(c, RequestEvent::kReplied, "2026-12-31", "disclosed", "2027-02-01");
  CHECK(gongkai::daemon::AnnualReportJson(o.Full(2026)) == before);
}

TEST_CASE("annual report: the cross-checks name the cells, and the formats carry the labels",
          "[report]") {
  Office o;
  const std::string a = o.Receive("person", "2026-03-02");
  o.Event(a, RequestEvent::kReplied, "2026-03-20", "disclosed");
  AnnualReport report = o.Full(2026);
  report.agency = "某某乡人民政府";
  Table3& t = report.table3;
  REQUIRE(t.problems.empty());
  const std::string html = gongkai::daemon::AnnualReportHtml(report);
  for (const char* label : {"某某乡人民政府2026年政府信息公开工作年度报告",
                            "三、收到和处理政府信息公开申请情况",
                            "申请人情况",
                            "法人或其他组织",
                            "一、本年新收政府信息公开申请数量",
                            "二、上年结转政府信息公开申请数量",
                            "三、本年度办理结果",
                            "（一）予以公开",
                            "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
                            "3.危及“三安全一稳定”",
                            "（七）总计",
                            "四、结转下年度继续办理",
                            "社会公益组织",
                            "法律服务机构",
                            "二、主动公开政府信息情况",
                            "第二十条第（一）项",
                            "信息内容",
                            "本年制发件数",
                            "本年废止件数",
                            "现行有效件数",
                            "规章",
                            "行政规范性文件"})
    CHECK(html.find(label) != std::string::npos);
  const std::string csv = gongkai::daemon::AnnualReportCsv(report);
  CHECK(csv.rfind("项目,自然人,商业企业,科研机构,社会公益组织,法律服务机构,其他,总计\n", 0) == 0);
  CHECK(csv.find("\"（一）予以公开\",1,0,0,0,0,0,1\n") != std::string::npos);
  CHECK(csv.find("\"（三）不予公开 1.属于国家秘密\",0,0,0,0,0,0,0\n") != std::string::npos);

  // Cells that do not add up are named.
  t.cells["carried_forward"]["person"] = 1;  // one more out than in, and 总计 not the sum
  gongkai::daemon::CrossCheck(t);
  REQUIRE(t.problems.size() == 2);
  CHECK(t.problems[0] == "四、结转下年度继续办理 / 自然人: 一+二 = 1, but （七）+四 = 2");
  CHECK(t.problems[1] == "四、结转下年度继续办理 / 总计: 0, but the applicant columns add up to 1");
}

TEST_CASE(
    "annual report: table 二 counts 规章 and 行政规范性文件 from the catalogue as of 31 December",
    "[report]") {
  Office o;
  const std::string rule = R"({"category":"法定主动公开内容/规章"})";
  const std::string normative = R"({"category":"法定主动公开内容/行政规范性文件"})";
  auto repealed = [](const char* on) {
    return std::string(
               R"({"category":"法定主动公开内容/行政规范性文件","legal_status":"repealed",)") +
           R"("repealed_on":")" + on + R"("})";
  };
  o.Publish("a.txt", rule, "2025-06-01");       // a 规章 in force since 2025
  o.Publish("b.txt", normative, "2026-03-02");  // issued 2026, in force
  const std::string c = o.Publish("c.txt", normative, "2026-05-06");
  o.Publish("c.txt", repealed("2026-09-01"), "2026-09-01", c);  // issued and repealed in 2026
  const std::string d = o.Publish("d.txt", normative, "2026-12-01");
  o.Publish("budget.txt", R"({"category":"财政预决算"})", "2026-04-01");  // another category
  o.Publish("e.txt", rule, "2026-07-01", "", true);  // pending review: not published
  const std::string before = gongkai::daemon::AnnualReportJson(o.Full(2026));
  o.Publish("d.txt", repealed("2027-02-01"), "2027-02-01", d);  // repealed the next year

  // Counted by hand: 2026 issued b, c, d; repealed c; in force at its end a, b, d.
  using Cells = std::map<std::string, std::map<std::string, int64_t>>;
  CHECK(o.Full(2026).table2.cells ==
        Cells{{"rules", {{"issued", 0}, {"repealed", 0}, {"in_force", 1}}},
              {"normative_documents", {{"issued", 3}, {"repealed", 1}, {"in_force", 2}}}});
  CHECK(o.Full(2027).table2.cells ==
        Cells{{"rules", {{"issued", 0}, {"repealed", 0}, {"in_force", 1}}},
              {"normative_documents", {{"issued", 0}, {"repealed", 1}, {"in_force", 1}}}});
  // A closed year is reproducible: what came later changes nothing in it.
  CHECK(gongkai::daemon::AnnualReportJson(o.Full(2026)) == before);
  const std::string csv = gongkai::daemon::AnnualReportCsv(o.Full(2026));
  CHECK(csv.find("\n\n信息内容,本年制发件数,本年废止件数,现行有效件数\n规章,0,0,1\n行政规范性文件,"
                 "3,1,2\n") != std::string::npos);
  CHECK(before.find(R"("table2":{"rules":{"issued":0,"repealed":0,"in_force":1},)"
                    R"("normative_documents":{"issued":3,"repealed":1,"in_force":2},)") !=
        std::string::npos);
}

TEST_CASE("annual report: entered figures are checked, normalised, signed and verified",
          "[report]") {
  using gongkai::disclosure::ParseReportFigures;
  using gongkai::disclosure::ReportFiguresJson;
  auto f = ParseReportFigures(
      R"({"table2":{"licensing":12,"fees":"003.50"},)"
      R"("table4":{"review":{"upheld":1,"corrected":1,"pending":1,"total":3}}})");
  REQUIRE(f.ok());
  CHECK(
      ReportFiguresJson(*f) ==
      R"({"table2":{"licensing":12,"penalties":0,"coercion":0,"fees":"3.50"},"table4":{)"
      R"("review":{"upheld":1,"corrected":1,"other":0,"pending":1,"total":3},)"
      R"("litigation_direct":{"upheld":0,"corrected":0,"other":0,"pending":0,"total":0},)"
      R"("litigation_after_review":{"upheld":0,"corrected":0,"other":0,"pending":0,"total":0}}})");
  CHECK(*ParseReportFigures(ReportFiguresJson(*f)) == *f);  // the normal form reads back
  CHECK(ParseReportFigures("{}").ok());
  for (const char* bad :
       {"[]", "{\"table3\":{}}", R"({"table2":{"licencing":1}})", R"({"table2":{"licensing":-1}})",
        R"({"table2":{"licensing":1.5}})", R"({"table2":{"fees":12}})",
        R"({"table2":{"fees":"1.23456"}})", R"({"table2":{"fees":"1e3"}})",
        R"({"table4":{"review":{"upheld":2,"total":1}}})", R"({"table4":{"appeal":{}}})",
        R"({"table2":{"coercion":2000000000}})", "not json"}) {
    INFO(bad);
    CHECK_FALSE(ParseReportFigures(bad).ok());
  }
  CHECK(ParseReportFigures(R"({"table4":{"litigation_direct":{"other":2,"total":1}}})")
            .status()
            .message() ==
        "table 四 行政诉讼 未经复议直接起诉 总计: 1, but its results add up to 2");

  // Signed through the ledger: the latest of a year counts; verify checks them.
  Office o;
  o.env.At("2027-01-10");
  REQUIRE(o.catalog->AddKey({o.key->KeyId(), o.key->PublicPem(), "2026-01-01T00:00:00Z", ""}).ok());
  REQUIRE(o.ledger->SetReportFigures(2026, *f, *o.key).ok());
  gongkai::disclosure::ReportFigures later = *f;
  later.licensing = 13;
  auto row = o.ledger->SetReportFigures(2026, later, *o.key);
  REQUIRE(row.ok());
  CHECK(row->log_index == 1);
  REQUIRE(o.ledger->SetReportFigures(2025, {}, *o.key).ok());
  CHECK_FALSE(o.ledger->SetReportFigures(2028, {}, *o.key).ok());  // a year not yet begun
  const AnnualReport report = o.Full(2026);
  CHECK(report.figures == later);
  CHECK(report.figures_log_index == 1);
  const std::string json = gongkai::daemon::AnnualReportJson(report);
  CHECK(json.find(R"("licensing":{"decisions":13})") != std::string::npos);
  CHECK(json.find(R"("review":{"upheld":1,"corrected":1,"other":0,"pending":1,"total":3})") !=
        std::string::npos);
  CHECK(json.find(R"("figures":{"entered":true,"log_index":1})") != std::string::npos);
  const std::string html = gongkai::daemon::AnnualReportHtml(report);
  for (const char* label :
       {"第二十条第（五）项", "行政许可", "行政处罚", "行政强制", "第二十条第（八）项",
        "本年收费金额（单位：万元）", "四、政府信息公开行政复议、行政诉讼情况", "未经复议直接起诉",
        "复议后起诉", "结果维持", "尚未审结"})
    CHECK(html.find(label) != std::string::npos);
  CHECK(gongkai::daemon::AnnualReportCsv(report).find("\n行政许可,13\n") != std::string::npos);
  CHECK(gongkai::daemon::AnnualReportJson(o.Full(2024)).find(R"("entered":false)") !=
        std::string::npos);

  auto blobs = storage::BlobStore::Open(storage::Env::Default(), o.dir / "blobs", o.dir / "tmp");
  REQUIRE(blobs.ok());
  storage::VerifyOptions options;
  options.origin = "annual.test";
  auto verified = storage::VerifyArchive(o.catalog.get(), **blobs, o.dir / "blobs", options);
  REQUIRE(verified.ok());
  for (const auto& p : verified->problems) FAIL_CHECK(p.where << ": " << p.what);
  // Figures changed in the catalog behind the ledger's back are found.
  storage::ReportFiguresRow tampered = *row;
  tampered.figures = ReportFiguresJson(*f);
  REQUIRE(o.catalog->BeginWrite().ok());
  REQUIRE(o.catalog->PutReportFigures(tampered).ok());
  REQUIRE(o.catalog->Commit().ok());
  verified = storage::VerifyArchive(o.catalog.get(), **blobs, o.dir / "blobs", options);
  REQUIRE(verified.ok());
  REQUIRE(verified->problems.size() == 1);
  CHECK(verified->problems[0].what == "differ from their signed record");
}
