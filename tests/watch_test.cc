// End-to-end tests of watching under stress: bursts beyond the queue's
// capacity, reloading the shares with SIGHUP, rewrites that restore the mtime.
#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::WriteFile;

namespace {

// A "Name:   1234 kB" line of /proc/PID/status, in kB (-1 if absent).
int64_t ProcStatusKb(pid_t pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + ":", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  return -1;
}

// The value of an unlabelled gauge in a /metrics body (-1 if absent).
int64_t Gauge(const std::string& metrics, const std::string& name) {
  const std::string prefix = "\n" + name + " ";
  auto at = metrics.find(prefix);
  return at == std::string::npos ? -1 : std::stoll(metrics.substr(at + prefix.size()));
}

}  // namespace

TEST_CASE("e2e: a burst far beyond the queue's capacity is archived exactly once, in bounded memory", "[e2e]") {
  constexpr int kCapacity = 100, kFiles = 2000, kBatch = 256;
  DaemonProcess d({{"pub", ""}}, "anonymous_search_rate = 0\nqueue_capacity = 100\n");
  d.Start();
  const int64_t rss_before = ProcStatusKb(d.pid(), "VmRSS");

  // The queue's depth (queued + taken by the archiver) while the files arrive.
  std::atomic<bool> done{false};
  int64_t deepest = 0;
  std::thread sampler([&] {
    while (!done) {
      deepest = std::max(deepest, Gauge(d.Get("/metrics", d.inspector()).body, "gongkai_queue_depth"));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (int i = 0; i < kFiles; ++i)
    WriteFile(d.FilePath("pub", "burst/" + std::to_string(i / 100) + "/f" + std::to_string(i) + ".txt"),
              "背壓測試文件 burst" + std::to_string(i) + " 第" + std::to_string(i) + "號\n");
  auto s = d.WaitIdle(kFiles, 300);
  done = true;
  sampler.join();

  // Every file once: one version and one record each, all searchable.
  CHECK(s->getValue<int64_t>("documents") == kFiles);
  CHECK(s->getValue<int64_t>("versions") == kFiles);
  CHECK(s->getValue<int64_t>("records") == kFiles);
  CHECK(d.Search("背壓測試文件").json()->getValue<int64_t>("total") == kFiles);
  for (int i : {0, 777, kFiles - 1}) CHECK(d.SearchPaths("burst" + std::to_string(i)).size() == 1);

  // Bounded: at most the capacity plus the archiver's batch in hand and one
  // batch put back, never the whole burst.
  INFO("deepest queue " << deepest);
  CHECK(deepest > 0);
  CHECK(deepest <= kCapacity + 2 * kBatch);
  const std::string log = d.log();
  CHECK(log.find("queue full (100 files): new files in share pub are picked up by a rescan") != std::string::npos);
  CHECK(log.find("left for a rescan once the queue drains") != std::string::npos);
  const int64_t peak = ProcStatusKb(d.pid(), "VmHWM");
  INFO("RSS before " << rss_before << " kB, peak " << peak << " kB");
  CHECK(peak < 256 * 1024);
  CHECK(d.Stop() == 0);
}
