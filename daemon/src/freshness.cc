#include "freshness.h"

#include <ctime>

#include "csv.h"
#include "json_writer.h"

namespace gongkai::daemon {
namespace {

// Seconds since the epoch for "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ"; -1 if malformed.
int64_t ParseUtc(const std::string& s) {
  struct tm tm {};
  const char* end = s.size() == 10 ? strptime(s.c_str(), "%Y-%m-%d", &tm)
                                   : strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (!end || *end) return -1;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

std::string TodayUtc() {
  std::time_t t = std::time(nullptr);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

Result<std::vector<FreshnessLine>> Freshness(const Config& config, storage::Catalog* catalog,
                                             const disclosure::WorkCalendar& calendar,
                                             const std::string& as_of) {
  const int64_t day_start = ParseUtc(as_of);
  if (as_of.size() != 10 || day_start < 0)
    return Status::Invalid("as_of must be a date, YYYY-MM-DD");
  const int64_t when = day_start + 86400 - 1;
  auto latest = catalog->LatestVersions(as_of + "T23:59:59Z");
  if (!latest.ok()) return latest.status();
  std::vector<FreshnessLine> out;
  for (const ShareConfig& share : config.shares) {
    const int64_t workdays = share.update_every_workdays;
    const int64_t every = workdays > 0                     ? 0
                          : share.update_every.count() > 0 ? share.update_every.count() / 86400
                                                           : 90;
    auto line_for = [&](const std::string& category, const std::string& last) {
      FreshnessLine l{share.name, share.office, category, last, -1, every, workdays};
      l.overdue = true;
      const int64_t t = last.empty() ? -1 : ParseUtc(last);
      if (t < 0) return l;
      l.days_since = (when - t) / 86400;
      l.overdue = l.days_since > every;
      if (workdays > 0) {  // the archive's UTC dates, like days_since
        l.workdays_since = calendar.WorkdaysBetween(*disclosure::ParseDate(last.substr(0, 10)),
                                                    *disclosure::ParseDate(as_of), &l.provisional);
        l.overdue = l.workdays_since > workdays;
      }
      return l;
    };
    std::string share_last;
    std::vector<FreshnessLine> categories;
    for (const auto& row : *latest) {
      if (row.share != share.name) continue;
      share_last = std::max(share_last, row.archived);
      if (!row.category.empty()) categories.push_back(line_for(row.category, row.archived));
    }
    out.push_back(line_for("", share_last));
    for (auto& c : categories) out.push_back(std::move(c));
  }
  return out;
}

std::string FreshnessJson(const std::string& as_of, const std::vector<FreshnessLine>& lines) {
  JsonWriter w;
  w.BeginObject().Field("as_of", as_of).Key("entries").BeginArray();
  for (const auto& l : lines) {
    w.BeginObject().Field("share", l.share).Field("office", l.office).Field("category", l.category);
    w.Key("last_version");
    if (l.last_version.empty())
      w.Null();
    else
      w.String(l.last_version);
    w.Key("days_since");
    if (l.days_since < 0)
      w.Null();
    else
      w.Int(l.days_since);
    w.Field("update_every_days", l.update_every_days);
    w.Field("update_every_workdays", l.update_every_workdays).Key("workdays_since");
    if (l.workdays_since < 0)
      w.Null();
    else
      w.Int(l.workdays_since);
    w.Field("provisional", l.provisional).Field("overdue", l.overdue).EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

std::string FreshnessCsv(const std::vector<FreshnessLine>& lines) {
  std::string out =
      "share,office,category,last_version,days_since,update_every_days,update_every_workdays,"
      "workdays_since,overdue\n";
  for (const auto& l : lines)
    out += CsvCell(l.share) + "," + CsvCell(l.office) + "," + CsvCell(l.category) + "," +
           l.last_version + "," + (l.days_since < 0 ? "" : std::to_string(l.days_since)) + "," +
           std::to_string(l.update_every_days) + "," + std::to_string(l.update_every_workdays) +
           "," + (l.workdays_since < 0 ? "" : std::to_string(l.workdays_since)) + "," +
           (l.overdue ? "yes" : "no") + "\n";
  return out;
}

}  // namespace gongkai::daemon
