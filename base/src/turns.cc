#include "gongkai/turns.h"

namespace gongkai {

void Turns::Enter() {
  if (limit_ == 0) return;
  std::unique_lock<std::mutex> lock(mutex_);
  if (waiters_.empty() && holders_ < limit_) {
    ++holders_;
    return;
  }
  Waiter me;
  waiters_.push_back(&me);
  me.admitted.wait(lock, [&] { return me.in; });  // Leave() counted us in
}

void Turns::Leave() {
  if (limit_ == 0) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  if (waiters_.empty()) {
    --holders_;
    return;
  }
  // The turn passes straight to the first waiter, so a caller arriving
  // meanwhile cannot take it first. Woken under the lock: once unlocked,
  // the waiter may return and its Waiter be gone.
  Waiter* next = waiters_.front();
  waiters_.pop_front();
  next->in = true;
  next->admitted.notify_one();
}

size_t Turns::waiting() const {
  if (limit_ == 0) return 0;
  const std::lock_guard<std::mutex> lock(mutex_);
  return waiters_.size();
}

}  // namespace gongkai
