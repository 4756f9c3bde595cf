#include "gongkai/turns.h"

namespace gongkai {

void Turns::Enter() {
  if (limit_ == 0) return;
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t mine = next_++;
  changed_.wait(lock, [&] { return mine < left_ + limit_; });
}

void Turns::Leave() {
  if (limit_ == 0) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++left_;
  }
  changed_.notify_all();
}

size_t Turns::waiting() const {
  if (limit_ == 0) return 0;
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t running = next_ - left_;  // entered or waiting, not yet left
  return running > limit_ ? static_cast<size_t>(running - limit_) : 0;
}

}  // namespace gongkai
