// The hub's verified copy of its nodes' public documents (CONTRACT.md
// section 10), in [hub] shards Xapian databases (DATA/mirror/K), searched as
// one. A node's documents are in shard ShardOf(name): a stable hash of its
// name, so a shard holds many townships and a search opens a few databases,
// not one per township. Each entry carries its node (IndexDoc::origin, term
// XN<name>) and an id of "NAME/DOC" (so a node cannot touch another's
// entries); each node's verified tree is the shard's metadata
// "hub.tree.NAME", and "hub.nodes" lists the nodes a shard holds, so that
// Open() empties the entries of a node that moved or left.
//
// A sync of one node:
//  1. Its target is the node's /tlog/checkpoint, verified under its
//     [node.NAME] note_key, or the checkpoint the witness holds for the
//     node's log when that one is larger.
//  2. It pulls the entry bundles (/tlog/tile/entries, with the node's hub
//     token) from the mirrored size up to the target's, checks that each
//     record's seq is its place in the log, and that the tree of every record
//     mirrored so far has the target's root hash, and the witnessed
//     checkpoint's when the sync passes its size.
//  3. Each document those records touch is settled by its latest record: a
//     withdrawn or restricted one leaves the shard; a public one with an
//     approved version is fetched without a token (so the node's own rules
//     apply as well), its bytes checked against the record's sha256 and size,
//     its text extracted by the sandboxed workers, and indexed. A public
//     document whose latest version is pending keeps the entry it has (the
//     node still shows the approved one).
//  4. The shard commits the documents with the node's tree state: all of a
//     sync or nothing of it.
//
// Guarantees:
// - Only public documents enter a shard, each with bytes that match a record
//   the hub verified against a checkpoint signed by the node.
// - Anything that does not verify (a root, a seq, a document's bytes) or
//   cannot be fetched refuses the whole sync: the shard stays as of the last
//   verified sync, searchable, and the node is stale until a sync succeeds.
//   Verification failures are alarms (logged as errors, counted); a node
//   that is down or slow is a warning, logged when its state changes.
// - Every fetch is bounded in size and time (http_client.h); a sync as a
//   whole stops at [hub] sync_timeout.
//
// Thread-safety: Open() first; then Start() runs the syncs on SyncWorkers()
// threads of their own, the nodes of the k-th shard in use always on thread
// k % SyncWorkers(), so a shard is written by one sync at a time (SyncNow()
// from any other thread serialises with it), while the HTTP threads call
// Search() and Statuses().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gongkai/config.h"
#include "gongkai/indexer/extract_worker.h"
#include "gongkai/indexer/index.h"
#include "gongkai/status.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/witness.h"

namespace gongkai::hub {

// The shard, of `count`, that holds node `name`'s documents.
size_t ShardOf(const std::string& name, size_t count);

// Gives each hit of a search over mirror shards its node's own document id
// (the shards' ids are "NAME/DOC").
void UseNodeIds(indexer::SearchResult* result);

// What the county inspector sees of a township, read at each sync with the
// hub's token: counts and dates only, never a request's personal details.
struct Inspection {
  int64_t fetched = 0;  // POSIX seconds of the last complete read, 0: never
  std::string problem;  // why the last read failed, "" if it did not
  struct Office {
    std::string share, office, last_version;  // last_version "" when none yet
    int64_t days_since = -1;                  // -1 when none yet
    bool overdue = false;
  };
  std::vector<Office> offices;  // /api/v1/reports/freshness, the shares' lines
  std::map<std::string, int64_t>
      requests;  // /api/v1/status: open, paused, closed, overdue, due_soon
  int year = 0;
  // /api/v1/reports/annual?year=: table 三, row -> column -> count.
  std::map<std::string, std::map<std::string, int64_t>> table3;
};

// A node as the mirror sees it: for /api/v1/status, /metrics and search answers.
struct MirrorStatus {
  std::string name;
  uint64_t tree_size = 0;  // records verified and applied
  int64_t synced = 0;      // POSIX seconds of the last verified sync, 0: never
  bool stale = true;       // the last sync failed, or none has succeeded yet
  std::string problem;     // why the last sync failed, "" if it did not
  uint64_t refused = 0;    // syncs refused because something did not verify
  uint64_t documents = 0;  // its public documents in the mirror
  Inspection inspection;
};

class Mirror {
 public:
  // `config` and `store` must outlive the mirror. `logs[i]` is
  // config.nodes[i]'s log: its origin and note key.
  Mirror(const HubConfig& config, std::vector<storage::WitnessedLog> logs,
         storage::WitnessStore* store);
  ~Mirror();
  Mirror(const Mirror&) = delete;
  Mirror& operator=(const Mirror&) = delete;

  // Opens or creates the shards and reads where each node stopped. Empties
  // the entries of nodes a shard no longer holds, and removes the shards
  // that hold none (logged). Writes DATA/mirror/shards.stub, a Xapian stub
  // naming the shards in use, for xapian-tcpsrv (machines.h).
  Status Open();
  // Syncs every node, every [hub] sync_interval, [hub] sync_workers at once.
  void Start();
  // Threads that sync: [hub] sync_workers, or one per core, at most one per
  // shard in use.
  size_t SyncWorkers() const;
  void Stop();
  // Syncs node `i` now (the background thread waits meanwhile).
  Status SyncNow(size_t i);

  // Calls `listener`, from a sync thread, after each commit that changed a
  // node's mirror: other searchers over the shards (machines.h) reopen.
  // Set before Start().
  void OnCommit(std::function<void()> listener) { on_commit_ = std::move(listener); }

  // Each hit's doc.origin is its node, doc.id the node's id of the document.
  Result<indexer::SearchResult> Search(const indexer::SearchQuery& query);
  // The shards in use, after Open().
  const std::vector<std::string>& ShardDirs() const { return dirs_; }
  std::vector<MirrorStatus> Statuses() const;

 private:
  struct Node;
  struct Shard;
  Status Sync(Node& node);
  Status SyncLocked(Node& node);
  void Inspect(Node& node);
  void Loop(size_t first, size_t stride);  // syncs shards first, first + stride, ...

  const HubConfig& config_;
  storage::WitnessStore* store_;
  indexer::ExtractWorkers workers_;  // sandboxed extraction, one worker per sync thread
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Shard>> shards_;  // those in use, by index
  std::vector<std::string> dirs_;               // the shards in use
  std::unique_ptr<indexer::Searcher> searcher_;
  std::function<void()> on_commit_;
  mutable std::mutex state_mu_;  // the nodes' MirrorStatus
  std::mutex wake_mu_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};  // set under wake_mu_; read by syncs between requests
  std::vector<std::thread> threads_;
};

}  // namespace gongkai::hub
