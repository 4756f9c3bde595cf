// What the running daemon reports about itself: run/status.json (also served
// as /api/v1/status and shown by `gongkai status`), the STATUS= line for
// `systemctl status`, and the archive gauges of /metrics. Pure functions of a
// Snapshot, which the daemon takes once per main-loop turn.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "archiver.h"
#include "freshness.h"
#include "gongkai/config.h"
#include "gongkai/storage/catalog.h"
#include "request_view.h"
#include "witness_client.h"

namespace gongkai::daemon {

// The disclosure column's timeliness, recounted every few minutes: the
// freshness report as of today and this year's timeliness report.
struct ColumnGauges {
  bool counted = false;  // false until the first count
  std::vector<FreshnessLine> freshness;
  int year = 0;
  int64_t published = 0, late_documents = 0, closed_requests = 0, late_requests = 0;
};

struct Snapshot {
  storage::CatalogCounts counts;
  int64_t waiting = 0;        // files seen but not yet archived
  int64_t index_backlog = 0;  // log records not yet applied to the index
  int64_t index_shards = 0;   // Xapian databases the index is split into
  std::vector<FailedFile> failures;
  std::string storage_problem;   // why ingest is paused, "" when it is not
  int64_t last_commit_unix = 0;  // the last catalog commit since start, 0 before
  RequestCounts requests;        // disclosure requests by state
  ColumnGauges column;
  std::vector<WitnessClient::WitnessState> witnesses;  // [log] witnesses, in order
};

// "3 documents, 4 versions, 0 queued, 0 failed" (then overdue disclosure
// requests, and why ingest is paused, when there are).
std::string StatusLine(const Snapshot& s);

// The status object of docs/api.md: counts, queue, failures and shares.
// "queued" counts files waiting to be archived and records waiting to be
// indexed alike: 0 means everything seen is searchable.
std::string StatusJson(const Snapshot& s, const Config& config,
                       std::chrono::system_clock::time_point started, int64_t pid);

// The archive gauges of /metrics in Prometheus' text format.
std::string ArchiveGauges(const Snapshot& s);

}  // namespace gongkai::daemon
