// Starts the real gongkai-hub binary with a scratch data folder and a
// PostgreSQL database, for the end-to-end tests of the county tier.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <stdexcept>
#include <string>

#include "support/daemon_process.h"
#include "support/temp_dir.h"

#ifndef GONGKAI_HUB_PATH
#error "GONGKAI_HUB_PATH must name the gongkai-hub binary"
#endif

namespace gongkai::test {

class HubProcess {
 public:
  // `nodes`: the [node.NAME] sections, as INI text; `hub_extra`: more [hub] lines.
  HubProcess(const std::string& postgres, const std::string& nodes,
             const std::string& hub_extra = "") {
    WriteFile(config(), "[hub]\ndata_dir = data\nlisten = 127.0.0.1:0\npostgres = " + postgres +
                            "\nname = county.e2e.test/witness\n" + hub_extra + "\n" + nodes);
  }
  ~HubProcess() { Stop(); }

  std::string config() const { return dir_ / "gongkai-hub.conf"; }
  std::string FilePath(const std::string& name) const { return dir_ / name; }
  std::string log() const { return Slurp(dir_ / "hub.log"); }
  uint16_t port() const { return port_; }

  // Starts gongkai-hub and waits until it logs its port and answers.
  void Start() {
    const size_t log_before = log().size();
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open((dir_ / "hub.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execl(GONGKAI_HUB_PATH, "gongkai-hub", "--config", config().c_str(), nullptr);
      ::_exit(127);
    }
    static const std::regex kListening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("gongkai-hub exited during start-up:\n" + log());
      }
      std::smatch m;
      const std::string text = log().substr(log_before);
      if (std::regex_search(text, m, kListening)) {
        port_ = static_cast<uint16_t>(std::stoi(m[1]));
        if (Get("/api/v1/status").status == 200) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("gongkai-hub did not start:\n" + log());
  }

  // SIGTERM and wait; the exit status, or -1 if it had to be killed.
  int Stop() { return StopProcess(&pid_); }

  HttpResult Get(const std::string& path) { return HttpCall(port_, "GET", path); }
  HttpResult Request(const std::string& method, const std::string& path, const std::string& token) {
    return HttpCall(port_, method, path, token);
  }
  HttpResult Search(const std::string& q, const std::string& extra = "") {
    std::string enc;
    Poco::URI::encode(q, "&=+?#/\"", enc);
    return Get("/api/v1/search?q=" + enc + "&limit=100" + extra);
  }
  HttpResult Post(const std::string& path, const std::string& body) {
    return HttpCall(port_, "POST", path, "", {{"Content-Type", "text/plain"}}, body);
  }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace gongkai::test
