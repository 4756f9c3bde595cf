// The storage layer's only door to the filesystem.
//
// Every write the archive makes (blobs, keys, state files) goes through an Env,
// so tests can substitute one that fails the Nth operation with EIO or ENOSPC
// or forgets unsynced data (a power cut), as LevelDB's Env does. Reads of
// shares do not go through Env: they never modify anything.
//
// Env::Default() is thread-safe and lives forever.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "gongkai/status.h"

namespace gongkai::storage {

// A file open for appending. Not thread-safe. Closing without Sync() gives no
// durability guarantee.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(const void* data, size_t n) = 0;
  virtual Status Sync() = 0;  // fsync: data and metadata on stable storage
  virtual Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  static Env* Default();

  // Creates (or truncates) `path` with the given mode.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                unsigned mode = 0644) = 0;
  // Atomically replaces `to` with `from` (rename(2)).
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Makes a completed rename/create in `dir` durable (fsync of the directory).
  virtual Status SyncDir(const std::string& dir) = 0;
  // mkdir -p; existing folders are fine.
  virtual Status CreateDirs(const std::string& dir, unsigned mode = 0755) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;

  // The clock seam: the time stamped into records and catalog rows.
  virtual std::chrono::system_clock::time_point Now() { return std::chrono::system_clock::now(); }
};

// Writes `data` to `path` durably: temp file beside it, fsync, rename, fsync
// of the folder. After OK, a power cut leaves either the old file or the new.
Status WriteFileAtomically(Env* env, const std::string& path, const std::string& data,
                           unsigned mode = 0644);

// Reads a whole file (not through Env: reads never need fault injection).
Result<std::string> ReadFile(const std::string& path);

}  // namespace gongkai::storage
