// Crash safety: kill -9 the real daemon at random moments while files keep
// arriving, restart it, and check that at the end every file is archived
// exactly once with the right hash, every disclosure request event that was
// answered is there, and `gongkai verify` passes (the index included). The
// index has 3 shards, and 2 in every other round: each change of the count
// is a rebuild at start, killed in turn. This is the short CI version;
// GONGKAI_CRASH_ROUNDS raises the number of kills.
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <random>
#include <thread>

#include "gongkai/disclosure/calendar.h"
#include "gongkai/storage/crypto.h"
#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::Slurp;
using gongkai::test::WriteFile;

TEST_CASE("crash: kill -9 during ingest loses and duplicates nothing", "[e2e][crash]") {
  const char* env = std::getenv("GONGKAI_CRASH_ROUNDS");
  const int rounds = env ? std::max(1, std::atoi(env)) : 6;
  constexpr int kFilesPerRound = 60;
  DaemonProcess d;
  const std::string config = Slurp(d.config()) + "[disclosure]\nforms_per_hour = 0\n";
  auto shards = [&](int n) {
    WriteFile(d.config(), config + "[index]\nshards = " + std::to_string(n) + "\n");
  };
  std::mt19937 rng(7);
  // Disclosure requests registered and extended while the daemon is killed:
  // code -> events acknowledged (a 201 or 200 answer).
  std::map<std::string, size_t> acknowledged;
  std::mutex acknowledged_mutex;
  std::atomic<bool> killing{false};
  auto request = [&] {
    for (; !killing; std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
      try {
        auto made =
            d.Request("POST", "/api/v1/requests", "", {},
                      R"({"applicant":{"name":"崩溃测试","contact":"1"},"description":"x"})");
        if (made.status != 201) continue;
        const std::string code = made.json()->getValue<std::string>("code");
        {
          std::lock_guard<std::mutex> lock(acknowledged_mutex);
          acknowledged[code] = 1;
        }
        auto ext = d.Request(
            "POST", "/api/v1/requests/" + code + "/events", d.admin(), {},
            R"({"event":"withdrawn","date":")" +
                gongkai::disclosure::FormatDate(gongkai::disclosure::LocalToday()) + "\"}");
        if (ext.status == 200) {
          std::lock_guard<std::mutex> lock(acknowledged_mutex);
          acknowledged[code] = 2;
        }
      } catch (const std::exception&) {  // the daemon died under the request
        return;
      }
    }
  };
  std::map<std::string, std::string> expected;  // path -> sha256
  int next = 0;
  auto drop = [&](int n) {
    for (int i = 0; i < n; ++i, ++next) {
      const std::string rel =
          "batch" + std::to_string(next / 25) + "/f" + std::to_string(next) + ".txt";
      const std::string text = "崩潰測試文件 " + std::to_string(next) + " " +
                               std::string(static_cast<size_t>(rng() % 5000), 'x') + "\n";
      WriteFile(d.FilePath("pub", rel), text);
      expected[rel] = gongkai::storage::Hex(gongkai::storage::Sha256Of(text));
    }
  };
  drop(kFilesPerRound);
  for (int round = 0; round < rounds; ++round) {
    shards(round % 2 == 0 ? 3 : 2);
    d.Start();
    // Keep dropping while it works, then kill it at a random moment.
    const auto kill_after =
        std::chrono::milliseconds(100 + rng() % 900);  // drawn here: rng is not shared
    std::thread writer([&] { drop(kFilesPerRound); });
    killing = false;
    std::thread requester(request);
    std::this_thread::sleep_for(kill_after);
    // A slow build (ThreadSanitizer) may answer no request within any of the
    // windows: the first round waits for one, so that some are checked below.
    if (round == 0)
      DaemonProcess::Eventually([&] {
        std::lock_guard<std::mutex> lock(acknowledged_mutex);
        return !acknowledged.empty();
      });
    writer.join();
    CHECK(d.Stop(SIGKILL) == 128 + SIGKILL);
    killing = true;
    requester.join();
  }
  shards(3);
  d.Start();
  auto status = d.WaitIdle(static_cast<int64_t>(expected.size()), 300);
  if (rounds > 1) CHECK(d.log().find("rebuilding it from the catalog") != std::string::npos);
  CHECK(status->getValue<int64_t>("documents") == static_cast<int64_t>(expected.size()));
  CHECK(status->getValue<int64_t>("versions") ==
        static_cast<int64_t>(expected.size()));  // exactly once each
  CHECK(status->getValue<int64_t>("failed") == 0);
  CHECK(status->getValue<int64_t>("index_shards") == 3);
  // Every file's archived version has the file's hash.
  size_t checked = 0;
  for (int offset = 0; offset < static_cast<int>(expected.size()); offset += 100) {
    auto list =
        d.Get("/api/v1/search?limit=100&offset=" + std::to_string(offset), d.inspector()).json();
    auto results = list->getArray("results");
    for (size_t i = 0; i < results->size(); ++i) {
      auto r = results->getObject(static_cast<unsigned>(i));
      const std::string path = r->getValue<std::string>("path");
      CHECK(r->getValue<std::string>("sha256") == expected[path]);
      CHECK(r->getValue<int64_t>("version") == 1);
      ++checked;
    }
  }
  CHECK(checked == expected.size());
  CHECK_FALSE(acknowledged.empty());
  for (const auto& [code, events] : acknowledged) {
    INFO("request " << code);
    auto r = d.Get("/api/v1/requests/" + code, d.admin());
    REQUIRE(r.status == 200);
    CHECK(r.json()->getArray("events")->size() >= events);
  }
  CHECK(d.Stop() == 0);
  auto verify = d.Cli("verify");
  INFO(verify.out);
  CHECK(verify.exit_code == 0);
}
