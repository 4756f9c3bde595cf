// Recursive inotify watcher over the shares.
//
// Reports, per (share, relative path): kClosed (IN_CLOSE_WRITE or a rename
// into place: the file may be complete), kActivity (IN_MODIFY and friends:
// still being written), kGone (deleted or moved away) and kRescan (the
// kernel queue overflowed or a folder moved: the caller must rescan the
// share, as events were lost). New folders are watched as they appear and
// reported file by file, since files can land in them before the watch does.
// Symlinks are never followed. The callback runs on the watcher's thread.
#pragma once

#include <sys/inotify.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gongkai/config.h"
#include "gongkai/status.h"

namespace gongkai::daemon {

// kMoved / kDirMoved: a rename inside one share (IN_MOVED_FROM and
// IN_MOVED_TO paired by cookie); `from` is the old relative path.
enum class WatchEvent { kClosed, kActivity, kGone, kRescan, kMoved, kDirMoved };

class InotifyWatcher {
 public:
  using Callback = std::function<void(size_t share, const std::string& rel, WatchEvent ev,
                                      const std::string& from)>;

  InotifyWatcher(std::vector<ShareConfig> shares, Callback callback);
  ~InotifyWatcher();

  // Adds watches on every share (recursively) and starts the reader thread.
  Status Start();
  void Stop();
  // (Re)adds watches below `rel_dir` of `share` ("" = the share root); called by rescans.
  void WatchTree(size_t share, const std::string& rel_dir);
  size_t watch_count() const;
  // True for shares found by periodic scans instead of inotify: `watch =
  // poll`, `auto` on a network or FUSE filesystem (where inotify misses
  // changes made by other machines), or after the inotify watch limit was hit.
  bool polled(size_t share) const { return polled_[share].load(); }

 private:
  void Run();
  void AddWatch(size_t share, const std::string& rel_dir);
  void Handle(const struct inotify_event* ev);
  // Reports moves whose other half never came (moved out of / into the shares).
  void FlushUnpairedMoves();
  std::string Abs(size_t share, const std::string& rel) const;

  std::vector<ShareConfig> shares_;
  Callback callback_;
  int fd_ = -1;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::map<int, std::pair<size_t, std::string>> dirs_;  // wd -> (share, rel dir)
  std::unique_ptr<std::atomic<bool>[]> polled_;
  struct MovedFrom {
    size_t share;
    std::string rel;
    bool is_dir;
  };
  std::map<uint32_t, MovedFrom> moved_from_;  // by cookie; reader thread only
  // Inodes recently closed after writing (reader thread only): a new name for
  // one of them (link() by sftp servers) is a complete file.
  std::map<std::pair<dev_t, ino_t>, std::chrono::steady_clock::time_point> closed_inodes_;
};

// The filesystem type's name if `path` is on a network or FUSE filesystem
// (statfs), else "".
std::string NetworkFilesystem(const std::string& path);

// Walks one share (not following symlinks, skipping hidden folders) and calls
// `visit` for every regular, non-ignored file with its relative path and lstat.
void WalkShare(const ShareConfig& share, const std::string& rel_dir,
               const std::function<void(const std::string& rel, const struct stat& st)>& visit,
               const std::function<void(const std::string& rel_dir)>& on_dir = nullptr);

}  // namespace gongkai::daemon
