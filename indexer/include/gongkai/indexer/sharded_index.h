// The node's index, split into shards that are written in parallel.
//
// Layout: DIR/shard-0 ... DIR/shard-(N-1) are Xapian databases (each an
// IndexWriter's), and DIR/XAPIANDB is a Xapian stub naming them, written
// after them; Searcher(DIR) and any Xapian tool therefore open DIR as one
// database with global ranking statistics (the same weights as one shard).
//
// A document's entries (its inspector and public entries, its archive
// members) all live in shard ShardOf(id, N), so replacing or removing a
// document touches one shard, and the changes to one document keep their
// order.
//
// Watermark: every Commit() commits all shards with the same watermark, in
// parallel. The index's watermark is the least of the shards', so after a
// crash between two shards' commits the feeder replays from the earliest
// one; replaying is harmless because it indexes each document's current
// state (index_feeder.h).
//
// Changes and commits are queued on each shard's thread and applied in the
// order they were queued; at most a fixed number wait on a shard, and
// queueing more blocks the caller until the shard catches up.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "gongkai/indexer/index.h"
#include "gongkai/status.h"

namespace gongkai::indexer {

// The shard of document `id` among `shards`: FNV-1a (64 bits) of the id,
// modulo the count. Stable across versions and machines.
size_t ShardOf(const std::string& id, size_t shards);

// The shard folders of the index at `dir`, as its stub names them; empty
// when `dir` holds no sharded index (nothing, or a single database of the
// layout before shards).
std::vector<std::string> ShardDirs(const std::string& dir);

// [index] shards = auto: one shard per core, at most kMaxAutoShards, for a
// new index; an existing index keeps its count.
constexpr size_t kMaxAutoShards = 8;
// The shard count of the index at `dir` for [index] shards = `configured`
// (0: auto, as above).
size_t ResolveShards(const std::string& dir, size_t configured);

class ShardedWriter {
 public:
  // Opens the index at `dir` with ResolveShards(dir, configured) shards. An
  // index with another count, of the layout before shards, or missing is
  // created anew, empty, with watermark -1 (the caller replays the catalog
  // into it); rebuilt() then says why, for the log.
  static Result<std::unique_ptr<ShardedWriter>> Open(const std::string& dir, size_t configured);
  ~ShardedWriter();  // uncommitted changes are dropped (the watermark replays them)

  // Queue a change on the document's shard and return at once; the shard's
  // own thread applies it. A change that fails makes the next Commit() fail.
  Status Replace(PreparedDoc doc);
  Status Remove(const std::string& id);
  Status RemoveSecondaryEntries(const std::string& id);
  // Commits all shards with `watermark` in parallel, each after its queued
  // changes. A shard whose change failed does not commit; on any failure
  // every shard drops what it has not committed (it is replayed from
  // watermark(), the least of the shards'), and the error is returned.
  // Waits for every commit queued before it (CommitLater and Settle(true)).
  Status Commit(int64_t watermark);
  // Queues the same commit and returns at once, so changes queued after it
  // are prepared while the shards commit (they go into the next commit).
  // Settle() tells how it went.
  void CommitLater(int64_t watermark);
  // Takes the queued commits that every shard has finished, oldest first,
  // moving watermark() to each; with `wait`, waits for all of them. On the
  // first that failed anywhere it acts as Commit() does on a failure (the
  // later ones are dropped too; queued_watermark() falls back to
  // watermark()) and returns the error. Called by the thread that queues.
  Status Settle(bool wait);
  // Empties the index (the shards are created anew): watermark -1.
  Status Clear();

  // Everything up to watermark() is committed on every shard; up to
  // queued_watermark() (>= watermark()) it is queued, committed or not.
  int64_t watermark() const { return watermark_; }
  int64_t queued_watermark() const;
  size_t shards() const;
  uint64_t doc_count();  // documents, as IndexWriter::doc_count()
  // Why Open() created the index anew ("" if it did not).
  const std::string& rebuilt() const { return rebuilt_; }

 private:
  class Shard;
  ShardedWriter() = default;
  Status Queue(const std::string& id, std::function<Status(IndexWriter&)> change);
  // Runs `f` on every shard's thread after what is queued, and waits: the
  // first failure, f's or (unless `always`) an earlier change's.
  Status OnAll(const std::function<Status(Shard&)>& f, bool always = false);
  // Reopens every shard, dropping what it has not committed.
  Status Discard();
  // A commit queued by CommitLater(): each shard's outcome.
  struct Pending {
    int64_t watermark;
    std::vector<std::future<Status>> done;
  };

  std::string dir_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::deque<Pending> pending_;  // oldest first
  int64_t watermark_ = -1;
  std::string rebuilt_;
};

}  // namespace gongkai::indexer
