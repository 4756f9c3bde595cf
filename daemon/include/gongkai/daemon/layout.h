// Where things live inside the data folder, and which names in a share are
// documents. Shared by the daemon and the CLI.
#pragma once

#include <string>

namespace gongkai::daemon {

struct DataLayout {
  explicit DataLayout(const std::string& data_dir) : root(data_dir) {}
  std::string root;
  std::string catalog() const { return root + "/catalog.sqlite"; }
  std::string blobs() const { return root + "/blobs"; }
  std::string tmp() const { return root + "/tmp"; }
  std::string keys() const { return root + "/keys"; }
  std::string index() const { return root + "/index"; }
  std::string run() const { return root + "/run"; }
  std::string status_file() const { return root + "/run/status.json"; }
  // Where the running daemon takes administrative changes (admin_socket.h).
  std::string admin_socket() const { return root + "/run/admin.sock"; }
  std::string lock_file() const { return root + "/LOCK"; }
};

// True for names ignored in shares (README, Shares and documents): hidden files, office/editor temp
// files (~$*, .~lock.*, *.tmp, *.part, *.crdownload) and sidecars (*.meta.json).
bool IsIgnoredName(const std::string& basename);

// Takes an exclusive lock on the data folder (flock on DATA/LOCK). Returns the
// fd to keep open, -1 with *error set when another process holds it.
int LockDataDir(const std::string& lock_file, std::string* error);
// A restart in place (SIGHUP with a changed configuration, gongkaid_main.cc)
// keeps the data folder locked throughout, so that no `gongkai` command takes
// it while the new process starts: the old one keeps the lock's descriptor
// (KeepDataDirLockForRestart), hands it over across execv in
// $GONGKAI_LOCK_FD (HandOverDataDirLock, after everything else was made
// close-on-exec), and the new one adopts it when it names the same file
// (TakeOverDataDirLock: the fd, or -1 when there is none to adopt).
void KeepDataDirLockForRestart(int fd);
void HandOverDataDirLock();
int TakeOverDataDirLock(const std::string& lock_file);
// True when some process (the daemon) holds the data folder's lock.
bool DataDirLocked(const std::string& lock_file);

}  // namespace gongkai::daemon
