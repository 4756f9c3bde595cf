#include "annual_report.h"

#include <ctime>

#include "catalogue.h"
#include "gongkai/disclosure/request.h"
#include "gongkai/ledger/visibility.h"
#include "gongkai/storage/record.h"
#include "json_writer.h"
#include "page_chrome.h"
#include "sidecar.h"

namespace gongkai::daemon {
namespace {

// The format's labels (DOMAIN.md). A row with a key holds numbers; one
// without is a heading.
struct Row {
  const char* key;
  const char* label;
};
const std::vector<Row>& Rows() {
  static const std::vector<Row> kRows = {
      {"new", "一、本年新收政府信息公开申请数量"},
      {"carried_over", "二、上年结转政府信息公开申请数量"},
      {nullptr, "三、本年度办理结果"},
      {"disclosed", "（一）予以公开"},
      {"partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"},
      {nullptr, "（三）不予公开"},
      {"refused.state_secret", "1.属于国家秘密"},
      {"refused.law", "2.其他法律行政法规禁止公开"},
      {"refused.safety_stability", "3.危及“三安全一稳定”"},
      {"refused.third_party", "4.保护第三方合法权益"},
      {"refused.internal_affairs", "5.属于三类内部事务信息"},
      {"refused.process_info", "6.属于四类过程性信息"},
      {"refused.enforcement_file", "7.属于行政执法案卷"},
      {"refused.inquiry_matter", "8.属于行政查询事项"},
      {nullptr, "（四）无法提供"},
      {"unavailable.not_held", "1.本机关不掌握相关政府信息"},
      {"unavailable.needs_creation", "2.没有现成信息需要另行制作"},
      {"unavailable.unclear", "3.补正后申请内容仍不明确"},
      {nullptr, "（五）不予处理"},
      {"not_processed.petition", "1.信访举报投诉类申请"},
      {"not_processed.repeat", "2.重复申请"},
      {"not_processed.publication", "3.要求提供公开出版物"},
      {"not_processed.excessive", "4.无正当理由大量反复申请"},
      {"not_processed.confirmation", "5.要求行政机关确认或重新出具已获取信息"},
      {nullptr, "（六）其他处理"},
      {"other.no_supplement", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"},
      {"other.no_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"},
      {"other.other", "3.其他"},
      {"results_total", "（七）总计"},
      {"carried_forward", "四、结转下年度继续办理"},
  };
  return kRows;
}

// The applicant types' column labels, in ledger::ApplicantTypes() order.
const std::map<std::string, const char*>& ColumnLabels() {
  static const std::map<std::string, const char*> kLabels = {{"person", "自然人"},
                                                             {"business", "商业企业"},
                                                             {"research", "科研机构"},
                                                             {"nonprofit", "社会公益组织"},
                                                             {"legal_service", "法律服务机构"},
                                                             {"other", "其他"},
                                                             {"total", "总计"}};
  return kLabels;
}

std::vector<std::string> Columns() {
  std::vector<std::string> out = ledger::ApplicantTypes();
  out.push_back("total");
  return out;
}

// The instant 1 January of `year` begins in local time, RFC 3339 UTC: events
// recorded before it belong to the years before.
std::string YearStart(int year) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mday = 1;
  tm.tm_isdst = -1;
  return storage::Rfc3339(std::chrono::system_clock::from_time_t(std::mktime(&tm)));
}

struct Signed {  // what a request's records signed before a moment say
  bool received = false;
  bool closed = false;
  std::string outcome;  // its result row, when closed
};

Signed SignedBefore(const ledger::RequestState& r, const std::string& moment) {
  Signed s;
  bool paused_for_supplement = false;
  for (const storage::RequestEventRow& e : r.events) {
    if (e.recorded >= moment) break;  // the events are in log order
    if (e.event == "received") s.received = true;
    if (e.event == "supplement_requested") paused_for_supplement = true;
    if (e.event == "supplemented") paused_for_supplement = false;
    if (e.event == "replied" || e.event == "withdrawn" || e.event == "abandoned") {
      s.closed = true;
      s.outcome = e.event == "replied"                              ? e.outcome
                  : e.event == "abandoned" && paused_for_supplement ? "other.no_supplement"
                                                                    : "other.other";
    }
  }
  return s;
}

}  // namespace

void CrossCheck(Table3& t) {
  t.problems.clear();
  auto& c = t.cells;
  for (const std::string& col : Columns()) {
    const std::string label = ColumnLabels().at(col);
    int64_t results = 0;
    for (const Row& row : Rows())
      if (row.key && std::string(row.key).find('.') != std::string::npos)
        results += c[row.key][col];
    results += c["disclosed"][col] + c["partial"][col];
    if (results != c["results_total"][col])
      t.problems.push_back("（七）总计 / " + label + ": " +
                           std::to_string(c["results_total"][col]) +
                           ", but the result rows add up to " + std::to_string(results));
    const int64_t in = c["new"][col] + c["carried_over"][col];
    const int64_t out = c["results_total"][col] + c["carried_forward"][col];
    if (in != out)
      t.problems.push_back("四、结转下年度继续办理 / " + label + ": 一+二 = " + std::to_string(in) +
                           ", but （七）+四 = " + std::to_string(out));
  }
  for (const Row& row : Rows()) {
    if (!row.key) continue;
    int64_t sum = 0;
    for (const std::string& type : ledger::ApplicantTypes()) sum += c[row.key][type];
    if (sum != c[row.key]["total"])
      t.problems.push_back(std::string(row.label) +
                           " / 总计: " + std::to_string(c[row.key]["total"]) +
                           ", but the applicant columns add up to " + std::to_string(sum));
  }
  // A stored applicant type outside the format has a column of its own.
  for (auto& [row, columns] : c)
    for (auto& [col, n] : columns)
      if (!ColumnLabels().count(col))
        t.problems.push_back(row + " / " + col + ": " + std::to_string(n));
}

namespace {

void Count(Table3& t, const std::string& row, const std::string& type) {
  ++t.cells[row][ledger::IsApplicantType(type) ? type : "unknown applicant type " + type];
  ++t.cells[row]["total"];
}

}  // namespace

namespace {

// Table 二's first block: its rows and columns with the format's labels.
constexpr std::pair<const char*, const char*> kTable2Kinds[] = {
    {"rules", "规章"}, {"normative_documents", "行政规范性文件"}};
constexpr std::pair<const char*, const char*> kTable2Columns[] = {
    {"issued", "本年制发件数"}, {"repealed", "本年废止件数"}, {"in_force", "现行有效件数"}};

// The entered rows of table 二: key, block and label.
struct DecisionRow {
  const char* key;
  const char* block;
  const char* label;
  int64_t disclosure::ReportFigures::*count;
};
constexpr DecisionRow kDecisionRows[] = {
    {"licensing", "第二十条第（五）项", "行政许可", &disclosure::ReportFigures::licensing},
    {"penalties", "第二十条第（六）项", "行政处罚", &disclosure::ReportFigures::penalties},
    {"coercion", "第二十条第（六）项", "行政强制", &disclosure::ReportFigures::coercion}};
// Table 四's columns in each group.
struct ResultColumn {
  const char* key;
  const char* label;
  int64_t disclosure::CaseResults::*count;
};
constexpr ResultColumn kResults[] = {{"upheld", "结果维持", &disclosure::CaseResults::upheld},
                                     {"corrected", "结果纠正", &disclosure::CaseResults::corrected},
                                     {"other", "其他结果", &disclosure::CaseResults::other},
                                     {"pending", "尚未审结", &disclosure::CaseResults::pending},
                                     {"total", "总计", &disclosure::CaseResults::total}};

// "rules" or "normative_documents" when the category's last level names
// one, else "".
std::string KindOf(const std::string& category) {
  const std::string last = category.substr(category.rfind('/') + 1);
  for (const auto& [kind, label] : kTable2Kinds)
    if (last == label) return kind;
  return "";
}

// Adds one document published by the end of `year` to table 二: its kind
// and legal status from its latest approved version archived before then.
void CountTable2(Table2& t, const storage::DocumentRow& doc,
                 const std::vector<storage::VersionRow>& versions, int year) {
  const std::string y = std::to_string(year), end = YearStart(year + 1);
  const storage::VersionRow* shown = nullptr;
  for (const storage::VersionRow& v : versions)
    if (v.review == ReviewState::kApproved && v.archived < end) shown = &v;
  if (!shown) return;
  const Sidecar meta = SidecarFromStored(shown->meta);
  const std::string kind = KindOf(meta.category);
  if (kind.empty()) return;
  const bool repealed = meta.legal_status == "repealed";
  if (doc.published.compare(0, 4, y) == 0) ++t.cells[kind]["issued"];
  if (repealed && meta.repealed_on.compare(0, 4, y) == 0) ++t.cells[kind]["repealed"];
  if (!repealed || meta.repealed_on > y + "-12-31") ++t.cells[kind]["in_force"];
}

}  // namespace

Result<Table2> ComputeTable2(storage::Catalog& catalog, int year) {
  Table2 t;
  t.year = year;
  for (const auto& [kind, label] : kTable2Kinds)
    for (const auto& [column, heading] : kTable2Columns) t.cells[kind][column] = 0;
  const std::string year_end = std::to_string(year) + "-12-31";
  const Status s = ForEachIndexedBatch(catalog, [&](const std::vector<std::string>& batch) {
    auto rows = catalog.DocumentsWithVersions(batch);
    if (!rows.ok()) return rows.status();
    for (const auto& [doc, versions] : *rows)
      if (doc.published <= year_end) CountTable2(t, doc, versions, year);
    return Status::OK();
  });
  if (!s.ok()) return s;
  return t;
}

Result<AnnualReport> LoadAnnualReport(storage::Catalog& catalog,
                                      const disclosure::WorkCalendar& calendar,
                                      const std::string& agency, int year) {
  auto table2 = ComputeTable2(catalog, year);
  if (!table2.ok()) return table2.status();
  auto requests = ledger::LoadRequests(catalog, calendar);
  if (!requests.ok()) return requests.status();
  AnnualReport report{agency, std::move(*table2), ComputeTable3(*requests, year), {}, -1};
  auto figures = catalog.AllReportFigures();
  if (!figures.ok()) return figures.status();
  for (const storage::ReportFiguresRow& row : *figures) {
    if (row.year != year) continue;
    auto parsed = disclosure::ParseReportFigures(row.figures);
    if (!parsed.ok())
      return Status::Corruption("stored report figures of " + std::to_string(year) + ": " +
                                parsed.status().message());
    report.figures = *parsed;
    report.figures_log_index = row.log_index;
  }
  return report;
}

Table3 ComputeTable3(const std::vector<ledger::RequestState>& requests, int year) {
  Table3 t;
  t.year = year;
  for (const Row& row : Rows())
    if (row.key)
      for (const std::string& col : Columns()) t.cells[row.key][col] = 0;
  const std::string start = YearStart(year), end = YearStart(year + 1);
  for (const ledger::RequestState& r : requests) {
    const Signed before = SignedBefore(r, start), after = SignedBefore(r, end);
    if (!after.received || before.closed) continue;  // not yet there, or done before
    const std::string& type = r.row.applicant_type;
    Count(t, before.received ? "carried_over" : "new", type);
    if (!after.closed) {
      Count(t, "carried_forward", type);
    } else {
      // An outcome outside the format counts in （七） only, which the checks name.
      if (disclosure::IsOutcome(after.outcome)) Count(t, after.outcome, type);
      Count(t, "results_total", type);
    }
  }
  CrossCheck(t);
  return t;
}

std::string AnnualReportJson(const AnnualReport& r) {
  const Table3& t = r.table3;
  JsonWriter w;
  w.BeginObject().Field("year", t.year).Field("agency", r.agency).Key("table2").BeginObject();
  for (const auto& [kind, label] : kTable2Kinds) {
    w.Key(kind).BeginObject();
    for (const auto& [column, heading] : kTable2Columns)
      w.Field(column, r.table2.cells.at(kind).at(column));
    w.EndObject();
  }
  for (const DecisionRow& d : kDecisionRows)
    w.Key(d.key).BeginObject().Field("decisions", r.figures.*d.count).EndObject();
  w.Key("fees").BeginObject().Field("amount", r.figures.fees).EndObject();
  w.EndObject().Key("table3").BeginObject();
  for (const Row& row : Rows()) {
    if (!row.key) continue;
    w.Key(row.key).BeginObject();
    for (const std::string& col : Columns()) w.Field(col, t.cells.at(row.key).at(col));
    w.EndObject();
  }
  w.EndObject().Key("table4").BeginObject();
  for (const disclosure::CaseGroup& g : disclosure::CaseGroups()) {
    w.Key(g.key).BeginObject();
    for (const ResultColumn& c : kResults) w.Field(c.key, (r.figures.*g.results).*c.count);
    w.EndObject();
  }
  w.EndObject().Key("figures").BeginObject();
  w.Field("entered", r.figures_log_index >= 0).Field("log_index", r.figures_log_index);
  w.EndObject().EndObject();
  return w.str();
}

std::string AnnualReportHtml(const AnnualReport& r) {
  const Table3& t = r.table3;
  const std::string title =
      EscapeHtml(r.agency) + std::to_string(t.year) + "年政府信息公开工作年度报告";
  std::string out =
      "<!doctype html>\n<html lang=\"zh-Hans\"><head><meta charset=\"utf-8\"><title>" + title +
      "</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>\n<body class=\"report\">"
      "<main>\n<h1>" +
      title + "</h1>\n<h2>二、主动公开政府信息情况</h2>\n<table class=\"annual\">\n";
  out +=
      "<thead><tr><th colspan=\"4\" scope=\"colgroup\">第二十条第（一）项</th></tr>\n<tr>"
      "<th scope=\"col\">信息内容</th>";
  for (const auto& [column, heading] : kTable2Columns)
    out += std::string("<th scope=\"col\">") + heading + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& [kind, label] : kTable2Kinds) {
    out += std::string("<tr><th scope=\"row\">") + label + "</th>";
    for (const auto& [column, heading] : kTable2Columns)
      out += "<td>" + std::to_string(r.table2.cells.at(kind).at(column)) + "</td>";
    out += "</tr>\n";
  }
  const char* block = "";
  for (const DecisionRow& d : kDecisionRows) {
    if (std::string(block) != d.block)
      out += std::string("<tr><th scope=\"colgroup\" colspan=\"4\">") + d.block +
             "</th></tr>\n<tr><th scope=\"col\">信息内容</th><th scope=\"col\" colspan=\"3\">"
             "本年处理决定数量</th></tr>\n";
    block = d.block;
    out += std::string("<tr><th scope=\"row\">") + d.label + "</th><td colspan=\"3\">" +
           std::to_string(r.figures.*d.count) + "</td></tr>\n";
  }
  out +=
      "<tr><th scope=\"colgroup\" colspan=\"4\">第二十条第（八）项</th></tr>\n<tr><th "
      "scope=\"col\">信息内容</th><th scope=\"col\" colspan=\"3\">本年收费金额（单位：万元）</th>"
      "</tr>\n<tr><th scope=\"row\">行政事业性收费</th><td colspan=\"3\">" +
      EscapeHtml(r.figures.fees) + "</td></tr>\n";
  out +=
      "</tbody>\n</table>\n<h2>三、收到和处理政府信息公开申请情况</h2>\n<table class=\"annual\">\n";
  out +=
      "<thead><tr><td rowspan=\"3\" colspan=\"3\"></td>"
      "<th colspan=\"7\" scope=\"colgroup\">申请人情况</th></tr>\n"
      "<tr><th rowspan=\"2\" scope=\"col\">自然人</th><th colspan=\"5\" "
      "scope=\"colgroup\">法人或其他组织</th><th rowspan=\"2\" scope=\"col\">总计</th></tr>\n<tr>";
  for (const std::string& type : ledger::ApplicantTypes())
    if (type != "person")
      out += "<th scope=\"col\">" + std::string(ColumnLabels().at(type)) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const Row& row : Rows()) {
    out += "<tr><th scope=\"row\" colspan=\"3\">" + std::string(row.label) + "</th>";
    if (row.key)
      for (const std::string& col : Columns())
        out += "<td>" + std::to_string(t.cells.at(row.key).at(col)) + "</td>";
    else
      out += "<td colspan=\"7\"></td>";
    out += "</tr>\n";
  }
  out +=
      "</tbody>\n</table>\n<h2>四、政府信息公开行政复议、行政诉讼情况</h2>\n<table "
      "class=\"annual\">\n<thead><tr><th colspan=\"5\" rowspan=\"2\" "
      "scope=\"colgroup\">行政复议</th>"
      "<th colspan=\"10\" scope=\"colgroup\">行政诉讼</th></tr>\n<tr><th colspan=\"5\" "
      "scope=\"colgroup\">未经复议直接起诉</th><th colspan=\"5\" scope=\"colgroup\">复议后起诉</th>"
      "</tr>\n<tr>";
  for (size_t g = 0; g < disclosure::CaseGroups().size(); ++g)
    for (const ResultColumn& c : kResults)
      out += std::string("<th scope=\"col\">") + c.label + "</th>";
  out += "</tr></thead>\n<tbody><tr>";
  for (const disclosure::CaseGroup& g : disclosure::CaseGroups())
    for (const ResultColumn& c : kResults)
      out += "<td>" + std::to_string((r.figures.*g.results).*c.count) + "</td>";
  out += "</tr></tbody>\n</table>\n";
  if (r.figures_log_index < 0)
    out += "<p>表二第二十条第（五）、（六）、（八）项和表四的数字尚未录入。</p>\n";
  return out + "</main></body></html>\n";
}

std::string AnnualReportCsv(const AnnualReport& r) {
  const Table3& t = r.table3;
  std::string out = "项目";
  for (const std::string& col : Columns()) out += std::string(",") + ColumnLabels().at(col);
  out += "\n";
  std::string group;  // the heading of numbered rows: "（三）不予公开"
  for (const Row& row : Rows()) {
    const std::string label = row.label;
    if (!row.key) {
      group = label;
      continue;
    }
    const bool numbered = label.front() >= '1' && label.front() <= '9';
    out += "\"" + (numbered ? group + " " + label : label) + "\"";
    for (const std::string& col : Columns())
      out += "," + std::to_string(t.cells.at(row.key).at(col));
    out += "\n";
  }
  out += "\n信息内容";
  for (const auto& [column, heading] : kTable2Columns) out += std::string(",") + heading;
  out += "\n";
  for (const auto& [kind, label] : kTable2Kinds) {
    out += label;
    for (const auto& [column, heading] : kTable2Columns)
      out += "," + std::to_string(r.table2.cells.at(kind).at(column));
    out += "\n";
  }
  out += "\n信息内容,本年处理决定数量\n";
  for (const DecisionRow& d : kDecisionRows)
    out += std::string(d.label) + "," + std::to_string(r.figures.*d.count) + "\n";
  out += "\n信息内容,本年收费金额（单位：万元）\n行政事业性收费," + r.figures.fees + "\n\n";
  out += "行政复议或行政诉讼";
  for (const ResultColumn& c : kResults) out += std::string(",") + c.label;
  out += "\n";
  for (const disclosure::CaseGroup& g : disclosure::CaseGroups()) {
    out += g.label;
    for (const ResultColumn& c : kResults)
      out += "," + std::to_string((r.figures.*g.results).*c.count);
    out += "\n";
  }
  return out;
}

}  // namespace gongkai::daemon
