// The figures of the annual report that no record holds, entered by an
// admin (CONTRACT.md section 9, PUT /api/v1/reports/annual/{year}/figures):
// the rest of table 二 (行政许可, 行政处罚, 行政强制 decisions and 行政事业性收费)
// and table 四 (行政复议 and 行政诉讼 cases by result).
//
// JSON, every key optional (absent: 0):
//   {"table2": {"licensing": n, "penalties": n, "coercion": n, "fees": "12.5"},
//    "table4": {"review" | "litigation_direct" | "litigation_after_review":
//               {"upheld", "corrected", "other", "pending", "total"}}}
// Counts are whole numbers from 0 to 10^9; fees (本年收费金额, 万元) a decimal
// with at most 4 places. Each group's total must be the sum of its four
// results (the format's cross-check), else the figures are refused naming
// the cell. ReportFiguresJson() writes them normalised: every key, fixed
// order; that text is what the signed record holds.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "gongkai/status.h"

namespace gongkai::disclosure {

struct CaseResults {  // one group of table 四
  int64_t upheld = 0, corrected = 0, other = 0, pending = 0, total = 0;
  bool operator==(const CaseResults&) const = default;
};

struct ReportFigures {
  int64_t licensing = 0, penalties = 0, coercion = 0;
  std::string fees = "0";  // 万元, decimal text as entered (normalised)
  CaseResults review, litigation_direct, litigation_after_review;
  bool operator==(const ReportFigures&) const = default;
};

// The groups of table 四, in the format's order: key and label.
struct CaseGroup {
  const char* key;
  const char* label;
  CaseResults ReportFigures::*results;
};
const std::array<CaseGroup, 3>& CaseGroups();

Result<ReportFigures> ParseReportFigures(const std::string& json);
std::string ReportFiguresJson(const ReportFigures& figures);

}  // namespace gongkai::disclosure
