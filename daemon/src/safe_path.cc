#include "safe_path.h"

#include <cerrno>

namespace gongkai::daemon {

UniqueFd OpenParentBeneath(const std::string& root, const std::string& rel, std::string* leaf) {
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.ok()) return dir;
  size_t start = 0;
  for (;;) {
    const size_t slash = rel.find('/', start);
    if (slash == std::string::npos) {
      *leaf = rel.substr(start);
      if (leaf->empty() || *leaf == "." || *leaf == "..") {
        errno = ENOENT;
        return UniqueFd();
      }
      return dir;
    }
    const std::string part = rel.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") {
      errno = ENOENT;
      return UniqueFd();
    }
    UniqueFd next(
        ::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.ok()) return next;
    dir = std::move(next);
    start = slash + 1;
  }
}

UniqueFd OpenDirBeneath(const std::string& root, const std::string& rel) {
  if (rel.empty()) return UniqueFd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string leaf;
  UniqueFd parent = OpenParentBeneath(root, rel, &leaf);
  if (!parent.ok()) return parent;
  return UniqueFd(
      ::openat(parent.get(), leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

bool LstatBeneath(const std::string& root, const std::string& rel, struct stat* st) {
  std::string leaf;
  UniqueFd parent = OpenParentBeneath(root, rel, &leaf);
  return parent.ok() && ::fstatat(parent.get(), leaf.c_str(), st, AT_SYMLINK_NOFOLLOW) == 0;
}

}  // namespace gongkai::daemon
