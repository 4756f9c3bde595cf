// The admin channel between `gongkai` and the running daemon: a unix stream
// socket at DATA/run/admin.sock (DataLayout::admin_socket()).
//
// The socket file has mode 0600 and belongs to the daemon's user, so only that
// user and root can connect: the file system authenticates the caller and no
// credential exists to be stolen, and nothing of it is reachable over the
// network. Each connection carries one request line and gets one answer line
// (admin.h's wire format). The daemon logs every request with the caller's
// pid and uid (SO_PEERCRED).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "admin.h"
#include "gongkai/config.h"
#include "gongkai/status.h"
#include "gongkai/storage/env.h"
#include "safe_path.h"

namespace gongkai::daemon {

class Archiver;
class CatalogPool;
class IndexFeeder;

// The running daemon as an AdminTarget: documents read from `catalogs`,
// changes and key rotation on the archiver's thread, the index waited for up
// to 30 s, the tokens file reloaded into `tokens`. All must outlive its use.
// Disclosure requests are counted in `calendar`.
AdminTarget DaemonAdminTarget(const Config& config, storage::Env* env, Archiver* archiver,
                              CatalogPool* catalogs, IndexFeeder* feeder, TokenStore* tokens,
                              const disclosure::WorkCalendar* calendar);

// The daemon's end. Serves one request at a time, on a thread of its own,
// so changes through it never overlap. Stop() before what the handler uses
// goes away.
class AdminSocket {
 public:
  using Handler = std::function<Result<AdminAnswer>(const AdminRequest&)>;

  explicit AdminSocket(std::string path) : path_(std::move(path)) {}
  ~AdminSocket() { Stop(); }
  AdminSocket(const AdminSocket&) = delete;
  AdminSocket& operator=(const AdminSocket&) = delete;

  // Creates the socket (mode 0600, replacing what a crashed daemon left: the
  // caller holds the data folder's lock) and listens; callers wait in the
  // backlog until Serve().
  Status Listen();
  // Answers requests with `handler` until Stop().
  void Serve(Handler handler);
  // Finishes the request in progress, closes the socket and removes its file.
  // Idempotent.
  void Stop();

 private:
  void Loop(const Handler& handler);
  void Answer(int connection, const Handler& handler);

  const std::string path_;
  UniqueFd listener_;
  UniqueFd wake_read_, wake_write_;  // a byte here ends Loop()
  std::thread thread_;
};

// The CLI's end: connects to the socket at `path`. NotFound when nothing
// listens there (no file, or one a stopped daemon left behind).
Result<UniqueFd> ConnectAdminSocket(const std::string& path);

// Sends `request` over `connection` and waits at most `timeout` for the
// answer; `*daemon_pid` becomes the answering process's pid.
Result<AdminAnswer> CallAdmin(UniqueFd connection, const AdminRequest& request,
                              std::chrono::seconds timeout, pid_t* daemon_pid);

}  // namespace gongkai::daemon
