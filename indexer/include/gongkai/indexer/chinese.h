// Script folding for Chinese search: Traditional text is converted to
// Simplified (OpenCC, character by character) both when indexing and when parsing queries, so a
// query in either script finds a document in either script.
#pragma once

#include <string>
#include <string_view>

namespace gongkai::indexer {

// Returns `utf8` with Traditional characters folded to Simplified. Thread-safe.
// If OpenCC's data cannot be loaded, returns the input unchanged (logged once).
std::string FoldScript(std::string_view utf8);

}  // namespace gongkai::indexer
