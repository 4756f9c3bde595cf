#include <errno.h>
#include <iconv.h>
#include <uchardet/uchardet.h>

#include <cstring>

#include "gongkai/indexer/extract.h"
#include "gongkai/utf8.h"

namespace gongkai::indexer {

namespace {

// Copies well-formed UTF-8 and replaces each byte that does not start a
// well-formed sequence with U+FFFD.
std::string RepairUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (size_t len = Utf8SequenceLength(s, i)) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

std::string ConvertToUtf8(std::string_view bytes, const std::string& charset) {
  // glibc's UTF-8 decoder lets through some forms Unicode forbids (5- and
  // 6-byte sequences, leads F5-F7), so UTF-8 is repaired here instead.
  if (charset == "UTF-8") return RepairUtf8(bytes);
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return {};
  std::string out;
  out.reserve(bytes.size() * 3 / 2 + 16);
  char buf[16384];
  char* in = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  while (in_left > 0) {
    char* o = buf;
    size_t o_left = sizeof buf;
    size_t rc = iconv(cd, &in, &in_left, &o, &o_left);
    out.append(buf, static_cast<size_t>(o - buf));
    if (rc == static_cast<size_t>(-1)) {
      if (errno == E2BIG) continue;
      // EILSEQ or EINVAL (truncated sequence at the end): replace one byte, go on.
      out += "\xEF\xBF\xBD";
      ++in;
      --in_left;
      iconv(cd, nullptr, nullptr, nullptr, nullptr);
    }
  }
  iconv_close(cd);
  // The promise is UTF-8 out, whatever a converter lets through.
  return IsValidUtf8(out) ? out : RepairUtf8(out);
}

namespace {

std::string Uchardet(std::string_view bytes) {
  uchardet_t ud = uchardet_new();
  uchardet_handle_data(ud, bytes.data(), std::min<size_t>(bytes.size(), 1 << 20));
  uchardet_data_end(ud);
  std::string charset = uchardet_get_charset(ud);
  uchardet_delete(ud);
  return charset;
}

}  // namespace

std::string ToUtf8(std::string_view bytes, std::string* encoding) {
  auto set = [&](const char* e) {
    if (encoding) *encoding = e;
  };
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") {
    set("UTF-8");
    bytes.remove_prefix(3);
    return IsValidUtf8(bytes) ? std::string(bytes) : ConvertToUtf8(bytes, "UTF-8");
  }
  if (bytes.substr(0, 2) == "\xFF\xFE") {
    set("UTF-16LE");
    return ConvertToUtf8(bytes.substr(2), "UTF-16LE");
  }
  if (bytes.substr(0, 2) == "\xFE\xFF") {
    set("UTF-16BE");
    return ConvertToUtf8(bytes.substr(2), "UTF-16BE");
  }
  if (IsValidUtf8(bytes)) {
    set("UTF-8");
    return std::string(bytes);
  }
  std::string detected = Uchardet(bytes);
  // GB2312 and GBK are subsets of GB18030; decoding with the superset loses nothing.
  std::string charset = detected;
  if (charset.empty() || charset == "ASCII" || charset == "GB2312" || charset == "GBK" ||
      charset == "HZ-GB-2312" || charset == "GB18030")
    charset = "GB18030";
  else if (charset == "BIG5")
    charset = "BIG5-HKSCS";
  std::string out = ConvertToUtf8(bytes, charset);
  if (out.empty() && !bytes.empty()) {  // iconv does not know the name: fall back
    charset = "GB18030";
    out = ConvertToUtf8(bytes, charset);
  }
  if (encoding) *encoding = charset;
  return out;
}

namespace {

// Decodes one UTF-8 code point at s[i] (input must be valid UTF-8).
char32_t DecodeAt(std::string_view s, size_t i, size_t* len) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *len = 1;
    return c;
  }
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
  if (i + n > s.size()) {
    *len = 1;
    return 0xFFFD;
  }
  char32_t cp = c & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  *len = n;
  return cp;
}

bool IsCjk(char32_t c) {
  return (c >= 0x2E80 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
         (c >= 0xFF00 && c <= 0xFFEF) || (c >= 0x20000 && c <= 0x2FFFF);
}

bool IsSpace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0xA0 ||
         c == 0x3000 || c == 0x200B || c == 0xFEFF;
}

}  // namespace

std::string NormalizeWhitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false, pending_newline = false;
  char32_t last = 0;
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    char32_t c = DecodeAt(s, i, &len);
    if (IsSpace(c)) {
      pending_space = true;
      if (c == '\n') pending_newline = true;
      i += len;
      continue;
    }
    if (pending_space && !out.empty()) {
      // A paragraph break between CJK text is kept as a newline (it separates
      // paragraphs); a mere wrap or space between two CJK characters is dropped.
      if (!(IsCjk(last) && IsCjk(c) && !pending_newline)) out += pending_newline ? '\n' : ' ';
    }
    pending_space = pending_newline = false;
    out.append(s.substr(i, len));
    last = c;
    i += len;
  }
  return out;
}

}  // namespace gongkai::indexer
