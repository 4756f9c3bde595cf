#include "index_feeder.h"

#include <algorithm>
#include <set>
#include <vector>

#include "gongkai/indexer/extract.h"
#include "gongkai/log.h"
#include "sidecar.h"

namespace gongkai::daemon {
namespace {
// Records read per round: at least two commits' worth (below).
constexpr int64_t kRecordsPerRound = 512;
constexpr int64_t kMaxExtractBytes = 256LL * 1024 * 1024;
// Documents read, extracted or prepared but not yet stored, per pool thread.
constexpr size_t kInFlightPerThread = 4;
// A commit also ends at this much text (besides documents_per_shard_commit
// a shard): 256 documents of up to 16 MiB of indexed text each would hold
// 4 GiB a shard in Xapian's batch. With commits this frequent, Xapian's own
// flush threshold (XAPIAN_FLUSH_THRESHOLD, 10,000 documents) is never
// reached, and is left alone.
constexpr size_t kTextBytesPerCommit = size_t{64} * 1024 * 1024;
}  // namespace

namespace {

indexer::IndexDoc ViewOf(const Config& config, const storage::DocumentRow& doc,
                         const storage::VersionRow& v) {
  indexer::IndexDoc d;
  d.id = doc.id;
  d.share = doc.share;
  d.path = doc.path;
  d.office = doc.share;
  for (const ShareConfig& s : config.shares)
    if (s.name == doc.share) d.office = s.office;
  d.version = v.version;
  d.sha256 = v.sha256;
  d.size = v.size;
  d.modified = v.modified;
  d.status = ToString(doc.status);  // the index keeps the contract strings (terms, values)
  d.classification = ToString(doc.classification);
  d.type = indexer::TypeFromName(doc.path);
  const Sidecar meta = SidecarFromStored(v.meta);
  d.title = meta.title;  // AddText keeps it over the extracted title
  d.category = meta.category;
  d.published = meta.published;
  d.doc_number = meta.doc_number;
  d.metadata_text = meta.doc_number + "\n" + meta.agency;
  for (const auto& k : meta.keywords) d.metadata_text += "\n" + k;
  return d;
}

// Extracts the text of view `d`; returns its archive members, if it is an archive.
std::vector<indexer::ArchiveMember> AddText(indexer::ExtractWorkers& extractor,
                                            const storage::BlobStore& blobs,
                                            const storage::DocumentRow& doc, indexer::IndexDoc& d) {
  const std::string where = doc.share + ":" + doc.path + " v" + std::to_string(d.version);
  std::vector<indexer::ArchiveMember> members;
  if (d.size <= kMaxExtractBytes) {
    indexer::Extracted e = extractor.ExtractFile(blobs.PathOf(d.sha256), doc.path);
    if (d.title.empty()) d.title = e.title;
    d.text = std::move(e.text);
    d.text_note = std::move(e.note);
    members = std::move(e.members);
    if (e.parser_failed)
      log::Warning("no text indexed for " + where + ": " + d.text_note);
    else if (!e.has_text)
      log::Info("no text indexed for " + where + ": " + d.text_note);
    else if (!members.empty())
      log::Info(where + ": " + d.text_note);
  } else {
    d.text_note = "larger than 256 MiB: text not extracted";
    log::Info("no text indexed for " + where + ": " + d.text_note);
  }
  if (d.title.empty()) d.title = doc.path.substr(doc.path.rfind('/') + 1);
  return members;
}

// Appends an entry for each archive member of each view (members[i] are
// those of views[i]), with exactly its archive view's visibility.
std::vector<indexer::IndexDoc> WithMembers(
    std::vector<indexer::IndexDoc> views,
    std::vector<std::vector<indexer::ArchiveMember>> members) {
  const size_t documents = views.size();
  for (size_t i = 0; i < documents && i < members.size(); ++i) {
    for (indexer::ArchiveMember& m : members[i]) {
      const indexer::IndexDoc& archive = views[i];
      indexer::IndexDoc d;
      for (auto field :
           {&indexer::IndexDoc::id, &indexer::IndexDoc::share, &indexer::IndexDoc::office,
            &indexer::IndexDoc::sha256, &indexer::IndexDoc::modified, &indexer::IndexDoc::published,
            &indexer::IndexDoc::status, &indexer::IndexDoc::classification,
            &indexer::IndexDoc::category})
        d.*field = archive.*field;
      d.version = archive.version;
      d.size = archive.size;
      d.for_inspectors = archive.for_inspectors;
      d.for_public = archive.for_public;
      d.path = archive.path + "!/" + m.path;
      d.member = m.path;
      d.type = m.extracted.type;
      d.title =
          m.extracted.title.empty() ? m.path.substr(m.path.rfind('/') + 1) : m.extracted.title;
      d.text = std::move(m.extracted.text);
      d.text_note = std::move(m.extracted.note);
      views.push_back(std::move(d));
    }
  }
  return views;
}

}  // namespace

Result<std::vector<indexer::IndexDoc>> BuildIndexDocs(const Config& config,
                                                      const storage::BlobStore& blobs,
                                                      const ledger::DocumentState& state,
                                                      bool with_text,
                                                      indexer::ExtractWorkers* extractor) {
  if (!extractor) extractor = &indexer::ExtractWorkers::Shared();
  const auto inspected = ledger::ShownVersion(ledger::Role::kInspector, state);
  if (!inspected) return Status::Corruption("document " + state.doc.id + " has no versions");
  std::vector<indexer::IndexDoc> out{ViewOf(config, state.doc, *inspected)};
  std::vector<std::vector<indexer::ArchiveMember>> members;  // of each view
  if (with_text) members.push_back(AddText(*extractor, blobs, state.doc, out[0]));
  if (const auto shown = ledger::ShownVersion(ledger::Role::kAnonymous, state)) {
    if (shown->version == out[0].version) {
      out[0].for_public = true;  // one entry serves both
    } else {
      out.push_back(ViewOf(config, state.doc, *shown));
      out.back().for_inspectors = false;
      out.back().for_public = true;
      if (with_text) members.push_back(AddText(*extractor, blobs, state.doc, out.back()));
    }
  }
  return WithMembers(std::move(out), std::move(members));
}

// One document of a round, from its id to its prepared index entries.
struct IndexFeeder::Job {
  std::string doc_id;
  Status status;
  bool gone = false;  // deleted from the catalog: remove its entries
  std::vector<indexer::PreparedDoc> entries;
  size_t text_bytes = 0;  // of its entries
};

IndexFeeder::IndexFeeder(const Config& config, storage::Catalog* catalog,
                         std::vector<std::unique_ptr<storage::Catalog>> readers,
                         const storage::BlobStore* blobs, indexer::ShardedWriter* writer,
                         indexer::ExtractWorkers* extractor, std::function<void()> on_commit,
                         size_t documents_per_shard_commit)
    : config_(config),
      catalog_(catalog),
      readers_(std::move(readers)),
      pool_(std::make_unique<OrderedPool>("index-prepare", readers_.size(),
                                          kInFlightPerThread * readers_.size())),
      blobs_(blobs),
      writer_(writer),
      extractor_(extractor),
      on_commit_(std::move(on_commit)),
      documents_per_shard_commit_(documents_per_shard_commit) {
  applied_seq_ = writer_->watermark();
}

IndexFeeder::~IndexFeeder() = default;

void IndexFeeder::Build(storage::Catalog* catalog, Job& job) const {
  auto state = ledger::LoadDocument(*catalog, job.doc_id);
  if (!state.ok()) {
    job.status = state.status();
    return;
  }
  if (!state->has_value()) {
    job.gone = true;
    return;
  }
  Result<std::vector<indexer::IndexDoc>> views = Status::IOError("not built");
  try {
    views = BuildIndexDocs(config_, *blobs_, **state, /*with_text=*/true, extractor_);
  } catch (const std::exception& e) {  // e.g. bad_alloc on a huge blob
    views = Status::IOError(std::string("extraction: ") + e.what());
  }
  if (!views.ok()) {
    // Never leave stale entries: index the catalog's view without text, so
    // visibility is right even though the text is not searchable.
    log::Error("cannot index the text of document " + job.doc_id + ": " +
               views.status().ToString());
    views = BuildIndexDocs(config_, *blobs_, **state, /*with_text=*/false);
  }
  if (!views.ok()) {
    job.status = views.status();
    return;
  }
  for (const indexer::IndexDoc& d : *views) {
    job.text_bytes += d.text.size();
    auto prepared = indexer::Prepare(d);
    if (!prepared.ok()) {
      job.status = prepared.status();
      return;
    }
    job.entries.push_back(std::move(*prepared));
  }
}

Status IndexFeeder::Store(Job& job) {
  if (!job.status.ok()) return job.status;
  if (job.gone) return writer_->Remove(job.doc_id);
  // A separate public entry and archive members are stored again below if they still exist.
  if (Status s = writer_->RemoveSecondaryEntries(job.doc_id); !s.ok()) return s;
  for (indexer::PreparedDoc& d : job.entries)
    if (Status s = writer_->Replace(std::move(d)); !s.ok()) return s;
  return Status::OK();
}

Status IndexFeeder::Settle(bool wait) {
  const int64_t before = writer_->watermark();
  Status s = writer_->Settle(wait);
  if (const int64_t mark = writer_->watermark(); mark != before) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      applied_seq_ = mark;
    }
    NoteCommitted(mark);
    on_commit_();
    applied_cv_.notify_all();
  }
  return s;
}

Result<std::vector<std::string>> IndexFeeder::SameContent(const std::string& doc_id) {
  auto versions = catalog_->Versions(doc_id);
  if (!versions.ok()) return versions.status();
  std::set<std::string> shas, ids;
  for (const storage::VersionRow& v : *versions)
    if (shas.insert(v.sha256).second) {
      auto holders = catalog_->DocumentsHolding(v.sha256);
      if (!holders.ok()) return holders.status();
      ids.insert(holders->begin(), holders->end());
    }
  ids.erase(doc_id);
  return std::vector<std::string>(ids.begin(), ids.end());
}

Result<size_t> IndexFeeder::CatchUp() {
  auto indexed = Feed();
  const Status settled = Settle(/*wait=*/true);
  if (indexed.ok() && !settled.ok()) return settled;
  return indexed;
}

Result<size_t> IndexFeeder::Feed() {
  size_t indexed = 0;
  const size_t per_commit = documents_per_shard_commit_ * writer_->shards();
  const int64_t per_round = std::max(kRecordsPerRound, static_cast<int64_t>(2 * per_commit));
  while (!stopped_) {  // a stop leaves the rest to the next start's replay
    // From past the last commit queued: the shards commit while the next
    // records are read and prepared.
    auto records = catalog_->Records(writer_->queued_watermark() + 1, per_round);
    if (!records.ok()) return records.status();
    if (records->empty()) return indexed;
    // Each document once, at its first record; first_record[i] is job i's.
    // Right after it, the other documents holding any of its contents: what
    // anonymous callers may see of them depends on this one (visibility.h).
    std::vector<Job> jobs;
    std::vector<size_t> first_record;
    std::set<std::string> seen;
    for (size_t r = 0; r < records->size(); ++r) {
      // A request's record (no document) has nothing to index.
      if ((*records)[r].doc.empty() || !seen.insert((*records)[r].doc).second) continue;
      jobs.push_back(Job{(*records)[r].doc});
      first_record.push_back(r);
      auto copies = SameContent((*records)[r].doc);
      if (!copies.ok()) return copies.status();
      for (const std::string& id : *copies)
        if (seen.insert(id).second) {
          jobs.push_back(Job{id});
          first_record.push_back(r);
        }
    }
    if (jobs.empty()) {  // only requests' records: the watermark moves past them
      writer_->CommitLater(records->back().seq);
      if (Status s = Settle(/*wait=*/false); !s.ok()) return s;
      continue;
    }
    Status failed;
    size_t documents = 0, text_bytes = 0;  // since the last commit
    const bool complete = pool_->Run(
        jobs.size(), [&](size_t thread, size_t i) { Build(readers_[thread].get(), jobs[i]); },
        [&](size_t i) {
          if (stopped_) return false;
          // The archived version is safe; only its searchability is affected.
          // Fail closed: entries that may no longer match the catalog (of a
          // document restricted since, say) must not stay searchable, so the
          // document's entries go until it is indexed again (its next change,
          // or `gongkai reindex`). A change the index itself fails to apply
          // fails the next commit instead (sharded_index.h): every shard
          // drops what it has not committed, and the round is replayed.
          if (Status s = Store(jobs[i]); !s.ok()) {
            ++errors_;
            const Status removed = writer_->Remove(jobs[i].doc_id);
            log::Error("cannot index document " + jobs[i].doc_id + ": " + s.ToString() +
                       (removed.ok() ? "; its entries are removed until it is indexed again" : ""));
            if (!removed.ok()) {
              failed = removed;
              return false;
            }
          }
          text_bytes += jobs[i].text_bytes;
          jobs[i] = Job{};  // frees what the shards do not hold
          ++indexed;
          if (++documents < per_commit && text_bytes < kTextBytesPerCommit && i + 1 != jobs.size())
            return true;
          // The next job is a copy found at the round's first record: no
          // record of the round is complete yet.
          if (i + 1 < jobs.size() && first_record[i + 1] == 0) return true;
          // Every document of the records before job i + 1's first is stored, each
          // read after the whole round was committed to the catalog.
          const int64_t mark =
              i + 1 < jobs.size() ? (*records)[first_record[i + 1] - 1].seq : records->back().seq;
          writer_->CommitLater(mark);
          failed = Settle(/*wait=*/false);
          documents = text_bytes = 0;
          return failed.ok();
        });
    if (!failed.ok()) return failed;
    if (!complete) return indexed;  // stopped: the uncommitted part is replayed next time
  }
  return indexed;
}

void IndexFeeder::Run() {
  for (;;) {
    auto n = CatchUp();
    if (!n.ok()) log::Error("indexing stalled, retrying: " + n.status().ToString());
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, std::chrono::seconds(n.ok() ? 2 : 5), [&] { return woken_ || stopped_; });
    if (stopped_) return;
    woken_ = false;
  }
}

bool IndexFeeder::WaitApplied(int64_t seq, std::chrono::milliseconds timeout) {
  Wake();
  std::unique_lock<std::mutex> lock(mutex_);
  return applied_cv_.wait_for(lock, timeout, [&] { return applied_seq_.load() >= seq; });
}

void IndexFeeder::Wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  cv_.notify_one();
}

void IndexFeeder::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
  }
  cv_.notify_one();
}

}  // namespace gongkai::daemon
