#include "entry_data.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>

#include <charconv>
#include <cstring>
#include <sstream>

#include "gongkai/utf8.h"

namespace gongkai::indexer {
namespace {

const std::pair<const char*, std::string IndexDoc::*> kTexts[] = {
    {"id", &IndexDoc::id},
    {"share", &IndexDoc::share},
    {"path", &IndexDoc::path},
    {"office", &IndexDoc::office},
    {"title", &IndexDoc::title},
    {"type", &IndexDoc::type},
    {"sha256", &IndexDoc::sha256},
    {"modified", &IndexDoc::modified},
    {"published", &IndexDoc::published},
    {"status", &IndexDoc::status},
    {"classification", &IndexDoc::classification},
    {"category", &IndexDoc::category},
    {"text_note", &IndexDoc::text_note},
    {"member", &IndexDoc::member},
    {"doc_number", &IndexDoc::doc_number},
    {"origin", &IndexDoc::origin}};
const std::pair<const char*, int64_t IndexDoc::*> kIntegers[] = {{"version", &IndexDoc::version},
                                                                 {"size", &IndexDoc::size}};
const std::pair<const char*, bool IndexDoc::*> kBooleans[] = {
    {"for_inspectors", &IndexDoc::for_inspectors}, {"for_public", &IndexDoc::for_public}};

template <typename T, size_t N>
T IndexDoc::*Find(const std::pair<const char*, T IndexDoc::*> (&table)[N], std::string_view key) {
  for (const auto& [name, member] : table)
    if (key == name) return member;
  return nullptr;
}

// One pass over a flat JSON object, into an IndexDoc.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  IndexDoc Object() {
    IndexDoc d;
    Expect('{');
    if (Take('}')) return End(d);
    do {
      const std::string key = String();
      Expect(':');
      if (auto text = Find(kTexts, key))
        d.*text = String();
      else if (auto integer = Find(kIntegers, key))
        d.*integer = Integer();
      else if (auto boolean = Find(kBooleans, key))
        d.*boolean = Boolean();
      else
        SkipValue();
    } while (Take(','));
    Expect('}');
    return End(d);
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw Poco::DataFormatException("index entry data", what + " at byte " + std::to_string(i_));
  }

  IndexDoc& End(IndexDoc& d) {
    SkipSpace();
    if (i_ != s_.size()) Fail("bytes after the object");
    return d;
  }

  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n'))
      ++i_;
  }

  bool Take(char c) {
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  void Expect(char c) {
    if (!Take(c)) Fail(std::string("'") + c + "' expected");
  }

  bool TakeWord(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  std::string String() {
    Expect('"');
    std::string out;
    for (;;) {
      const size_t run = s_.find_first_of("\"\\", i_);
      if (run == std::string_view::npos) Fail("unterminated string");
      out.append(s_, i_, run - i_);
      i_ = run + 1;
      if (s_[run] == '"') break;
      if (i_ >= s_.size()) Fail("unterminated escape");
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u':
          AppendUtf8(Escaped(), out);
          break;
        default:
          Fail(std::string("unknown escape \\") + e);
      }
    }
    return out;
  }

  // After "\u": the code point of one escape or of a surrogate pair; a lone
  // surrogate is U+FFFD.
  char32_t Escaped() {
    const char32_t first = Hex4();
    if (first < 0xD800 || first > 0xDFFF) return first;
    if (first <= 0xDBFF && TakeWord("\\u")) {
      const size_t at = i_;
      const char32_t second = Hex4();
      if (second >= 0xDC00 && second <= 0xDFFF)
        return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
      i_ = at - 2;  // not a pair: read that escape on its own
    }
    return 0xFFFD;
  }

  char32_t Hex4() {
    if (i_ + 4 > s_.size()) Fail("short \\u escape");
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s_.data() + i_, s_.data() + i_ + 4, v, 16);
    if (ec != std::errc() || end != s_.data() + i_ + 4) Fail("bad \\u escape");
    i_ += 4;
    return v;
  }

  int64_t Integer() {
    SkipSpace();
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s_.data() + i_, s_.data() + s_.size(), v);
    if (ec != std::errc()) Fail("integer expected");
    i_ = static_cast<size_t>(end - s_.data());
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E'))
      Fail("integer expected");
    return v;
  }

  bool Boolean() {
    SkipSpace();
    if (TakeWord("true")) return true;
    if (TakeWord("false")) return false;
    Fail("true or false expected");
  }

  // A value of a field this release does not read.
  void SkipValue() {
    SkipSpace();
    if (i_ >= s_.size()) Fail("value expected");
    const char c = s_[i_];
    if (c == '"') {
      String();
    } else if (c == 't' || c == 'f') {
      Boolean();
    } else if (TakeWord("null")) {
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      const size_t end = s_.find_first_not_of("0123456789+-.eE", i_);
      i_ = end == std::string_view::npos ? s_.size() : end;
    } else {
      Fail("value expected");
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::string EncodeData(const IndexDoc& d) {
  Poco::JSON::Object o;
  for (const auto& [name, member] : kTexts)  // "" is what a missing field reads as
    if (!(d.*member).empty()) o.set(name, d.*member);
  for (const auto& [name, member] : kIntegers) o.set(name, d.*member);
  for (const auto& [name, member] : kBooleans) o.set(name, d.*member);
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

IndexDoc DecodeData(std::string_view data) { return Reader(data).Object(); }

}  // namespace gongkai::indexer
