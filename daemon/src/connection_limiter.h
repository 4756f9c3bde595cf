// Open HTTP connections per client address, with a cap, and which refusals
// are worth a log line. Thread-safe. Memory is bounded: a client's entry
// lives while it has connections open, and at most kMaxReported clients
// are remembered for log throttling.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gongkai::daemon {

class ConnectionLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // A refused client is logged at most once per this interval.
  static constexpr std::chrono::seconds kReportInterval{60};
  static constexpr size_t kMaxReported = 4096;

  // `per_client`: connections one client may hold open at once; 0 = no cap.
  explicit ConnectionLimiter(int per_client) : per_client_(per_client) {}

  // Counts connection `id` (unique among open connections) for `client` and
  // returns true, or returns false when `client` already holds the cap. On a
  // refusal, `*report` is set to a line to log, or "" when this client's
  // refusals were logged within kReportInterval.
  bool Admit(const void* id, const std::string& client, Clock::time_point now, std::string* report);
  // Gives back the slot of connection `id`; an unknown id is ignored.
  void Release(const void* id);
  // Connections `client` holds open.
  int open(const std::string& client) const;

 private:
  struct Reported {
    Clock::time_point at;
    int64_t since = 0;  // refusals not logged since `at`
  };
  void ReleaseLocked(const void* id);
  std::string ReportLocked(const std::string& client, Clock::time_point now);

  const int per_client_;
  mutable std::mutex mutex_;
  std::unordered_map<const void*, std::string> client_of_;
  std::unordered_map<std::string, int> open_;
  std::unordered_map<std::string, Reported> reported_;
  int64_t unreported_ = 0;  // refusals of clients that did not fit in reported_
  Clock::time_point last_prune_{};
};

}  // namespace gongkai::daemon
