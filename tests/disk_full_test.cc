// A data folder that really fills up: a small tmpfs mounted over it (needs
// root and mount rights; elsewhere the test says SKIPPED and CTest counts it
// as skipped). Ingest pauses with one clear log line and /healthz turns
// "degraded", searches and downloads keep working, and when space comes back
// ingest resumes by itself with nothing lost.
#include <sys/mount.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::WriteFile;

namespace {

// Unmounts (after stopping the daemon that uses it) when the test ends.
struct TmpfsMount {
  DaemonProcess& d;
  std::string where;
  bool mounted = false;
  ~TmpfsMount() {
    d.Stop();
    if (mounted) ::umount2(where.c_str(), MNT_DETACH);
  }
};

// Fills the file system holding `path` until a write fails with ENOSPC.
void FillUp(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  const std::string chunk(size_t{64} * 1024, 'F');
  while (out.write(chunk.data(), static_cast<std::streamsize>(chunk.size())) && out.flush()) {
  }
}

}  // namespace

TEST_CASE(
    "e2e: a full data folder pauses ingest, reads keep working, ingest resumes when space frees",
    "[e2e]") {
  DaemonProcess d({{"pub", ""}}, "anonymous_search_rate = 0\nretry_interval = 300ms\n");
  TmpfsMount m{d, d.root() + "/data"};
  std::filesystem::create_directories(m.where);
  if (::mount("tmpfs", m.where.c_str(), "tmpfs", 0, "size=8m,mode=0755") != 0) {
    WARN("SKIPPED: cannot mount a tmpfs for the data folder here ("
         << std::strerror(errno) << "); needs root with CAP_SYS_ADMIN");
    return;
  }
  m.mounted = true;

  WriteFile(d.FilePath("pub", "before.txt"), "空間充足時歸檔的公告。\n");
  d.Start();
  d.WaitIdle(1);
  const std::string id =
      d.Search("空間充足").json()->getArray("results")->getObject(0)->getValue<std::string>("id");

  FillUp(m.where + "/filler");
  for (int i = 0; i < 3; ++i)
    WriteFile(
        d.FilePath("pub", "during" + std::to_string(i) + ".txt"),
        "磁碟已滿時放入的第" + std::to_string(i) + "份通知，" + std::string(20000, 'x') + "\n");

  // Paused, said once, and visible to monitoring.
  REQUIRE(DaemonProcess::Eventually([&] { return d.Get("/healthz").status == 503; }));
  CHECK(d.log().find("ingest paused") != std::string::npos);
  auto anonymous = d.Get("/healthz");
  CHECK(anonymous.json()->getValue<std::string>("status") == "degraded");
  CHECK_FALSE(anonymous.json()->has("problem"));  // file names are for inspectors only
  auto inspector = d.Get("/healthz", d.inspector());
  CHECK(inspector.json()->getValue<std::string>("problem").find("space") != std::string::npos);
  auto status = d.Get("/api/v1/status", d.inspector()).json();
  CHECK_FALSE(status->getValue<std::string>("storage_problem").empty());

  // Reads keep working.
  CHECK(d.SearchPaths("空間充足") == std::vector<std::string>{"pub:before.txt"});
  CHECK(d.Get("/api/v1/documents/" + id + "/versions/1/content").status == 200);
  CHECK(d.SearchPaths("磁碟已滿").empty());
  std::this_thread::sleep_for(std::chrono::seconds(2));  // several retries while full
  CHECK(d.Get("/healthz").status == 503);

  // Space comes back: everything dropped meanwhile is archived and searchable.
  std::filesystem::remove(m.where + "/filler");
  REQUIRE(DaemonProcess::Eventually([&] { return d.SearchPaths("磁碟已滿").size() == 3; }));
  CHECK(d.Get("/healthz").status == 200);
  CHECK(d.log().find("ingest resumed") != std::string::npos);
  auto after = d.WaitIdle(4);
  CHECK(after->getValue<int64_t>("failed") == 0);
  CHECK(after->getValue<int64_t>("versions") == 4);
  CHECK(d.Stop() == 0);
  auto verify = d.Cli("verify");
  INFO(verify.out);
  CHECK(verify.exit_code == 0);
}
