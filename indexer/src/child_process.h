// Starting programs under resource limits. Private to gongkai::indexer.
//
// Used for the extraction workers (extract_worker.cc) and for the external
// converters of legacy Office formats (extract_legacy.cc). Children are
// started with fork + execv: between the two only async-signal-safe calls
// are made, so this is safe from a multi-threaded process. Every child gets
// its own process group, so killing the group also ends anything it started.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gongkai/status.h"

namespace gongkai::indexer::detail {

struct ChildLimits {
  uint64_t address_space = 0;  // RLIMIT_AS in bytes; 0 = leave as is
  uint64_t cpu_seconds = 0;    // RLIMIT_CPU; 0 = leave as is
  uint64_t file_size = 0;      // RLIMIT_FSIZE: the most a child may write to a file (0 = nothing)
  uint64_t open_files = 64;    // RLIMIT_NOFILE
};

// Sets the limits on the calling process, and RLIMIT_CORE to 0 (no core
// dumps of documents). Async-signal-safe; returns the errno of the first
// setrlimit that failed, or 0.
int ApplyChildLimits(const ChildLimits& limits) noexcept;

// A started child: its pid (also its process group) and our ends of its
// stdin and stdout pipes (close-on-exec, non-blocking). Stderr is inherited.
struct Child {
  pid_t pid = -1;
  int to_child = -1;
  int from_child = -1;
};

// Forks and executes argv[0] (a path) with `limits`, stdin and stdout on
// pipes, stderr inherited (or /dev/null if `quiet`), all other descriptors
// closed. An exec failure shows as exit status 127.
Result<Child> StartChild(const std::vector<std::string>& argv, const ChildLimits& limits,
                         bool quiet = false);

// SIGKILLs the child's process group and reaps the child; returns its wait
// status. Closes our pipe ends. Idempotent.
int KillChild(Child* child);

// Writes all of `data`, or reads exactly `size` bytes, on a non-blocking
// descriptor, giving up at `deadline`. kBusy on timeout, kIOError on EOF or error.
using Deadline = std::chrono::steady_clock::time_point;
Status WriteAllBy(int fd, std::string_view data, Deadline deadline);
Status ReadExactBy(int fd, char* out, size_t size, Deadline deadline);

// Runs a converter with an empty stdin, collecting at most `max_output`
// bytes of its stdout, within `timeout`. Its stderr is discarded (its
// messages are not log lines; the exit status goes into the note).
struct RunResult {
  bool timed_out = false;
  int wait_status = 0;  // as from waitpid
  std::string output;
};
Result<RunResult> RunConverter(const std::vector<std::string>& argv, const ChildLimits& limits,
                               std::chrono::milliseconds timeout, size_t max_output);

// "exit status 3", "signal 11, Segmentation fault".
std::string DescribeWaitStatus(int wait_status);

}  // namespace gongkai::indexer::detail
