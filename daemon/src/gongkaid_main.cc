// gongkaid --config FILE: the archiving daemon, in the foreground.
#include <linux/close_range.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "gongkai/config.h"
#include "gongkai/daemon/daemon.h"
#include "gongkai/daemon/layout.h"
#include "gongkai/log.h"
#include "reload.h"

#ifndef GONGKAI_VERSION
#define GONGKAI_VERSION "unknown"
#endif

namespace {
const char kUsage[] =
    "usage: gongkaid --config FILE\n"
    "       gongkaid --reload PID [--timeout SECONDS]\n"
    "       gongkaid --version\n"
    "Watches the configured shares, archives, signs, versions and indexes every\n"
    "document, and serves the inquiry API. Logs to stderr. See gongkaid(8).\n"
    "--reload asks the gongkaid with that PID to reload (SIGHUP) and waits until it\n"
    "has (at most 120 s): exit 0 when it applied its configuration, 1 when it kept\n"
    "its running one or exited (its log says why). The unit's ExecReload= runs it.\n";

// gongkaid --reload PID [--timeout SECONDS]
int Reload(const std::string& pid_text, const std::string& timeout_text) {
  char* end = nullptr;
  const long pid = std::strtol(pid_text.c_str(), &end, 10);
  if (pid_text.empty() || *end != '\0' || pid <= 1) {
    std::cerr << "gongkaid: --reload needs the daemon's PID, not '" << pid_text << "'\n" << kUsage;
    return 2;
  }
  const long seconds = std::strtol(timeout_text.c_str(), &end, 10);
  if (timeout_text.empty() || *end != '\0' || seconds <= 0) {
    std::cerr << "gongkaid: --timeout needs a number of seconds, not '" << timeout_text << "'\n";
    return 2;
  }
  std::string message;
  const int rc = gongkai::daemon::RequestReload(static_cast<pid_t>(pid),
                                                std::chrono::seconds(seconds), &message);
  (rc == 0 ? std::cout : std::cerr) << "gongkaid: " << message << "\n";
  return rc;
}
}  // namespace

int main(int argc, char** argv) {
  std::string config_file;
  std::string reload_pid;
  std::string reload_timeout = "120";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--version") {
      std::cout << "gongkaid " GONGKAI_VERSION "\n";
      return 0;
    }
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if ((a == "--config" || a == "-c") && i + 1 < argc) {
      config_file = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_file = a.substr(9);
    } else if (a == "--reload" && i + 1 < argc) {
      reload_pid = argv[++i];
    } else if (a == "--timeout" && i + 1 < argc) {
      reload_timeout = argv[++i];
    } else {
      std::cerr << "gongkaid: unknown argument '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (!reload_pid.empty()) return Reload(reload_pid, reload_timeout);
  if (config_file.empty()) {
    std::cerr << "gongkaid: --config FILE is required\n" << kUsage;
    return 2;
  }
  auto config = gongkai::LoadConfig(config_file);
  if (!config.ok()) {
    std::cerr << "gongkaid: " << config.status().message() << "\n";
    return 1;
  }
  // Restarted in place by a reload someone waits for: answered once ready.
  gongkai::daemon::TakeOverReloadRequests();
  gongkai::log::Info("gongkaid " GONGKAI_VERSION " starting with " + config->file);
  const int rc = gongkai::daemon::RunDaemon(*config);
  if (rc != gongkai::daemon::kRestartToReload) return rc;
  // SIGHUP with a changed configuration: the same binary and arguments in
  // this process. Nothing open may leak into it.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  // ...but the reload requesters, answered once it is ready, and the data
  // folder's lock, held throughout.
  gongkai::daemon::HandOverReloadRequests();
  gongkai::daemon::HandOverDataDirLock();
  ::execv("/proc/self/exe", argv);
  gongkai::log::Error(std::string("cannot restart to apply the new configuration: execv: ") +
                      std::strerror(errno));
  return 1;
}
