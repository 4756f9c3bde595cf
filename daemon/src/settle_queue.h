// The queue between the watcher and the archiver.
//
// Files are keyed by (share, relative path), so a burst of events for one file
// is one entry. Each entry has a due time; Touch() moves it later while the
// file keeps changing (debounce), and the archiver only sees entries whose due
// time has passed. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace gongkai::daemon {

using Clock = std::chrono::steady_clock;

struct PendingFile {
  size_t share = 0;
  std::string rel;
  // What the archiver saw last time it looked (for the stability check).
  bool seen = false;
  int64_t size = -1;
  int64_t mtime_ns = -1;
  int attempts = 0;
};

class SettleQueue {
 public:
  // Sets the file's due time to `due` (earlier or later), adding it if absent:
  // the latest "complete" event decides when a file is looked at.
  void Touch(size_t share, const std::string& rel, Clock::time_point due);
  // For activity that does not mean "complete": moves a queued file's due
  // time to at least `at_least`; adds an absent file due at `due_if_new`.
  void Postpone(size_t share, const std::string& rel, Clock::time_point at_least,
                Clock::time_point due_if_new);
  // Puts back an entry the archiver looked at (keeps what it saw), due at `due`.
  void Requeue(PendingFile file, Clock::time_point due);
  // Waits until an entry is due (or `timeout`, or Stop()), then removes and
  // returns up to `max` due entries, oldest due first.
  std::vector<PendingFile> TakeDue(size_t max, std::chrono::milliseconds timeout);
  size_t size() const;
  // Makes a waiting TakeDue() return now (possibly empty-handed).
  void Wake();
  void Stop();

 private:
  using Key = std::pair<size_t, std::string>;
  struct Entry {
    PendingFile file;
    Clock::time_point due;
  };
  void SetDue(const Key& key, Entry& e, Clock::time_point due);

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<Key, Entry> entries_;
  std::set<std::pair<Clock::time_point, Key>> by_due_;
  bool stopped_ = false;
  bool woken_ = false;
};

}  // namespace gongkai::daemon
