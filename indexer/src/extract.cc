#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>
#include <new>
#include <set>

#include "extract_internal.h"
#include "gongkai/indexer/extract.h"

namespace gongkai::indexer {
namespace detail {

constexpr size_t kTitleMax = 200;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string TrimTitle(std::string t) {
  std::replace(t.begin(), t.end(), '\n', ' ');  // a title is one line: wraps join
  std::replace(t.begin(), t.end(), '\t', ' ');
  t = NormalizeWhitespace(t);
  while (!t.empty() && (t.back() == ' ')) t.pop_back();
  while (!t.empty() && (t.front() == ' ')) t.erase(0, 1);
  if (t.size() > kTitleMax) {
    size_t cut = kTitleMax;
    while (cut > 0 && (static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    t.resize(cut);
  }
  return t;
}

std::string FirstLineTitle(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line = TrimTitle(std::string(text.substr(start, nl - start)));
    // Rules and table borders ("+-----+", "=====") are not a title; a
    // table's first row is read without its outer bars.
    const bool has_word = std::any_of(line.begin(), line.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80;
    });
    if (has_word) {
      const size_t b = line.find_first_not_of("| "), e = line.find_last_not_of("| ");
      return line.substr(b, e - b + 1);
    }
    start = nl + 1;
  }
  return {};
}

void FinishText(std::string_view raw, const std::string& empty_note, Extracted* e) {
  if (raw.size() > kMaxTextBytes) {
    size_t cut = kMaxTextBytes;
    while (cut > 0 && (static_cast<unsigned char>(raw[cut]) & 0xC0) == 0x80) --cut;
    raw = raw.substr(0, cut);
    if (!e->note.empty()) e->note += "; ";
    e->note += "text cut at " + std::to_string(kMaxTextBytes >> 20) + " MiB";
  }
  e->text = NormalizeWhitespace(raw);
  e->has_text = !e->text.empty();
  if (e->title.empty()) e->title = FirstLineTitle(e->text);
  if (!e->has_text && e->note.empty()) e->note = empty_note;
}

size_t PdfHeaderOffset(std::string_view bytes, bool lenient) {
  if (bytes.substr(0, 5) == "%PDF-") return 0;
  if (bytes.substr(0, 8) == "\xEF\xBB\xBF%PDF-") return 3;
  // Readers accept junk before the header (Acrobat: within the first 1024 bytes).
  if (lenient) return bytes.substr(0, 1024).find("%PDF-");
  return std::string_view::npos;
}

std::string ZipFailureNote(const ZipReader& zip, const std::string& what) {
  if (zip.limit_reached()) return what + " refused, probable zip bomb: " + zip.error();
  return what + " unreadable: " + zip.error();
}

}  // namespace detail

namespace {

using detail::Lower;
using detail::TrimTitle;

bool LooksBinary(std::string_view bytes) {
  // UTF-16 text has NULs, but it starts with a BOM that ToUtf8 understands.
  if (bytes.substr(0, 2) == "\xFF\xFE" || bytes.substr(0, 2) == "\xFE\xFF") return false;
  return std::memchr(bytes.data(), 0, std::min<size_t>(bytes.size(), 8192)) != nullptr;
}

// ---------------------------------------------------------------- plain text
Extracted PlainText(std::string_view bytes, Extracted e) {
  std::string utf8 = ToUtf8(bytes, &e.encoding);
  e.text = NormalizeWhitespace(utf8);
  e.has_text = !e.text.empty();
  e.title = detail::FirstLineTitle(e.text);
  size_t hashes = e.title.find_first_not_of('#');  // markdown "# Title"
  if (hashes != std::string::npos && hashes > 0 && e.title[hashes] == ' ')
    e.title.erase(0, hashes + 1);
  if (!e.has_text) e.note = "empty text";
  return e;
}

// ---------------------------------------------------------------- HTML
const std::set<std::string>& BlockElements() {
  static const std::set<std::string> kBlocks = {
      "p",          "div", "br",    "li",      "ul",     "ol",      "tr",      "table",  "h1",
      "h2",         "h3",  "h4",    "h5",      "h6",     "section", "article", "header", "footer",
      "blockquote", "pre", "hr",    "dd",      "dt",     "dl",      "td",      "th",     "title",
      "form",       "nav", "aside", "address", "figure", "caption", "main"};
  return kBlocks;
}

struct HtmlWalker {
  std::string text;
  std::string title;
  std::string first_heading;

  static std::string NodeText(xmlNode* n) {
    xmlChar* c = xmlNodeGetContent(n);
    std::string s = c ? reinterpret_cast<const char*>(c) : "";
    xmlFree(c);
    return s;
  }

  void Walk(xmlNode* node) {
    for (xmlNode* n = node; n; n = n->next) {
      if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        const char* c = reinterpret_cast<const char*>(n->content);
        if (!c) continue;
        for (const char* p = c; *p; ++p) text += (*p == '\n' || *p == '\r') ? ' ' : *p;
        continue;
      }
      if (n->type != XML_ELEMENT_NODE) continue;
      std::string name = Lower(reinterpret_cast<const char*>(n->name));
      if (name == "script" || name == "style" || name == "noscript" || name == "template" ||
          name == "object" || name == "svg" || name == "iframe")
        continue;
      if (name == "title") {
        if (title.empty()) title = NodeText(n);
        continue;  // the title is indexed as the title, not body text
      }
      if (name == "head") {
        Walk(n->children);
        continue;
      }
      if (first_heading.empty() && name.size() == 2 && name[0] == 'h' && name[1] >= '1' &&
          name[1] <= '3')
        first_heading = NodeText(n);
      bool block = BlockElements().count(name) > 0;
      if (block) text += '\n';
      Walk(n->children);
      if (block)
        text += '\n';
      else if (name == "td" || name == "th")
        text += ' ';
    }
  }
};

// The charset a page declares in <meta charset> or http-equiv, or "".
std::string DeclaredCharset(std::string_view bytes) {
  std::string head = Lower(std::string(bytes.substr(0, 4096)));
  size_t pos = head.find("charset=");
  if (pos == std::string::npos) return {};
  pos += 8;
  while (pos < head.size() && (head[pos] == '"' || head[pos] == '\'' || head[pos] == ' ')) ++pos;
  size_t end = pos;
  while (end < head.size() && (std::isalnum(static_cast<unsigned char>(head[end])) ||
                               head[end] == '-' || head[end] == '_'))
    ++end;
  return head.substr(pos, end - pos);
}

Extracted Html(std::string_view bytes, Extracted e) {
  // Decide the encoding ourselves (libxml2 would guess Latin-1 for an
  // undeclared GBK page): the declared charset if any, else detection.
  std::string utf8;
  std::string declared = DeclaredCharset(bytes);
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF" || bytes.substr(0, 2) == "\xFF\xFE" ||
      bytes.substr(0, 2) == "\xFE\xFF" || declared.empty() || declared == "utf-8" ||
      declared == "utf8") {
    utf8 = ToUtf8(bytes, &e.encoding);
  } else {
    std::string charset = declared == "gb2312" || declared == "gbk" ? "gb18030" : declared;
    utf8 = ConvertToUtf8(bytes, charset);
    e.encoding = charset;
    if (utf8.empty()) utf8 = ToUtf8(bytes, &e.encoding);  // unknown name: detect instead
  }
  htmlDocPtr doc = htmlReadMemory(utf8.data(), static_cast<int>(utf8.size()), nullptr, "UTF-8",
                                  HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                      HTML_PARSE_NONET | HTML_PARSE_COMPACT);
  if (!doc) {
    e.note = "HTML could not be parsed";
    return e;
  }
  HtmlWalker w;
  w.Walk(xmlDocGetRootElement(doc));
  xmlFreeDoc(doc);
  e.text = NormalizeWhitespace(w.text);
  e.title = TrimTitle(!w.title.empty() ? w.title : w.first_heading);
  e.has_text = !e.text.empty();
  if (!e.has_text) e.note = "no text in HTML body";
  return e;
}

bool IsTextType(const std::string& type) {
  static const std::set<std::string> kTypes = {"txt", "text", "md",    "markdown", "csv",
                                               "tsv", "json", "jsonl", "xml",      "log",
                                               "ini", "conf", "srt",   "file"};
  return kTypes.count(type) > 0;
}

}  // namespace

std::string TypeFromName(const std::string& filename) {
  size_t slash = filename.rfind('/');
  std::string base = slash == std::string::npos ? filename : filename.substr(slash + 1);
  size_t dot = base.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == base.size()) return "file";
  std::string ext = Lower(base.substr(dot + 1));
  if (ext == "htm" || ext == "xhtml" || ext == "shtml") return "html";
  if (ext.size() > 10) return "file";
  return ext;
}

namespace {

bool IsOoxmlType(const std::string& type) {
  static const std::set<std::string> kTypes = {"docx", "docm", "dotx", "dotm", "xlsx", "xlsm",
                                               "xltx", "xltm", "pptx", "pptm", "potx", "ppsx"};
  return kTypes.count(type) > 0;
}

bool IsPackageType(const std::string& type) {
  static const std::set<std::string> kTypes = {"odt", "ods", "odp", "odg",
                                               "ott", "ots", "otp", "ofd"};
  return IsOoxmlType(type) || kTypes.count(type) > 0;
}

// Reads an archive within `budget`, or, for an outermost one (no budget
// yet), within a new budget of `limits`. False if it is no archive.
bool ReadArchive(std::string_view bytes, int depth, detail::ArchiveBudget* budget,
                 const detail::ArchiveLimits& limits, Extracted* e) {
  if (budget) return detail::ExtractArchive(bytes, depth, budget, e);
  detail::ArchiveBudget outermost(bytes.size(), limits);
  return detail::ExtractArchive(bytes, depth, &outermost, e);
}

// The extractor chosen from the content first (magic bytes), then the name.
// `depth` archives contain the bytes, read within `budget` (nullptr for a
// file of its own).
Extracted Dispatch(std::string_view bytes, const std::string& source_path, Extracted e, int depth,
                   detail::ArchiveBudget* budget, const detail::ArchiveLimits& limits) {
  if (detail::PdfHeaderOffset(bytes, e.type == "pdf") != std::string_view::npos) {
    if (e.type == "file") e.type = "pdf";
    detail::ExtractPdf(bytes, &e);
    return e;
  }
  if (detail::ZipReader::LooksLikeZip(bytes)) {
    detail::ZipReader zip(bytes);
    std::vector<std::string> names;
    // A zip declaring more members than an archive may have is no package:
    // not listed whole here, only read up to the entry limit below.
    if (detail::ZipReader::DeclaredMembers(bytes) > limits.max_entries) {
      if (IsPackageType(e.type)) {
        e.note = "." + e.type + " package refused: more than " +
                 std::to_string(limits.max_entries) + " zip members";
        return e;
      }
    } else if (!zip.List(&names)) {
      if (IsPackageType(e.type)) {
        e.note = detail::ZipFailureNote(zip, "." + e.type + " package");
        return e;
      }
    } else if (detail::ExtractOfd(zip, names, &e) || detail::ExtractOffice(zip, names, &e)) {
      return e;
    } else if (IsPackageType(e.type)) {
      e.note = "not a ." + e.type + " document: a zip without its parts";
      return e;
    }
    if (!IsPackageType(e.type) && ReadArchive(bytes, depth, budget, limits, &e)) return e;
  }
  if (detail::IsOleCompoundFile(bytes)) {
    if (IsOoxmlType(e.type)) {
      // Office wraps a password-protected OOXML file in an OLE container.
      e.note = "password-protected (encrypted) Office document, or a legacy binary one renamed";
      return e;
    }
    if (depth > 0) {  // the converters need a file, and a member is never written to disk
      e.note = "legacy Office file inside an archive: not converted";
      return e;
    }
    detail::ExtractLegacyOffice(bytes, source_path, &e);
    return e;
  }
  if (detail::LooksLikeArchive(bytes) && ReadArchive(bytes, depth, budget, limits, &e)) return e;
  if (e.type == "html") return Html(bytes, std::move(e));
  if (IsTextType(e.type)) {
    if (LooksBinary(bytes)) {
      e.note = "binary content";
      return e;
    }
    return PlainText(bytes, std::move(e));
  }
  e.note = "no extractor for ." + e.type + " files yet";
  return e;
}

}  // namespace

namespace detail {

namespace {

// Dispatch() behind the promise that nothing escapes: an exception from a
// library or an allocation failure becomes a note.
Extracted Guarded(std::string_view bytes, const std::string& filename,
                  const std::string& source_path, int depth, ArchiveBudget* budget,
                  const ArchiveLimits& limits) {
  Extracted e;
  auto failed = [&e](std::string note, bool parser_failed) {
    Extracted f;
    f.type = e.type;
    f.note = std::move(note);
    f.parser_failed = parser_failed;
    return f;
  };
  try {
    e.type = TypeFromName(filename);
    if (bytes.empty()) {
      e.note = "empty file";
      return e;
    }
    return Dispatch(bytes, source_path, e, depth, budget, limits);
  } catch (const std::bad_alloc&) {
    return failed(std::string(detail::kOutOfMemoryNote), true);
  } catch (const std::exception& ex) {  // a library that throws
    return failed(std::string("extraction failed: ") + ex.what(), false);
  } catch (...) {
    return failed("extraction failed", false);
  }
}

}  // namespace

Extracted ExtractFrom(std::string_view bytes, const std::string& filename,
                      const std::string& source_path) {
  return Guarded(bytes, filename, source_path, 0, nullptr, ArchiveLimits{});
}

Extracted ExtractMember(std::string_view bytes, const std::string& name, int depth,
                        ArchiveBudget* budget) {
  return Guarded(bytes, name, "", depth, budget, budget->limits);
}

Extracted ExtractWithLimits(std::string_view bytes, const std::string& filename,
                            const ArchiveLimits& limits) {
  return Guarded(bytes, filename, "", 0, nullptr, limits);
}

}  // namespace detail

Extracted Extract(std::string_view bytes, const std::string& filename) {
  return detail::ExtractFrom(bytes, filename, "");
}

}  // namespace gongkai::indexer
