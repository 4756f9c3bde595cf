// Turns: a counting semaphore that admits in arrival order.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace gongkai {

// At most limit() holders at once; the others wait, and are let in in the
// order they called Enter(). A limit of 0 means no limit: Enter() never
// waits. Thread-safe, except that the limit is set before the first Enter().
class Turns {
 public:
  explicit Turns(size_t limit = 0) : limit_(limit) {}
  Turns(const Turns&) = delete;
  Turns& operator=(const Turns&) = delete;

  void set_limit(size_t limit) { limit_ = limit; }
  size_t limit() const { return limit_; }

  // Waits for this caller's turn. Every Enter() needs one Leave().
  void Enter();
  void Leave();
  // Callers waiting in Enter() now.
  size_t waiting() const;

  // Enter() on construction, Leave() on destruction.
  class Held {
   public:
    explicit Held(Turns& t) : t_(t) { t_.Enter(); }
    ~Held() { t_.Leave(); }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;

   private:
    Turns& t_;
  };

 private:
  // One caller waiting in Enter(), on its own stack. Leave() hands its turn
  // to the first of them and wakes that one alone: waking every waiter to
  // let one in cost a context switch each, 14 a search at 16 connections.
  struct Waiter {
    std::condition_variable admitted;
    bool in = false;
  };
  size_t limit_;
  mutable std::mutex mutex_;
  size_t holders_ = 0;           // callers between Enter() and Leave()
  std::deque<Waiter*> waiters_;  // in the order they called Enter()
};

}  // namespace gongkai
