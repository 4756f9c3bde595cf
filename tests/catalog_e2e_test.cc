// The real gongkaid on each catalog backend: files dropped into a share are
// searchable, approved and classified over HTTP and by the CLI, PostgreSQL may
// restart under it, a restart of the daemon duplicates nothing, the CLI
// writes itself while the daemon is stopped, and `gongkai verify` passes.
#include <catch2/catch.hpp>
#include <filesystem>

#include "support/daemon_process.h"
#include "support/postgres_server.h"

using gongkai::test::DaemonProcess;
using gongkai::test::PostgresServer;
using gongkai::test::Slurp;
using gongkai::test::WriteFile;

namespace {

// `postgres`: the catalog's connection string, "" for the SQLite file.
void RunEndToEnd(const std::string& postgres) {
  const std::string extra =
      "anonymous_search_rate = 0\n" + (postgres.empty() ? "" : "catalog = " + postgres + "\n");
  DaemonProcess d({{"pub", ""}, {"rev", "review = required"}}, extra.c_str());
  WriteFile(d.FilePath("pub", "notice.txt"), "鄉政府公告：本鄉年度道路養護經費公開。\n");
  WriteFile(d.FilePath("rev", "plan.txt"), "待審核的實施方案：庚辛壬。\n");
  d.Start();
  d.WaitIdle(2);
  CHECK(d.SearchPaths("道路養護") == std::vector<std::string>{"pub:notice.txt"});
  CHECK(d.SearchPaths("庚辛壬").empty());  // pending review

  const std::string plan = d.FirstId("庚辛壬", d.inspector());
  REQUIRE(d.Request("POST", "/api/v1/documents/" + plan + "/approve", d.admin()).status == 200);
  REQUIRE(DaemonProcess::Eventually([&] { return d.SearchPaths("庚辛壬").size() == 1; }));
  const std::string notice = d.FirstId("道路養護");
  REQUIRE(d.Request("POST", "/api/v1/documents/" + notice + "/classification", d.admin(), {},
                    R"({"classification":"restricted"})")
              .status == 200);
  REQUIRE(DaemonProcess::Eventually([&] { return d.SearchPaths("道路養護").empty(); }));
  // The CLI's change goes through the running daemon.
  auto cli = d.Cli("classify " + notice + " public");
  INFO(cli.out);
  REQUIRE(cli.exit_code == 0);
  CHECK(d.SearchPaths("道路養護") == std::vector<std::string>{"pub:notice.txt"});
  // PostgreSQL restarting under the running daemon: it connects again.
  if (!postgres.empty()) PostgresServer::Shared(nullptr)->Restart();
  WriteFile(d.FilePath("pub", "later.txt"), "之後補充的公告：癸子丑。\n");
  REQUIRE(DaemonProcess::Eventually([&] { return d.SearchPaths("癸子丑").size() == 1; }));
  auto status = d.WaitIdle(3);
  CHECK(status->getValue<int64_t>("records") == 6);  // 3 versions, approve, 2 classify
  CHECK(d.Stop() == 0);

  // A restart archives nothing again.
  d.Start();
  status = d.WaitIdle(3);
  CHECK(status->getValue<int64_t>("documents") == 3);
  CHECK(status->getValue<int64_t>("versions") == 3);
  CHECK(status->getValue<int64_t>("records") == 6);
  CHECK(d.SearchPaths("庚辛壬") == std::vector<std::string>{"rev:plan.txt"});
  CHECK(d.Stop() == 0);

  // With the daemon stopped the CLI writes through its own catalog connection.
  cli = d.Cli("classify " + notice + " restricted");
  INFO(cli.out);
  REQUIRE(cli.exit_code == 0);
  auto verify = d.Cli("verify");
  INFO(verify.out);
  CHECK(verify.exit_code == 0);
  CHECK(verify.out.find("verify: OK") != std::string::npos);
  auto backup = d.Cli("backup " + gongkai::test::Quote(d.root() + "/backup") + " 2>&1");
  INFO(backup.out);
  if (postgres.empty()) {
    CHECK(backup.exit_code == 0);
    return;
  }
  CHECK(backup.exit_code == 2);  // refused: pg_dump backs up a PostgreSQL catalog
  CHECK(backup.out.find("pg_dump") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(d.root() + "/data/catalog.sqlite"));
  CHECK(PostgresServer::Sql(postgres, "SELECT COUNT(*) FROM records") == "7");
}

}  // namespace

TEST_CASE("e2e: a reload onto a catalog that cannot be opened keeps serving on the old one",
          "[e2e][catalog]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "a.txt"), "重新載入前的文件\n");
  d.Start();
  d.WaitIdle(1);
  const pid_t pid = d.pid();
  std::string config = Slurp(d.config());
  config.replace(config.find("[auth]"), 0, "catalog = host=/nonexistent dbname=gongkai\n\n");
  WriteFile(d.config(), config);
  REQUIRE(::kill(pid, SIGHUP) == 0);
  REQUIRE(DaemonProcess::Eventually(
      [&] { return d.log().find("could not start with it") != std::string::npos; }));
  INFO(d.log());
  CHECK(d.log().find("cannot connect to PostgreSQL database 'gongkai' on /nonexistent") !=
        std::string::npos);
  CHECK(d.pid() == pid);
  CHECK(d.SearchPaths("重新載入前") == std::vector<std::string>{"pub:a.txt"});
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: the daemon runs end to end on an SQLite catalog", "[e2e][catalog]") {
  RunEndToEnd("");
}

TEST_CASE("e2e: the daemon runs end to end on a PostgreSQL catalog", "[e2e][catalog][postgres]") {
  gongkai::test::TempDir unused;
  const auto place =
      gongkai::test::FreshCatalog("postgresql", unused);  // "SKIPPED: ..." without a server
  if (place) RunEndToEnd(place->postgres);
}
