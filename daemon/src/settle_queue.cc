#include "settle_queue.h"

namespace gongkai::daemon {

void SettleQueue::SetDue(const Key& key, Entry& e, Clock::time_point due) {
  by_due_.erase({e.due, key});
  e.due = due;
  by_due_.insert({due, key});
}

void SettleQueue::Touch(size_t share, const std::string& rel, Clock::time_point due) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Key key{share, rel};
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      entries_.emplace(key, Entry{PendingFile{share, rel}, due});
      by_due_.insert({due, key});
    } else {
      SetDue(key, it->second, due);
    }
  }
  cv_.notify_one();
}

void SettleQueue::Postpone(size_t share, const std::string& rel, Clock::time_point at_least,
                           Clock::time_point due_if_new) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Key key{share, rel};
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      entries_.emplace(key, Entry{PendingFile{share, rel}, due_if_new});
      by_due_.insert({due_if_new, key});
    } else if (it->second.due < at_least) {
      SetDue(key, it->second, at_least);
    }
  }
  cv_.notify_one();
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
    entries_.emplace(key, Entry{std::move(file), due});
    by_due_.insert({due, key});
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
