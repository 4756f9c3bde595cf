// Turns (base/turns.h): the first-come semaphore that bounds the searches
// matched at once.
#include "gongkai/turns.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using gongkai::Turns;

// Polls until pred() holds, for at most 30 s; false if it never did.
template <typename Pred>
bool Within30s(Pred pred) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace

TEST_CASE("turns: at most the limit hold a turn, the next waits until one leaves", "[turns]") {
  Turns turns(2);
  turns.Enter();
  turns.Enter();  // two at once: neither waits
  CHECK(turns.waiting() == 0);
  bool third_in = false;
  std::mutex m;
  std::thread third([&] {
    const Turns::Held held(turns);
    std::lock_guard<std::mutex> lock(m);
    third_in = true;
  });
  const bool waited = Within30s([&] { return turns.waiting() == 1; });
  bool in_while_full = false;
  {
    std::lock_guard<std::mutex> lock(m);
    in_while_full = third_in;
  }
  turns.Leave();
  third.join();
  CHECK(waited);
  CHECK_FALSE(in_while_full);
  CHECK(third_in);
  CHECK(turns.waiting() == 0);
  turns.Leave();
}

TEST_CASE("turns: waiting callers are let in in the order they came", "[turns]") {
  Turns turns(1);
  turns.Enter();
  std::mutex m;
  std::vector<int> order;
  std::vector<std::thread> callers;
  bool queued = true;
  for (int i = 1; i <= 6 && queued; ++i) {
    callers.emplace_back([&, i] {
      const Turns::Held held(turns);
      std::lock_guard<std::mutex> lock(m);
      order.push_back(i);
    });
    // The next caller starts only once this one waits.
    queued = Within30s([&] { return turns.waiting() == static_cast<size_t>(i); });
  }
  turns.Leave();
  for (std::thread& t : callers) t.join();
  CHECK(queued);
  CHECK(order == std::vector<int>{1, 2, 3, 4, 5, 6});
  CHECK(turns.waiting() == 0);
}

TEST_CASE("turns: a turn left goes to the one waiting, not to a caller arriving after", "[turns]") {
  Turns turns(1);
  turns.Enter();
  std::mutex m;
  std::vector<std::string> order;
  std::thread waiter([&] {
    const Turns::Held held(turns);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // time to barge in, if it could
    std::lock_guard<std::mutex> lock(m);
    order.push_back("waiter");
  });
  const bool queued = Within30s([&] { return turns.waiting() == 1; });
  // Leave and come straight back, before the woken waiter has run: its turn
  // was handed over, so this caller queues behind it.
  turns.Leave();
  turns.Enter();
  {
    std::lock_guard<std::mutex> lock(m);
    order.push_back("again");
  }
  turns.Leave();
  waiter.join();
  CHECK(queued);
  CHECK(order == std::vector<std::string>{"waiter", "again"});
  CHECK(turns.waiting() == 0);
}

TEST_CASE("turns: many callers never exceed the limit", "[turns]") {
  Turns turns(3);
  std::mutex m;
  int inside = 0, most = 0, done = 0;
  std::vector<std::thread> callers(8);
  for (std::thread& caller : callers)
    caller = std::thread([&] {
      for (int k = 0; k < 200; ++k) {
        const Turns::Held held(turns);
        {
          std::lock_guard<std::mutex> lock(m);
          most = std::max(most, ++inside);
        }
        std::this_thread::yield();
        std::lock_guard<std::mutex> lock(m);
        --inside;
        ++done;
      }
    });
  for (std::thread& t : callers) t.join();
  CHECK(done == 8 * 200);
  CHECK(most <= 3);
  CHECK(turns.waiting() == 0);
}

TEST_CASE("turns: a limit of 0 never waits", "[turns]") {
  Turns turns;
  for (int i = 0; i < 100; ++i) turns.Enter();
  CHECK(turns.waiting() == 0);
  for (int i = 0; i < 100; ++i) turns.Leave();
}
