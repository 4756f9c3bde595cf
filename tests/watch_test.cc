// End-to-end tests of watching under stress: bursts beyond the queue's
// capacity, reloading the shares with SIGHUP, rewrites that restore the mtime.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

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

TEST_CASE(
    "e2e: a burst far beyond the queue's capacity is archived exactly once, in bounded memory",
    "[e2e]") {
  constexpr int kCapacity = 100, kFiles = 2000, kBatch = 256;
  DaemonProcess d({{"pub", ""}}, "anonymous_search_rate = 0\nqueue_capacity = 100\n");
  d.Start();
  const int64_t rss_before = ProcStatusKb(d.pid(), "VmRSS");

  // The queue's depth (queued + taken by the archiver) while the files arrive.
  std::atomic<bool> done{false};
  int64_t deepest = 0;
  std::thread sampler([&] {
    while (!done) {
      deepest =
          std::max(deepest, Gauge(d.Get("/metrics", d.inspector()).body, "gongkai_queue_depth"));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (int i = 0; i < kFiles; ++i)
    WriteFile(
        d.FilePath("pub", "burst/" + std::to_string(i / 100) + "/f" + std::to_string(i) + ".txt"),
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
  CHECK(log.find("queue full (100 files): new files in share pub are picked up by a rescan") !=
        std::string::npos);
  CHECK(log.find("left for a rescan once the queue drains") != std::string::npos);
  const int64_t peak = ProcStatusKb(d.pid(), "VmHWM");
  INFO("RSS before " << rss_before << " kB, peak " << peak << " kB");
#ifndef GONGKAI_SANITIZED_BUILD  // ASan's quarantine and shadow memory make RSS meaningless here
  CHECK(peak < int64_t{256} * 1024);
#endif
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: SIGHUP with a new share restarts in place without losing files", "[e2e]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "before.txt"), "重新載入之前的文件。\n");
  d.Start();
  d.WaitIdle(1);
  const pid_t pid = d.pid();

  std::filesystem::create_directories(d.SharePath("added"));
  WriteFile(d.FilePath("added", "new.txt"), "新增共享資料夾的文件。\n");
  std::ofstream(d.config(), std::ios::app)
      << "[share.added]\npath = share/added\noffice = 新辦公室\n";
  // Files dropped into the old share while the daemon stops and starts again.
  d.RestartWithHup([&] {
    for (int i = 0; i < 20; ++i) {
      WriteFile(d.FilePath("pub", "during" + std::to_string(i) + ".txt"),
                "重新載入期間的文件 during" + std::to_string(i) + "\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  });
  auto s = d.WaitIdle(22);
  CHECK(s->getValue<int64_t>("pid") == pid);
  CHECK(d.SearchPaths("新增共享資料夾") == std::vector<std::string>{"added:new.txt"});
  CHECK(d.Search("重新載入期間的文件").json()->getValue<int64_t>("total") == 20);
  CHECK(s->getValue<int64_t>("versions") == 22);  // nothing archived twice
  const std::string log = d.log();
  CHECK(log.find("changed; restarting in place to apply it") != std::string::npos);
  CHECK(log.find("(2 shares,") != std::string::npos);

  // An unchanged file reloads tokens in place: no restart.
  const size_t logged = d.log().size();
  ::kill(pid, SIGHUP);
  REQUIRE(DaemonProcess::Eventually(
      [&] { return d.log().find("SIGHUP: reloaded", logged) != std::string::npos; }));
  CHECK(d.log().find("restarting in place", logged) == std::string::npos);
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: SIGHUP with a broken config file keeps the daemon running on the old one",
          "[e2e]") {
  DaemonProcess d;
  d.Start();
  const std::string good = gongkai::test::Slurp(d.config());
  WriteFile(d.config(), good + "[share.broken]\nclassification = secret\n");
  const size_t logged = d.log().size();
  ::kill(d.pid(), SIGHUP);
  REQUIRE(DaemonProcess::Eventually([&] {
    return d.log().find("SIGHUP: kept the running configuration: ", logged) != std::string::npos;
  }));
  CHECK(d.log().find("restarting in place", logged) == std::string::npos);
  CHECK(d.Get("/healthz").status == 200);
  WriteFile(d.FilePath("pub", "after.txt"), "設定檔錯誤之後的文件。\n");
  d.WaitIdle(1);
  CHECK(d.SearchPaths("設定檔錯誤之後") == std::vector<std::string>{"pub:after.txt"});
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: a polled file rewritten with its old mtime restored gets a new version", "[e2e]") {
  DaemonProcess d({{"net", "watch = poll"}}, "anonymous_search_rate = 0\npoll_interval = 1s\n");
  const std::string path = d.FilePath("net", "copied.txt");
  WriteFile(path, "原始版本內容 AAAA\n");
  d.Start();
  d.WaitIdle(1);
  const std::string id = d.Search("原始版本內容")
                             .json()
                             ->getArray("results")
                             ->getObject(0)
                             ->getValue<std::string>("id");

  // As cp -p or rsync -t do: new bytes of the same size, then the old times.
  struct stat before {};
  REQUIRE(::stat(path.c_str(), &before) == 0);
  WriteFile(path, "修改版本內容 BBBB\n");
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  struct stat after {};
  REQUIRE(::stat(path.c_str(), &after) == 0);
  REQUIRE(after.st_size == before.st_size);
  REQUIRE(after.st_ino == before.st_ino);
  REQUIRE(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);

  REQUIRE(DaemonProcess::Eventually(
      [&] { return d.Get("/api/v1/documents/" + id).json()->getArray("versions")->size() == 2; }));
  REQUIRE(DaemonProcess::Eventually([&] { return !d.SearchPaths("修改版本內容").empty(); }));
  CHECK(d.SearchPaths("原始版本內容").empty());
  CHECK(d.Stop() == 0);
}
