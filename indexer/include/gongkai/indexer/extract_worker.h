// Text extraction in worker processes, so that no parser can take the
// caller down (the omindex worker model).
//
// ExtractWorkers runs Extract() (extract.h) in long-lived child processes,
// each started by fork + exec of the small `gongkai-extract` program and
// spoken to over two pipes. A separate program rather than `gongkaid
// --extract-worker`: both gongkaid and `gongkai reindex` use the workers
// without either CLI carrying a hidden mode, and the process that parses
// untrusted bytes maps only the indexer's code (no keys, HTTP or catalog).
// It is installed as <libexecdir>/gongkai/gongkai-extract and looked for
// first beside the running program (the build tree).
//
// Each worker is its own process group, under setrlimit: RLIMIT_AS (1 GiB),
// RLIMIT_CPU per document (a soft limit moved on before each one), RLIMIT_FSIZE
// 0 (it writes no files), RLIMIT_NOFILE 64, no core dumps. Each document has a
// wall-clock timeout (60 s); on expiry the worker's group is SIGKILLed. A
// worker that crashed, timed out or ran out of memory is replaced by a fresh
// one for the next document; the document itself is never retried: its
// result has has_text = false, parser_failed = true and a note such as
// "extraction crashed (signal 11, Segmentation fault)", "extraction timed out
// after 60 s" or "extraction ran out of memory (limit 1024 MiB)".
//
// Protocol (native byte order, both sides are the same build): a request is
// u8 kind (0 = bytes follow, 1 = a path to read), then for the file name and
// the bytes or path each a u64 length and the data; the response is the
// Extracted fields type, title, text, encoding, note (each a u64 length and
// the data), then u8 has_text, u8 parser_failed and u8 retire (the worker
// asks to be replaced, e.g. after an allocation failure left its heap
// suspect), then a u64 count of archive members (0 for any other file) and
// for each its path (u64 length and data) and the same fields and two flags
// as above: an archive's members are extracted in the same worker, within
// the archive limits of extract.h. Sending a path avoids copying the
// document through the pipe.
//
// Thread-safe: up to `max_workers` documents are extracted at once, the
// other callers wait.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gongkai/indexer/extract.h"

namespace gongkai::indexer {

struct ExtractWorkerOptions {
  std::string program;  // gongkai-extract; "" = FindExtractProgram()
  size_t max_workers = 1;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};  // wall clock, per document
  uint64_t memory_bytes = 1ull << 30;  // RLIMIT_AS; 0 = none (sanitizer builds reserve terabytes)
  uint64_t cpu_seconds = 60;           // RLIMIT_CPU per document (soft: SIGXCPU)
  uint64_t open_files = 64;            // RLIMIT_NOFILE
};

// The defaults above, with no memory limit when built with a sanitizer.
ExtractWorkerOptions DefaultExtractWorkerOptions();

class ExtractWorkers {
 public:
  explicit ExtractWorkers(ExtractWorkerOptions options = DefaultExtractWorkerOptions());
  ExtractWorkers(const ExtractWorkers&) = delete;
  ExtractWorkers& operator=(const ExtractWorkers&) = delete;
  // Kills the workers. No call may be running.
  ~ExtractWorkers();

  // The process-wide workers with the default options, started on first use
  // (for `gongkai reindex` and other callers without their own).
  static ExtractWorkers& Shared();

  // Extracts the file at `path` (read by the worker), named `filename` (for
  // its type). Never throws; a worker failure is reported as described above.
  Extracted ExtractFile(const std::string& path, const std::string& filename);
  // The same for bytes in memory (copied to the worker through the pipe;
  // an OLE compound file goes through a temporary file, as its converters
  // need a file they can seek in and the worker may not write one).
  Extracted Extract(std::string_view bytes, const std::string& filename);

  // Workers started so far, replacements included (for tests and metrics).
  uint64_t workers_started() const;

 private:
  struct Worker;
  Extracted Run(bool is_path, std::string_view payload, const std::string& filename);
  std::unique_ptr<Worker> Acquire(std::string* error);
  void Release(std::unique_ptr<Worker> worker);

  const ExtractWorkerOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable idle_cv_;
  std::vector<std::unique_ptr<Worker>> idle_;
  size_t busy_ = 0;
  uint64_t started_ = 0;
  bool start_failure_logged_ = false;
};

// Where gongkai-extract is: beside the running program if it is there, else
// its installed path.
std::string FindExtractProgram();

// The worker's side (gongkai-extract's main): serves requests from `in_fd`
// and answers on `out_fd` until end of input; returns the exit code. When
// the environment has GONGKAI_EXTRACT_TEST_HOOKS=1 (only tests set it), a
// document whose bytes start with "GONGKAI-EXTRACT-TEST:abort", ":hang",
// ":oom" or ":exit" makes the worker abort, loop forever, allocate without
// bound or exit, to prove the caller survives each (":limits" answers with
// the worker's resource limits as its text).
int RunExtractWorker(int in_fd, int out_fd);

}  // namespace gongkai::indexer
