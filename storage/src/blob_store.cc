#include "gongkai/storage/blob_store.h"

#include <unistd.h>
#include <atomic>

namespace gongkai::storage {

bool IsSha256Hex(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

Result<std::unique_ptr<BlobStore>> BlobStore::Open(Env* env, std::string root,
                                                   std::string tmp_dir) {
  if (Status s = env->CreateDirs(root); !s.ok()) return s;
  if (Status s = env->CreateDirs(tmp_dir); !s.ok()) return s;
  return std::unique_ptr<BlobStore>(new BlobStore(env, std::move(root), std::move(tmp_dir)));
}

std::string BlobStore::PathOf(const std::string& sha) const {
  return root_ + "/" + sha.substr(0, 2) + "/" + sha.substr(2, 2) + "/" + sha;
}

bool BlobStore::Contains(const std::string& sha) const {
  return IsSha256Hex(sha) && env_->FileExists(PathOf(sha));
}

Result<std::unique_ptr<BlobWriter>> BlobStore::NewWriter() {
  static std::atomic<uint64_t> counter{0};
  std::string tmp =
      tmp_dir_ + "/blob-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  auto file = env_->NewWritableFile(tmp, 0644);
  if (!file.ok()) return file.status();
  return std::unique_ptr<BlobWriter>(new BlobWriter(this, std::move(tmp), std::move(*file)));
}

BlobWriter::BlobWriter(BlobStore* store, std::string tmp, std::unique_ptr<WritableFile> file)
    : store_(store), tmp_(std::move(tmp)), file_(std::move(file)) {}

BlobWriter::~BlobWriter() {
  if (!done_) {
    file_.reset();
    store_->env_->RemoveFile(tmp_);
  }
}

Status BlobWriter::Append(const void* data, size_t n) {
  hash_.Update(data, n);
  size_ += n;
  return file_->Append(data, n);
}

Result<std::string> BlobWriter::Finish() {
  if (Status s = file_->Sync(); !s.ok()) return s;
  if (Status s = file_->Close(); !s.ok()) return s;
  sha_ = Hex(hash_.Finish());
  return sha_;
}

Status BlobWriter::Commit() {
  if (sha_.empty()) return Status::Invalid("BlobWriter::Commit before Finish");
  Env* env = store_->env_;
  const std::string final_path = store_->PathOf(sha_);
  if (env->FileExists(final_path)) {  // identical content already stored
    done_ = true;
    if (Status s = env->RemoveFile(tmp_); !s.ok()) return s;
    // An earlier Commit may have renamed it but failed to sync the folder.
    return env->SyncDir(final_path.substr(0, final_path.rfind('/')));
  }
  const std::string dir = final_path.substr(0, final_path.rfind('/'));
  const std::string parent = dir.substr(0, dir.rfind('/'));
  const bool new_dirs = !env->FileExists(dir);
  if (new_dirs) {
    if (Status s = env->CreateDirs(dir); !s.ok()) return s;
  }
  if (Status s = env->Rename(tmp_, final_path); !s.ok()) return s;
  done_ = true;
  if (Status s = env->SyncDir(dir); !s.ok()) return s;
  if (new_dirs) {  // make the new fan-out folders themselves durable
    if (Status s = env->SyncDir(parent); !s.ok()) return s;
    if (Status s = env->SyncDir(store_->root_); !s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace gongkai::storage
