// gongkaid --config FILE: the archiving daemon, in the foreground.
#include <linux/close_range.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "gongkai/config.h"
#include "gongkai/daemon/daemon.h"
#include "gongkai/log.h"

#ifndef GONGKAI_VERSION
#define GONGKAI_VERSION "unknown"
#endif

namespace {
const char kUsage[] =
    "usage: gongkaid --config FILE\n"
    "       gongkaid --version\n"
    "Watches the configured shares, archives, signs, versions and indexes every\n"
    "document, and serves the inquiry API. Logs to stderr. See gongkaid(8).\n";
}

int main(int argc, char** argv) {
  std::string config_file;
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
    } else {
      std::cerr << "gongkaid: unknown argument '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (config_file.empty()) {
    std::cerr << "gongkaid: --config FILE is required\n" << kUsage;
    return 2;
  }
  auto config = gongkai::LoadConfig(config_file);
  if (!config.ok()) {
    std::cerr << "gongkaid: " << config.status().message() << "\n";
    return 1;
  }
  gongkai::log::Info("gongkaid " GONGKAI_VERSION " starting with " + config->file);
  const int rc = gongkai::daemon::RunDaemon(*config);
  if (rc != gongkai::daemon::kRestartToReload) return rc;
  // SIGHUP with a changed configuration: the same binary and arguments in
  // this process. Nothing open may leak into it.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execv("/proc/self/exe", argv);
  gongkai::log::Error(std::string("cannot restart to apply the new configuration: execv: ") + std::strerror(errno));
  return 1;
}
