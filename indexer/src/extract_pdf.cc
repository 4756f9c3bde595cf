// PDF text through poppler-cpp, in reading order (pdftotext's default mode).
//
// Chinese PDFs made by TeX often use CID-keyed fonts without ToUnicode maps;
// poppler maps those through the Adobe-GB1/CNS1 tables of the poppler-data
// package, which must be installed at run time (tools/install-deps.sh).
//
// Guarantees: never throws; an encrypted PDF that needs a password, an
// unparsable one and one without a text layer (scanned images) each give
// has_text = false and a note saying which. Poppler's diagnostics never
// reach stderr.
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <climits>
#include <memory>
#include <mutex>

#include "extract_internal.h"

namespace gongkai::indexer::detail {
namespace {

void SilencePoppler() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Broken PDFs produce floods of "Invalid XRef entry" lines; the note says enough.
    poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr);
  });
}

std::string ToStd(const poppler::ustring& u) {
  poppler::byte_array utf8 = u.to_utf8();
  return std::string(utf8.begin(), utf8.end());
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Turns one page of layout text into running text. Poppler ends every
// visual line with '\n' and separates the blocks it finds with an empty
// line, but its blocks are not paragraphs: a wrap inside a sentence, a
// table cell or a spaced-out heading ("主　　旨") all break lines and blocks
// alike. So every break within a page becomes a space, which
// NormalizeWhitespace drops between two CJK characters (rejoining the
// Chinese sentence) and keeps between words; an English word hyphenated
// across lines is rejoined. Pages end with a newline. `*first_line` gets
// the first non-empty line of the document, the title of last resort.
void AppendPageText(std::string_view page, std::string* out, std::string* first_line) {
  bool joining = false;  // out ends with this page's text
  size_t start = 0;
  while (start < page.size()) {
    size_t nl = page.find('\n', start);
    if (nl == std::string_view::npos) nl = page.size();
    std::string_view line = page.substr(start, nl - start);
    start = nl + 1;
    size_t first = line.find_first_not_of(" \t\r\f");
    if (first == std::string_view::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \t\r\f") + 1 - first);
    if (first_line->empty()) *first_line = std::string(line);
    if (joining) {
      size_t n = out->size();
      bool hyphenated = n >= 2 && (*out)[n - 1] == '-' && IsAsciiLetter((*out)[n - 2]) &&
                        line.front() >= 'a' && line.front() <= 'z';
      if (hyphenated)
        out->pop_back();
      else
        out->push_back(' ');
    }
    out->append(line);
    joining = true;
  }
  out->push_back('\n');
}

// The document title from its metadata, unless it is clearly a file name
// left by a converter ("Microsoft Word - 通知.doc" gives "通知").
std::string MetadataTitle(const poppler::document& doc) {
  std::string title = TrimTitle(ToStd(doc.get_title()));
  static const std::string kWordPrefix = "Microsoft Word - ";
  if (title.rfind(kWordPrefix, 0) == 0) title.erase(0, kWordPrefix.size());
  for (const char* ext : {".docx", ".doc", ".wps", ".rtf"}) {
    std::string lower = Lower(title);
    std::string_view e(ext);
    if (lower.size() > e.size() && lower.compare(lower.size() - e.size(), e.size(), e) == 0) {
      title.resize(title.size() - e.size());
      break;
    }
  }
  return TrimTitle(title);
}

}  // namespace

void ExtractPdf(std::string_view bytes, Extracted* e) {
  SilencePoppler();
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    e->note = "PDF too large";
    return;
  }
  // Poppler reads the bytes in place; they outlive the document.
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  size_t header = PdfHeaderOffset(bytes, true);
  if (!doc && header != 0 && header != std::string_view::npos) {
    // Junk before the header shifts every offset; retry from the header.
    std::string_view from = bytes.substr(header);
    doc.reset(poppler::document::load_from_raw_data(from.data(), static_cast<int>(from.size())));
  }
  if (!doc) {
    e->note = "PDF could not be parsed";
    return;
  }
  // A locked document must not be asked anything else: poppler-cpp has no
  // catalog for it and crashes.
  if (doc->is_locked()) {
    e->note = "encrypted PDF: a password is needed to read it";
    return;
  }
  int pages = doc->pages();
  if (pages <= 0) {
    e->note = "PDF has no readable pages";
    return;
  }
  std::string raw, first_line;
  int empty_pages = 0;
  for (int i = 0; i < pages && raw.size() <= kMaxTextBytes; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) {
      ++empty_pages;
      continue;
    }
    std::string text =
        ToStd(page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout));
    if (text.find_first_not_of(" \t\r\n\f") == std::string::npos) {
      ++empty_pages;
      continue;
    }
    AppendPageText(text, &raw, &first_line);
  }
  e->title = MetadataTitle(*doc);  // kept for a scan: it may be all there is
  if (e->title.empty()) e->title = TrimTitle(first_line);
  if (empty_pages == pages) {
    e->note = "PDF has no text layer (image-only pages need OCR)";
    return;
  }
  if (empty_pages > 0)
    e->note = std::to_string(empty_pages) + " of " + std::to_string(pages) +
              " PDF pages have no text layer";
  FinishText(raw, "PDF has no text layer (image-only pages need OCR)", e);
}

}  // namespace gongkai::indexer::detail
