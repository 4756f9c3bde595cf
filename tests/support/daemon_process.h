// Starts the real gongkaid binary on a scratch share and data folder, and
// talks to it over real HTTP on loopback. Used by the end-to-end tests.
#pragma once

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gongkai/storage/crypto.h"
#include "support/temp_dir.h"

#ifndef GONGKAID_PATH
#error "GONGKAID_PATH must name the gongkaid binary"
#endif
#ifndef GONGKAI_PATH
#error "GONGKAI_PATH must name the gongkai binary"
#endif

namespace gongkai::test {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  Poco::JSON::Object::Ptr json() const {
    Poco::JSON::Parser p;
    return p.parse(body).extract<Poco::JSON::Object::Ptr>();
  }
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
};

// One HTTP/1.1 request to 127.0.0.1:`port` (a JSON body unless `headers`
// set Content-Type), 30 s timeouts.
inline HttpResult HttpCall(uint16_t port, const std::string& method, const std::string& path,
                           const std::string& token = "",
                           const std::map<std::string, std::string>& headers = {},
                           const std::string& body = "") {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (!token.empty()) req.set("Authorization", "Bearer " + token);
  if (!body.empty() || method == "POST") {
    req.setContentType("application/json");
    req.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  for (const auto& [k, v] : headers) req.set(k, v);
  session.sendRequest(req) << body;
  Poco::Net::HTTPResponse resp;
  std::istream& in = session.receiveResponse(resp);
  HttpResult r;
  r.status = resp.getStatus();
  for (const auto& [k, v] : resp) {
    std::string lower = k;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[lower] = v;
  }
  Poco::StreamCopier::copyToString(in, r.body);
  return r;
}

// Sends `sig` to *pid and waits up to 30 s (then SIGKILL); returns the exit
// status (128 + signal when killed by one, -1 when it had to be killed) and
// sets *pid to -1. Nothing to do when *pid <= 0.
inline int StopProcess(pid_t* pid, int sig = SIGTERM) {
  if (*pid <= 0) return 0;
  ::kill(*pid, sig);
  int st = 0;
  for (int i = 0; i < 300; ++i) {
    if (::waitpid(*pid, &st, WNOHANG) == *pid) {
      *pid = -1;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(*pid, SIGKILL);
  ::waitpid(*pid, &st, 0);
  *pid = -1;
  return -1;
}

// Runs a shell command, capturing stdout (stderr goes to the test log).
inline CommandResult RunCommand(const std::string& cmd) {
  CommandResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = ::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The daemon and its folders: root/share/<name> for each share, root/data.
class DaemonProcess {
 public:
  struct Share {
    std::string name;
    std::string extra;  // additional INI lines, e.g. "classification = restricted"
  };

  // `daemon_extra`: more [daemon] lines. Tests search anonymously far faster
  // than a person, so the per-client search rate limit is off unless set here.
  explicit DaemonProcess(std::vector<Share> shares = {{"pub", ""}},
                         const char* daemon_extra = "anonymous_search_rate = 0\n")
      : shares_(std::move(shares)) {
    inspector_token_ = "inspector-token-for-tests";
    admin_token_ = "admin-token-for-tests";
    WriteFile(dir_ / "tokens",
              "# role sha256 name\n"
              "inspector " +
                  storage::Hex(storage::Sha256Of(inspector_token_)) +
                  " e2e-inspector\n"
                  "admin " +
                  storage::Hex(storage::Sha256Of(admin_token_)) + " e2e-admin\n");
    std::string conf = "[daemon]\ndata_dir = data\nlisten = 127.0.0.1:0\nsettle = 300ms\n" +
                       std::string(daemon_extra) +
                       "\n"
                       "[auth]\ntokens_file = tokens\n\n[log]\norigin = e2e.gongkai.test\n\n";
    for (const Share& s : shares_) {
      std::filesystem::create_directories(SharePath(s.name));
      conf += "[share." + s.name + "]\npath = share/" + s.name + "\noffice = 測試辦公室-" + s.name +
              "\n" + s.extra + "\n\n";
    }
    WriteFile(config(), conf);
  }
  ~DaemonProcess() { Stop(); }

  std::string config() const { return dir_ / "gongkaid.conf"; }
  std::string root() const { return dir_.path(); }
  std::string SharePath(const std::string& share) const { return dir_ / ("share/" + share); }
  std::string FilePath(const std::string& share, const std::string& rel) const {
    return SharePath(share) + "/" + rel;
  }
  std::string log() const { return Slurp(dir_ / "daemon.log"); }
  const std::string& inspector() const { return inspector_token_; }
  const std::string& admin() const { return admin_token_; }

  // Starts gongkaid and waits until it answers /healthz.
  void Start() {
    Launch();
    WaitHealthy();
  }

  // Sends SIGHUP after a change of the configuration file, runs `meanwhile`
  // while the daemon restarts itself in place, and waits until it answers
  // again (on a new port when it listens on port 0).
  void RestartWithHup(const std::function<void()>& meanwhile = {}) {
    log_before_launch_ = log().size();
    port_ = 0;
    ::kill(pid_, SIGHUP);
    if (meanwhile) meanwhile();
    WaitHealthy();
  }

  // Waits until the daemon logs "listening on" (since Launch() or
  // RestartWithHup()) and answers /healthz.
  void WaitHealthy() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("gongkaid exited during start-up:\n" + log());
      }
      if (ListeningPort() != 0 && Get("/healthz").status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("gongkaid did not become healthy:\n" + log());
  }

  // Forks and executes gongkaid (stdout and stderr appended to daemon.log,
  // with the variables of SetEnv() added to its environment) and returns at once.
  void Launch() {
    log_before_launch_ = log().size();
    port_ = 0;
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open((dir_ / "daemon.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      for (const auto& [name, value] : env_) ::setenv(name.c_str(), value.c_str(), 1);
      if (run_as_uid_ != static_cast<uid_t>(-1) &&
          (::setgroups(0, nullptr) != 0 || ::setgid(run_as_gid_) != 0 ||
           ::setuid(run_as_uid_) != 0))
        ::_exit(126);
      const std::string program = daemon_path_.empty() ? std::string(GONGKAID_PATH) : daemon_path_;
      ::execl(program.c_str(), "gongkaid", "--config", config().c_str(), nullptr);
      ::_exit(127);
    }
  }

  // The port of the "listening on" line the daemon logged since Launch(), or 0.
  uint16_t ListeningPort() {
    static const std::regex kListening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    std::smatch m;
    const std::string text = log().substr(log_before_launch_);
    if (std::regex_search(text, m, kListening)) port_ = static_cast<uint16_t>(std::stoi(m[1]));
    return port_;
  }

  // Adds NAME=VALUE to the environment of the daemons started from now on.
  void SetEnv(const std::string& name, const std::string& value) { env_[name] = value; }

  // Runs the daemon as `uid`:`gid` from the next start, for tests that need a
  // caller without root's powers: copies of gongkaid and its extraction
  // worker go to ROOT/bin (the build folder may be out of that user's reach),
  // the test folder becomes world-readable, and DATA is made theirs.
  void RunAs(uid_t uid, gid_t gid) {
    namespace fs = std::filesystem;
    fs::create_directories(dir_ / "bin");
    for (const char* program : {"gongkaid", "gongkai-extract"}) {
      const fs::path built = fs::path(GONGKAID_PATH).parent_path() / program;
      if (fs::exists(built))
        fs::copy_file(built, dir_ / (std::string("bin/") + program),
                      fs::copy_options::overwrite_existing);
    }
    fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read |
                                     fs::perms::group_exec | fs::perms::others_read |
                                     fs::perms::others_exec);
    fs::create_directories(dir_ / "data");
    REQUIRE(::chown((dir_ / "data").c_str(), uid, gid) == 0);
    daemon_path_ = dir_ / "bin/gongkaid";
    run_as_uid_ = uid;
    run_as_gid_ = gid;
  }

  // SIGTERM and wait; returns the exit status (or -1 if it had to be killed).
  int Stop(int sig = SIGTERM) { return StopProcess(&pid_, sig); }
  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }

  HttpResult Request(const std::string& method, const std::string& path,
                     const std::string& token = "",
                     const std::map<std::string, std::string>& headers = {},
                     const std::string& body = "") {
    return HttpCall(port_, method, path, token, headers, body);
  }
  HttpResult Get(const std::string& path, const std::string& token = "",
                 const std::map<std::string, std::string>& headers = {}) {
    return Request("GET", path, token, headers);
  }
  HttpResult Search(const std::string& q, const std::string& token = "",
                    const std::string& extra = "") {
    std::string enc;
    Poco::URI::encode(q, "&=+?#/\"", enc);
    return Get("/api/v1/search?q=" + enc + "&limit=100" + extra, token);
  }

  // The id of the first search result for q (there must be one).
  std::string FirstId(const std::string& q, const std::string& token = "") {
    auto r = Search(q, token);
    REQUIRE(r.status == 200);
    auto results = r.json()->getArray("results");
    REQUIRE(results->size() >= 1);
    return results->getObject(0)->getValue<std::string>("id");
  }

  // Paths (share:rel) of the search results for q.
  std::vector<std::string> SearchPaths(const std::string& q, const std::string& token = "") {
    std::vector<std::string> out;
    HttpResult r = Search(q, token);
    if (r.status != 200) return out;
    auto results = r.json()->getArray("results");
    for (size_t i = 0; i < results->size(); ++i) {
      auto o = results->getObject(static_cast<unsigned>(i));
      out.push_back(o->getValue<std::string>("share") + ":" + o->getValue<std::string>("path"));
    }
    return out;
  }

  // Waits until the daemon reports at least `documents` documents and an
  // empty queue (archived and indexed). Generous timeout: never a timing test.
  Poco::JSON::Object::Ptr WaitIdle(int64_t documents, int timeout_s = 120) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      HttpResult r = Get("/api/v1/status", inspector_token_);
      if (r.status == 200) {
        auto s = r.json();
        if (s->getValue<int64_t>("documents") >= documents && s->getValue<int64_t>("queued") == 0)
          return s;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("daemon not idle with " + std::to_string(documents) + " documents:\n" +
                             log());
  }

  // Polls `pred` until true or the (generous) timeout passes.
  template <typename Pred>
  static bool Eventually(Pred pred, int timeout_s = 60) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return pred();
  }

  CommandResult Cli(const std::string& args) {
    return RunCommand(std::string(GONGKAI_PATH) + " --config " + Quote(config()) + " " + args);
  }

 private:
  TempDir dir_;
  std::vector<Share> shares_;
  std::string inspector_token_, admin_token_;
  std::map<std::string, std::string> env_;
  std::string daemon_path_;  // "" = GONGKAID_PATH
  uid_t run_as_uid_ = static_cast<uid_t>(-1);
  gid_t run_as_gid_ = static_cast<gid_t>(-1);
  size_t log_before_launch_ = 0;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace gongkai::test
