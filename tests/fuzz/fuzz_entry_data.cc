// libFuzzer target: the data of an index entry, which a search decodes for
// every hit it shows (indexer/src/entry_data.h). Decoding never crashes or
// reads past its input, refuses only with Poco::DataFormatException, and
// what it reads is written back and read again unchanged.
#include <Poco/Exception.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "entry_data.h"

using gongkai::indexer::IndexDoc;

namespace {
bool Same(const IndexDoc& a, const IndexDoc& b) {
  return a.id == b.id && a.share == b.share && a.path == b.path && a.office == b.office &&
         a.title == b.title && a.type == b.type && a.sha256 == b.sha256 &&
         a.modified == b.modified && a.published == b.published && a.status == b.status &&
         a.classification == b.classification && a.category == b.category &&
         a.text_note == b.text_note && a.member == b.member && a.doc_number == b.doc_number &&
         a.origin == b.origin && a.version == b.version && a.size == b.size &&
         a.for_inspectors == b.for_inspectors && a.for_public == b.for_public;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  IndexDoc d;
  try {
    d = gongkai::indexer::DecodeData(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const Poco::DataFormatException&) {
    return 0;
  }
  if (!Same(gongkai::indexer::DecodeData(gongkai::indexer::EncodeData(d)), d)) std::abort();
  return 0;
}
