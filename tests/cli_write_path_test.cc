// End-to-end: the CLI's changes (approve, classify, token add and revoke,
// keys rotate) have one write path. With gongkaid running, the daemon makes
// them: the CLI runs with the whole test folder (data folder, tokens file)
// mounted read-only in a mount namespace of its own, so it cannot have
// written anything, and the daemon's log names the CLI's pid for each change.
// With gongkaid stopped, the CLI makes them itself under the data folder's
// lock, and the daemon starts with them. And where the CLI finds its
// configuration without --config.
#include <Poco/JSON/Parser.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "gongkai/daemon/layout.h"
#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::Quote;
using gongkai::test::RunCommand;
using gongkai::test::Slurp;
using gongkai::test::TempDir;
using gongkai::test::WriteFile;
using Poco::JSON::Object;

namespace {

struct Cli {
  int exit_code = -1;
  std::string out, err, pid;  // pid: the CLI process's
  Object::Ptr json() const {
    INFO("stdout: " << out << "\nstderr: " << err);
    return Poco::JSON::Parser().parse(out).extract<Object::Ptr>();
  }
};

// Whether this machine lets a test mount a folder read-only in a private
// mount namespace (root, unshare(1), no seccomp or LSM veto).
bool CanMountReadOnly() {
  TempDir dir;
  const std::string probe = dir / "probe";
  return RunCommand("unshare -m sh -c " +
                    Quote("mount --bind -o ro " + Quote(dir.path()) + " " + Quote(dir.path()) +
                          " && ! touch " + Quote(probe) + " 2>/dev/null") +
                    " 2>/dev/null")
                 .exit_code == 0 &&
         ::access(probe.c_str(), F_OK) != 0;
}

// Runs `gongkai ARGS --json` as its own process (sh execs it, so the pid sh
// prints is the CLI's); with `read_only`, in a mount namespace where the
// test folder is read-only.
Cli Run(DaemonProcess& d, const std::string& args, bool read_only) {
  TempDir tmp;
  const std::string cli = "echo $$ >" + Quote(tmp / "pid") + "; exec " + std::string(GONGKAI_PATH) +
                          " --config " + Quote(d.config()) + " " + args + " --json 2>" +
                          Quote(tmp / "err");
  const std::string mount =
      "mount --bind -o ro " + Quote(d.root()) + " " + Quote(d.root()) + " && ";
  auto r = RunCommand(read_only ? "unshare -m sh -c " + Quote(mount + cli) : "sh -c " + Quote(cli));
  std::string pid = Slurp(tmp / "pid");
  while (!pid.empty() && pid.back() == '\n') pid.pop_back();
  return {r.exit_code, r.out, Slurp(tmp / "err"), pid};
}

Object::Ptr JsonOk(DaemonProcess& d, const std::string& args, bool read_only,
                   std::string* pid = nullptr) {
  Cli r = Run(d, args, read_only);
  INFO(args << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  if (pid) *pid = r.pid;
  return r.json();
}

std::string IdOf(DaemonProcess& d, const std::string& share_path) {
  return JsonOk(d, "show " + Quote(share_path), false)->getValue<std::string>("id");
}

// The daemon logged that it made `what` for the CLI process `pid`.
bool DaemonLogged(DaemonProcess& d, const std::string& pid, const std::string& what) {
  return d.log().find("admin (pid " + pid + ", uid " + std::to_string(::getuid()) + "): " + what) !=
         std::string::npos;
}

// The key that signed the newest record.
std::string LastSigningKey(DaemonProcess& d) {
  auto entries = d.Get("/api/v1/log/entries?start=0", d.inspector()).json()->getArray("entries");
  return entries->getObject(entries->size() - 1)->getValue<std::string>("key_id");
}

struct Archive {
  DaemonProcess d{{{"pub", ""}, {"rev", "review = required"}}};
  Archive() {
    WriteFile(d.FilePath("pub", "a.txt"), "甲文件 alpha\n");
    WriteFile(d.FilePath("rev", "c.txt"), "丙文件 gamma, awaiting review\n");
  }
};

}  // namespace

TEST_CASE("cli: with gongkaid running, the daemon makes every change – the CLI writes nothing",
          "[e2e][cli]") {
  Archive a;
  DaemonProcess& d = a.d;
  d.Start();
  d.WaitIdle(2);
  const std::string id_a = IdOf(d, "pub:a.txt"), id_c = IdOf(d, "rev:c.txt");
  const bool ro = CanMountReadOnly();
  if (!ro)
    WARN(
        "no private read-only mount here (needs root and unshare); the CLI runs with write access");
  std::string pid;

  auto approved = JsonOk(d, "approve " + id_c, ro, &pid);
  CHECK(approved->getValue<std::string>("daemon") == "running");
  CHECK(approved->getValue<bool>("indexed"));
  CHECK(DaemonLogged(d, pid, "approve " + id_c + ": approved rev:c.txt v1 log 2"));
  CHECK(d.SearchPaths("gamma") == std::vector<std::string>{"rev:c.txt"});

  JsonOk(d, "classify " + id_a + " restricted", ro, &pid);
  CHECK(DaemonLogged(d, pid, "classify " + id_a + " restricted: classified pub:a.txt v1 log 3"));
  CHECK(d.SearchPaths("alpha").empty());

  auto added = JsonOk(d, "token add --role inspector --name 審計室", ro, &pid);
  const std::string token = added->getValue<std::string>("token");
  CHECK(added->getValue<std::string>("daemon") == "signalled");
  CHECK(DaemonLogged(d, pid,
                     "token add inspector '審計室': added token sha256 " +
                         added->getValue<std::string>("sha256").substr(0, 12)));
  CHECK(d.Get("/api/v1/status", token).status == 200);  // in effect when the CLI returns
  CHECK(JsonOk(d, "token revoke 審計室", ro, &pid)->getValue<int64_t>("revoked") == 1);
  CHECK(DaemonLogged(d, pid, "token revoke '審計室': revoked 1 token(s)"));
  CHECK(d.Get("/api/v1/status", token).status == 401);

  const std::string key = JsonOk(d, "keys rotate", ro, &pid)->getValue<std::string>("key_id");
  CHECK(DaemonLogged(d, pid, "keys rotate: signing with key " + key));
  WriteFile(d.FilePath("pub", "after.txt"), "輪換後 delta\n");
  d.WaitIdle(3);
  CHECK(LastSigningKey(d) == key);

  // Refused changes are answers from the daemon too: exit 1, nothing logged as made.
  CHECK(Run(d, "approve " + id_c, ro).exit_code == 1);  // nothing pending now
  CHECK(Run(d, "approve no-such-document", ro).exit_code == 1);
  CHECK(Run(d, "token revoke nobody", ro).exit_code == 1);

  if (ro) {  // the read-only view is real: with the daemon stopped the same CLI cannot make the
             // change
    REQUIRE(d.Stop() == 0);
    Cli refused = Run(d, "classify " + id_a + " public", true);
    CHECK(refused.exit_code == 2);
    CHECK(refused.err.find("Read-only file system") != std::string::npos);
  }
}

TEST_CASE("cli: with gongkaid stopped, changes are made under the data folder's lock",
          "[e2e][cli]") {
  Archive a;
  DaemonProcess& d = a.d;
  d.Start();
  d.WaitIdle(2);
  const std::string id_a = IdOf(d, "pub:a.txt"), id_c = IdOf(d, "rev:c.txt");
  REQUIRE(d.Stop() == 0);

  auto approved = JsonOk(d, "approve " + id_c, false);
  CHECK(approved->getValue<std::string>("daemon") == "stopped");
  CHECK_FALSE(approved->getValue<bool>("indexed"));
  CHECK(approved->getValue<int64_t>("log_index") == 2);
  CHECK(JsonOk(d, "classify " + id_a + " restricted", false)->getValue<int64_t>("log_index") == 3);
  auto added = JsonOk(d, "token add --role inspector --name 審計室", false);
  CHECK(added->getValue<std::string>("daemon") == "stopped");
  const std::string token = added->getValue<std::string>("token");
  CHECK(JsonOk(d, "token revoke e2e-admin", false)->getValue<int64_t>("revoked") == 1);
  const std::string key = JsonOk(d, "keys rotate", false)->getValue<std::string>("key_id");
  CHECK(d.log().find("admin (") == std::string::npos);  // no daemon made them

  // Someone else holds the lock and no daemon answers: the CLI waits, then gives up, changing
  // nothing.
  std::string error;
  const int lock = gongkai::daemon::LockDataDir(d.root() + "/data/LOCK", &error);
  REQUIRE(lock >= 0);
  Cli blocked = Run(d, "classify " + id_a + " public", false);
  ::close(lock);
  CHECK(blocked.exit_code == 2);
  CHECK(blocked.err.find("nothing answers on") != std::string::npos);

  d.Start();
  CHECK(d.log().find("signing with key " + key) != std::string::npos);
  CHECK(d.Get("/api/v1/status", token).status == 200);
  CHECK(d.Get("/api/v1/status", d.admin()).status == 401);
  REQUIRE(DaemonProcess::Eventually([&] { return d.SearchPaths("gamma").size() == 1; }));
  CHECK(d.SearchPaths("alpha").empty());
  REQUIRE(d.Stop() == 0);
  CHECK(d.Cli("verify").exit_code == 0);
}

TEST_CASE("cli: without --config, $GONGKAI_CONFIG, else /etc/gongkai/gongkaid.conf", "[e2e][cli]") {
  Archive a;
  DaemonProcess& d = a.d;
  d.Start();
  d.WaitIdle(2);
  TempDir tmp;
  const std::string cli = std::string(GONGKAI_PATH) + " status --json 2>" + Quote(tmp / "err");
  auto status = RunCommand("GONGKAI_CONFIG=" + Quote(d.config()) + " " + cli);
  CHECK(status.exit_code == 0);
  CHECK(status.out.find("\"documents\":2") != std::string::npos);
  CHECK(RunCommand("GONGKAI_CONFIG=" + Quote(d.config()) + " " + std::string(GONGKAI_PATH) +
                   " --config /nonexistent/gongkaid.conf status 2>/dev/null")
            .exit_code == 2);  // --config wins

  auto missing = RunCommand("GONGKAI_CONFIG=/nonexistent/gongkaid.conf " + cli);
  CHECK(missing.exit_code == 2);
  CHECK(missing.out.empty());
  CHECK(Slurp(tmp / "err") ==
        "gongkai: no configuration at /nonexistent/gongkaid.conf ($GONGKAI_CONFIG); give --config "
        "FILE or set "
        "GONGKAI_CONFIG\n");
  if (::access("/etc/gongkai/gongkaid.conf", F_OK) != 0) {
    CHECK(RunCommand("env -u GONGKAI_CONFIG " + cli).exit_code == 2);
    const std::string err = Slurp(tmp / "err");
    CHECK(err.rfind("gongkai: no configuration at /etc/gongkai/gongkaid.conf", 0) == 0);
    CHECK(err.find('\n') == err.size() - 1);  // one line
  }
}

TEST_CASE("cli: a restart in place keeps the data folder locked throughout", "[e2e][cli]") {
  DaemonProcess d;
  d.Start();
  const pid_t pid = d.pid();
  const std::string lock_file = d.root() + "/data/LOCK";
  std::filesystem::create_directories(d.SharePath("added"));
  std::ofstream(d.config(), std::ios::app) << "[share.added]\npath = share/added\noffice = 新\n";
  // What a `gongkai` command does when no daemon answers: take the lock. It
  // must not get it while the daemon stops and starts again.
  std::atomic<bool> restarting{true};
  std::atomic<int> taken{0}, tries{0};
  std::thread prober([&] {
    while (restarting) {
      std::string error;
      const int fd = gongkai::daemon::LockDataDir(lock_file, &error);
      if (fd >= 0) ++taken, ::close(fd);
      ++tries;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  try {
    d.RestartWithHup();
  } catch (...) {
    restarting = false;
    prober.join();
    throw;
  }
  restarting = false;
  prober.join();
  INFO(tries << " tries");
  CHECK(tries > 10);
  CHECK(taken == 0);
  CHECK(d.pid() == pid);
  CHECK(d.log().find("(2 shares,") != std::string::npos);
  // Stopped for good, the lock is free again.
  REQUIRE(d.Stop() == 0);
  std::string error;
  const int fd = gongkai::daemon::LockDataDir(lock_file, &error);
  CHECK(fd >= 0);
  if (fd >= 0) ::close(fd);
}
