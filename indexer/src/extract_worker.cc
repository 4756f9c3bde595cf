#include "gongkai/indexer/extract_worker.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "child_process.h"
#include "extract_internal.h"
#include "gongkai/log.h"

#ifndef GONGKAI_EXTRACT_INSTALLED_PATH
#define GONGKAI_EXTRACT_INSTALLED_PATH "/usr/libexec/gongkai/gongkai-extract"
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GONGKAI_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define GONGKAI_SANITIZED 1
#endif
#endif

namespace gongkai::indexer {
namespace {

// Upper bounds a response field, the member count and the whole response
// may claim (a confused worker must not make the caller allocate without bound).
constexpr uint64_t kMaxFieldBytes = detail::kMaxTextBytes + (1u << 20);
constexpr uint64_t kMaxMembers = detail::ArchiveLimits{}.max_entries;
constexpr uint64_t kMaxResponseBytes =
    detail::ArchiveLimits{}.max_text + kMaxFieldBytes + kMaxMembers * (64u << 10);
constexpr uint64_t kMaxRequestBytes = 1ull << 30;

void PutU64(std::string* out, uint64_t v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

void PutField(std::string* out, std::string_view s) {
  PutU64(out, s.size());
  out->append(s);
}

// The fields of one Extracted, members aside, as the protocol sends them.
void PutExtracted(std::string* out, const Extracted& e) {
  for (const std::string* f : {&e.type, &e.title, &e.text, &e.encoding, &e.note}) PutField(out, *f);
  *out += static_cast<char>(e.has_text);
  *out += static_cast<char>(e.parser_failed);
}

// ------------------------------------------------------------ worker side
// Blocking I/O on the worker's own pipe ends.

bool ReadFull(int fd, char* out, size_t size) {
  while (size > 0) {
    ssize_t n = ::read(fd, out, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool WriteFull(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool ReadField(int fd, std::string* out) {
  uint64_t size = 0;
  if (!ReadFull(fd, reinterpret_cast<char*>(&size), sizeof size) || size > kMaxRequestBytes)
    return false;
  out->resize(size);
  return ReadFull(fd, out->data(), size);
}

bool ReadWholeFile(const std::string& path, std::string* out, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    *error = std::string("cannot open the archived file: ") + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out->reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = std::string("cannot read the archived file: ") + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

uint64_t Limit(int resource) {
  struct rlimit rl;
  if (::getrlimit(resource, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
  return rl.rlim_cur;
}

// Gives the next document `budget` CPU seconds from now (soft RLIMIT_CPU).
void MoveCpuLimit(uint64_t budget) {
  if (budget == 0) return;
  struct rusage ru;
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return;
  struct rlimit rl;
  if (::getrlimit(RLIMIT_CPU, &rl) != 0) return;
  const uint64_t used = static_cast<uint64_t>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1;
  rl.rlim_cur = used + budget;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_CPU, &rl);
}

constexpr std::string_view kHookPrefix = "GONGKAI-EXTRACT-TEST:";

std::string LimitText(int resource) {
  struct rlimit rl;
  if (::getrlimit(resource, &rl) != 0) return "?";
  return rl.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(rl.rlim_cur);
}

// The failures the tests provoke (see extract_worker.h); ":limits" answers
// with the worker's resource limits as text. True if it answered in *e.
bool RunTestHook(std::string_view bytes, uint64_t address_space, Extracted* e) {
  if (bytes.substr(0, kHookPrefix.size()) != kHookPrefix) return false;
  const std::string_view what = bytes.substr(kHookPrefix.size());
  if (what.substr(0, 6) == "limits") {
    e->text = "as=" + LimitText(RLIMIT_AS) + " cpu=" + LimitText(RLIMIT_CPU) +
              " fsize=" + LimitText(RLIMIT_FSIZE) + " nofile=" + LimitText(RLIMIT_NOFILE) +
              " core=" + LimitText(RLIMIT_CORE);
    e->has_text = true;
    return true;
  }
  if (what.substr(0, 5) == "abort") std::abort();
  if (what.substr(0, 4) == "exit") ::_exit(3);
  if (what.substr(0, 4) == "hang")
    for (;;) ::pause();
  if (what.substr(0, 3) == "oom") {
    // Without an address-space limit (sanitizer builds), stop at 2 GiB.
    const uint64_t cap = address_space ? UINT64_MAX : 2ull << 30;
    std::vector<std::unique_ptr<char[]>> hog;
    for (uint64_t total = 0; total < cap; total += 64u << 20) {
      hog.emplace_back(new char[64u << 20]);
      std::memset(hog.back().get(), 1, 64u << 20);
    }
    throw std::bad_alloc();
  }
  return false;
}

}  // namespace

int RunExtractWorker(int in_fd, int out_fd) {
  const char* hooks_env = std::getenv("GONGKAI_EXTRACT_TEST_HOOKS");
  const bool hooks = hooks_env && std::string_view(hooks_env) == "1";
  const uint64_t address_space = Limit(RLIMIT_AS);
  const uint64_t cpu_budget = Limit(RLIMIT_CPU);  // as the parent set it: per document
  for (;;) {
    char kind = 0;
    if (!ReadFull(in_fd, &kind, 1)) return 0;  // the caller closed the pipe: done
    std::string filename, payload;
    if (!ReadField(in_fd, &filename) || !ReadField(in_fd, &payload)) return 2;
    MoveCpuLimit(cpu_budget);
    Extracted e;
    bool retire = false;
    std::string bytes, error;
    if (kind == 1 && !ReadWholeFile(payload, &bytes, &error)) {
      e.type = TypeFromName(filename);
      e.note = error;
    } else {
      const std::string path =
          kind == 1 ? payload : std::string();  // the blob's, when sent by path
      if (kind != 1) bytes = std::move(payload);
      try {
        if (!hooks || !RunTestHook(bytes, address_space, &e))
          e = detail::ExtractFrom(bytes, filename, path);
      } catch (const std::bad_alloc&) {  // from the test hook
        e = Extracted{};
        e.type = TypeFromName(filename);
        e.note = detail::kOutOfMemoryNote;
        e.parser_failed = true;
      }
      // Report the limit, and ask to be replaced: a heap that ran dry
      // mid-parse is suspect, whether the document's or an archive member's.
      const auto out_of_memory = [&](Extracted& x) {
        if (!x.parser_failed || x.note != detail::kOutOfMemoryNote) return;
        if (address_space) x.note += " (limit " + std::to_string(address_space >> 20) + " MiB)";
        retire = true;
      };
      out_of_memory(e);
      for (ArchiveMember& m : e.members) out_of_memory(m.extracted);
    }
    std::string().swap(bytes);
    std::string out;
    PutExtracted(&out, e);
    out += static_cast<char>(retire);
    PutU64(&out, e.members.size());
    if (!WriteFull(out_fd, out)) return 2;
    for (const ArchiveMember& m : e.members) {  // one write each: no second copy of all the text
      out.clear();
      PutField(&out, m.path);
      PutExtracted(&out, m.extracted);
      if (!WriteFull(out_fd, out)) return 2;
    }
    if (retire) return 0;
  }
}

// ------------------------------------------------------------ caller side
namespace {

// Ends a worker that failed `s` and says what happened to it.
std::string FailureNote(detail::Child* child, const Status& s,
                        const ExtractWorkerOptions& options) {
  if (s.code() == Status::Code::kBusy) {
    detail::KillChild(child);
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options.timeout).count();
    return "extraction timed out after " + std::to_string(seconds) + " s";
  }
  // It is probably exiting: let it, so that we report its own end, not our kill.
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 100 && !exited; ++i) {
    exited = ::waitpid(child->pid, &status, WNOHANG) == child->pid;
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (exited) child->pid = -1;
  detail::KillChild(child);
  if (!exited) return "extraction worker failed (" + s.message() + ")";
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
    return "extraction used more than " + std::to_string(options.cpu_seconds) + " s of CPU";
  if (WIFSIGNALED(status)) return "extraction crashed (" + detail::DescribeWaitStatus(status) + ")";
  return "extraction worker failed (" + detail::DescribeWaitStatus(status) + ")";
}

}  // namespace

struct ExtractWorkers::Worker {
  detail::Child child;
  ~Worker() { detail::KillChild(&child); }
};

ExtractWorkerOptions DefaultExtractWorkerOptions() {
  ExtractWorkerOptions o;
#ifdef GONGKAI_SANITIZED
  o.memory_bytes = 0;  // ASan and TSan reserve far more address space than 1 GiB
#endif
  return o;
}

std::string FindExtractProgram() {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string beside(self, static_cast<size_t>(n));
    beside = beside.substr(0, beside.rfind('/') + 1) + "gongkai-extract";
    if (::access(beside.c_str(), X_OK) == 0) return beside;
  }
  return GONGKAI_EXTRACT_INSTALLED_PATH;
}

ExtractWorkers::ExtractWorkers(ExtractWorkerOptions options)
    : options_([&options] {
        if (options.program.empty()) options.program = FindExtractProgram();
        if (options.max_workers == 0) options.max_workers = 1;
        return options;
      }()) {}

ExtractWorkers::~ExtractWorkers() = default;

ExtractWorkers& ExtractWorkers::Shared() {
  static ExtractWorkers shared;
  return shared;
}

uint64_t ExtractWorkers::workers_started() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return started_;
}

std::unique_ptr<ExtractWorkers::Worker> ExtractWorkers::Acquire(std::string* error) {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_cv_.wait(lock, [this] { return !idle_.empty() || busy_ < options_.max_workers; });
  ++busy_;
  if (!idle_.empty()) {
    auto w = std::move(idle_.back());
    idle_.pop_back();
    return w;
  }
  lock.unlock();
  detail::ChildLimits limits;
  limits.address_space = options_.memory_bytes;
  limits.cpu_seconds = options_.cpu_seconds;
#ifdef GONGKAI_SANITIZED
  limits.file_size =
      1ull << 30;  // ThreadSanitizer's runtime writes files of its own in each process
#else
  limits.file_size = 0;
#endif
  limits.open_files = options_.open_files;
  // A missing program would only show as exit status 127, once per document.
  Result<detail::Child> child = ::access(options_.program.c_str(), X_OK) == 0
                                    ? detail::StartChild({options_.program}, limits)
                                    : Status::FromErrno(errno, "cannot execute it");
  lock.lock();
  if (!child.ok()) {
    --busy_;
    idle_cv_.notify_one();
    *error =
        "extraction worker " + options_.program + " could not start: " + child.status().message();
    if (!start_failure_logged_) log::Error(*error);
    start_failure_logged_ = true;
    return nullptr;
  }
  ++started_;
  auto w = std::make_unique<Worker>();
  w->child = *child;
  return w;
}

void ExtractWorkers::Release(std::unique_ptr<Worker> worker) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --busy_;
    if (worker) idle_.push_back(std::move(worker));
  }
  idle_cv_.notify_one();
}

Extracted ExtractWorkers::ExtractFile(const std::string& path, const std::string& filename) {
  return Run(true, path, filename);
}

Extracted ExtractWorkers::Extract(std::string_view bytes, const std::string& filename) {
  if (!detail::IsOleCompoundFile(bytes)) return Run(false, bytes, filename);
  // The legacy converters need a file; the worker may not write one (RLIMIT_FSIZE 0).
  detail::TempCopy copy(bytes);
  return copy.path.empty() ? Run(false, bytes, filename) : Run(true, copy.path, filename);
}

Extracted ExtractWorkers::Run(bool is_path, std::string_view payload, const std::string& filename) {
  Extracted e;
  e.type = TypeFromName(filename);
  e.parser_failed = true;
  std::string error;
  std::unique_ptr<Worker> w = Acquire(&error);
  if (!w) {
    e.note = error;
    return e;
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  std::string head(1, is_path ? '\1' : '\0');
  PutField(&head, filename);
  PutU64(&head, payload.size());
  Status s = detail::WriteAllBy(w->child.to_child, head, deadline);
  if (s.ok()) s = detail::WriteAllBy(w->child.to_child, payload, deadline);
  uint64_t response_bytes = 0;
  auto read_u64 = [&](uint64_t* v) {
    if (s.ok())
      s = detail::ReadExactBy(w->child.from_child, reinterpret_cast<char*>(v), sizeof *v, deadline);
  };
  auto read_field = [&](std::string* f) {
    uint64_t size = 0;
    read_u64(&size);
    response_bytes += size;
    if (s.ok() && (size > kMaxFieldBytes || response_bytes > kMaxResponseBytes))
      s = Status::Corruption("response field too large");
    if (!s.ok()) return;
    f->resize(size);
    s = detail::ReadExactBy(w->child.from_child, f->data(), size, deadline);
  };
  auto read_extracted = [&](Extracted* x) {
    for (std::string* f : {&x->type, &x->title, &x->text, &x->encoding, &x->note}) read_field(f);
    char flags[2] = {0, 0};
    if (s.ok()) s = detail::ReadExactBy(w->child.from_child, flags, sizeof flags, deadline);
    x->has_text = flags[0] != 0;
    x->parser_failed = flags[1] != 0;
  };
  Extracted got;
  read_extracted(&got);
  char retire = 0;
  if (s.ok()) s = detail::ReadExactBy(w->child.from_child, &retire, 1, deadline);
  uint64_t members = 0;
  read_u64(&members);
  if (s.ok() && members > kMaxMembers) s = Status::Corruption("too many members in a response");
  for (uint64_t i = 0; s.ok() && i < members; ++i) {
    ArchiveMember m;
    read_field(&m.path);
    read_extracted(&m.extracted);
    got.members.push_back(std::move(m));
  }
  if (s.ok()) {
    if (retire) w.reset();  // it asked to be replaced
    Release(std::move(w));
    return got;
  }
  // It crashed, hung or broke the protocol: it is not reused, the document not retried.
  e.note = FailureNote(&w->child, s, options_);
  w.reset();
  Release(nullptr);
  return e;
}

}  // namespace gongkai::indexer
