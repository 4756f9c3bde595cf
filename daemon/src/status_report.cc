#include "status_report.h"

#include "gongkai/storage/record.h"
#include "json_writer.h"
#include "metrics.h"

namespace gongkai::daemon {

std::string StatusLine(const Snapshot& s) {
  return std::to_string(s.counts.documents) + " documents, " + std::to_string(s.counts.versions) +
         " versions, " + std::to_string(s.waiting + s.index_backlog) + " queued, " +
         std::to_string(s.failures.size()) + " failed" +
         (s.requests.overdue == 0
              ? ""
              : ", " + std::to_string(s.requests.overdue) + " requests OVERDUE") +
         (s.storage_problem.empty() ? "" : "; INGEST PAUSED: " + s.storage_problem);
}

std::string StatusJson(const Snapshot& s, const Config& config,
                       std::chrono::system_clock::time_point started, int64_t pid) {
  JsonWriter w;
  w.BeginObject()
      .Field("documents", s.counts.documents)
      .Field("active", s.counts.active)
      .Field("versions", s.counts.versions)
      .Field("records", s.counts.records)
      .Field("queued", s.waiting + s.index_backlog)
      .Field("index_backlog", s.index_backlog)
      .Field("index_shards", s.index_shards)
      .Field("failed", static_cast<int64_t>(s.failures.size()))
      .Field("storage_problem", s.storage_problem)
      .Field("started", storage::Rfc3339(started))
      .Field("pid", pid);
  const RequestCounts& r = s.requests;
  w.Key("requests").BeginObject().Field("open", r.open).Field("paused", r.paused);
  w.Field("closed", r.closed).Field("overdue", r.overdue).Field("due_soon", r.due_soon);
  w.EndObject();
  w.Key("failures").BeginArray();
  for (const FailedFile& f : s.failures)
    w.BeginObject()
        .Field("share", f.share)
        .Field("path", f.path)
        .Field("error", f.error)
        .EndObject();
  w.EndArray();
  w.Key("witnesses").BeginArray();
  for (const WitnessClient::WitnessState& ws : s.witnesses)
    w.BeginObject()
        .Field("url", ws.url)
        .Field("cosigned_size", ws.cosigned_size)
        .Field("problem", ws.problem)
        .EndObject();
  w.EndArray();
  w.Key("shares").BeginArray();
  for (const ShareConfig& share : config.shares)
    w.BeginObject()
        .Field("name", share.name)
        .Field("path", share.path)
        .Field("office", share.office)
        .EndObject();
  w.EndArray().EndObject();
  return w.str();
}

std::string ArchiveGauges(const Snapshot& s) {
  std::string out;
  const auto gauge = [&](const char* name, const char* help, int64_t v) {
    MetricHeader(out, name, "gauge", help);
    MetricLine(out, name, "", static_cast<double>(v));
  };
  gauge("gongkai_documents", "Documents in the catalog (active and withdrawn).",
        s.counts.documents);
  gauge("gongkai_documents_active", "Active documents.", s.counts.active);
  gauge("gongkai_versions", "Archived versions.", s.counts.versions);
  gauge("gongkai_log_records", "Records in the signed log (its tree size).", s.counts.records);
  gauge("gongkai_queue_depth", "Files seen but not yet archived.", s.waiting);
  gauge("gongkai_index_backlog", "Log records not yet applied to the index.", s.index_backlog);
  gauge("gongkai_index_shards", "Xapian databases the index is split into ([index] shards).",
        s.index_shards);
  gauge("gongkai_failed_files", "Files that could not be archived (retried when they change).",
        static_cast<int64_t>(s.failures.size()));
  gauge("gongkai_last_commit_timestamp_seconds",
        "Unix time of the last catalog commit since start.", s.last_commit_unix);
  MetricHeader(out, "gongkai_requests", "gauge",
               "Disclosure requests by state: open, paused, closed; of the open ones overdue, "
               "and due_soon (within 3 working days).");
  for (const auto& [state, n] : {std::pair{"open", s.requests.open},
                                 {"paused", s.requests.paused},
                                 {"closed", s.requests.closed},
                                 {"overdue", s.requests.overdue},
                                 {"due_soon", s.requests.due_soon}})
    MetricLine(out, "gongkai_requests", std::string("state=\"") + state + "\"",
               static_cast<double>(n));
  if (!s.column.counted) return out;
  const ColumnGauges& c = s.column;
  MetricHeader(out, "gongkai_freshness_overdue", "gauge",
               "1 when a share (category \"\") or one of its categories has had no new version "
               "for longer than its update_every (the freshness report), else 0.");
  for (const FreshnessLine& l : c.freshness)
    MetricLine(out, "gongkai_freshness_overdue",
               "share=\"" + LabelValue(l.share) + "\",category=\"" + LabelValue(l.category) + "\"",
               l.overdue ? 1 : 0);
  MetricHeader(out, "gongkai_freshness_days_since_update", "gauge",
               "Days since the last new version of a share or category (absent: none yet).");
  for (const FreshnessLine& l : c.freshness)
    if (l.days_since >= 0)
      MetricLine(
          out, "gongkai_freshness_days_since_update",
          "share=\"" + LabelValue(l.share) + "\",category=\"" + LabelValue(l.category) + "\"",
          static_cast<double>(l.days_since));
  MetricHeader(out, "gongkai_timeliness", "gauge",
               "This year's timeliness report: documents published and those published more "
               "than 20 working days after their 生成日期; requests closed and those closed late.");
  const std::string year = "year=\"" + std::to_string(c.year) + "\",";
  for (const auto& [what, n] : {std::pair{"documents_published", c.published},
                                {"documents_late", c.late_documents},
                                {"requests_closed", c.closed_requests},
                                {"requests_late", c.late_requests}})
    MetricLine(out, "gongkai_timeliness", year + "count=\"" + what + "\"", static_cast<double>(n));
  MetricHeader(out, "gongkai_witness_cosigned_tree_size", "gauge",
               "The tree size each witness ([log] witnesses) last cosigned or said it holds.");
  for (const WitnessClient::WitnessState& ws : s.witnesses)
    MetricLine(out, "gongkai_witness_cosigned_tree_size", "witness=\"" + LabelValue(ws.url) + "\"",
               static_cast<double>(ws.cosigned_size));
  MetricHeader(out, "gongkai_witness_failing", "gauge",
               "1 while a witness's last answer was a failure or a refusal (the log says why).");
  for (const WitnessClient::WitnessState& ws : s.witnesses)
    MetricLine(out, "gongkai_witness_failing", "witness=\"" + LabelValue(ws.url) + "\"",
               ws.problem.empty() ? 0 : 1);
  return out;
}

}  // namespace gongkai::daemon
