// The annual report on government information disclosure (政府信息公开工作年度报告,
// the 2021 national format, 国办公开办函〔2021〕30号; labels in DOMAIN.md). Made
// here: table 三, 收到和处理政府信息公开申请情况, from the disclosure requests.
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

#include "gongkai/ledger/requests.h"

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

// The table for `year` over `requests` (all of them, any year), checked.
Table3 ComputeTable3(const std::vector<ledger::RequestState>& requests, int year);
// Sets `table.problems` to the format's cross-checks that fail.
void CrossCheck(Table3& table);

// {"year", "agency", "table3": {ROW: {COLUMN: n}}} (CONTRACT.md section 9).
std::string AnnualReportJson(const Table3& table, const std::string& agency);
// A printable page: the format's title, section 三's title and its table
// with the format's labels.
std::string AnnualReportHtml(const Table3& table, const std::string& agency);
// Table 三 as CSV: one line per row, its label first, then the columns.
std::string AnnualReportCsv(const Table3& table);

}  // namespace gongkai::daemon
