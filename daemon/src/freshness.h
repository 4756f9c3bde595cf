// The freshness report (責令公開): per share/office and per category, when the
// last new version was archived, how many days ago, and whether that is
// beyond the share's update_every (default 90 days; "20wd" counts working
// days by China's calendar). Shared by GET /api/v1/reports/freshness and
// `gongkai report freshness`.
#pragma once

#include <string>
#include <vector>

#include "gongkai/config.h"
#include "gongkai/disclosure/calendar.h"
#include "gongkai/storage/catalog.h"

namespace gongkai::daemon {

struct FreshnessLine {
  std::string share, office, category;  // category "" = the whole share
  std::string last_version;             // RFC 3339, "" if nothing was ever archived
  int64_t days_since = -1;              // -1 with no version
  int64_t update_every_days = 90;       // 0 when counted in working days
  // A share with update_every = 20wd: that limit, and the working days since
  // (-1 with no version), provisional through a year without holiday data.
  int64_t update_every_workdays = 0;
  int64_t workdays_since = -1;
  bool provisional = false;
  bool overdue = false;
};

// `as_of` is YYYY-MM-DD (the report looks at the end of that day, UTC);
// working days are counted in `calendar`.
Result<std::vector<FreshnessLine>> Freshness(const Config& config, storage::Catalog* catalog,
                                             const disclosure::WorkCalendar& calendar,
                                             const std::string& as_of);
std::string FreshnessJson(const std::string& as_of, const std::vector<FreshnessLine>& lines);
std::string FreshnessCsv(const std::vector<FreshnessLine>& lines);
// Today's date, UTC, as YYYY-MM-DD.
std::string TodayUtc();

}  // namespace gongkai::daemon
