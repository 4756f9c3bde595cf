#include "gongkai/indexer/question.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "gongkai/indexer/chinese.h"
#include "gongkai/utf8.h"

namespace gongkai::indexer {
namespace {

// Question frames and function words, Simplified (queries are matched after
// folding). Longer entries win over their parts (在哪里能查到 over 在哪里
// over 哪里). These are the words of asking, not of what is asked about: a
// document's own words (办法, 条例, 通知) are never here, so dropping one
// costs a constraint, never the topic. kFillers are dropped wherever they
// are; kEdgeFillers only at the start or end of a word, since they also
// occur inside names (申请, 目录文件, 信息查询).
constexpr const char* kFillers[] = {
    // asking and wanting
    "请问一下", "请问", "请教", "请提供", "帮我找一下", "帮我找", "帮我查一下", "帮我查", "帮忙找",
    "帮忙查", "我想查一下", "我想查", "我想了解", "我想知道", "我想找", "我想看", "我要查",
    "我要找", "想了解", "想知道", "想查", "想找", "查一下", "找一下", "看一下", "告诉我", "给我",
    // where
    "在哪里能查到", "在哪里可以查到", "在哪里能找到", "在哪里可以找到", "在哪里可以看到",
    "在哪里能看到", "哪里可以看到", "哪里能看到", "哪里可以找到", "哪里能找到", "哪里可以查到",
    "哪里能查到", "在哪里", "在哪儿", "在哪", "哪里", "哪儿",
    // how, what, when, whether
    "怎么查", "怎么找", "怎么办", "怎么样", "如何查", "怎么", "怎样", "如何", "是什么时候",
    "什么时候", "是什么", "什么", "是哪个", "是哪些", "哪个", "哪些", "有哪些", "有没有", "有无",
    "是否", "能不能", "能否", "可不可以", "可以", "谁", "多少",
    // particles and linking words
    "的", "了", "吗", "呢", "吧", "啊", "呀", "么", "关于", "有关", "相关", "方面", "一下"};

constexpr const char* kEdgeFillers[] = {"请", "麻烦", "查询", "查找", "搜索",
                                        // what is asked for, said of any document
                                        "具体内容", "内容", "最新的", "最新", "规定", "文件",
                                        "发布过", "发布"};

constexpr const char* kEnglishFillers[] = {
    "a",    "about",   "an",   "any",  "are",   "at",    "be",    "can",    "could", "did",
    "do",   "does",    "find", "for",  "full",  "get",   "how",   "i",      "in",    "is",
    "look", "looking", "me",   "my",   "need",  "of",    "on",    "please", "read",  "say",
    "says", "see",     "show", "tell", "text",  "the",   "there", "to",     "want",  "was",
    "we",   "were",    "what", "when", "where", "which", "who",   "why",    "would", "you"};

struct Char {
  size_t at, len;  // in the folded text
  char32_t cp;
};

std::vector<Char> Chars(std::string_view s) {
  std::vector<Char> out;
  for (size_t i = 0; i < s.size();) {
    const size_t len = std::max<size_t>(1, Utf8SequenceLength(s, i));
    char32_t cp = static_cast<unsigned char>(s[i]);
    if (len > 1) {
      cp &= 0x3F >> (len - 1);
      for (size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    out.push_back({i, len, cp});
    i += len;
  }
  return out;
}

// The number of characters of the longest of `list` at chars[at] (ending
// before chars[end] when `backwards`, at chars[end - n]), 0 if none.
template <size_t N>
size_t LongestFiller(const char* const (&list)[N], const std::string& folded,
                     const std::vector<Char>& chars, size_t at, size_t end, bool backwards) {
  size_t longest = 0;
  for (const char* f : list) {
    const std::string_view filler(f);
    const size_t n = Chars(filler).size();
    if (n > end - at || n <= longest) continue;
    const size_t start = backwards ? end - n : at;
    if (folded.compare(chars[start].at, filler.size(), filler) == 0) longest = n;
  }
  return longest;
}

bool IsAsciiAlnum(char32_t c) { return c < 0x80 && std::isalnum(static_cast<int>(c)); }

// Spaces and punctuation, ASCII and CJK: they end a word.
bool IsSeparator(char32_t c) {
  if (c < 0x80) return !IsAsciiAlnum(c);
  return (c >= 0x2000 && c <= 0x206F) || (c >= 0x3000 && c <= 0x303F) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF0F) ||
         (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
         (c >= 0xFF5B && c <= 0xFF65);
}

// The query language of Xapian's parser (FLAG_DEFAULT, the title: field).
bool UsesQueryLanguage(const std::string& folded) {
  if (folded.find_first_of("\"()") != std::string::npos) return true;
  if (folded.find("“") != std::string::npos || folded.find("”") != std::string::npos) return true;
  if (folded.find("title:") != std::string::npos) return true;
  for (size_t i = 0; i < folded.size();) {
    const size_t start = folded.find_first_not_of(" \t\r\n", i);
    if (start == std::string::npos) break;
    size_t end = folded.find_first_of(" \t\r\n", start);
    if (end == std::string::npos) end = folded.size();
    const std::string token = folded.substr(start, end - start);
    if (token == "AND" || token == "OR" || token == "NOT" || token == "XOR" || token == "NEAR" ||
        token == "ADJ")
      return true;
    if (token.size() > 1 && (token[0] == '+' || token[0] == '-')) return true;
    i = end;
  }
  return QuoteDocumentNumbers(folded) != folded;
}

}  // namespace

std::optional<QuestionWords> SplitQuestion(std::string_view query) {
  const std::string folded = FoldScript(query);
  if (UsesQueryLanguage(folded)) return std::nullopt;
  const std::vector<Char> chars = Chars(folded);
  // Words are given as typed where folding kept the characters in step
  // (it maps a character to one character), else as folded.
  std::vector<Char> typed = Chars(query);
  std::string_view source = query;
  if (typed.size() != chars.size() || !IsValidUtf8(query)) {
    typed = chars;
    source = folded;
  }
  auto text = [&](size_t from, size_t to) {  // characters [from, to) as given
    return std::string(
        source.substr(typed[from].at, typed[to - 1].at + typed[to - 1].len - typed[from].at));
  };

  std::vector<std::pair<size_t, size_t>> dropped;  // character spans
  auto drop = [&](size_t from, size_t to) { dropped.emplace_back(from, to); };
  std::vector<bool> in_word(chars.size(), false);
  for (size_t i = 0; i < chars.size();) {
    const char32_t c = chars[i].cp;
    if (IsSeparator(c)) {
      ++i;
      continue;
    }
    if (IsAsciiAlnum(c)) {  // a Latin word or a number, whole
      size_t j = i;
      std::string lower;
      while (j < chars.size() && IsAsciiAlnum(chars[j].cp))
        lower += static_cast<char>(std::tolower(static_cast<int>(chars[j++].cp)));
      const bool filler = std::any_of(std::begin(kEnglishFillers), std::end(kEnglishFillers),
                                      [&](const char* f) { return lower == f; });
      if (filler) {
        drop(i, j);
      } else {
        for (size_t k = i; k < j; ++k) in_word[k] = true;
      }
      i = j;
      continue;
    }
    const size_t matched = LongestFiller(kFillers, folded, chars, i, chars.size(), false);
    if (matched > 0) {
      drop(i, i + matched);
      i += matched;
    } else {
      in_word[i++] = true;
    }
  }
  QuestionWords out;
  for (size_t i = 0; i < chars.size();) {
    if (!in_word[i]) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < chars.size() && in_word[j]) ++j;
    const size_t run_end = j;
    while (size_t n = LongestFiller(kEdgeFillers, folded, chars, i, j, false)) {
      drop(i, i + n);
      i += n;
    }
    while (size_t n = LongestFiller(kEdgeFillers, folded, chars, i, j, true)) {
      drop(j - n, j);
      j -= n;
    }
    if (i < j) out.words.push_back(text(i, j));
    i = run_end;
  }
  std::sort(dropped.begin(), dropped.end());
  std::set<std::string> seen;
  for (const auto& [from, to] : dropped)
    if (std::string word = text(from, to); seen.insert(word).second)
      out.dropped.push_back(std::move(word));
  if (out.words.size() == 1 && out.dropped.empty()) return std::nullopt;
  return out;
}

}  // namespace gongkai::indexer
