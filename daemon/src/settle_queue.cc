#include "settle_queue.h"

#include <utility>

namespace gongkai::daemon {

void SettleQueue::SetDue(const Key& key, Entry& e, Clock::time_point due) {
  by_due_.erase({e.due, key});
  e.due = due;
  by_due_.insert({due, key});
}

SettleQueue::SettleQueue(size_t capacity, std::function<void(size_t)> on_full)
    : capacity_(capacity), on_full_(std::move(on_full)) {}

void SettleQueue::Insert(const Key& key, Entry e) {
  by_due_.insert({e.due, key});
  entries_.emplace(key, std::move(e));
}

bool SettleQueue::Schedule(size_t share, const std::string& rel, Clock::time_point due_if_new,
                           Clock::time_point due_if_queued, bool only_later) {
  bool added = true, first_refusal = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Key key{share, rel};
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      if (!only_later || it->second.due < due_if_queued) SetDue(key, it->second, due_if_queued);
    } else if (entries_.size() < capacity_) {
      Insert(key, Entry{PendingFile{share, rel}, due_if_new});
    } else {
      added = false;
      overflowed_.insert(share);
      first_refusal = in_episode_.insert(share).second;
    }
  }
  if (first_refusal && on_full_) on_full_(share);
  if (added) cv_.notify_one();
  return added;
}

bool SettleQueue::Touch(size_t share, const std::string& rel, Clock::time_point due) {
  return Schedule(share, rel, due, due, false);
}

bool SettleQueue::Postpone(size_t share, const std::string& rel, Clock::time_point at_least,
                           Clock::time_point due_if_new) {
  return Schedule(share, rel, due_if_new, at_least, true);
}

void SettleQueue::Requeue(PendingFile file, Clock::time_point due) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Key key{file.share, file.rel};
    auto it = entries_.find(key);
    if (it != entries_.end()) {  // a new event arrived meanwhile: it wins, stat is stale
      if (due > it->second.due) SetDue(key, it->second, due);
      return;
    }
    Insert(key, Entry{std::move(file), due});
  }
  cv_.notify_one();
}

std::vector<PendingFile> SettleQueue::TakeDue(size_t max, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto deadline = Clock::now() + timeout;
  while (!stopped_ && !woken_) {
    auto now = Clock::now();
    if (!by_due_.empty() && by_due_.begin()->first <= now) break;
    auto wake = deadline;
    if (!by_due_.empty() && by_due_.begin()->first < wake) wake = by_due_.begin()->first;
    if (now >= deadline) return {};
    cv_.wait_until(lock, wake);
  }
  woken_ = false;
  std::vector<PendingFile> out;
  const auto now = Clock::now();
  while (!by_due_.empty() && out.size() < max && by_due_.begin()->first <= now) {
    Key key = by_due_.begin()->second;
    by_due_.erase(by_due_.begin());
    auto it = entries_.find(key);
    out.push_back(std::move(it->second.file));
    entries_.erase(it);
  }
  return out;
}

std::set<size_t> SettleQueue::TakeRescans() {
  std::lock_guard<std::mutex> lock(mutex_);
  // Shares handed out before were rescanned since (the caller's duty): those
  // not marked again have caught up.
  std::erase_if(in_episode_, [&](size_t share) { return !overflowed_.count(share); });
  if (overflowed_.empty() || entries_.size() > capacity_ / 2) return {};
  return std::exchange(overflowed_, {});
}

size_t SettleQueue::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

void SettleQueue::Wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  cv_.notify_all();
}

void SettleQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
  }
  cv_.notify_all();
}

}  // namespace gongkai::daemon
