// libFuzzer target: archives (zip, tar and compressed tars, 7z, rar, nested),
// read as a dropped archive is, with the archive limits scaled down so that
// one input stays fast and small (the limits themselves are tested in
// tests/archive_test.cc).
//
// Checked beyond "no crash, no sanitizer report": every text, title and
// member path is valid UTF-8; no member path is absolute or has an empty,
// "." or ".." segment or a control character; there are never more members
// than entries allowed; a nested member's own members are flattened; a note
// always says what happened.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "extract_internal.h"
#include "gongkai/indexer/extract.h"
#include "gongkai/utf8.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool SafePath(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  size_t start = 0;
  for (;;) {
    const size_t slash = path.find('/', start);
    const std::string_view segment = path.substr(start, slash - start);
    // "!/" joins a nested archive's member path: "a.zip!/b.txt".
    std::string_view plain = segment;
    if (!plain.empty() && plain.back() == '!') plain.remove_suffix(1);
    if (plain.empty() || plain == "." || plain == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (unsigned char c : path)
    if (c < 0x20 || c == 0x7F || c == '\\') return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace indexer = gongkai::indexer;
  indexer::detail::ArchiveLimits limits;
  limits.max_entries = 200;
  limits.max_member = 1u << 20;
  limits.max_total = 8u << 20;
  limits.ratio_floor = 1u << 20;
  limits.max_text = 4u << 20;
  limits.max_time = std::chrono::seconds(5);
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  indexer::Extracted e = indexer::detail::ExtractWithLimits(bytes, "fuzz.zip", limits);
  Check(gongkai::IsValidUtf8(e.text) && gongkai::IsValidUtf8(e.title));
  Check(e.has_text || !e.note.empty());
  Check(e.members.size() <= limits.max_entries);
  for (const indexer::ArchiveMember& m : e.members) {
    Check(gongkai::IsValidUtf8(m.path) && SafePath(m.path));
    Check(m.extracted.members.empty());
    Check(gongkai::IsValidUtf8(m.extracted.text) && gongkai::IsValidUtf8(m.extracted.title));
    Check(m.extracted.has_text || !m.extracted.note.empty());
  }
  return 0;
}
