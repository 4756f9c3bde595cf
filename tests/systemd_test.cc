// gongkaid under a service manager, without one: the real daemon started with
// $NOTIFY_SOCKET naming a datagram socket this test reads, as systemd does for
// Type=notify services, and with its stderr posing as the journal. Also the
// log line format and the example configuration the package installs.
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <deque>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gongkai/config.h"
#include "gongkai/log.h"
#include "gongkai/storage/crypto.h"
#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::RunCommand;
using gongkai::test::Slurp;
using gongkai::test::WriteFile;
using SteadyClock = std::chrono::steady_clock;

namespace {

// The receiving end of sd_notify(3): an AF_UNIX datagram socket bound to a
// path. Keeps every message with the time it was read.
class NotifySocket {
 public:
  struct Message {
    std::string text;
    SteadyClock::time_point at;
    bool Has(const std::string& line) const {
      return ("\n" + text + "\n").find("\n" + line + "\n") != std::string::npos;
    }
    bool HasPrefix(const std::string& prefix) const {
      return ("\n" + text).find("\n" + prefix) != std::string::npos;
    }
  };

  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& path() const { return path_; }

  // Reads messages until one satisfies `pred` (returned) or `timeout` passes (nullptr).
  template <typename Pred>
  const Message* WaitFor(Pred pred, std::chrono::milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) return nullptr;
      timeval tv{static_cast<time_t>(left.count() / 1000),
                 static_cast<suseconds_t>(left.count() % 1000) * 1000};
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0) continue;  // timeout (checked above) or EINTR
      messages_.push_back({std::string(buf, static_cast<size_t>(n)), SteadyClock::now()});
      if (pred(messages_.back())) return &messages_.back();
    }
  }
  const Message* WaitForLine(const std::string& line,
                             std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    return WaitFor([&](const Message& m) { return m.Has(line); }, timeout);
  }
  const std::deque<Message>& messages() const { return messages_; }
  std::string Transcript() const {
    std::string out;
    for (const Message& m : messages_) out += "[" + m.text + "] ";
    return out;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::deque<Message> messages_;  // push_back keeps the pointers WaitFor returned valid
};

}  // namespace

TEST_CASE("systemd: READY once the port answers then STATUS WATCHDOG RELOADING and STOPPING",
          "[e2e][systemd]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "通知.txt"), "服務管理器通知測試\n");
  NotifySocket sock(d.root() + "/notify");
  d.SetEnv("NOTIFY_SOCKET", sock.path());
  d.SetEnv("WATCHDOG_USEC", "2000000");  // pings due every second
  d.Launch();

  const NotifySocket::Message* ready = sock.WaitForLine("READY=1");
  INFO(sock.Transcript() << "\n" << d.log());
  REQUIRE(ready != nullptr);
  // READY=1 is sent after the listening socket exists: one try, no retries.
  REQUIRE(d.ListeningPort() != 0);
  CHECK(d.Get("/healthz").status == 200);
  CHECK(ready->HasPrefix("STATUS="));
  for (const auto& m : sock.messages()) CHECK((&m == ready || !m.Has("READY=1")));

  // STATUS= follows the archive: the file present at start-up shows up.
  CHECK(
      sock.WaitFor([](const NotifySocket::Message& m) { return m.HasPrefix("STATUS=1 documents"); },
                   std::chrono::seconds(60)) != nullptr);

  // The watchdog is fed from the main loop at half its interval, so never
  // as late as systemd's deadline (the whole interval) even on a busy machine.
  const auto watch_from = SteadyClock::now();
  std::vector<SteadyClock::time_point> pings;
  while (SteadyClock::now() - watch_from < std::chrono::milliseconds(3500)) {
    const auto* m = sock.WaitForLine("WATCHDOG=1", std::chrono::milliseconds(2500));
    REQUIRE(m != nullptr);
    pings.push_back(m->at);
  }
  CHECK(pings.size() >= 3);
  std::chrono::milliseconds longest_gap{0};
  for (size_t i = 1; i < pings.size(); ++i)
    longest_gap =
        std::max(longest_gap,
                 std::chrono::duration_cast<std::chrono::milliseconds>(pings[i] - pings[i - 1]));
  INFO("longest gap between watchdog pings: " << longest_gap.count() << " ms");
  CHECK(longest_gap < std::chrono::milliseconds(2000));

  // SIGHUP (ExecReload=): RELOADING=1 with a timestamp, then READY=1 again.
  REQUIRE(::kill(d.pid(), SIGHUP) == 0);
  const auto* reloading = sock.WaitForLine("RELOADING=1");
  REQUIRE(reloading != nullptr);
  CHECK(reloading->HasPrefix("MONOTONIC_USEC="));
  CHECK(sock.WaitForLine("READY=1") != nullptr);

  // SIGTERM: STOPPING=1, then a clean exit.
  CHECK(d.Stop() == 0);
  CHECK(sock.WaitForLine("STOPPING=1", std::chrono::seconds(5)) != nullptr);
}

namespace {

// `gongkaid --reload PID`, the unit's ExecReload=, with its stderr.
gongkai::test::CommandResult Reload(pid_t pid) {
  return RunCommand(std::string(GONGKAID_PATH) + " --reload " + std::to_string(pid) +
                    " --timeout 60 2>&1");
}

// A port on 127.0.0.1 that another program listens on (without SO_REUSEADDR),
// for as long as the object lives.
class TakenPort {
 public:
  TakenPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 1) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
  }
  ~TakenPort() { Release(); }
  uint16_t port() const { return port_; }
  void Release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

int HealthOn(uint16_t port) {
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest req("GET", "/healthz", Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    session.receiveResponse(resp).ignore(1 << 20);
    return resp.getStatus();
  } catch (const Poco::Exception&) {
    return 0;
  }
}

bool Alive(pid_t pid) {
  int st = 0;
  return ::waitpid(pid, &st, WNOHANG) == 0;
}

}  // namespace

TEST_CASE("systemd: a reload whose new configuration cannot listen keeps serving on the old one",
          "[e2e][systemd]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "舊設定.txt"), "重新載入失敗仍以舊設定服務\n");
  d.Start();
  d.WaitIdle(1);
  const uint16_t old_port = d.port();
  const pid_t pid = d.pid();

  // The new configuration parses, but its port is taken: the daemon must not
  // stop to find that out.
  TakenPort taken;
  const std::string config = Slurp(d.config());
  const std::string moved =
      std::regex_replace(config, std::regex("listen = 127\\.0\\.0\\.1:0"),
                         "listen = 127.0.0.1:" + std::to_string(taken.port()));
  REQUIRE(moved != config);
  WriteFile(d.config(), moved);
  auto refused = Reload(pid);
  INFO(refused.out << "\n" << d.log());
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.find("kept its running configuration") != std::string::npos);
  CHECK(d.log().find("SIGHUP: kept the running configuration: " + d.config() +
                     " changed, but the daemon could not start with it: ") != std::string::npos);
  CHECK(d.log().find("cannot listen on 127.0.0.1:" + std::to_string(taken.port())) !=
        std::string::npos);
  CHECK(d.log().find("restarting in place") == std::string::npos);
  // Still the same process, on the old port, with its documents.
  REQUIRE(Alive(pid));
  CHECK(d.Get("/healthz").status == 200);
  CHECK(d.SearchPaths("重新載入失敗") == std::vector<std::string>{"pub:舊設定.txt"});

  // A plain SIGHUP (kill -HUP) is refused the same way.
  REQUIRE(::kill(pid, SIGHUP) == 0);
  CHECK(DaemonProcess::Eventually([&] {
    const std::string log = d.log();
    size_t n = 0;
    for (size_t at = log.find("cannot listen on"); at != std::string::npos;
         at = log.find("cannot listen on", at + 1))
      ++n;
    return n >= 2;
  }));
  CHECK(Alive(pid));
  CHECK(d.Get("/healthz").status == 200);

  // Once the port is free the same reload applies: the daemon restarts in
  // place, and the answer comes when it listens on the new port.
  taken.Release();
  auto applied = Reload(pid);
  INFO(applied.out << "\n" << d.log());
  CHECK(applied.exit_code == 0);
  CHECK(applied.out.find("reloaded its configuration") != std::string::npos);
  CHECK(d.log().find("restarting in place") != std::string::npos);
  CHECK(HealthOn(taken.port()) == 200);
  CHECK(HealthOn(old_port) != 200);
  CHECK(Alive(pid));
  CHECK(d.Stop() == 0);
}

TEST_CASE(
    "systemd: gongkaid --reload waits for the tokens to be reloaded and fails when they were kept",
    "[e2e][systemd]") {
  DaemonProcess d;
  d.Start();
  const std::string tokens_file = d.root() + "/tokens";
  const std::string token = "token-added-before-reload";
  CHECK(d.Get("/api/v1/status", token).status == 401);
  WriteFile(tokens_file, Slurp(tokens_file) + "inspector " +
                             gongkai::storage::Hex(gongkai::storage::Sha256Of(token)) + " added\n");
  // No polling: the token is in effect when --reload returns.
  auto applied = Reload(d.pid());
  INFO(applied.out << "\n" << d.log());
  CHECK(applied.exit_code == 0);
  CHECK(d.Get("/api/v1/status", token).status == 200);

  WriteFile(tokens_file, Slurp(tokens_file) + "not a token line\n");
  auto kept = Reload(d.pid());
  INFO(kept.out << "\n" << d.log());
  CHECK(kept.exit_code == 1);
  CHECK(d.log().find("SIGHUP: kept the old tokens") != std::string::npos);
  CHECK(d.Get("/api/v1/status", token).status == 200);
  WriteFile(tokens_file, Slurp(tokens_file).substr(0, Slurp(tokens_file).find("not a token line")));

  // A plain SIGHUP (gongkai token add) still pending when the request comes
  // swallows it, as a standard signal is not queued twice: the request is
  // sent again until answered. The daemon is stopped meanwhile, so that the
  // plain SIGHUP stays pending.
  const auto reloads = [&] {
    const std::string log = d.log();
    size_t n = 0;
    for (size_t at = log.find("SIGHUP: reloaded"); at != std::string::npos;
         at = log.find("SIGHUP: reloaded", at + 1))
      ++n;
    return n;
  };
  const size_t reloads_before = reloads();
  REQUIRE(::kill(d.pid(), SIGSTOP) == 0);
  const auto state = [pid = d.pid()] {
    const std::string stat = Slurp("/proc/" + std::to_string(pid) + "/stat");
    const size_t paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() ? '?' : stat[paren + 2];
  };
  REQUIRE(DaemonProcess::Eventually([&] { return state() == 'T'; }, 10));
  REQUIRE(::kill(d.pid(), SIGHUP) == 0);
  std::thread resume([pid = d.pid()] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ::kill(pid, SIGCONT);
  });
  auto swallowed = Reload(d.pid());
  resume.join();
  INFO(swallowed.out << "\n" << d.log());
  CHECK(swallowed.exit_code == 0);
  // The plain SIGHUP's reload, then the one of the request sent again.
  CHECK(reloads() == reloads_before + 2);

  // No such process, or no PID at all.
  const pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  REQUIRE(::waitpid(gone, nullptr, 0) == gone);
  auto missing = Reload(gone);
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.find("cannot reach gongkaid (pid " + std::to_string(gone) + ")") !=
        std::string::npos);
  CHECK(RunCommand(std::string(GONGKAID_PATH) + " --reload nobody 2>&1").exit_code == 2);
  CHECK(d.Stop() == 0);
}

TEST_CASE("systemd: gongkaid --reload run by root for a daemon of another user becomes that user",
          "[e2e][systemd]") {
  if (::geteuid() != 0) {
    WARN("SKIPPED: not running as root");
    return;
  }
  const passwd* nobody = ::getpwnam("nobody");
  REQUIRE(nobody != nullptr);
  DaemonProcess d;
  d.RunAs(nobody->pw_uid, nobody->pw_gid);
  d.Start();
  // The daemon, as nobody, could not signal root back.
  auto applied = Reload(d.pid());
  INFO(applied.out << "\n" << d.log());
  CHECK(applied.exit_code == 0);
  CHECK(applied.out.find("reloaded its configuration") != std::string::npos);
  CHECK(d.Stop() == 0);
}

TEST_CASE("systemd: no watchdog pings when WATCHDOG_PID names another process", "[e2e][systemd]") {
  DaemonProcess d;
  NotifySocket sock(d.root() + "/notify");
  d.SetEnv("NOTIFY_SOCKET", sock.path());
  d.SetEnv("WATCHDOG_USEC", "200000");
  d.SetEnv("WATCHDOG_PID", "1");
  d.Launch();
  REQUIRE(sock.WaitForLine("READY=1") != nullptr);
  CHECK(sock.WaitForLine("WATCHDOG=1", std::chrono::milliseconds(800)) == nullptr);
  CHECK(d.Stop() == 0);
}

TEST_CASE("systemd: log lines carry the syslog priority when stderr is the journal",
          "[e2e][systemd][log]") {
  DaemonProcess d;
  // Pose daemon.log as the journal stream: $JOURNAL_STREAM = its device:inode.
  const std::string log_file = d.root() + "/daemon.log";
  WriteFile(log_file, "");
  struct stat st {};
  REQUIRE(::stat(log_file.c_str(), &st) == 0);
  d.SetEnv("JOURNAL_STREAM", std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino));
  d.Start();
  CHECK(d.Stop() == 0);
  const std::string log = Slurp(log_file);
  INFO(log);
  std::istringstream lines(log);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    CHECK((line.size() > 3 && line[0] == '<' && std::strchr("3467", line[1]) && line[2] == '>'));
  }
  CHECK(count >= 3);  // starting, listening, stopped
  CHECK(log.find("<6>listening on http://") != std::string::npos);
}

TEST_CASE("log: one line per event with control characters escaped", "[systemd][log]") {
  using gongkai::log::FormatLine;
  using gongkai::log::Level;
  CHECK(FormatLine(Level::kError, "disk full", true) == "<3>disk full\n");
  CHECK(FormatLine(Level::kWarning, "w", true) == "<4>w\n");
  CHECK(FormatLine(Level::kInfo, "i", true) == "<6>i\n");
  CHECK(FormatLine(Level::kDebug, "d", true) == "<7>d\n");
  // A file name from a share may hold anything: it stays on its line.
  static const char kHostile[] = "a\nb\rc\0d\x1b[31m\te\x7f 文件";
  const std::string hostile(kHostile, sizeof kHostile - 1);
  CHECK(FormatLine(Level::kWarning, hostile, true) == "<4>a\\nb\\rc\\x00d\\x1b[31m\te\\x7f 文件\n");
  // Bytes that are not UTF-8 (a GBK file name) and C1 controls are escaped too.
  CHECK(FormatLine(Level::kInfo, "bad\xff\xfe \xc2\x9b \xe6\x96\x87", true) ==
        "<6>bad\\xff\\xfe \\xc2\\x9b \xe6\x96\x87\n");
  const std::string plain = FormatLine(Level::kInfo, "two\nlines", false);
  CHECK(std::count(plain.begin(), plain.end(), '\n') == 1);
  CHECK(std::regex_match(
      plain,
      std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z info: two\\\\nlines\n")));
}

TEST_CASE("systemd: the example configuration loads with every commented key too",
          "[systemd][config]") {
  const std::string example = std::string(GONGKAI_SOURCE_DIR) + "/config/gongkaid.conf.example";
  auto config = gongkai::LoadConfig(example);
  INFO((config.ok() ? "" : config.status().message()));
  REQUIRE(config.ok());
  // What the unit expects: StateDirectory=gongkai, local clients only.
  CHECK(config->data_dir == "/var/lib/gongkai");
  CHECK(config->listen_host == "127.0.0.1");
  CHECK(config->listen_port == 8080);
  CHECK(config->tokens_file == "/var/lib/gongkai/tokens");
  CHECK(config->shares.empty());

  // Uncomment every ";key = value" and ";[section]" line: all are valid keys
  // with valid values, and they are the defaults the daemon uses anyway.
  std::istringstream in(Slurp(example));
  std::string text, line;
  while (std::getline(in, line)) {
    if (line.size() > 1 && line[0] == ';') line = line.substr(1);
    text += line + "\n";
  }
  auto full = gongkai::ParseConfig(text, example);
  INFO((full.ok() ? "" : full.status().message()));
  REQUIRE(full.ok());
  const gongkai::Config defaults;
  CHECK(full->settle == defaults.settle);
  CHECK(full->poll_interval == defaults.poll_interval);
  CHECK(full->rescan_interval == defaults.rescan_interval);
  CHECK(full->retry_interval == defaults.retry_interval);
  CHECK(full->http_threads == defaults.http_threads);
  CHECK(full->anonymous_search_rate == defaults.anonymous_search_rate);
  CHECK(full->origin == defaults.origin);
  REQUIRE(full->shares.size() == 1);
  CHECK(full->shares[0].name == "office-a");
  CHECK(full->shares[0].update_every == std::chrono::hours(24 * 90));
}
