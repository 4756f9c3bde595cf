// Crash safety: kill -9 the real daemon at random moments while files keep
// arriving, restart it, and check that at the end every file is archived
// exactly once with the right hash, and `gongkai verify` passes. This is the
// short CI version; GONGKAI_CRASH_ROUNDS raises the number of kills.
#include <signal.h>

#include <catch2/catch.hpp>
#include <random>

#include "gongkai/storage/crypto.h"
#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::WriteFile;

TEST_CASE("crash: kill -9 during ingest loses and duplicates nothing", "[e2e][crash]") {
  const char* env = std::getenv("GONGKAI_CRASH_ROUNDS");
  const int rounds = env ? std::max(1, std::atoi(env)) : 6;
  constexpr int kFilesPerRound = 60;
  DaemonProcess d;
  std::mt19937 rng(7);
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
    d.Start();
    // Keep dropping while it works, then kill it at a random moment.
    const auto kill_after =
        std::chrono::milliseconds(100 + rng() % 900);  // drawn here: rng is not shared
    std::thread writer([&] { drop(kFilesPerRound); });
    std::this_thread::sleep_for(kill_after);
    writer.join();
    CHECK(d.Stop(SIGKILL) == 128 + SIGKILL);
  }
  d.Start();
  auto status = d.WaitIdle(static_cast<int64_t>(expected.size()), 300);
  CHECK(status->getValue<int64_t>("documents") == static_cast<int64_t>(expected.size()));
  CHECK(status->getValue<int64_t>("versions") ==
        static_cast<int64_t>(expected.size()));  // exactly once each
  CHECK(status->getValue<int64_t>("failed") == 0);
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
  CHECK(d.Stop() == 0);
  auto verify = d.Cli("verify");
  INFO(verify.out);
  CHECK(verify.exit_code == 0);
}
