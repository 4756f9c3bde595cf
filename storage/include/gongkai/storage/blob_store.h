// Content-addressed store of archived bytes under DATA/blobs.
//
// A blob is named by the lowercase hex SHA-256 of its content and lives at
// blobs/ab/cd/abcd...; identical content is stored once. Blobs are written
// to DATA/tmp first, fsynced, renamed into place and the folder fsynced, so
// once Commit() returns OK the blob survives a power cut (invariant 1: the
// catalog may then reference it). Blobs are never modified or deleted.
//
// BlobStore is thread-safe; each BlobWriter belongs to one thread.
#pragma once

#include <memory>
#include <string>

#include "gongkai/status.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/env.h"

namespace gongkai::storage {

class BlobStore;

// Streams one blob in; hashes as it writes. Destroying an uncommitted writer
// removes its temp file.
class BlobWriter {
 public:
  ~BlobWriter();
  Status Append(const void* data, size_t n);
  // Flushes and fsyncs the temp file and returns the content's SHA-256 (hex).
  Result<std::string> Finish();
  // Moves the finished blob into place durably (no-op if it already exists).
  Status Commit();
  uint64_t size() const { return size_; }

 private:
  friend class BlobStore;
  BlobWriter(BlobStore* store, std::string tmp, std::unique_ptr<WritableFile> file);
  BlobStore* store_;
  std::string tmp_;
  std::unique_ptr<WritableFile> file_;
  Sha256 hash_;
  std::string sha_;
  uint64_t size_ = 0;
  bool done_ = false;
};

class BlobStore {
 public:
  // `root` is DATA/blobs; temp files go to `tmp_dir`. Both are created.
  static Result<std::unique_ptr<BlobStore>> Open(Env* env, std::string root, std::string tmp_dir);

  Result<std::unique_ptr<BlobWriter>> NewWriter();
  std::string PathOf(const std::string& sha256) const;
  bool Contains(const std::string& sha256) const;
  Env* env() const { return env_; }

 private:
  friend class BlobWriter;
  BlobStore(Env* env, std::string root, std::string tmp_dir)
      : env_(env), root_(std::move(root)), tmp_dir_(std::move(tmp_dir)) {}
  Env* env_;
  std::string root_;
  std::string tmp_dir_;
};

bool IsSha256Hex(const std::string& s);

}  // namespace gongkai::storage
