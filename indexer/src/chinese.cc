#include "gongkai/indexer/chinese.h"

#include <opencc/opencc.h>

#include <cstdlib>
#include <mutex>

#include "gongkai/log.h"

namespace gongkai::indexer {
namespace {

class Folder {
 public:
  Folder() {
    const char* dir = std::getenv("GONGKAI_OPENCC_DIR");
    std::string config = std::string(dir ? dir : "/usr/share/opencc") + "/t2s.json";
    handle_ = opencc_open(config.c_str());
    if (handle_ == reinterpret_cast<opencc_t>(-1)) {
      log::Warning("OpenCC " + config + " not loadable (" + opencc_error() +
                   "); Traditional/Simplified folding is off");
      handle_ = nullptr;
    }
  }

  std::string Fold(std::string_view s) {
    if (!handle_ || s.empty()) return std::string(s);
    // OpenCC's converter is not documented as thread-safe; serialise calls.
    std::lock_guard<std::mutex> lock(mutex_);
    char* out = opencc_convert_utf8(handle_, s.data(), s.size());
    if (!out) return std::string(s);
    std::string result(out);
    opencc_convert_utf8_free(out);
    return result;
  }

 private:
  opencc_t handle_ = nullptr;
  std::mutex mutex_;
};

}  // namespace

std::string FoldScript(std::string_view utf8) {
  static Folder folder;
  return folder.Fold(utf8);
}

}  // namespace gongkai::indexer
