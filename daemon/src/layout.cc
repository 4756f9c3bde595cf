#include "gongkai/daemon/layout.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
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

bool DataDirLocked(const std::string& lock_file) {
  int fd = ::open(lock_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return locked;
}

}  // namespace gongkai::daemon
