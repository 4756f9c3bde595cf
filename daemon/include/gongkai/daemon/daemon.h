// The gongkaid process: wires watcher, settle queue, archiver, index feeder
// and HTTP service together and runs until SIGTERM/SIGINT.
#pragma once

#include <memory>

#include "gongkai/config.h"
#include "gongkai/status.h"

namespace gongkai::daemon {

// Runs the daemon in the foreground. Returns the process exit code: 0 after a
// clean shutdown, 1 when start-up failed (the reason is logged in one line).
int RunDaemon(const Config& config);

}  // namespace gongkai::daemon
