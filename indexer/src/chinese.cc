#include "gongkai/indexer/chinese.h"

#include <opencc/opencc.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "gongkai/indexer/extract.h"
#include "gongkai/log.h"
#include "gongkai/utf8.h"

namespace gongkai::indexer {
namespace {

// Words that Taiwan and the Mainland write with different characters, which
// character-level folding leaves apart: 計畫 folds to 计画 where Simplified
// text has 计划, 瞭解 stays 瞭解 against 了解, 座標 against 坐标. One
// character of each pair stands for both, in documents and queries alike
// (UTF-8 of the same length, replaced in place). The cost is that the pair's
// own distinction is lost: 画 "painting" also finds 划 "row", which the
// neighbouring characters of a real query nearly always rule out.
void FoldVariants(std::string& s) {
  static const char* const kPairs[][2] = {{"画", "划"}, {"瞭", "了"}, {"座", "坐"}};
  for (const auto& [from, to] : kPairs)
    for (size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += 3) s.replace(p, 3, to);
}

// Decodes valid UTF-8 (FoldScript's output); a bad byte is taken as itself.
std::vector<std::pair<char32_t, size_t>> CodePoints(std::string_view s) {
  std::vector<std::pair<char32_t, size_t>> out;  // code point, byte offset
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + len > s.size()) break;
    char32_t cp = len == 1 ? c : c & (0x3F >> (len - 1));
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.emplace_back(cp, i);
    i += len;
  }
  out.emplace_back(0, s.size());  // sentinel
  return out;
}

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
    bool written =
        fd >= 0 && ::write(fd, config.data(), config.size()) == static_cast<ssize_t>(config.size());
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

  // Folds code point by code point through a table filled on first sight of
  // each character: TSCharacters maps single characters to single
  // characters (all 4,113 entries; none is ASCII) and FoldVariants replaces
  // characters in place, so this is what converting the whole string gives,
  // without OpenCC's segmentation per call or its lock (folding snippets was
  // an eighth of a search's time). Should a character ever fold to more than
  // one, the string is converted whole as before.
  std::string Fold(std::string_view s) {
    if (!handle_ || s.empty()) return std::string(s);
    // OpenCC walks a truncated UTF-8 sequence past the end of its buffer
    // (found by fuzz_query with a raw query from the CLI): repair first.
    if (!IsValidUtf8(s)) return Fold(ConvertToUtf8(s, "UTF-8"));
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++i;
        continue;
      }
      const size_t len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      char32_t cp = c & (0x3F >> (len - 1));
      for (size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      const char32_t folded = FoldCodePoint(cp, s.substr(i, len));
      if (folded == kNotOne) return Convert(s);
      AppendUtf8(folded, out);
      i += len;
    }
    return out;
  }

 private:
  static constexpr char32_t kNotOne = 0xFFFFFFFF;  // folds to other than one code point
  static constexpr char32_t kTableSize = 0x30000;  // the BMP and CJK extensions B-G

  char32_t FoldCodePoint(char32_t cp, std::string_view utf8) {
    // 0 = not looked up yet, else the result + 1.
    std::atomic<char32_t>* slot = cp < kTableSize ? &table_[cp] : nullptr;
    if (slot)
      if (const char32_t v = slot->load(std::memory_order_relaxed); v != 0) return v - 1;
    const auto cps = CodePoints(Convert(utf8));  // with a sentinel
    const char32_t folded = cps.size() == 2 ? cps[0].first : kNotOne;
    if (slot) slot->store(folded + 1, std::memory_order_relaxed);
    return folded;
  }

  // OpenCC and FoldVariants on the whole of `s`.
  std::string Convert(std::string_view s) {
    std::string result;
    {
      // OpenCC's converter is not documented as thread-safe; serialise calls.
      std::lock_guard<std::mutex> lock(mutex_);
      char* out = opencc_convert_utf8(handle_, s.data(), s.size());
      if (!out) return std::string(s);
      result = out;
      opencc_convert_utf8_free(out);
    }
    FoldVariants(result);
    return result;
  }

  opencc_t handle_ = nullptr;
  std::mutex mutex_;
  std::unique_ptr<std::atomic<char32_t>[]> table_ { new std::atomic<char32_t>[ kTableSize ]() };
};

bool IsHan(char32_t c) { return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF); }
bool IsDigit(char32_t c) { return c >= '0' && c <= '9'; }
bool IsOpening(char32_t c) {
  return c == U'〔' || c == '[' || c == '(' || c == U'（' || c == U'【' || c == U'［' || c == U'〖';
}
bool IsClosing(char32_t c) {
  return c == U'〕' || c == ']' || c == ')' || c == U'）' || c == U'】' || c == U'］' || c == U'〗';
}

bool IsSpace(char32_t c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 || c == 0x3000 ||
         (c >= 0x2000 && c <= 0x200B) || c == 0xFEFF;
}

}  // namespace

std::string QuoteDocumentNumbers(std::string_view query) {
  if (query.find('"') != std::string_view::npos) return std::string(query);
  const auto cps = CodePoints(query);
  const size_t n = cps.size() - 1;
  std::string out;
  size_t copied = 0;  // bytes of `query` already in `out`
  for (size_t i = 1; i < n; ++i) {
    if (!IsOpening(cps[i].first) || !IsHan(cps[i - 1].first)) continue;
    size_t j = i + 1;
    const size_t year = j;
    while (j < n && IsDigit(cps[j].first)) ++j;
    if (j - year != 4 || !IsClosing(cps[j].first)) continue;
    const size_t number = ++j;
    while (j < n && IsDigit(cps[j].first)) ++j;
    if (j == number || (cps[j].first != U'号' && cps[j].first != U'號')) continue;
    // Not back into a number already quoted ("国发(2020)1号国发(2021)2号").
    size_t agency = i;
    while (agency > 0 && i - agency < 3 && cps[agency - 1].second >= copied &&
           IsHan(cps[agency - 1].first))
      --agency;
    auto bytes = [&](size_t from, size_t to) {
      return query.substr(cps[from].second, cps[to].second - cps[from].second);
    };
    out.append(query.substr(copied, cps[agency].second - copied));
    // A "-" or "+" typed before the number (at the start or after a space)
    // stays on the phrase: "- \"...\"" would require what "-" excluded.
    const bool sign = !out.empty() && (out.back() == '-' || out.back() == '+') &&
                      (out.size() == 1 || out[out.size() - 2] == ' ');
    out += sign ? "\"" : " \"";
    out.append(bytes(agency, i));
    out += "〔";
    out.append(bytes(year, year + 4));
    out += "〕";
    out.append(bytes(number, j));
    out += "号\" ";
    copied = cps[j + 1].second;
    i = j;
  }
  out.append(query.substr(copied));
  return out;
}

std::string NormalizeForSuggest(std::string_view utf8) {
  const std::string folded = FoldScript(utf8);
  const auto cps = CodePoints(folded);
  std::string out;
  out.reserve(folded.size());
  for (size_t i = 0; i + 1 < cps.size(); ++i) {
    char32_t c = cps[i].first;
    if (c >= 0xFF01 && c <= 0xFF5E) c -= 0xFEE0;  // full-width ASCII
    if (IsSpace(c)) continue;
    if (IsOpening(c)) {
      out += "〔";
    } else if (IsClosing(c)) {
      out += "〕";
    } else if (c < 0x80) {
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    } else {
      out.append(folded, cps[i].second, cps[i + 1].second - cps[i].second);
    }
  }
  return out;
}

std::string FoldScript(std::string_view utf8) {
  static Folder folder;
  return folder.Fold(utf8);
}

}  // namespace gongkai::indexer
