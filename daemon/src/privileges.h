// Running the admin CLI as root on a data folder the daemon's user owns.
//
// Whatever gongkai creates in the data folder (keys, the tokens file,
// SQLite's -wal and -shm files, the journal) belongs to whoever runs it; made
// by root, the daemon's user could no longer read or replace it. So a root
// caller becomes the folder's owner before anything there is opened.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "gongkai/status.h"

namespace gongkai::daemon {

struct DroppedTo {
  std::string user;  // the owner's name, or its uid in decimal when it has none
  uid_t uid;
  gid_t gid;
};

// When the effective uid is 0 and `dir` exists and is owned by another user,
// switches the whole process to that user for good: supplementary groups
// (the user's own, or none when the uid has no passwd entry), then the gid
// (the user's primary group, or the folder's group), then the uid (real,
// effective and saved), in that order. Returns whom it became, or nullopt
// when there was nothing to do (not root, no such folder, owned by root).
// An error means the switch failed part-way; the caller must stop.
// Never throws.
Result<std::optional<DroppedTo>> DropRootToOwnerOf(const std::string& dir);

}  // namespace gongkai::daemon
