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
#pragma once

#include <cstdint>
#include <functional>
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
  Status Commit(int64_t watermark);
  // Empties the index (the shards are created anew): watermark -1.
  Status Clear();

  int64_t watermark() const { return watermark_; }
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
  std::string dir_;
  std::vector<std::unique_ptr<Shard>> shards_;
  int64_t watermark_ = -1;
  std::string rebuilt_;
};

}  // namespace gongkai::indexer
