#include "watcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "gongkai/daemon/layout.h"
#include "gongkai/log.h"
#include "gongkai/thread_name.h"
#include "safe_path.h"
#include "sidecar.h"

namespace gongkai::daemon {
namespace {

constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                           IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |
                           IN_DONT_FOLLOW | IN_EXCL_UNLINK;

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// Opens a share's folder for reading without following symlinks on the way
// and whatever the length of its path (safe_path.h); nullptr with errno set.
DIR* OpenDir(const std::string& root, const std::string& rel) {
  UniqueFd fd = OpenDirBeneath(root, rel);
  if (!fd.ok()) return nullptr;
  DIR* d = ::fdopendir(fd.get());
  if (d) fd.release();
  return d;
}

}  // namespace

void WalkShare(const ShareConfig& share, const std::string& rel_dir,
               const std::function<void(const std::string&, const struct stat&)>& visit,
               const std::function<void(const std::string&)>& on_dir) {
  std::vector<std::string> stack{rel_dir};
  while (!stack.empty()) {
    std::string rel = std::move(stack.back());
    stack.pop_back();
    const std::string abs = rel.empty() ? share.path : share.path + "/" + rel;
    DIR* d = OpenDir(share.path, rel);
    if (!d) {
      if (errno != ENOENT) log::Warning("cannot read folder " + abs + ": " + std::strerror(errno));
      continue;
    }
    if (on_dir) on_dir(rel);
    int dfd = ::dirfd(d);
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      struct stat st {};
      if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      const std::string child = Join(rel, name);
      if (S_ISDIR(st.st_mode)) {
        if (name[0] != '.') stack.push_back(child);
      } else if (S_ISREG(st.st_mode) && !IsIgnoredName(name)) {
        visit(child, st);
      }
    }
    ::closedir(d);
  }
}

std::string NetworkFilesystem(const std::string& path) {
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) return "";
  switch (static_cast<uint64_t>(fs.f_type)) {
    case 0x6969:
      return "nfs";
    case 0x517B:
      return "smb";
    case 0xFF534D42:
      return "cifs";
    case 0xFE534D42:
      return "smb2";
    case 0x65735546:
      return "fuse";
    case 0x01021997:
      return "9p";
    case 0x00C36400:
      return "ceph";
    case 0x5346414F:
      return "afs";
    case 0x73757245:
      return "coda";
    case 0x01161970:
      return "gfs2";
    case 0x7461636F:
      return "ocfs2";
    default:
      return "";
  }
}

InotifyWatcher::InotifyWatcher(std::vector<ShareConfig> shares, Callback callback)
    : shares_(std::move(shares)),
      callback_(std::move(callback)),
      polled_(new std::atomic<bool>[shares_.size()]) {
  for (size_t i = 0; i < shares_.size(); ++i) {
    const ShareConfig& s = shares_[i];
    std::string fs = s.watch == WatchMode::kAuto ? NetworkFilesystem(s.path) : "";
    polled_[i] = s.watch == WatchMode::kPoll || !fs.empty();
    if (polled_[i])
      log::Info("share " + s.name + ": polling" +
                (fs.empty() ? " (watch = poll)" : " (" + fs + " filesystem)") +
                " instead of inotify");
  }
}

InotifyWatcher::~InotifyWatcher() { Stop(); }

std::string InotifyWatcher::Abs(size_t share, const std::string& rel) const {
  return rel.empty() ? shares_[share].path : shares_[share].path + "/" + rel;
}

Status InotifyWatcher::Start() {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return Status::FromErrno(errno, "inotify_init1");
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) return Status::FromErrno(errno, "pipe2");
  for (size_t i = 0; i < shares_.size(); ++i)
    if (!polled_[i]) WatchTree(i, "");
  thread_ = NamedThread("watcher", [this] { Run(); });
  return Status::OK();
}

void InotifyWatcher::Stop() {
  if (thread_.joinable()) {
    (void)!::write(wake_[1], "x", 1);
    thread_.join();
  }
  for (int* fd : {&fd_, &wake_[0], &wake_[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

size_t InotifyWatcher::watch_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dirs_.size();
}

void InotifyWatcher::AddWatch(size_t share, const std::string& rel_dir) {
  const std::string abs = Abs(share, rel_dir);
  int wd = ::inotify_add_watch(fd_, abs.c_str(), kMask);
  if (wd < 0 && errno == ENAMETOOLONG) {
    // Deeper than PATH_MAX: watch the folder through a descriptor opened
    // beneath the share (already no symlink on the way, so following the
    // /proc link is what is wanted here).
    UniqueFd dir = OpenDirBeneath(shares_[share].path, rel_dir);
    if (dir.ok())
      wd = ::inotify_add_watch(fd_, ("/proc/self/fd/" + std::to_string(dir.get())).c_str(),
                               kMask & ~IN_DONT_FOLLOW);
    else
      errno = ENAMETOOLONG;
  }
  if (wd < 0) {
    if (errno == ENOSPC) {
      // Out of watches: this share falls back to polling, so nothing is missed.
      if (!polled_[share].exchange(true))
        log::Error("inotify watch limit reached at " + abs +
                   " (raise fs.inotify.max_user_watches); share " + shares_[share].name +
                   " falls back to polling");
    } else if (errno != ENOENT && errno != ENOTDIR) {
      log::Warning("cannot watch " + abs + ": " + std::strerror(errno));
    }
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  dirs_[wd] = {share, rel_dir};
}

void InotifyWatcher::WatchTree(size_t share, const std::string& rel_dir) {
  if (polled_[share]) return;
  // Only folders here; files are the caller's (scan) business.
  std::vector<std::string> stack{rel_dir};
  while (!stack.empty()) {
    std::string rel = std::move(stack.back());
    stack.pop_back();
    AddWatch(share, rel);
    DIR* d = OpenDir(shares_[share].path, rel);
    if (!d) continue;
    int dfd = ::dirfd(d);
    while (struct dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      struct stat st {};
      if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        stack.push_back(Join(rel, e->d_name));
    }
    ::closedir(d);
  }
}

void InotifyWatcher::Run() {
  alignas(struct inotify_event) char buf[64 * 1024];
  struct pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
  for (;;) {
    int rc = ::poll(fds, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      log::Error(std::string("inotify poll: ") + std::strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    for (;;) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) {
        // The second half of a rename normally comes with the first; give a
        // straggler 50 ms before an unpaired IN_MOVED_FROM counts as gone.
        if (!moved_from_.empty()) {
          struct pollfd again = {fd_, POLLIN, 0};
          if (::poll(&again, 1, 50) > 0) continue;
        }
        FlushUnpairedMoves();
        break;
      }
      for (char* p = buf; p < buf + n;) {
        auto* ev = reinterpret_cast<struct inotify_event*>(p);
        try {
          Handle(ev);
        } catch (const std::exception& e) {
          log::Error(std::string("watcher: ") + e.what());
        }
        p += sizeof(struct inotify_event) + ev->len;
      }
    }
  }
}

void InotifyWatcher::Handle(const struct inotify_event* ev) {
  if (ev->mask & IN_Q_OVERFLOW) {
    log::Warning("inotify queue overflowed; rescanning every share");
    for (size_t i = 0; i < shares_.size(); ++i) callback_(i, "", WatchEvent::kRescan, "");
    return;
  }
  std::pair<size_t, std::string> dir;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = dirs_.find(ev->wd);
    if (it == dirs_.end()) return;
    dir = it->second;
    if (ev->mask & IN_IGNORED) {
      dirs_.erase(it);
      return;
    }
  }
  const size_t share = dir.first;  // not a structured binding: lambdas below capture it
  const std::string& rel_dir = dir.second;
  if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
    if (rel_dir.empty()) {
      log::Error("share folder " + shares_[share].path + " was removed or moved");
      callback_(share, "", WatchEvent::kRescan, "");
    }
    return;
  }
  if (ev->len == 0) return;
  const std::string name = ev->name;
  const std::string rel = Join(rel_dir, name);
  if (ev->mask & IN_ISDIR) {
    if (name[0] == '.') return;
    if (ev->mask & IN_MOVED_FROM) {
      moved_from_[ev->cookie] = {share, rel, true};
      return;
    }
    if (ev->mask & IN_MOVED_TO) {
      auto from = moved_from_.find(ev->cookie);
      if (from != moved_from_.end() && from->second.share == share && from->second.is_dir) {
        const std::string old_rel = from->second.rel;
        moved_from_.erase(from);
        WatchTree(share, rel);  // same inodes: re-adding updates their paths
        callback_(share, rel, WatchEvent::kDirMoved, old_rel);
        return;
      }
    }
    if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
      // Watch the new tree first, then report what is already in it.
      WatchTree(share, rel);
      WalkShare(shares_[share], rel, [&](const std::string& f, const struct stat&) {
        callback_(share, f, WatchEvent::kClosed, "");
      });
      if (ev->mask & IN_MOVED_TO) callback_(share, "", WatchEvent::kRescan, "");
    } else if (ev->mask & IN_DELETE) {
      // Everything below is gone from here; a rescan finds and withdraws it.
      callback_(share, "", WatchEvent::kRescan, "");
    }
    return;
  }
  const std::string suffix = kSidecarSuffix;
  if (name.size() > suffix.size() &&
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    // NAME.meta.json changed: NAME's metadata did.
    if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM))
      callback_(share, rel.substr(0, rel.size() - suffix.size()), WatchEvent::kClosed, "");
    return;
  }
  if (IsIgnoredName(name)) return;
  if (ev->mask & IN_MOVED_FROM) {
    moved_from_[ev->cookie] = {share, rel, false};
    return;
  }
  if (ev->mask & IN_MOVED_TO) {
    auto from = moved_from_.find(ev->cookie);
    if (from != moved_from_.end() && from->second.share == share && !from->second.is_dir) {
      const std::string old_rel = from->second.rel;
      moved_from_.erase(from);
      callback_(share, rel, WatchEvent::kMoved, old_rel);
      return;
    }
    callback_(share, rel, WatchEvent::kClosed, "");
    return;
  }
  if (ev->mask & IN_CLOSE_WRITE) {
    struct stat st {};
    if (LstatBeneath(shares_[share].path, rel, &st)) {
      const auto now = std::chrono::steady_clock::now();
      if (closed_inodes_.size() > 10000)
        std::erase_if(closed_inodes_,
                      [&](const auto& e) { return now - e.second > std::chrono::minutes(1); });
      closed_inodes_[{st.st_dev, st.st_ino}] = now;
    }
    callback_(share, rel, WatchEvent::kClosed, "");
  } else if (ev->mask & IN_DELETE)
    callback_(share, rel, WatchEvent::kGone, "");
  else if (ev->mask & (IN_MODIFY | IN_CREATE | IN_ATTRIB)) {
    // FIFOs, sockets, devices and symlinks are never documents: do not queue them.
    struct stat st {};
    if (LstatBeneath(shares_[share].path, rel, &st) && !S_ISREG(st.st_mode)) return;
    // A new name for an existing, already written inode (link() as sftp
    // servers finish uploads, linkat() of an O_TMPFILE) gets no close-write.
    // Writing moves mtime and ctime together; linking and unlinking move only
    // ctime, so ctime after mtime means the content was written before.
    const bool relinked =
        st.st_nlink > 1 ||
        (st.st_size > 0 &&
         (st.st_ctim.tv_sec > st.st_mtim.tv_sec ||
          (st.st_ctim.tv_sec == st.st_mtim.tv_sec && st.st_ctim.tv_nsec > st.st_mtim.tv_nsec)));
    const auto closed = closed_inodes_.find({st.st_dev, st.st_ino});
    const bool written_before =
        closed != closed_inodes_.end() &&
        std::chrono::steady_clock::now() - closed->second < std::chrono::minutes(1);
    if ((ev->mask & IN_CREATE) && (relinked || written_before)) {
      callback_(share, rel, WatchEvent::kClosed, "");
      return;
    }
    callback_(share, rel, WatchEvent::kActivity, "");
  }
}

void InotifyWatcher::FlushUnpairedMoves() {
  for (const auto& [cookie, m] : moved_from_) {
    // Moved out of the share (or to an ignored name): gone from here.
    if (m.is_dir)
      callback_(m.share, "", WatchEvent::kRescan, "");
    else
      callback_(m.share, m.rel, WatchEvent::kGone, "");
  }
  moved_from_.clear();
}

}  // namespace gongkai::daemon
