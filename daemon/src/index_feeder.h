// Keeps the Xapian index in step with the catalog (invariant 3).
//
// Replays catalog records with seq above the index's watermark: for every
// document they touch it indexes the document's current state (current
// version's text, status, visibility), then commits with the new watermark.
// Because it always indexes the *current* state, replaying a record twice is
// harmless, and a crash anywhere is repaired by replay on the next start.
//
// The pipeline: the records are read in rounds; each document of a round is
// read from the catalog, extracted (in the extraction worker processes) and
// prepared (terms generated) on a pool of threads, one catalog connection
// each, a bounded number at a time; the feeder's own thread hands the
// prepared entries in record order to the index's shards, whose writer
// threads store them in parallel (sharded_index.h). As a round's documents
// are distinct and every document is read after its record committed, each
// entry reflects the catalog at or after the watermark committed with it.
// The index commits every documents_per_shard_commit documents a shard (or
// kTextBytesPerCommit of text) and at the end of a round. The feeder does not
// wait for a commit: the shards commit while the pool and the feeder go on
// with the next documents and the next round, and the waiters (WaitApplied,
// on_commit) are told once a commit is done on every shard. CatchUp() returns
// after the last one.
//
// Run() and CatchUp() run on one thread; Wake(), backlog() and the other
// members are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "gongkai/config.h"
#include "gongkai/indexer/extract_worker.h"
#include "gongkai/indexer/index.h"
#include "gongkai/indexer/sharded_index.h"
#include "gongkai/ledger/visibility.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"
#include "ordered_pool.h"

namespace gongkai::daemon {

class IndexFeeder {
 public:
  // Documents per index commit and shard. A shard's cost per document grows
  // with its index, and grows least with larger commits; Xapian holds the
  // uncommitted batch in memory. 256 took a 100,000-page ingest from 475 to
  // 410 s against 128, with peak RSS 180 MB against 151; 512 would, at that
  // step, pass 200 MB (bench/README.md, the index writer). A round's last
  // commit may be smaller, so a trickle of files is searchable within a
  // second. Each shard gets its share of a commit, so a commit takes this
  // many times the shards.
  static constexpr size_t kDocumentsPerShardCommit = 256;

  // `on_commit` runs after each index commit (to reopen searchers). Text is
  // extracted by `extractor`'s worker processes; it must outlive the feeder.
  // `readers` are the pool threads' catalog connections: one thread each, at
  // least one; `catalog` is the feeder thread's own.
  IndexFeeder(const Config& config, storage::Catalog* catalog,
              std::vector<std::unique_ptr<storage::Catalog>> readers,
              const storage::BlobStore* blobs, indexer::ShardedWriter* writer,
              indexer::ExtractWorkers* extractor, std::function<void()> on_commit,
              size_t documents_per_shard_commit = kDocumentsPerShardCommit);
  ~IndexFeeder();

  // Applies every pending record; returns the number of documents indexed.
  Result<size_t> CatchUp();
  // Loops CatchUp() until Stop(), waiting for Wake() between rounds.
  void Run();
  void Wake();
  void Stop();
  // Records committed to the catalog but not yet in the index.
  int64_t backlog() const { return std::max<int64_t>(0, latest_seq_.load() - applied_seq_.load()); }
  void NoteCommitted(int64_t seq) {
    int64_t cur = latest_seq_.load();
    while (cur < seq && !latest_seq_.compare_exchange_weak(cur, seq)) {
    }
  }
  // Documents that could not be indexed (logged; their entries removed).
  size_t errors() const { return errors_.load(); }
  // Waits until the index has applied record `seq` (true) or `timeout` passed.
  bool WaitApplied(int64_t seq, std::chrono::milliseconds timeout);

 private:
  // The other documents with a version whose content one of `doc_id`'s holds.
  Result<std::vector<std::string>> SameContent(const std::string& doc_id);
  struct Job;
  // Reads, extracts and prepares one document (on a pool thread).
  void Build(storage::Catalog* catalog, Job& job) const;
  // Stores what Build() made (on the feeder thread).
  Status Store(Job& job);
  // CatchUp() but for the commits it queued last (CatchUp waits for them).
  Result<size_t> Feed();
  // Takes the index commits finished (all queued, if `wait`) and tells the
  // waiters; ShardedWriter::Settle().
  Status Settle(bool wait);

  const Config& config_;
  storage::Catalog* catalog_;
  std::vector<std::unique_ptr<storage::Catalog>> readers_;
  std::unique_ptr<OrderedPool> pool_;
  const storage::BlobStore* blobs_;
  indexer::ShardedWriter* writer_;
  std::atomic<size_t> errors_{0};
  indexer::ExtractWorkers* extractor_;
  std::function<void()> on_commit_;
  const size_t documents_per_shard_commit_;
  std::atomic<int64_t> latest_seq_{-1};
  std::atomic<int64_t> applied_seq_{-1};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::condition_variable applied_cv_;
  bool woken_ = false;
  std::atomic<bool> stopped_{false};
};

// Builds the index entries of one document from its state and its blobs
// (see index.h): the version inspectors are shown, marked for the public too
// when it is also the one anonymous callers are shown (ledger::ShownVersion),
// else a separate public entry for that one, if any. Shared by the
// feeder, `reindex` and `verify`. The text comes from `extractor`'s worker
// processes (nullptr: ExtractWorkers::Shared()); a document whose parser
// crashed, hung or ran out of memory is indexed without text, with the note,
// and logged once as a warning.
Result<std::vector<indexer::IndexDoc>> BuildIndexDocs(const Config& config,
                                                      const storage::BlobStore& blobs,
                                                      const ledger::DocumentState& state,
                                                      bool with_text = true,
                                                      indexer::ExtractWorkers* extractor = nullptr);

}  // namespace gongkai::daemon
