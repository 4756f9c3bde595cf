// The annual report on government information disclosure (政府信息公开工作年度报告,
// the 2021 national format, 国办公开办函〔2021〕30号; labels in DOMAIN.md). Made
// here: table 三, 收到和处理政府信息公开申请情况, from the disclosure requests,
// and the first block of table 二 (第二十条第（一）项: 规章 and 行政规范性文件
// issued, repealed and in force) from the catalogue.
//
// Table 二: a document is a 规章 or a 行政规范性文件 when the last level of its
// category says so (法定主动公开内容/行政规范性文件). It is issued (制发) in the
// year it was published, i.e. got its 索引号 (a signed record); repealed in
// the year its sidecar's repealed_on falls in; in force at the end of the
// year when published by then and not repealed by then. Its metadata is
// that of its latest approved version archived before the year ended.
//
// Computed from signed history: each event counts in the year its record
// was signed (local time), so the report of a closed year has the same bytes
// whenever it is made, whatever is entered or backdated later, and each
// year's 二 is exactly the year before's 四. A request received on 31 December
// but registered on 2 January is new in the January's year.
//
// How requests fall into the rows, per applicant type (the columns):
// - 一 new: registered in the year; 二 carried over: open at its start;
// - 三 results: those closed in the year, by outcome. A reply carries its
//   outcome; a withdrawal counts as （六）3 其他, an abandonment as （六）1
//   (逾期不补正) when the clock was stopped for 补正, else as （六）3;
// - 四 carried forward: still open at its end.
// The format's cross-checks are enforced: per column 一+二 = （七）+四, （七）= the
// sum of the result rows, 总计 = the sum of the six applicant columns. A report
// whose checks fail names the failing cells and is not rendered.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gongkai/disclosure/calendar.h"
#include "gongkai/disclosure/report_figures.h"
#include "gongkai/ledger/requests.h"
#include "gongkai/status.h"
#include "gongkai/storage/catalog.h"

namespace gongkai::daemon {

struct Table3 {
  int year = 0;
  // cells[row][column]: rows "new", "carried_over", each outcome of
  // disclosure::Outcomes(), "results_total", "carried_forward"; columns the
  // applicant types of ledger::ApplicantTypes() and "total". Every cell is present.
  std::map<std::string, std::map<std::string, int64_t>> cells;
  // "（七）总计 / 自然人: 5, but 一+二 - 四 = 6": the cross-checks that fail.
  std::vector<std::string> problems;
};

// Table 二, 第二十条第（一）项: cells[kind][column], kinds "rules" (规章) and
// "normative_documents" (行政规范性文件), columns "issued", "repealed" and
// "in_force". Every cell is present.
struct Table2 {
  int year = 0;
  std::map<std::string, std::map<std::string, int64_t>> cells;
};

Result<Table2> ComputeTable2(storage::Catalog& catalog, int year);

// The table for `year` over `requests` (all of them, any year), checked.
Table3 ComputeTable3(const std::vector<ledger::RequestState>& requests, int year);
// Sets `table.problems` to the format's cross-checks that fail.
void CrossCheck(Table3& table);

// The report of one year as far as it is made.
struct AnnualReport {
  std::string agency;
  Table2 table2;
  Table3 table3;
  // The rest of table 二 and table 四, as an admin last entered and signed
  // them (PUT /api/v1/reports/annual/{year}/figures); zeros until then.
  disclosure::ReportFigures figures;
  int64_t figures_log_index = -1;  // their record, -1 while none
};

// Both tables of `year` from the catalog (requests counted in `calendar`).
Result<AnnualReport> LoadAnnualReport(storage::Catalog& catalog,
                                      const disclosure::WorkCalendar& calendar,
                                      const std::string& agency, int year);

// {"year", "agency", "table2": {KIND: {COLUMN: n}}, "table3": {ROW: {COLUMN:
// n}}, "table4": {GROUP: {RESULT: n}}, "figures": {"entered", "log_index"}}
// (CONTRACT.md section 9); table2 also holds the entered licensing,
// penalties, coercion ({"decisions": n}) and fees ({"amount": "万元"}).
std::string AnnualReportJson(const AnnualReport& report);
// A printable page: the format's title, then sections 二 and 三 with their
// titles and tables with the format's labels.
std::string AnnualReportHtml(const AnnualReport& report);
// Table 三 as CSV, one line per row, its label first, then the columns; then
// after an empty line table 二's block likewise.
std::string AnnualReportCsv(const AnnualReport& report);

}  // namespace gongkai::daemon
