// Script folding for Chinese search: Traditional text is converted to
// Simplified (OpenCC, character by character) both when indexing and when parsing queries, so a
// query in either script finds a document in either script.
#pragma once

#include <string>
#include <string_view>

namespace gongkai::indexer {

// Returns `utf8` with Traditional characters folded to Simplified, and the
// few characters Taiwan and the Mainland use differently in the same words
// (計畫/计划, 瞭解/了解, 座標/坐标) folded to one of each pair. Thread-safe.
// If OpenCC's data cannot be loaded, returns the input unchanged (logged once).
std::string FoldScript(std::string_view utf8);

// Rewrites each document number (文號) of the form AGENCY〔YEAR〕N号 in a query
// into a quoted phrase, whichever bracket pair was typed (〔〕 [] () （） 【】 ［］
// 〖〗, or mixed): `国办发(2020)12号` becomes ` "国办发〔2020〕12号" `. The
// index drops the brackets, so the phrase finds the number however the
// document bracketed it, and only where its parts are adjacent: without
// the phrase, 国办发 + 2020 + 12 + 号 would also match any text that merely
// mentions "2020年12月". The phrase holds at most the three Chinese
// characters before the bracket (an agency's abbreviation: 国办发, 京政办发 ->
// 京 + 政办发...). A query that already has a quote is returned unchanged.
std::string QuoteDocumentNumbers(std::string_view query);

// The form in which suggestions (Searcher::Suggest) compare what was typed
// with titles and document numbers, the same for both: FoldScript, full-width
// ASCII (Ａ, １, （) as ASCII, ASCII letters in lower case, whitespace removed,
// and every bracket QuoteDocumentNumbers knows as 〔 or 〕, so that
// `國辦發(2020` is a prefix of the form of `国办发〔2020〕12号`. Thread-safe.
std::string NormalizeForSuggest(std::string_view utf8);

}  // namespace gongkai::indexer
