// A fixed set of threads that runs numbered jobs in parallel and hands them
// back to one caller in job order, with a bound on how many are in flight.
//
// The index feeder uses it to extract and prepare documents on all cores
// while its single writer thread stores them in catalog order. In flight
// means started but not yet taken by the caller: Run() never lets more than
// `window` jobs be in flight, so whatever the jobs produce (texts, prepared
// index entries) is bounded to `window` of them however long the batch is.
//
// Thread-safety: Run() is called by one thread at a time (the owner); the
// pool's threads call `run` concurrently, each job once.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gongkai::daemon {

class OrderedPool {
 public:
  // `threads` and `window` are at least 1. The threads are named `name`-0,
  // `name`-1, ...
  OrderedPool(const std::string& name, size_t threads, size_t window);
  OrderedPool(const OrderedPool&) = delete;
  OrderedPool& operator=(const OrderedPool&) = delete;
  // Joins the threads. No Run() may be in progress.
  ~OrderedPool();

  size_t threads() const { return threads_.size(); }

  // Runs run(thread, i) for every i in [0, n) on the pool's threads (thread
  // is the pool thread's number, 0 <= thread < threads(), for per-thread
  // resources), and take(i) on the calling thread for i = 0, 1, ..., n - 1 in
  // that order, each after run(_, i) has returned. Neither may throw. If
  // take(i) returns false, no further job starts, the running ones finish
  // (they are not taken) and Run() returns false; else it returns true.
  bool Run(size_t n, const std::function<void(size_t thread, size_t i)>& run,
           const std::function<bool(size_t i)>& take);

 private:
  void Work(size_t thread);

  const size_t window_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable start_cv_;  // to the pool's threads: a job may start, or quit
  std::condition_variable done_cv_;   // to the caller: a job finished
  const std::function<void(size_t, size_t)>* run_ = nullptr;
  size_t next_ = 0;   // the next job to start
  size_t limit_ = 0;  // jobs below this may start
  size_t running_ = 0;
  std::vector<char> done_;
  bool quit_ = false;
};

}  // namespace gongkai::daemon
