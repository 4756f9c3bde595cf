// Questions as people type them into a search box (issue 18): 请问交通部关于
// 航空站回馈金分配的办法在哪里. The words looked for (交通部, 航空站回馈金分配,
// 办法) are wrapped in a question frame (请问, 在哪里) and joined by function
// words (关于, 的), which no document holds in that order: required as typed,
// they make the whole query match nothing. SplitQuestion() tells them apart,
// for the relaxed search (SearchQuery::relax) only; the strict query is never
// changed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gongkai::indexer {

struct QuestionWords {
  // What is looked for, in order, as typed (in the query's own script): the
  // runs of text between the dropped words, spaces and punctuation.
  std::vector<std::string> words;
  // The question and function words taken out, as typed, each once, in order.
  std::vector<std::string> dropped;
};

// Splits a query typed in either script (the lists are Simplified and are
// matched on FoldScript of the query, character for character). nullopt
// when there is nothing to relax: a query written in the query language,
// whose meaning stays exact (a quote, AND/OR/NOT, a +word or -word, a field
// such as title:, a parenthesis, a document number: QuoteDocumentNumbers),
// or a single word with no question word around it (a name, a title or a
// phrase typed without quotes: relaxing it to some of its characters finds
// only what merely resembles it). Thread-safe.
std::optional<QuestionWords> SplitQuestion(std::string_view query);

}  // namespace gongkai::indexer
