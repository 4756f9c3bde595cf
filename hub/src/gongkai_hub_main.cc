// gongkai-hub --config FILE: the county's witness of its townships' logs, in
// the foreground. See gongkai-hub(8).
#include <signal.h>

#include <iostream>
#include <string>

#include "gongkai/config.h"
#include "gongkai/log.h"
#include "hub.h"

#ifndef GONGKAI_VERSION
#define GONGKAI_VERSION "unknown"
#endif

namespace {
const char kUsage[] =
    "usage: gongkai-hub --config FILE\n"
    "       gongkai-hub --version\n"
    "Witnesses the logs of the gongkai nodes named in FILE (C2SP tlog-witness):\n"
    "cosigns each new checkpoint that is consistent with the last one, and keeps\n"
    "the evidence of any that is not (a split view). Logs to stderr. See gongkai-hub(8).\n";
}  // namespace

int main(int argc, char** argv) {
  std::string config_file;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--version") {
      std::cout << "gongkai-hub " GONGKAI_VERSION "\n";
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
      std::cerr << "gongkai-hub: unknown argument '" << a << "'\n" << kUsage;
      return 2;
    }
  }
  if (config_file.empty()) {
    std::cerr << "gongkai-hub: --config FILE is required\n" << kUsage;
    return 2;
  }
  auto config = gongkai::LoadHubConfig(config_file);
  if (!config.ok()) {
    std::cerr << "gongkai-hub: " << config.status().message() << "\n";
    return 1;
  }
  // Signals are taken by the main thread (Hub::Run); other threads inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  gongkai::log::Info("gongkai-hub " GONGKAI_VERSION " starting with " + config->file);
  gongkai::hub::Hub hub(*config);
  gongkai::Status s = hub.Open();
  if (s.ok()) s = hub.Start();
  if (!s.ok()) {
    gongkai::log::Error("cannot start: " + s.ToString());
    return 1;
  }
  return hub.Run(signals);
}
