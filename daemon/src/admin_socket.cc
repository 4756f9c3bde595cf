#include "admin_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "archiver.h"
#include "gongkai/daemon/layout.h"
#include "gongkai/log.h"
#include "gongkai/thread_name.h"
#include "http_service.h"
#include "index_feeder.h"

namespace gongkai::daemon {
namespace {

// A request's fields at their limits, every byte escaped (\u00XX), fit.
constexpr size_t kMaxLine = size_t{1024} * 1024;

Result<sockaddr_un> AddressOf(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return Status::Invalid(path + ": too long for a unix socket (at most " +
                           std::to_string(sizeof addr.sun_path - 1) + " bytes)");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

void SetTimeout(int fd, std::chrono::seconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// One line (without its '\n') from `fd`, at most kMaxLine bytes.
Result<std::string> ReadLine(int fd) {
  std::string line;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return Status::Busy("admin socket: timed out");
    if (n < 0) return Status::FromErrno(errno, "admin socket: read");
    if (n == 0) return Status::IOError("admin socket: the other end closed the connection");
    line.append(buf, static_cast<size_t>(n));
    if (const size_t end = line.find('\n'); end != std::string::npos) return line.substr(0, end);
    if (line.size() > kMaxLine) return Status::Invalid("admin socket: line over 1 MiB");
  }
}

Status WriteLine(int fd, const std::string& text) {
  const std::string line = text + "\n";
  for (size_t done = 0; done < line.size();) {
    const ssize_t n = ::send(fd, line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "admin socket: write");
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

ucred PeerOf(int fd) {
  ucred peer{};
  socklen_t len = sizeof peer;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0)
    peer = ucred{0, static_cast<uid_t>(-1), 0};
  return peer;
}

}  // namespace

AdminTarget DaemonAdminTarget(const Config& config, storage::Env* env, Archiver* archiver,
                              CatalogPool* catalogs, IndexFeeder* feeder, TokenStore* tokens,
                              const disclosure::WorkCalendar* calendar) {
  AdminTarget target;
  target.find_document =
      [catalogs](const std::string& id) -> Result<std::optional<storage::DocumentRow>> {
    auto lease = catalogs->Borrow();
    if (!lease.ok()) return AsIoError(lease.status());
    auto doc = (*lease)->GetDocument(id);
    return doc.ok() ? doc : Result<std::optional<storage::DocumentRow>>(AsIoError(doc.status()));
  };
  target.apply = [archiver](ledger::Change change) { return archiver->Submit(std::move(change)); };
  target.wait_indexed = [feeder](int64_t seq) {
    return feeder->WaitApplied(seq, std::chrono::seconds(30));
  };
  target.rotate_key = [archiver, env,
                       keys = DataLayout(config.data_dir).keys()]() -> Result<std::string> {
    auto key_id = archiver->RotateKey(env, keys);
    if (!key_id.ok()) return AsIoError(key_id.status());
    return key_id;
  };
  SetRequestFunctions(
      target, [archiver](const LedgerFn& fn) { return archiver->WithLedger(fn); }, calendar);
  target.tokens_file = config.tokens_file;
  target.reload_tokens = [tokens, file = config.tokens_file] { return tokens->Load(file); };
  return target;
}

Status AdminSocket::Listen() {
  // Bound under a temporary name, restricted, then renamed: no moment when
  // the socket has its name and a looser mode.
  const std::string temporary = path_ + ".new";
  auto addr = AddressOf(temporary);
  if (!addr.ok()) return addr.status();
  listener_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener_.ok()) return Status::FromErrno(errno, "admin socket");
  ::unlink(temporary.c_str());
  if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0)
    return Status::FromErrno(errno, "bind " + temporary);
  if (::chmod(temporary.c_str(), 0600) != 0 || ::listen(listener_.get(), 16) != 0 ||
      ::rename(temporary.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(temporary.c_str());
    return Status::FromErrno(err, "admin socket " + path_);
  }
  return Status::OK();
}

void AdminSocket::Serve(Handler handler) {
  int fds[2];
  if (!listener_.ok() || ::pipe2(fds, O_CLOEXEC) != 0) return;
  wake_read_ = UniqueFd(fds[0]);
  wake_write_ = UniqueFd(fds[1]);
  thread_ = NamedThread("admin-socket", [this, handler = std::move(handler)] { Loop(handler); });
}

void AdminSocket::Stop() {
  if (thread_.joinable()) {
    (void)!::write(wake_write_.get(), "x", 1);
    thread_.join();
  }
  if (listener_.ok()) {
    listener_ = UniqueFd();
    ::unlink(path_.c_str());
  }
}

void AdminSocket::Loop(const Handler& handler) {
  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      log::Error(std::string("admin socket: poll: ") + std::strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (connection.ok()) Answer(connection.get(), handler);
  }
}

void AdminSocket::Answer(int connection, const Handler& handler) {
  const ucred peer = PeerOf(connection);
  const std::string who = "pid " + std::to_string(peer.pid) + ", uid " + std::to_string(peer.uid);
  SetTimeout(connection,
             std::chrono::seconds(5));  // for the request; the answer may take longer to make
  auto line = ReadLine(connection);
  Result<AdminRequest> request =
      line.ok() ? DecodeRequest(*line) : Result<AdminRequest>(line.status());
  Result<AdminAnswer> answer = request.status();
  if (request.ok()) {
    try {
      answer = handler(*request);
    } catch (const std::exception& e) {  // must not end the daemon
      answer = Status::IOError(std::string("unexpected error: ") + e.what());
    }
  }
  const std::string what = request.ok() ? Describe(*request) : "a request";
  if (answer.ok())
    log::Info("admin (" + who + "): " + what + ": " + Describe(*request, *answer));
  else
    log::Warning("admin (" + who + "): " + what + " refused: " + answer.status().ToString());
  if (Status s = WriteLine(connection, EncodeAnswer(answer)); !s.ok())
    log::Warning("admin (" + who + "): could not answer: " + s.ToString());
}

Result<UniqueFd> ConnectAdminSocket(const std::string& path) {
  auto addr = AddressOf(path);
  if (!addr.ok()) return addr.status();
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.ok()) return Status::FromErrno(errno, "admin socket");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) == 0) return fd;
  if (errno == ENOENT || errno == ECONNREFUSED)
    return Status::NotFound("nothing answers on " + path);
  if (errno == EACCES || errno == EPERM)
    return Status::IOError("cannot connect to " + path + ": " + std::strerror(errno) +
                           "; run gongkai as the daemon's user or as root");
  return Status::FromErrno(errno, "connect to " + path);
}

Result<AdminAnswer> CallAdmin(UniqueFd connection, const AdminRequest& request,
                              std::chrono::seconds timeout, pid_t* daemon_pid) {
  SetTimeout(connection.get(), timeout);
  *daemon_pid = PeerOf(connection.get()).pid;
  if (Status s = WriteLine(connection.get(), EncodeRequest(request)); !s.ok()) return s;
  auto line = ReadLine(connection.get());
  if (!line.ok()) {
    if (line.status().code() == Status::Code::kBusy)
      return Status::Busy("gongkaid did not answer within " + std::to_string(timeout.count()) +
                          " s; the change may still be made (see its log)");
    return line.status();
  }
  return DecodeAnswer(*line);
}

}  // namespace gongkai::daemon
