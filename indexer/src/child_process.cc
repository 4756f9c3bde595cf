#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>

#include <cerrno>
#include <cstring>

namespace gongkai::indexer::detail {
namespace {

constexpr int kPipeBytes = 1 << 20;

int SetLimit(int resource, rlim_t soft, rlim_t hard) noexcept {
  struct rlimit rl;
  rl.rlim_cur = soft;
  rl.rlim_max = hard;
  return ::setrlimit(resource, &rl) == 0 ? 0 : errno;
}

// Lowers both limits to `value` (a process may always lower its limits).
int Cap(int resource, uint64_t value) noexcept { return SetLimit(resource, value, value); }

void CloseFrom(int first) noexcept {
#ifdef SYS_close_range
  if (::syscall(SYS_close_range, first, ~0U, 0) == 0) return;
#endif
  for (int fd = first; fd < 4096; ++fd) ::close(fd);
}

int MillisLeft(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 60'000));
}

// Waits until `fd` is ready for `events`; false on timeout.
Status WaitReady(int fd, short events, Deadline deadline) {
  for (;;) {
    struct pollfd p = {fd, events, 0};
    int n = ::poll(&p, 1, MillisLeft(deadline));
    if (n > 0) return Status::OK();
    if (n < 0 && errno != EINTR) return Status::FromErrno(errno, "poll");
    if (n == 0 && std::chrono::steady_clock::now() >= deadline) return Status::Busy("timed out");
  }
}

}  // namespace

int ApplyChildLimits(const ChildLimits& limits) noexcept {
  int first_error = Cap(RLIMIT_CORE, 0);
  auto keep = [&first_error](int err) {
    if (first_error == 0) first_error = err;
  };
  if (limits.address_space) keep(Cap(RLIMIT_AS, limits.address_space));
  // CPU: only the soft limit (SIGXCPU), so that a long-lived worker can move
  // it on for each document; the wall-clock timeout is the hard stop.
  if (limits.cpu_seconds) keep(SetLimit(RLIMIT_CPU, limits.cpu_seconds, RLIM_INFINITY));
  keep(Cap(RLIMIT_FSIZE, limits.file_size));
  keep(Cap(RLIMIT_NOFILE, limits.open_files));
  return first_error;
}

Result<Child> StartChild(const std::vector<std::string>& argv, const ChildLimits& limits,
                         bool quiet) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe");
  if (::pipe2(out, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(in[0]);
    ::close(in[1]);
    return Status::FromErrno(err, "pipe");
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int null_fd = quiet ? ::open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    // The child: async-signal-safe calls only until execv.
    ::setpgid(0, 0);
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(in[0], 0) < 0 || ::dup2(out[1], 1) < 0) ::_exit(127);
    if (null_fd >= 0) ::dup2(null_fd, 2);
    CloseFrom(3);
    if (ApplyChildLimits(limits) != 0) {
      static const char kMsg[] = "gongkai: could not set every resource limit of a child process\n";
      (void)!::write(2, kMsg, sizeof kMsg - 1);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  const int fork_errno = errno;
  if (null_fd >= 0) ::close(null_fd);
  ::close(in[0]);
  ::close(out[1]);
  if (pid < 0) {
    ::close(in[1]);
    ::close(out[0]);
    return Status::FromErrno(fork_errno, "fork");
  }
  ::setpgid(pid, pid);  // also here, so a kill right after the fork reaches the group
  // Room for a whole typical document or text in each pipe (the default is
  // 64 KiB), so that neither side waits for the other in the middle of one;
  // a lower system maximum (fs.pipe-max-size) just leaves the default.
  ::fcntl(in[1], F_SETPIPE_SZ, kPipeBytes);
  ::fcntl(out[0], F_SETPIPE_SZ, kPipeBytes);
  ::fcntl(in[1], F_SETFL, O_NONBLOCK);
  ::fcntl(out[0], F_SETFL, O_NONBLOCK);
  return Child{pid, in[1], out[0]};
}

int KillChild(Child* child) {
  int status = 0;
  if (child->pid > 0) {
    ::kill(-child->pid, SIGKILL);
    ::kill(child->pid, SIGKILL);
    while (::waitpid(child->pid, &status, 0) < 0 && errno == EINTR) {
    }
    child->pid = -1;
  }
  for (int* fd : {&child->to_child, &child->from_child}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  return status;
}

// Blocks SIGPIPE in this thread while it lives, and discards one raised
// meanwhile: a child that died must be an EPIPE for us, not the end of the
// process (which may not ignore SIGPIPE, e.g. a test program or the CLI).
class SigpipeBlock {
 public:
  SigpipeBlock() {
    ::sigemptyset(&pipe_);
    ::sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    ::sigpending(&pending);
    was_pending_ = ::sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    if (!was_pending_) {
      const struct timespec zero = {0, 0};
      while (::sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

Status WriteAllBy(int fd, std::string_view data, Deadline deadline) {
  SigpipeBlock no_sigpipe;
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return Status::FromErrno(errno, "write to child");
    if (Status s = WaitReady(fd, POLLOUT, deadline); !s.ok()) return s;
  }
  return Status::OK();
}

Status ReadExactBy(int fd, char* out, size_t size, Deadline deadline) {
  while (size > 0) {
    ssize_t n = ::read(fd, out, size);
    if (n > 0) {
      out += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return Status::IOError("end of file from child");
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return Status::FromErrno(errno, "read from child");
    if (Status s = WaitReady(fd, POLLIN, deadline); !s.ok()) return s;
  }
  return Status::OK();
}

Result<RunResult> RunConverter(const std::vector<std::string>& argv, const ChildLimits& limits,
                               std::chrono::milliseconds timeout, size_t max_output) {
  auto child = StartChild(argv, limits, /*quiet=*/true);
  if (!child.ok()) return child.status();
  const Deadline deadline = std::chrono::steady_clock::now() + timeout;
  RunResult result;
  ::close(child->to_child);  // it reads a file, not stdin
  child->to_child = -1;
  char buf[65536];
  bool open_out = true;
  while (open_out) {
    if (Status s = WaitReady(child->from_child, POLLIN, deadline); !s.ok()) {
      result.timed_out = s.code() == Status::Code::kBusy;
      break;
    }
    ssize_t r = ::read(child->from_child, buf, sizeof buf);
    if (r > 0) {
      result.output.append(buf,
                           std::min(static_cast<size_t>(r), max_output - result.output.size()));
      if (result.output.size() >= max_output) open_out = false;  // enough: stop it
    } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
      open_out = false;
    }
  }
  if (!open_out) {
    // Its output ended: give it a moment to exit by itself before the kill.
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      pid_t r = ::waitpid(child->pid, &status, WNOHANG);
      if (r == child->pid) {
        child->pid = -1;
        result.wait_status = status;
        KillChild(&*child);
        return result;
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      ::usleep(5000);
    }
    result.timed_out = std::chrono::steady_clock::now() >= deadline;
  }
  result.wait_status = KillChild(&*child);
  return result;
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return "exit status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    const char* name = ::sigdescr_np(sig);  // thread-safe, unlike strsignal
    return "signal " + std::to_string(sig) + (name ? std::string(", ") + name : "");
  }
  return "wait status " + std::to_string(wait_status);
}

}  // namespace gongkai::indexer::detail
