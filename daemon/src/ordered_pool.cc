#include "ordered_pool.h"

#include <algorithm>

#include "gongkai/thread_name.h"

namespace gongkai::daemon {

OrderedPool::OrderedPool(const std::string& name, size_t threads, size_t window)
    : window_(std::max<size_t>(window, 1)) {
  for (size_t t = 0; t < std::max<size_t>(threads, 1); ++t)
    threads_.push_back(NamedThread(name + "-" + std::to_string(t), [this, t] { Work(t); }));
}

OrderedPool::~OrderedPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    quit_ = true;
  }
  start_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void OrderedPool::Work(size_t thread) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    start_cv_.wait(lock, [this] { return quit_ || next_ < limit_; });
    if (quit_) return;
    const size_t i = next_++;
    ++running_;
    const auto* run = run_;
    lock.unlock();
    (*run)(thread, i);
    lock.lock();
    --running_;
    done_[i] = 1;
    done_cv_.notify_one();
  }
}

bool OrderedPool::Run(size_t n, const std::function<void(size_t, size_t)>& run,
                      const std::function<bool(size_t)>& take) {
  std::unique_lock<std::mutex> lock(mutex_);
  run_ = &run;
  done_.assign(n, 0);
  next_ = limit_ = 0;
  bool all_taken = true;
  for (size_t i = 0; i < n; ++i) {
    // Jobs i .. i + window - 1 may be in flight while the caller waits for i.
    limit_ = std::min(n, i + window_);
    start_cv_.notify_all();
    done_cv_.wait(lock, [&] { return done_[i] != 0; });
    lock.unlock();
    const bool more = take(i);
    lock.lock();
    if (!more) {
      all_taken = false;
      break;
    }
  }
  limit_ = next_;  // start nothing more; let the running jobs finish
  done_cv_.wait(lock, [this] { return running_ == 0; });
  run_ = nullptr;
  next_ = limit_ = 0;
  return all_taken;
}

}  // namespace gongkai::daemon
