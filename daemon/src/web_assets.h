// The public search page's files (daemon/web), compiled into the binary so
// the daemon serves them without any install-time paths.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace gongkai::daemon {

// File name (e.g. "app.js") -> contents.
const std::map<std::string, std::string_view>& WebAssets();

}  // namespace gongkai::daemon
