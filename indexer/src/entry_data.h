// The stored data of an index entry: the fields of an IndexDoc a search
// hit shows, as one flat JSON object (readable with xapian-delve).
#pragma once

#include <string>
#include <string_view>

#include "gongkai/indexer/index.h"

namespace gongkai::indexer {

// Every field but the texts (text, metadata_text), which the entry holds as
// terms and, cut, as its snippet text.
std::string EncodeData(const IndexDoc& d);

// Reads what EncodeData writes, and what any earlier release wrote: a flat
// object of strings, integers and booleans in any order, with any JSON
// escapes; a missing field keeps IndexDoc's default and an unknown one is
// skipped. A search decodes each hit it shows, so this is a reader for that
// shape alone rather than a general JSON parser (Poco's took a third of a
// millisecond a page). Throws Poco::DataFormatException on anything else.
IndexDoc DecodeData(std::string_view data);

}  // namespace gongkai::indexer
