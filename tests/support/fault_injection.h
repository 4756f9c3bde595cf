// Fault injection for the storage layer, in the manner of LevelDB's
// FaultInjectionTestEnv and SQLite's test VFS.
//
// One FaultInjector counts every write-side operation the archive makes, both
// through storage::Env (blobs, keys, state files) and through SQLite (the
// catalog, via a VFS shim registered as SQLite's default): file creation,
// write, truncate, fsync, close, rename, mkdir, unlink, directory fsync.
// Reads are not counted and never fail.
//
// Arm(n, ...) makes operation n (1-based, counted from the Arm call) fail:
//   kOnce        that operation alone fails with `err`;
//   kFromThenOn  it and every later one fail with `err` (a full disk);
//   kPowerCut    it and every later one fail (the machine is gone); then
//                DropUnsyncedData() puts every file the run touched back to
//                what had reached stable storage: the content as of its
//                last fsync, and names as of their folder's last fsync
//                (a rename or unlink whose folder was not synced is undone).
//
// The durable state is tracked per path, lazily from the first mutation:
// what was on disk then counts as durable. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gongkai/storage/env.h"

namespace gongkai::test {

enum class FaultMode { kOnce, kFromThenOn, kPowerCut };

class FaultInjector {
 public:
  // Starts counting from zero; operation n (1-based) and, per mode, later ones fail.
  void Arm(uint64_t n, int err, FaultMode mode);
  // No more failures; counting and durability tracking go on.
  void Disarm();

  // Called before each write-side operation. Returns 0 to go ahead, or the
  // errno the operation must fail with.
  int Next(const char* op, const std::string& path);

  uint64_t ops() const;
  bool fired() const;
  std::string fired_at() const;  // "fsync /x/y" of the first injected failure

  // Durability bookkeeping (called by the Env and the VFS).
  void BeforeMutate(const std::string& path);  // remember the durable state first
  void Synced(const std::string& path);        // the file's current content is durable
  void Renamed(const std::string& from, const std::string& to);
  void Removed(const std::string& path);
  void DirSynced(const std::string& dir);  // pending renames/unlinks in `dir` are durable
  void RemovedDurably(const std::string& path);

  // Restores every tracked path to its durable state and forgets them.
  void DropUnsyncedData();
  // Forgets every tracked path (what is on disk now counts as durable).
  void ForgetTracking();

 private:
  struct Durable {
    bool exists = false;
    std::string content;
  };
  struct PendingName {     // a rename or unlink whose folder was not synced yet
    std::string from, to;  // to empty: unlink of `from`
    Durable moved;         // the durable content that travels with the name
  };
  void TrackLocked(const std::string& path);

  mutable std::mutex mu_;
  uint64_t ops_ = 0, fail_at_ = 0;
  int err_ = 0;
  FaultMode mode_ = FaultMode::kOnce;
  bool fired_ = false;
  std::string fired_at_;
  std::map<std::string, Durable> durable_;
  std::vector<PendingName> pending_;
};

// A storage::Env over the real filesystem that reports to `injector`.
class FaultInjectionEnv final : public storage::Env {
 public:
  explicit FaultInjectionEnv(FaultInjector* injector) : injector_(injector) {}
  Result<std::unique_ptr<storage::WritableFile>> NewWritableFile(const std::string& path,
                                                                 unsigned mode) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Status CreateDirs(const std::string& dir, unsigned mode) override;
  Status RemoveFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;

 private:
  FaultInjector* injector_;
};

// Registers (once) a SQLite VFS named "gongkai-fault" over the default one,
// makes it SQLite's default, and points it at `injector` (nullptr: plain pass-through).
void InstallFaultVfs(FaultInjector* injector);

}  // namespace gongkai::test
