// `gongkai backup`: a consistent copy of a live archive.
//
// The catalog is copied with SQLite's online backup API in one step, i.e.
// from one read snapshot, while the daemon keeps appending (WAL readers do
// not block the writer). Then the blobs that copy references are copied
// through a BlobWriter (re-hashed, fsynced, renamed into place: a damaged
// source blob fails the backup rather than being copied), and last the keys
// (private keys 0600 in a 0700 folder). Blobs are immutable and the catalog
// never references a blob that is not durably on disk, so the copy is
// consistent without stopping anything. The search index is not copied: it
// is derived (`gongkai reindex`, or the daemon catches up on start).
// Copies, never hard links: a link would share the inode with the live
// archive, so damage to one would be damage to both.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "gongkai/status.h"
#include "gongkai/storage/env.h"

namespace gongkai::storage {

// Where an archive's parts live (daemon::DataLayout supplies them).
struct ArchivePaths {
  std::string catalog;  // the SQLite file
  std::string blobs;    // blob store root
  std::string tmp;      // temp files for the blob store
  std::string keys;     // key folder
};

struct BackupReport {
  int64_t records = 0, versions = 0;
  uint64_t blobs = 0, bytes = 0, keys = 0;
};

// Copies the archive at `from` to `to`. `to.catalog` must not exist yet. On
// error `to` is left incomplete (remove it); the source is never written.
// `progress` (optional) gets blobs and bytes done and their totals.
// Never throws.
Result<BackupReport> BackupArchive(
    Env* env, const ArchivePaths& from, const ArchivePaths& to,
    const std::function<void(uint64_t blobs, uint64_t blobs_total, uint64_t bytes,
                             uint64_t bytes_total)>& progress);

}  // namespace gongkai::storage
