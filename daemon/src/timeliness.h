// The timeliness report (CONTRACT.md section 9): for one year, the documents
// published more than 20 working days after their 生成日期 (条例第二十六条)
// and the requests closed after their due date (条例第三十三条). Shared by
// GET /api/v1/reports/timeliness, `gongkai report timeliness` and the
// daemon's gauges on /metrics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalogue.h"
#include "gongkai/disclosure/calendar.h"
#include "gongkai/ledger/requests.h"

namespace gongkai::daemon {

// 条例第二十六条: published within 20 working days of being made.
inline constexpr int kPublishWithinWorkdays = 20;

struct LateDocument {
  CatalogueEntry entry;
  std::string due;   // the last day it was on time
  int workdays = 0;  // working days from created to published
  bool provisional = false;
};

struct LateRequest {
  std::string code, received, due, closed;
  int workdays_late = 0;  // working days from due to closed
  bool provisional = false;
};

struct Timeliness {
  int year = 0;
  int64_t documents = 0;          // published in the year
  int64_t documents_undated = 0;  // of them without a 生成日期: not checkable
  std::vector<LateDocument> late_documents;
  int64_t requests_closed = 0;  // closed in the year
  std::vector<LateRequest> late_requests;
  bool provisional = false;  // a count crossed a year without holiday data
};

// `published` is the catalogue of `year` as inspectors see it
// (LoadCatalogue with CatalogueFilter{year} and Role::kInspector): a
// document published late stays late whatever became of it since.
// `requests` are all requests.
Timeliness ComputeTimeliness(const Catalogue& published,
                             const std::vector<ledger::RequestState>& requests,
                             const disclosure::WorkCalendar& calendar, int year);
// The same from the catalog, reading its catalogue a batch at a time
// (ForEachCatalogueEntry): what the report, the CLI and the gauges use, and
// never the whole catalogue in memory.
Result<Timeliness> LoadTimeliness(storage::Catalog& catalog, const Config& config,
                                  const disclosure::WorkCalendar& calendar, int year);

std::string TimelinessJson(const Timeliness& t);

}  // namespace gongkai::daemon
