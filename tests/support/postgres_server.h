// A PostgreSQL server for the tests, and fresh catalogs on either backend.
//
// PostgresServer::Shared() starts one server per test process on first use:
// initdb and pg_ctl in a scratch folder, listening only on a unix socket in
// that folder (no TCP), run as `nobody` when the tests run as root (initdb
// refuses root). It stops when the process exits. Each test creates its own
// database. Without the server binaries the tests that need it say so and
// skip; a server that is installed but does not start fails them.
#pragma once

#include <libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "gongkai/storage/catalog.h"
#include "support/temp_dir.h"

namespace gongkai::test {

class PostgresServer {
 public:
  // The process's server, started on first use; nullptr with *why set when
  // the server binaries are not installed. Throws std::runtime_error (with
  // the server's log) when they are but the server does not start.
  static PostgresServer* Shared(std::string* why) {
    static std::once_flag once;
    static std::unique_ptr<PostgresServer> server;
    static std::string missing;
    std::call_once(once, [] {
      const std::string bin = FindBinaries();
      if (bin.empty())
        missing =
            "PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql "
            "(tools/install-deps.sh) or set GONGKAI_PG_BINDIR";
      else
        server.reset(new PostgresServer(bin));
    });
    if (!server && why) *why = missing;
    return server.get();
  }

  ~PostgresServer() {
    RunAsOwner(Quote(bin_ + "/pg_ctl") + " -D " + Quote(dir_ + "/data") + " -m immediate -w stop");
    std::error_code ec;
    if (!std::getenv("GONGKAI_KEEP_TEST_DIRS"))
      std::filesystem::remove_all(dir_, ec);  // as TempDir
  }

  // A new, empty UTF-8 database; its libpq connection string.
  std::string CreateDatabase() {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string name = "gk_" + std::to_string(++databases_);
    Sql(Conninfo("postgres"), "CREATE DATABASE " + name);
    return Conninfo(name);
  }

  // Restarts the server, dropping every connection (fast shutdown).
  void Restart() {
    if (RunAsOwner(Quote(bin_ + "/pg_ctl") + " -D " + Quote(dir_ + "/data") +
                   " -m fast -w -t 60 restart") != 0)
      throw std::runtime_error("pg_ctl restart failed:\n" + Slurp(dir_ + "/server.log"));
  }

  std::string Conninfo(const std::string& dbname) const {
    return "host=" + dir_ + " user=gongkai dbname=" + dbname;
  }
  const std::string& socket_dir() const { return dir_; }
  const std::string& bin() const { return bin_; }

  // Runs `sql` as the superuser on `conninfo`; returns the first value of
  // its first row ("" when none). Throws std::runtime_error on an error.
  static std::string Sql(const std::string& conninfo, const std::string& sql) {
    std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectdb(conninfo.c_str()), PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK)
      throw std::runtime_error("cannot connect to " + conninfo + ": " + PQerrorMessage(conn.get()));
    std::unique_ptr<PGresult, void (*)(PGresult*)> result(PQexec(conn.get(), sql.c_str()), PQclear);
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      throw std::runtime_error(sql + ": " + PQresultErrorMessage(result.get()));
    return PQntuples(result.get()) > 0 && PQnfields(result.get()) > 0
               ? PQgetvalue(result.get(), 0, 0)
               : "";
  }

 private:
  explicit PostgresServer(std::string bin) : bin_(std::move(bin)) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gongkai-pg-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    if (::geteuid() == 0) {
      const passwd* nobody = ::getpwnam("nobody");
      if (!nobody || ::chown(dir_.c_str(), nobody->pw_uid, nobody->pw_gid) != 0)
        throw std::runtime_error("cannot hand " + dir_ + " to user nobody");
    }
    const std::string data = dir_ + "/data";
    if (RunAsOwner(Quote(bin_ + "/initdb") + " -D " + Quote(data) +
                   " -U gongkai --auth=trust --no-sync --no-locale -E UTF8") != 0)
      throw std::runtime_error("initdb failed:\n" + Slurp(dir_ + "/commands.log"));
    const std::string options = "-c listen_addresses='' -c unix_socket_directories='" + dir_ + "'";
    if (RunAsOwner(Quote(bin_ + "/pg_ctl") + " -D " + Quote(data) + " -l " +
                   Quote(dir_ + "/server.log") + " -w -t 60 -o " + Quote(options) + " start") != 0)
      throw std::runtime_error("pg_ctl start failed:\n" + Slurp(dir_ + "/commands.log") +
                               Slurp(dir_ + "/server.log"));
  }

  // Debian's /usr/lib/postgresql/<newest>/bin, else a folder on PATH with
  // initdb and pg_ctl; $GONGKAI_PG_BINDIR first. "" when there is none.
  static std::string FindBinaries() {
    namespace fs = std::filesystem;
    auto has_server = [](const fs::path& dir) {
      return ::access((dir / "initdb").c_str(), X_OK) == 0 &&
             ::access((dir / "pg_ctl").c_str(), X_OK) == 0;
    };
    if (const char* dir = std::getenv("GONGKAI_PG_BINDIR")) return has_server(dir) ? dir : "";
    std::error_code ec;
    int newest = 0;
    std::string found;
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
      const int major = std::atoi(e.path().filename().c_str());
      if (major > newest && has_server(e.path() / "bin")) {
        newest = major;
        found = e.path() / "bin";
      }
    }
    if (!found.empty()) return found;
    std::istringstream path(std::getenv("PATH") ? std::getenv("PATH") : "");
    for (std::string dir; std::getline(path, dir, ':');)
      if (!dir.empty() && has_server(dir)) return dir;
    return "";
  }

  static std::string Quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }

  // Runs a shell command as the folder's owner (nobody when we are root),
  // its output appended to commands.log; returns its exit status.
  int RunAsOwner(const std::string& command) const {
    const std::string as = ::geteuid() == 0 ? "runuser -u nobody -- " : "";
    return std::system((as + command + " >>" + Quote(dir_ + "/commands.log") + " 2>&1").c_str());
  }

  std::string bin_;
  std::string dir_;
  std::mutex mutex_;
  int databases_ = 0;
};

// Where a test's catalog lives: the arguments of storage::OpenCatalog.
struct CatalogPlace {
  std::string postgres;  // libpq connection string; "" for SQLite
  std::string sqlite_path;
  Result<std::unique_ptr<storage::Catalog>> Open() const {
    return storage::OpenCatalog(postgres, sqlite_path, storage::Env::Default());
  }
};

// The backends the catalog tests run on: both, or the one
// $GONGKAI_TEST_CATALOG names (sqlite or postgresql).
inline std::vector<std::string> CatalogBackends() {
  const char* only = std::getenv("GONGKAI_TEST_CATALOG");
  if (only && *only) return {only};
  return {"sqlite", "postgresql"};
}

// An empty catalog place for one test on `backend`: catalog.sqlite in `dir`,
// or a new database on the process's PostgreSQL server. nullopt, after a
// WARN saying why, when PostgreSQL is not installed: the caller skips.
inline std::optional<CatalogPlace> FreshCatalog(const std::string& backend, const TempDir& dir) {
  if (backend == "sqlite") return CatalogPlace{"", dir / "catalog.sqlite"};
  REQUIRE(backend == "postgresql");
  const std::vector<std::string> wanted = CatalogBackends();
  if (std::find(wanted.begin(), wanted.end(), backend) == wanted.end()) {
    WARN("SKIPPED: the PostgreSQL run of this test: GONGKAI_TEST_CATALOG=" << wanted.front());
    return std::nullopt;
  }
  std::string why;
  PostgresServer* server = PostgresServer::Shared(&why);
  if (!server) {
    WARN("SKIPPED: the PostgreSQL run of this test: " << why);
    return std::nullopt;
  }
  return CatalogPlace{server->CreateDatabase(), dir / "catalog.sqlite"};
}

}  // namespace gongkai::test
