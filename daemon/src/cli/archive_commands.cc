// Reading the archive beside the running daemon (status, search, show and
// history, report freshness), and rebuilding its index with the daemon
// stopped (reindex).
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <iostream>
#include <optional>
#include <thread>

#include "cli/cli.h"
#include "cli/output.h"
#include "freshness.h"
#include "gongkai/disclosure/calendar.h"
#include "gongkai/indexer/extract_worker.h"
#include "gongkai/indexer/index.h"
#include "gongkai/indexer/sharded_index.h"
#include "gongkai/ledger/requests.h"
#include "gongkai/ledger/visibility.h"
#include "gongkai/log.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/env.h"
#include "index_feeder.h"
#include "json_writer.h"
#include "progress.h"
#include "request_view.h"

namespace gongkai::cli {
namespace {

struct LiveCounts {
  int64_t queued = 0, failed = 0;
};

// The queue and failures the running daemon publishes in run/status.json.
LiveCounts ReadLiveCounts(const daemon::DataLayout& layout) {
  LiveCounts live;
  try {
    auto text = storage::ReadFile(layout.status_file());
    if (!text.ok()) return live;
    auto o = Poco::JSON::Parser().parse(*text).extract<Poco::JSON::Object::Ptr>();
    live.queued = o->optValue<Poco::Int64>("queued", 0);
    live.failed = o->optValue<Poco::Int64>("failed", 0);
  } catch (const Poco::Exception&) {
    // Damaged (it is replaced atomically, never half-written): report what the catalog knows.
  }
  return live;
}

// A document named by its id, SHARE:PATH, or a path inside a share (absolute or relative).
std::optional<storage::DocumentRow> FindDocument(Context& ctx, const std::string& what) {
  if (auto r = ctx.catalog->GetDocument(what); r.ok() && r->has_value()) return **r;
  if (const size_t colon = what.find(':'); colon != std::string::npos)
    if (auto r = ctx.catalog->FindByPath(what.substr(0, colon), what.substr(colon + 1));
        r.ok() && r->has_value())
      return **r;
  for (const ShareConfig& s : ctx.config.shares) {
    std::string rel = what;
    if (rel.rfind(s.path + "/", 0) == 0) rel = rel.substr(s.path.size() + 1);  // absolute path
    if (auto r = ctx.catalog->FindByPath(s.name, rel); r.ok() && r->has_value()) return **r;
  }
  return std::nullopt;
}

Record VersionRecord(const storage::VersionRow& v) {
  return Record()
      .Add("version", v.version)
      .Add("sha256", v.sha256)
      .Add("size", v.size)
      .Add("modified", v.modified)
      .Add("archived", v.archived)
      .Add("log_index", v.log_index)
      .Add("review", v.review);
}

// show's text: names and titles come from shares, printed without raw control characters.
std::string DocumentText(const storage::DocumentRow& doc,
                         const std::vector<storage::VersionRow>& versions,
                         const std::string& text_note) {
  std::string out = doc.share + ":" + log::Printable(doc.path) + "  id " + doc.id + "  " +
                    ToString(doc.status) + ", " + ToString(doc.classification) + "\n";
  if (!doc.index_no.empty())
    out += "  索引号 " + doc.index_no + ", published " + doc.published + "\n";
  if (!versions.empty() && versions.back().meta != "{}" && !versions.back().meta.empty())
    out += "  metadata " + log::Printable(versions.back().meta) + "\n";
  for (const auto& v : versions)
    out += "  v" + std::to_string(v.version) + "  " + v.archived + "  " + v.sha256 + "  " +
           std::to_string(v.size) + " bytes  log " + std::to_string(v.log_index) +
           (v.review == ReviewState::kPending ? "  (pending review)" : "") + "\n";
  if (!text_note.empty()) out += "  text: " + log::Printable(text_note) + "\n";
  return out;
}

// "dropped 请问, 的; optional 航空站, 回馈金" for a relaxed answer.
std::string RelaxedText(const indexer::SearchResult& r) {
  auto list = [](const std::vector<std::string>& words) {
    std::string out;
    for (const std::string& w : words) out += (out.empty() ? "" : ", ") + log::Printable(w);
    return out;
  };
  std::string out = "dropped " + (r.dropped.empty() ? "nothing" : list(r.dropped));
  if (!r.optional.empty()) out += "; optional " + list(r.optional);
  return out;
}

}  // namespace

int CmdStatus(Context& ctx, const Args& args) {
  auto counts = ctx.catalog->Counts();
  if (!counts.ok()) return Fail(counts.status());
  const bool running = daemon::DataDirLocked(ctx.layout.lock_file());
  const LiveCounts live = running ? ReadLiveCounts(ctx.layout) : LiveCounts{};
  const char* daemon = running ? "running" : "stopped";
  // The requests' counts; the archive's status is shown even without them.
  daemon::RequestCounts n;
  std::string late;  // the codes an office must act on, soonest first
  Result<std::vector<ledger::RequestState>> requests = Status::NotFound("");
  auto calendar =
      disclosure::WorkCalendar::Load(disclosure::CalendarFolders(ctx.config.calendar_dir));
  if (calendar.ok()) requests = ledger::LoadRequests(*ctx.catalog, *calendar);
  if (!calendar.ok() || !requests.ok()) {
    Error("cannot count disclosure requests: " +
              (calendar.ok() ? requests.status() : calendar.status()).ToString(),
          0);
  } else {
    const disclosure::Date today = disclosure::LocalToday();
    n = daemon::CountRequests(*requests, *calendar, today);
    for (const ledger::RequestState& q : *requests)
      if (q.clock.Overdue(today) || daemon::DueSoon(q.clock, *calendar, today))
        late += "  " + q.row.code + "  due " + disclosure::FormatDate(q.clock.due) +
                (q.clock.Overdue(today) ? "  OVERDUE\n" : "\n");
  }
  Record r;
  r.Add("documents", counts->documents)
      .Add("active", counts->active)
      .Add("versions", counts->versions);
  r.Add("records", counts->records)
      .Add("queued", live.queued)
      .Add("failed", live.failed)
      .Add("daemon", daemon);
  daemon::JsonWriter counts_json;
  counts_json.BeginObject().Field("open", n.open).Field("paused", n.paused);
  counts_json.Field("closed", n.closed).Field("overdue", n.overdue).Field("due_soon", n.due_soon);
  r.AddJson("requests", counts_json.EndObject().str());
  return Print(
      args, r,
      "daemon:     " + std::string(daemon) + "\ndocuments:  " + std::to_string(counts->documents) +
          " (" + std::to_string(counts->active) + " active)\nversions:   " +
          std::to_string(counts->versions) + "\nlog records: " + std::to_string(counts->records) +
          "\nqueued:     " + std::to_string(live.queued) + "\nfailed:     " +
          std::to_string(live.failed) + "\nrequests:   " + std::to_string(n.open) + " open, " +
          std::to_string(n.paused) + " paused, " + std::to_string(n.closed) + " closed; " +
          std::to_string(n.overdue) + " overdue, " + std::to_string(n.due_soon) + " due within " +
          std::to_string(daemon::kDueSoonWorkdays) + " working days\n" + late);
}

int CmdSearch(Context& ctx, const Args& args) {
  indexer::SearchQuery q;
  q.q = args.positional[0];
  q.anonymous = false;
  q.status = std::nullopt;  // all
  if (args.Has("share")) q.share = args.Option("share");
  if (args.Has("limit")) {
    const std::string limit = args.Option("limit");
    if (limit.empty() || limit.size() > 4 ||
        limit.find_first_not_of("0123456789") != std::string::npos || std::stoi(limit) < 1)
      return UsageError("search", "--limit takes a number from 1 to 9999");
    q.limit = std::stoi(limit);
  }
  q.relax = !args.Has("strict");
  auto found = indexer::Searcher(ctx.layout.index()).Search(q);
  if (!found.ok()) return Fail(found.status());
  std::vector<Record> results;
  std::string text = std::to_string(found->total) + " documents match\n";
  if (found->relaxed)
    text = std::to_string(found->strict_total) + " documents match as written; relaxed (" +
           RelaxedText(*found) + "): " + std::to_string(found->total) + " documents\n";
  for (const auto& h : found->hits) {
    results.push_back(Record()
                          .Add("id", h.doc.id)
                          .Add("share", h.doc.share)
                          .Add("path", h.doc.path)
                          .Add("title", h.doc.title)
                          .Add("version", h.doc.version)
                          .Add("status", h.doc.status)
                          .Add("snippet", h.snippet));
    text +=
        h.doc.id + "  " + h.doc.share + ":" + log::Printable(h.doc.path) + "  v" +
        std::to_string(h.doc.version) +
        (ParseDocumentStatus(h.doc.status) == DocumentStatus::kWithdrawn ? "  (withdrawn)" : "") +
        "\n    " + log::Printable(h.doc.title) + "\n";
  }
  Record r;
  r.Add("total", found->total).Add("relaxed", found->relaxed);
  if (found->relaxed)
    r.Add("strict_total", found->strict_total)
        .AddJson("dropped", daemon::JsonWriter().Strings(found->dropped).str())
        .AddJson("optional", daemon::JsonWriter().Strings(found->optional).str());
  return Print(args, r.Add("results", std::move(results)), text);
}

int CmdShow(Context& ctx, const Args& args) {
  const std::string& what = args.positional[0];
  const std::optional<storage::DocumentRow> doc = FindDocument(ctx, what);
  if (!doc) return Error("no document " + what, 1);
  auto versions = ctx.catalog->Versions(doc->id);
  if (!versions.ok()) return Fail(versions.status());
  // What extraction said about the current version (why it has no text, or
  // an archive's summary: members indexed and skipped), from its index entry.
  std::string text_note;
  if (auto indexed = indexer::Searcher(ctx.layout.index()).Get(doc->id); indexed.ok())
    text_note = indexed->text_note;
  std::vector<Record> list;
  for (const auto& v : *versions) list.push_back(VersionRecord(v));
  Record r;
  r.Add("id", doc->id)
      .Add("index_no", doc->index_no)
      .Add("share", doc->share)
      .Add("path", doc->path)
      .Add("status", doc->status);
  r.Add("classification", doc->classification)
      .Add("created", doc->created)
      .Add("updated", doc->updated);
  r.Add("text_note", text_note).AddJson("meta", versions->empty() ? "" : versions->back().meta);
  r.Add("versions", std::move(list));
  return Print(args, r, DocumentText(*doc, *versions, text_note));
}

int CmdReport(Context& ctx, const Args& args) {
  const std::string as_of = args.Has("as-of") ? args.Option("as-of") : daemon::TodayUtc();
  auto calendar =
      disclosure::WorkCalendar::Load(disclosure::CalendarFolders(ctx.config.calendar_dir));
  if (!calendar.ok()) return Fail(calendar.status());
  auto lines = daemon::Freshness(ctx.config, ctx.catalog.get(), *calendar, as_of);
  if (!lines.ok()) return UsageError("report", lines.status().message());
  std::string text = "freshness as of " + as_of + "\n";
  for (const auto& l : *lines)
    text += (l.overdue ? "OVERDUE " : "ok      ") + l.share +
            (l.category.empty() ? "" : " / " + l.category) + " (" + l.office + "): " +
            (l.last_version.empty()
                 ? "nothing published"
                 : "last " + l.last_version + ", " + std::to_string(l.days_since) + " days ago") +
            (l.update_every_workdays > 0
                 ? ", " + std::to_string(l.workdays_since) + " working days" +
                       (l.provisional ? " (provisional)" : "") + ", expected every " +
                       std::to_string(l.update_every_workdays) + " working days\n"
                 : ", expected every " + std::to_string(l.update_every_days) + " days\n");
  if (args.Has("csv")) text = daemon::FreshnessCsv(*lines);
  return Print(args, Record::FromJson(daemon::FreshnessJson(as_of, *lines)), text);
}

int CmdReindex(Context& ctx, const Args& args) {
  auto blobs =
      storage::BlobStore::Open(storage::Env::Default(), ctx.layout.blobs(), ctx.layout.tmp());
  if (!blobs.ok()) return Fail(blobs.status());
  auto writer = indexer::ShardedWriter::Open(ctx.layout.index(), ctx.config.index_shards);
  if (!writer.ok()) return Fail(writer.status());
  auto counts = ctx.catalog->Counts();
  if (!counts.ok()) return Fail(counts.status());
  if (Status s = (*writer)->Clear(); !s.ok()) return Fail(s);
  // The daemon's own pipeline (index_feeder.h) replays every record: text
  // extracted and prepared on every core, the shards written in parallel.
  // Interrupted, it leaves a watermark the daemon goes on from.
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<storage::Catalog>> readers;
  for (unsigned i = 0; i < cores; ++i) {
    auto reader = storage::OpenCatalog(ctx.config.catalog_postgres, ctx.layout.catalog(),
                                       storage::Env::Default());
    if (!reader.ok()) return Fail(reader.status());
    readers.push_back(std::move(*reader));
  }
  indexer::ExtractWorkerOptions extract_options = indexer::DefaultExtractWorkerOptions();
  extract_options.max_workers = cores;
  indexer::ExtractWorkers extractor(extract_options);
  auto progress = ProgressFor(args, "reindex", "records");
  daemon::IndexFeeder feeder(ctx.config, ctx.catalog.get(), std::move(readers), blobs->get(),
                             writer->get(), &extractor, [&] {
                               if (progress)
                                 progress->Update(static_cast<uint64_t>((*writer)->watermark() + 1),
                                                  static_cast<uint64_t>(counts->records));
                             });
  auto indexed = feeder.CatchUp();
  if (!indexed.ok()) return Fail(indexed.status());
  if (progress) progress->Finish();
  const int64_t watermark = (*writer)->watermark();
  const uint64_t documents = (*writer)->doc_count();
  const size_t errors = feeder.errors();
  const size_t shards = (*writer)->shards();
  return Print(args,
               Record()
                   .Add("documents", documents)
                   .Add("errors", errors)
                   .Add("watermark", watermark)
                   .Add("shards", shards),
               "reindexed " + std::to_string(documents) + " documents (" + std::to_string(errors) +
                   " errors) into " + std::to_string(shards) + " shard" + (shards == 1 ? "" : "s") +
                   ", watermark " + std::to_string(watermark) + "\n",
               errors ? 1 : 0);
}

}  // namespace gongkai::cli
