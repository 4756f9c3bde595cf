#include "reload.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "gongkai/log.h"
#include "safe_path.h"

namespace gongkai::daemon {
namespace {

// Requesters waiting for an answer: pidfds, close-on-exec except while handed
// over. Touched by the main thread only.
std::vector<int>& Requesters() {
  static std::vector<int> fds;
  return fds;
}

// The system calls themselves: glibc 2.36's <sys/pidfd.h> declares its
// wrappers without extern "C".
int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// A queued signal (si_code SI_QUEUE) carrying `value`, as sigqueue(3) sends,
// but through a pidfd.
int SendQueued(int pidfd, int sig, int value) {
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  info.si_signo = sig;
  info.si_code = SI_QUEUE;
  info.si_pid = ::getpid();
  info.si_uid = ::getuid();
  info.si_value.sival_int = value;
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, &info, 0));
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// A standard signal that is already pending is dropped, not queued: a plain
// SIGHUP (gongkai token add, kill -HUP) may swallow the request. Sent again
// this often until answered; an extra reload only re-reads what it just read.
constexpr std::chrono::milliseconds kResendEvery{5000};

// Run by root for a daemon of another user (the unit's gongkai), the
// requester becomes that user: the daemon, which may not signal root, could
// not answer otherwise.
bool BecomeOwnerOf(pid_t pid, std::string* message) {
  if (::geteuid() != 0) return true;
  struct stat st {};
  if (::stat(("/proc/" + std::to_string(pid)).c_str(), &st) != 0 || st.st_uid == 0) return true;
  if (::setgroups(0, nullptr) != 0 || ::setgid(st.st_gid) != 0 || ::setuid(st.st_uid) != 0) {
    *message = Errno("cannot become the user (uid " + std::to_string(st.st_uid) +
                     ") of gongkaid (pid " + std::to_string(pid) + ")");
    return false;
  }
  return true;
}

}  // namespace

int RequestReload(pid_t pid, std::chrono::milliseconds timeout, std::string* message) {
  const std::string who = "gongkaid (pid " + std::to_string(pid) + ")";
  if (!BecomeOwnerOf(pid, message)) return 1;
  // The answer is read from a signalfd, so SIGUSR1 must not be delivered.
  sigset_t answer;
  sigemptyset(&answer);
  sigaddset(&answer, SIGUSR1);
  if (sigprocmask(SIG_BLOCK, &answer, nullptr) != 0) return *message = Errno("sigprocmask"), 1;
  UniqueFd answers(::signalfd(-1, &answer, SFD_CLOEXEC));
  if (!answers.ok()) return *message = Errno("signalfd"), 1;
  UniqueFd daemon(PidfdOpen(pid));
  if (!daemon.ok()) return *message = Errno("cannot reach " + who), 1;

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto next_send = std::chrono::steady_clock::now();
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    if (now >= next_send) {
      if (SendQueued(daemon.get(), SIGHUP, kReloadCookie) != 0)
        return *message = Errno("cannot signal " + who), 1;
      next_send = now + kResendEvery;
    }
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(std::min(deadline, next_send) - now).count();
    pollfd fds[2] = {{answers.get(), POLLIN, 0}, {daemon.get(), POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(std::max<int64_t>(left, 1)));
    if (n < 0 && errno != EINTR) return *message = Errno("poll"), 1;
    if (n <= 0) continue;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si;
      if (::read(answers.get(), &si, sizeof si) != static_cast<ssize_t>(sizeof si)) continue;
      // Only the daemon's answer counts, not a stray SIGUSR1.
      if (si.ssi_code != SI_QUEUE || static_cast<pid_t>(si.ssi_pid) != pid) continue;
      if (si.ssi_int == static_cast<int>(ReloadOutcome::kApplied)) {
        *message = who + " reloaded its configuration";
        return 0;
      }
      *message =
          who +
          " kept its running configuration (or tokens, or signing key): the reason is in its log";
      return 1;
    }
    // A readable pidfd: the daemon exited.
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      *message = who + " exited during the reload: the reason is in its log";
      return 1;
    }
  }
  *message = who + " did not answer within " + std::to_string(timeout.count() / 1000) + " s";
  return 1;
}

void NoteReloadRequest(const siginfo_t& info) {
  if (info.si_code != SI_QUEUE || info.si_value.sival_int != kReloadCookie)
    return;  // a plain SIGHUP
  if (info.si_pid <= 0 || info.si_pid == ::getpid()) return;
  // The pidfd is taken now, while the requester waits: a pid reused later
  // cannot receive the answer.
  const int fd = PidfdOpen(info.si_pid);
  if (fd < 0) {
    log::Warning(
        Errno("SIGHUP: cannot answer the reload request of pid " + std::to_string(info.si_pid)));
    return;
  }
  Requesters().push_back(fd);
}

void AnswerReloadRequests(ReloadOutcome outcome) {
  for (int fd : Requesters()) {
    // ESRCH: the requester gave up.
    if (SendQueued(fd, SIGUSR1, static_cast<int>(outcome)) != 0 && errno != ESRCH)
      log::Warning(Errno("SIGHUP: cannot answer a reload request"));
    ::close(fd);
  }
  Requesters().clear();
}

void HandOverReloadRequests() {
  std::string list;
  for (int fd : Requesters()) {
    if (::fcntl(fd, F_SETFD, 0) != 0) continue;
    list += (list.empty() ? "" : ",") + std::to_string(fd);
  }
  if (!list.empty()) ::setenv(kReloadPidfdVariable, list.c_str(), 1);
}

void TakeOverReloadRequests() {
  const char* value = std::getenv(kReloadPidfdVariable);
  if (value == nullptr) return;
  const std::string list = value;
  ::unsetenv(kReloadPidfdVariable);
  size_t at = 0;
  while (at < list.size()) {
    size_t end = list.find(',', at);
    if (end == std::string::npos) end = list.size();
    const int fd = std::atoi(list.substr(at, end - at).c_str());
    at = end + 1;
    // Close-on-exec again: no extraction worker may inherit it.
    if (fd > 2 && ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0) Requesters().push_back(fd);
  }
}

}  // namespace gongkai::daemon
