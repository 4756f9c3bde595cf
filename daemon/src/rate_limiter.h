// Per-client token buckets for anonymous search (a client = its IP address).
// Thread-safe. Memory is bounded: idle buckets are dropped when the table
// grows past a limit.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gongkai::daemon {

class RateLimiter {
 public:
  // `rate` requests per second sustained, bursts up to `burst`; rate 0 = off.
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}
  // True if `client` may make a request now (and takes a token).
  bool Allow(const std::string& client);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double rate_, burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace gongkai::daemon
