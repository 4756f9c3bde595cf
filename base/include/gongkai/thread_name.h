// Names the calling thread, as `top -H`, `ps -L`, `perf` and gdb show it.
#pragma once

#include <string>

namespace gongkai {

// Names the calling thread `name`, cut to the 15 bytes Linux keeps. Best
// effort: a name that cannot be set leaves the thread as it was.
void NameThisThread(const std::string& name);

}  // namespace gongkai
