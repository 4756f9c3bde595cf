// OrderedPool: jobs finish out of order but are taken in order, never more
// than `window` are in flight, and a refused take stops the batch.
#include <pthread.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ordered_pool.h"

using gongkai::daemon::OrderedPool;

namespace {

void SleepFor(size_t i) {  // later jobs are often quicker: they finish out of order
  std::this_thread::sleep_for(std::chrono::microseconds((i * 7919) % 5 * 300));
}

}  // namespace

TEST_CASE("ordered pool: taken in job order, at most `window` in flight, all threads used, named",
          "[daemon]") {
  OrderedPool pool("test", 3, 5);
  REQUIRE(pool.threads() == 3);
  for (size_t n : {0, 1, 4, 200}) {
    std::vector<int> results(n, -1);
    std::vector<size_t> taken;
    std::atomic<int> in_flight{0}, most_in_flight{0};
    std::mutex mutex;
    std::vector<char> thread_seen(3, 0);
    std::vector<std::string> names(3);  // as the system knows each thread
    const bool all = pool.Run(
        n,
        [&](size_t thread, size_t i) {
          const int now = ++in_flight;
          for (int seen = most_in_flight;
               now > seen && !most_in_flight.compare_exchange_weak(seen, now);) {
          }
          SleepFor(i);
          results[i] = static_cast<int>(i) * 2;
          char name[16] = {};
          pthread_getname_np(pthread_self(), name, sizeof name);
          std::lock_guard<std::mutex> lock(mutex);
          thread_seen.at(thread) = 1;
          names.at(thread) = name;
        },
        [&](size_t i) {
          CHECK(results[i] == static_cast<int>(i) * 2);  // its job has finished
          taken.push_back(i);
          --in_flight;
          return true;
        });
    CHECK(all);
    REQUIRE(taken.size() == n);
    for (size_t i = 0; i < n; ++i) CHECK(taken[i] == i);
    CHECK(most_in_flight <= 5);
    if (n == 200) {
      CHECK(most_in_flight > 1);  // ran in parallel
      CHECK(thread_seen == std::vector<char>{1, 1, 1});
      CHECK(names == std::vector<std::string>{"test-0", "test-1", "test-2"});
    }
  }
}

TEST_CASE("ordered pool: a refused take starts nothing more and waits for the running jobs",
          "[daemon]") {
  OrderedPool pool("test", 2, 4);
  std::atomic<size_t> started{0}, finished{0};
  std::vector<size_t> taken;
  const bool all = pool.Run(
      100,
      [&](size_t, size_t i) {
        ++started;
        SleepFor(i);
        ++finished;
      },
      [&](size_t i) {
        taken.push_back(i);
        return i < 9;  // refuses job 10
      });
  CHECK_FALSE(all);
  CHECK(taken.size() == 10);
  CHECK(started <= 10 + 4);  // the window past the refused job at most
  CHECK(finished == started.load());
  // The pool is reusable after a stop.
  size_t count = 0;
  CHECK(pool.Run(
      7, [](size_t, size_t) {}, [&](size_t) { return ++count > 0; }));
  CHECK(count == 7);
}
