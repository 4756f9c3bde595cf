#include "privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace gongkai::daemon {

Result<std::optional<DroppedTo>> DropRootToOwnerOf(const std::string& dir) {
  struct stat st {};
  if (::geteuid() != 0 || ::stat(dir.c_str(), &st) != 0 || st.st_uid == 0)
    return std::optional<DroppedTo>();
  DroppedTo to{std::to_string(st.st_uid), st.st_uid, st.st_gid};
  const struct passwd* pw = ::getpwuid(st.st_uid);
  if (pw) {
    to.user = pw->pw_name;
    to.gid = pw->pw_gid;
  }
  const int groups = pw ? ::initgroups(pw->pw_name, to.gid) : ::setgroups(0, nullptr);
  if (groups != 0) return Status::FromErrno(errno, "cannot set the groups of " + to.user);
  if (::setgid(to.gid) != 0)
    return Status::FromErrno(errno, "cannot become group " + std::to_string(to.gid));
  if (::setuid(to.uid) != 0) return Status::FromErrno(errno, "cannot become user " + to.user);
  if (::setuid(0) == 0)
    return Status::IOError("could become root again after switching to " + to.user);
  return std::optional<DroppedTo>(to);
}

}  // namespace gongkai::daemon
