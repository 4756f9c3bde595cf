#include "gongkai/daemon/layout.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace gongkai::daemon {
namespace {
bool EndsWith(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - n + i])) != suffix[i]) return false;
  return true;
}
}  // namespace

bool IsIgnoredName(const std::string& b) {
  if (b.empty() || b[0] == '.') return true;  // hidden, includes .~lock.*
  if (b.rfind("~$", 0) == 0) return true;
  if (b.back() == '~') return true;  // editor backups
  return EndsWith(b, ".tmp") || EndsWith(b, ".part") || EndsWith(b, ".crdownload") ||
         EndsWith(b, ".meta.json");
}

int LockDataDir(const std::string& lock_file, std::string* error) {
  int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot open " + lock_file + ": " + std::strerror(errno);
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    *error = "data folder is in use by another gongkaid or gongkai command (" + lock_file +
             " is locked)";
    ::close(fd);
    return -1;
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::write(fd, pid.data(), pid.size());
  return fd;
}

namespace {

constexpr const char* kLockFdVariable = "GONGKAI_LOCK_FD";
int kept_lock_fd = -1;  // main thread only, between RunDaemon and execv

}  // namespace

void KeepDataDirLockForRestart(int fd) { kept_lock_fd = fd; }

void HandOverDataDirLock() {
  if (kept_lock_fd < 0 || ::fcntl(kept_lock_fd, F_SETFD, 0) != 0) return;
  ::setenv(kLockFdVariable, std::to_string(kept_lock_fd).c_str(), 1);
}

int TakeOverDataDirLock(const std::string& lock_file) {
  const char* value = std::getenv(kLockFdVariable);
  if (value == nullptr) return -1;
  const int fd = std::atoi(value);
  ::unsetenv(kLockFdVariable);
  struct stat held {
  }, named{};
  if (fd <= 2 || ::fstat(fd, &held) != 0) return -1;
  // Another data folder now: the old one's lock is let go.
  if (::stat(lock_file.c_str(), &named) != 0 || held.st_dev != named.st_dev ||
      held.st_ino != named.st_ino || ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool DataDirLocked(const std::string& lock_file) {
  int fd = ::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return locked;
}

}  // namespace gongkai::daemon
