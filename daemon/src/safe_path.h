// Opening files inside a share without ever following a symlink.
//
// O_NOFOLLOW protects only the last component of a path: a folder higher up
// that was swapped for a symlink would still be followed, out of the share
// (to the signing key, say). These helpers open each folder on the way with
// O_NOFOLLOW|O_DIRECTORY, so every lookup stays inside the share.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>

namespace gongkai::daemon {

// An owned file descriptor (-1 = none).
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  // Gives the descriptor up (to fdopendir, say).
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Opens the folder that holds `rel` (relative to `root`, '/'-separated),
// following no symlinks; `*leaf` receives the last component. On failure the
// result is not ok() and errno says why (ENOENT, ENOTDIR, ELOOP, ...).
UniqueFd OpenParentBeneath(const std::string& root, const std::string& rel, std::string* leaf);

// Opens the folder `rel` beneath `root` ("" = root itself) the same way.
// Paths longer than PATH_MAX work too: no call sees more than one component.
UniqueFd OpenDirBeneath(const std::string& root, const std::string& rel);

// lstat() of `rel` beneath `root`, the same way; false (errno set) on failure.
bool LstatBeneath(const std::string& root, const std::string& rel, struct stat* st);

}  // namespace gongkai::daemon
