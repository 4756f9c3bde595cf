#include "gongkai/indexer/chinese.h"

#include <opencc/opencc.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "gongkai/indexer/extract.h"
#include "gongkai/log.h"

namespace gongkai::indexer {
namespace {

class Folder {
 public:
  // Character-level folding only (TSCharacters), not OpenCC's stock t2s with
  // its phrase table: phrase rules depend on context (計畫 -> 计划 but
  // 畫線 -> 画线), so a query phrase cut from the middle of a word would fold
  // differently from the same characters in the document.
  Folder() {
    const char* env = std::getenv("GONGKAI_OPENCC_DIR");
    const std::string dict = std::string(env ? env : "/usr/share/opencc") + "/TSCharacters.ocd2";
    const std::string config =
        R"({"name":"gongkai t2s characters","segmentation":{"type":"mmseg","dict":{"type":"ocd2","file":")" +
        dict + R"("}},"conversion_chain":[{"dict":{"type":"ocd2","file":")" + dict + R"("}}]})";
    std::string path = (std::filesystem::temp_directory_path() / "gongkai-opencc-XXXXXX").string();
    int fd = ::mkstemp(path.data());
    bool written = fd >= 0 && ::write(fd, config.data(), config.size()) == static_cast<ssize_t>(config.size());
    if (fd >= 0) ::close(fd);
    handle_ = written ? opencc_open(path.c_str()) : reinterpret_cast<opencc_t>(-1);
    if (fd >= 0) ::unlink(path.c_str());
    if (handle_ == reinterpret_cast<opencc_t>(-1)) {
      log::Warning("OpenCC dictionary " + dict + " not loadable (" +
                   (written ? std::string(opencc_error()) : "cannot write its config") +
                   "); Traditional/Simplified folding is off");
      handle_ = nullptr;
    }
  }

  std::string Fold(std::string_view s) {
    if (!handle_ || s.empty()) return std::string(s);
    // OpenCC walks a truncated UTF-8 sequence past the end of its buffer
    // (found by fuzz_query with a raw query from the CLI): repair first.
    if (!IsValidUtf8(s)) return Fold(ConvertToUtf8(s, "UTF-8"));
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
