// The queue between the watcher and the archiver.
//
// Files are keyed by (share, relative path), so a burst of events for one file
// is one entry. Each entry has a due time; Touch() moves it later while the
// file keeps changing (debounce), and the archiver only sees entries whose due
// time has passed. Thread-safe.
//
// Bounded: Touch() and Postpone() add a file only while fewer than `capacity`
// entries are queued. A file refused for lack of room is not lost: its share
// is marked for a rescan (one mark per share, however many files were
// refused), and TakeRescans() hands the marked shares to the archiver once the
// queue has drained to half its capacity; a rescan finds every file the
// catalog does not have yet. Requeue() always succeeds (the archiver puts back
// what it took), so the queue never holds more than `capacity` entries plus
// one batch taken by TakeDue().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
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
  static constexpr size_t kDefaultCapacity = 50'000;

  // `on_full(share)` is called (without the queue's lock held) at the first
  // refused file of `share` in an episode, for the log. The episode lasts
  // until a TakeRescans() call finds that the share's last rescan had no file
  // refused, so the rescans that catch up do not log again.
  explicit SettleQueue(size_t capacity = kDefaultCapacity,
                       std::function<void(size_t share)> on_full = nullptr);

  // Sets the file's due time to `due` (earlier or later), adding it if absent:
  // the latest "complete" event decides when a file is looked at. Returns
  // false when an absent file was refused because the queue is full.
  bool Touch(size_t share, const std::string& rel, Clock::time_point due);
  // For activity that does not mean "complete": moves a queued file's due
  // time to at least `at_least`; adds an absent file due at `due_if_new`.
  // Returns false as Touch() does.
  bool Postpone(size_t share, const std::string& rel, Clock::time_point at_least,
                Clock::time_point due_if_new);
  // Puts back an entry the archiver looked at (keeps what it saw), due at
  // `due`. Never refused.
  void Requeue(PendingFile file, Clock::time_point due);
  // Waits until an entry is due (or `timeout`, or Stop()), then removes and
  // returns up to `max` due entries, oldest due first.
  std::vector<PendingFile> TakeDue(size_t max, std::chrono::milliseconds timeout);
  // The shares with refused files, once the queue holds at most half its
  // capacity (else none); their marks are cleared, ending the episode. The
  // caller must rescan each of them.
  std::set<size_t> TakeRescans();
  size_t size() const;
  size_t capacity() const { return capacity_; }
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
  void Insert(const Key& key, Entry e);
  // Touch() and Postpone(): a queued file's due time becomes `due_if_queued`
  // (only if that is later, with `only_later`); an absent file is added due at
  // `due_if_new` if there is room, else its share is marked for a rescan.
  bool Schedule(size_t share, const std::string& rel, Clock::time_point due_if_new,
                Clock::time_point due_if_queued, bool only_later);

  const size_t capacity_;
  const std::function<void(size_t)> on_full_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<Key, Entry> entries_;
  std::set<std::pair<Clock::time_point, Key>> by_due_;
  std::set<size_t> overflowed_;  // shares with refused files, not yet handed out
  std::set<size_t> in_episode_;  // shares whose episode on_full_ announced
  bool stopped_ = false;
  bool woken_ = false;
};

}  // namespace gongkai::daemon
