// Named threads, as `top -H`, `ps -L`, `perf` and gdb show them.
#pragma once

#include <functional>
#include <string>
#include <thread>

namespace gongkai {

// Starts a thread that names itself `name` (cut to the 15 bytes Linux
// keeps; best effort: a name that cannot be set leaves the thread as it was)
// and runs `body`.
std::thread NamedThread(std::string name, std::function<void()> body);

}  // namespace gongkai
