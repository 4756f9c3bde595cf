#include "support/fault_injection.h"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gongkai::test {
namespace {

std::string ParentOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

// ---- FaultInjector ----

void FaultInjector::Arm(uint64_t n, int err, FaultMode mode) {
  std::lock_guard<std::mutex> lock(mu_);
  ops_ = 0;
  fail_at_ = n;
  err_ = err;
  mode_ = mode;
  fired_ = false;
  fired_at_.clear();
}

void FaultInjector::Disarm() {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = 0;
}

int FaultInjector::Next(const char* op, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  ++ops_;
  if (fail_at_ == 0 || ops_ < fail_at_ || (ops_ > fail_at_ && mode_ == FaultMode::kOnce)) return 0;
  if (!fired_) {
    fired_ = true;
    fired_at_ = std::string(op) + " " + path;
  }
  return err_;
}

uint64_t FaultInjector::ops() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_;
}

bool FaultInjector::fired() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fired_;
}

std::string FaultInjector::fired_at() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fired_at_;
}

void FaultInjector::TrackLocked(const std::string& path) {
  if (durable_.count(path)) return;
  Durable d;
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::ostringstream ss;
    ss << in.rdbuf();
    d.exists = true;
    d.content = ss.str();
  }
  durable_[path] = std::move(d);
}

void FaultInjector::BeforeMutate(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  TrackLocked(path);
}

void FaultInjector::Synced(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  Durable now;
  std::ifstream in(path, std::ios::binary);
  if (!in) return;
  std::ostringstream ss;
  ss << in.rdbuf();
  now.exists = true;
  now.content = ss.str();
  // A name whose rename is not durable yet: the data travels with the rename.
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it)
    if (it->to == path) {
      it->moved = std::move(now);
      return;
    }
  durable_[path] = std::move(now);
}

void FaultInjector::Renamed(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  TrackLocked(from);
  TrackLocked(to);
  Durable moved = durable_[from];
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it)
    if (it->to == from) {
      moved = it->moved;
      break;
    }
  pending_.push_back({from, to, std::move(moved)});
}

void FaultInjector::Removed(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  TrackLocked(path);
  pending_.push_back({path, "", {}});
}

void FaultInjector::RemovedDurably(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  durable_[path] = Durable{};
}

void FaultInjector::DirSynced(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PendingName> keep;
  for (PendingName& p : pending_) {
    if (ParentOf(p.to.empty() ? p.from : p.to) != dir) {
      keep.push_back(std::move(p));
      continue;
    }
    if (!p.to.empty()) durable_[p.to] = std::move(p.moved);
    durable_[p.from] = Durable{};
  }
  pending_ = std::move(keep);
}

void FaultInjector::DropUnsyncedData() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [path, d] : durable_) {
    if (!d.exists) {
      ::unlink(path.c_str());
      continue;
    }
    std::filesystem::create_directories(ParentOf(path));
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(d.content.data(), static_cast<std::streamsize>(d.content.size()));
  }
  durable_.clear();
  pending_.clear();
}

void FaultInjector::ForgetTracking() {
  std::lock_guard<std::mutex> lock(mu_);
  durable_.clear();
  pending_.clear();
}

// ---- FaultInjectionEnv ----

namespace {

class FaultWritableFile final : public storage::WritableFile {
 public:
  FaultWritableFile(FaultInjector* injector, std::string path,
                    std::unique_ptr<storage::WritableFile> real)
      : injector_(injector), path_(std::move(path)), real_(std::move(real)) {}
  Status Append(const void* data, size_t n) override {
    if (int err = injector_->Next("write", path_)) return Status::FromErrno(err, "write " + path_);
    return real_->Append(data, n);
  }
  Status Sync() override {
    if (int err = injector_->Next("fsync", path_)) return Status::FromErrno(err, "fsync " + path_);
    Status s = real_->Sync();
    if (s.ok()) injector_->Synced(path_);
    return s;
  }
  Status Close() override {
    if (int err = injector_->Next("close", path_)) {
      real_->Close();  // the descriptor is gone either way, as with close(2)
      return Status::FromErrno(err, "close " + path_);
    }
    return real_->Close();
  }

 private:
  FaultInjector* injector_;
  std::string path_;
  std::unique_ptr<storage::WritableFile> real_;
};

}  // namespace

Result<std::unique_ptr<storage::WritableFile>> FaultInjectionEnv::NewWritableFile(
    const std::string& path, unsigned mode) {
  if (int err = injector_->Next("create", path)) return Status::FromErrno(err, "create " + path);
  injector_->BeforeMutate(path);
  auto real = storage::Env::Default()->NewWritableFile(path, mode);
  if (!real.ok()) return real.status();
  return std::unique_ptr<storage::WritableFile>(
      new FaultWritableFile(injector_, path, std::move(*real)));
}

Status FaultInjectionEnv::Rename(const std::string& from, const std::string& to) {
  if (int err = injector_->Next("rename", to))
    return Status::FromErrno(err, "rename " + from + " to " + to);
  injector_->BeforeMutate(from);
  injector_->BeforeMutate(to);
  Status s = storage::Env::Default()->Rename(from, to);
  if (s.ok()) injector_->Renamed(from, to);
  return s;
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  if (int err = injector_->Next("fsync-dir", dir))
    return Status::FromErrno(err, "fsync folder " + dir);
  Status s = storage::Env::Default()->SyncDir(dir);
  if (s.ok()) injector_->DirSynced(dir);
  return s;
}

Status FaultInjectionEnv::CreateDirs(const std::string& dir, unsigned mode) {
  if (int err = injector_->Next("mkdir", dir))
    return Status::FromErrno(err, "create folder " + dir);
  return storage::Env::Default()->CreateDirs(dir, mode);
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  if (int err = injector_->Next("unlink", path)) return Status::FromErrno(err, "remove " + path);
  injector_->BeforeMutate(path);
  Status s = storage::Env::Default()->RemoveFile(path);
  if (s.ok()) injector_->Removed(path);
  return s;
}

bool FaultInjectionEnv::FileExists(const std::string& path) {
  return storage::Env::Default()->FileExists(path);
}

// ---- The SQLite VFS shim ----

namespace {

sqlite3_vfs* g_real_vfs = nullptr;
sqlite3_vfs g_fault_vfs;
std::atomic<FaultInjector*> g_injector{nullptr};

struct FaultFile {
  sqlite3_file base;
  const char* path;  // SQLite keeps the name valid until xClose; null for temp files
  sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
};

FaultFile* F(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f); }

// The error SQLite expects for a failed operation of each kind.
int SqliteError(int err, int ioerr) { return err == ENOSPC ? SQLITE_FULL : ioerr; }

int Close(sqlite3_file* f) { return F(f)->real()->pMethods->xClose(F(f)->real()); }
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return F(f)->real()->pMethods->xRead(F(f)->real(), buf, n, off);
}
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  FaultInjector* inj = g_injector.load();
  if (inj && F(f)->path) {
    if (int err = inj->Next("write", F(f)->path)) return SqliteError(err, SQLITE_IOERR_WRITE);
    inj->BeforeMutate(F(f)->path);
  }
  return F(f)->real()->pMethods->xWrite(F(f)->real(), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  FaultInjector* inj = g_injector.load();
  if (inj && F(f)->path) {
    if (int err = inj->Next("truncate", F(f)->path)) return SqliteError(err, SQLITE_IOERR_TRUNCATE);
    inj->BeforeMutate(F(f)->path);
  }
  return F(f)->real()->pMethods->xTruncate(F(f)->real(), size);
}
int Sync(sqlite3_file* f, int flags) {
  FaultInjector* inj = g_injector.load();
  if (inj && F(f)->path)
    if (int err = inj->Next("fsync", F(f)->path)) return SqliteError(err, SQLITE_IOERR_FSYNC);
  int rc = F(f)->real()->pMethods->xSync(F(f)->real(), flags);
  if (rc == SQLITE_OK && inj && F(f)->path) inj->Synced(F(f)->path);
  return rc;
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return F(f)->real()->pMethods->xFileSize(F(f)->real(), size);
}
int Lock(sqlite3_file* f, int l) { return F(f)->real()->pMethods->xLock(F(f)->real(), l); }
int Unlock(sqlite3_file* f, int l) { return F(f)->real()->pMethods->xUnlock(F(f)->real(), l); }
int CheckReserved(sqlite3_file* f, int* out) {
  return F(f)->real()->pMethods->xCheckReservedLock(F(f)->real(), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return F(f)->real()->pMethods->xFileControl(F(f)->real(), op, arg);
}
int SectorSize(sqlite3_file* f) { return F(f)->real()->pMethods->xSectorSize(F(f)->real()); }
int DeviceCharacteristics(sqlite3_file* f) {
  return F(f)->real()->pMethods->xDeviceCharacteristics(F(f)->real());
}
int ShmMap(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return F(f)->real()->pMethods->xShmMap(F(f)->real(), region, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return F(f)->real()->pMethods->xShmLock(F(f)->real(), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) { F(f)->real()->pMethods->xShmBarrier(F(f)->real()); }
int ShmUnmap(sqlite3_file* f, int del) {
  return F(f)->real()->pMethods->xShmUnmap(F(f)->real(), del);
}
int Fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return F(f)->real()->pMethods->xFetch(F(f)->real(), off, n, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return F(f)->real()->pMethods->xUnfetch(F(f)->real(), off, p);
}

const sqlite3_io_methods kMethods = {3,
                                     Close,
                                     Read,
                                     Write,
                                     Truncate,
                                     Sync,
                                     FileSize,
                                     Lock,
                                     Unlock,
                                     CheckReserved,
                                     FileControl,
                                     SectorSize,
                                     DeviceCharacteristics,
                                     ShmMap,
                                     ShmLock,
                                     ShmBarrier,
                                     ShmUnmap,
                                     Fetch,
                                     Unfetch};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  FaultFile* ff = F(file);
  ff->base.pMethods = nullptr;
  ff->path = name;
  FaultInjector* inj = g_injector.load();
  if (inj && name && (flags & SQLITE_OPEN_CREATE)) {
    if (int err = inj->Next("create", name)) return SqliteError(err, SQLITE_CANTOPEN);
    inj->BeforeMutate(name);
  }
  int rc = g_real_vfs->xOpen(g_real_vfs, name, ff->real(), flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  ff->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  FaultInjector* inj = g_injector.load();
  if (inj) {
    if (int err = inj->Next("unlink", name)) return SqliteError(err, SQLITE_IOERR_DELETE);
    inj->BeforeMutate(name);
  }
  int rc = g_real_vfs->xDelete(g_real_vfs, name, sync_dir);
  if (rc == SQLITE_OK && inj) inj->RemovedDurably(name);
  return rc;
}

}  // namespace

void InstallFaultVfs(FaultInjector* injector) {
  static std::once_flag once;
  std::call_once(once, [] {
    g_real_vfs = sqlite3_vfs_find(nullptr);
    g_fault_vfs = *g_real_vfs;  // every other method passes straight through
    g_fault_vfs.zName = "gongkai-fault";
    g_fault_vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + g_real_vfs->szOsFile;
    g_fault_vfs.xOpen = Open;
    g_fault_vfs.xDelete = Delete;
    sqlite3_vfs_register(&g_fault_vfs, 1);
  });
  g_injector.store(injector);
}

}  // namespace gongkai::test
