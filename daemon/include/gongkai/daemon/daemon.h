// The gongkaid process: wires watcher, settle queue, archiver, index feeder
// and HTTP service together and runs until SIGTERM/SIGINT.
#pragma once

#include <memory>

#include "gongkai/config.h"
#include "gongkai/status.h"

namespace gongkai::daemon {

// What RunDaemon() returns after SIGHUP found a valid, changed configuration
// file: everything is finished and closed, and the caller is to execute
// gongkaid again in the same process (systemd keeps tracking the pid), whose
// start-up scan picks up whatever happened in between.
inline constexpr int kRestartToReload = -1;

// Runs the daemon in the foreground. Returns the process exit code: 0 after a
// clean shutdown, 1 when start-up failed (the reason is logged in one line);
// or kRestartToReload. On SIGHUP an unchanged or invalid configuration file
// keeps the daemon running (an invalid one is logged); tokens and the active
// signing key are reloaded in place.
int RunDaemon(const Config& config);

}  // namespace gongkai::daemon
