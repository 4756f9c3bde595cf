// libFuzzer target: text extraction of one format. FUZZ_FILENAME (set per
// target by CMake) is the name the bytes arrive under, which picks the parser
// when the content's magic bytes do not.
//
// Checked beyond "no crash, no sanitizer report": the documented guarantees
// of Extract(): valid UTF-8 out, text within its limit, a reason whenever
// there is no text.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gongkai/indexer/extract.h"
#include "gongkai/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  gongkai::indexer::Extracted e = gongkai::indexer::Extract(bytes, FUZZ_FILENAME);
  if (!gongkai::IsValidUtf8(e.text) || !gongkai::IsValidUtf8(e.title)) std::abort();
  if (e.text.size() > 64u * 1024 * 1024) std::abort();
  if (!e.has_text && e.note.empty()) std::abort();
  return 0;
}
