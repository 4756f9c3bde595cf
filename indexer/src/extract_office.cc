// Office Open XML (ECMA-376: docx, xlsx, pptx and their template and macro
// variants) and OpenDocument (ODF: odt, ods, odp, ...) text.
//
// Both are zips of XML parts. Only the parts that carry text are
// decompressed, within the ZipReader limits, and each is read by the
// streaming XmlReader (no DTD, no entity expansion). Parts are located
// through [Content_Types].xml for OOXML (the conventional names if it lists
// none) and by their fixed names for ODF.
//
// Not read: headers and footers, comments, speaker notes, embedded objects,
// sheet and slide order from workbook/presentation relationships (parts are
// taken in natural name order: slide2 before slide10).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>

#include "extract_internal.h"
#include "xml_reader.h"

namespace gongkai::indexer::detail {
namespace {

using Event = XmlReader::Event;

// "slide2.xml" before "slide10.xml": digit runs compare as numbers.
bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      std::string_view da(a.data() + i, ie - i), db(b.data() + j, je - j);
      while (da.size() > 1 && da.front() == '0') da.remove_prefix(1);
      while (db.size() > 1 && db.front() == '0') db.remove_prefix(1);
      if (da.size() != db.size()) return da.size() < db.size();
      if (da != db) return da < db;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

// Runs `on` over every event of `xml` until the document ends; false (with
// *error) if it is malformed or refused. What was handled before the error
// stays handled, so a truncated part still gives its first pages.
template <typename Handler>
bool Walk(std::string_view xml, std::string* error, Handler on) {
  XmlReader reader(xml);
  for (;;) {
    Event ev = reader.Next();
    if (ev == Event::kDone) return true;
    if (ev == Event::kError) {
      *error = reader.error();
      return false;
    }
    on(ev, reader);
  }
}

// WordprocessingML (docx) and DrawingML (pptx): the content of <t>
// elements; a paragraph <p> ends with a newline, <tab> is a tab, <br>/<cr>
// a line break, a table cell ends with a tab and a row with a newline.
// Skipped: mc:Fallback (the copy of an mc:Choice: Word writes each text box
// twice), moveFrom (the old place of moved text). Deleted text (delText)
// and field codes (instrText) are not <t>, so they never appear.
bool OoxmlText(std::string_view xml, std::string* out, std::string* error) {
  int in_t = 0;
  return Walk(xml, error, [&](Event ev, XmlReader& r) {
    const std::string& n = r.name();
    if (ev == Event::kStart) {
      if (n == "t")
        ++in_t;
      else if (n == "Fallback" || n == "moveFrom")
        r.SkipSubtree();
      else if (n == "tab")
        out->push_back('\t');
      else if (n == "br" || n == "cr")
        out->push_back('\n');
      else if (n == "noBreakHyphen")
        out->push_back('-');
    } else if (ev == Event::kEnd) {
      if (n == "t")
        --in_t;
      else if (n == "p" || n == "tr")
        out->push_back('\n');
      else if (n == "tc")
        out->push_back('\t');
    } else if (in_t > 0) {
      out->append(r.text());
    }
  });
}

// xl/sharedStrings.xml: one string per <si>, phonetic runs (<rPh>) left out.
bool SharedStrings(std::string_view xml, std::vector<std::string>* strings, std::string* error) {
  int in_t = 0;
  return Walk(xml, error, [&](Event ev, XmlReader& r) {
    const std::string& n = r.name();
    if (ev == Event::kStart) {
      if (n == "si")
        strings->emplace_back();
      else if (n == "t")
        ++in_t;
      else if (n == "rPh")
        r.SkipSubtree();
    } else if (ev == Event::kEnd) {
      if (n == "t") --in_t;
    } else if (in_t > 0 && !strings->empty()) {
      strings->back().append(r.text());
    }
  });
}

// A worksheet: cell values (shared strings looked up, inline strings,
// numbers and formula results; booleans and errors left out), a tab after
// each cell and a newline after each row. Formulas themselves are not text.
bool SheetText(std::string_view xml, const std::vector<std::string>& shared, std::string* out,
               std::string* error) {
  std::string cell_type, value;
  bool in_v = false;
  int in_t = 0;
  return Walk(xml, error, [&](Event ev, XmlReader& r) {
    const std::string& n = r.name();
    if (ev == Event::kStart) {
      if (n == "c") {
        cell_type = r.Attribute("t");
      } else if (n == "v") {
        in_v = true;
        value.clear();
      } else if (n == "t") {
        ++in_t;
      } else if (n == "f" || n == "rPh" || n == "extLst") {
        r.SkipSubtree();
      }
    } else if (ev == Event::kEnd) {
      if (n == "v") {
        in_v = false;
        if (out->size() > kMaxTextBytes) {
          // enough: FinishText cuts and notes it
        } else if (cell_type == "s") {
          size_t index = 0;
          auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), index);
          if (ec == std::errc() && index < shared.size()) out->append(shared[index]);
        } else if (cell_type != "b" && cell_type != "e") {
          out->append(value);
        }
      } else if (n == "t") {
        --in_t;
      } else if (n == "c") {
        out->push_back('\t');
      } else if (n == "row") {
        out->push_back('\n');
      }
    } else if (in_v) {
      value.append(r.text());
    } else if (in_t > 0) {
      out->append(r.text());
    }
  });
}

// ODF content.xml: the text of paragraphs and headings (text:p, text:h), a
// newline after each; text:s is a space, text:tab a tab, text:line-break a
// newline; a table cell ends with a tab and a row with a newline. Skipped:
// tracked changes (deleted text), annotations, footnote citation numbers,
// presentation speaker notes.
bool OdfText(std::string_view xml, std::string* out, std::string* error) {
  int in_p = 0;
  return Walk(xml, error, [&](Event ev, XmlReader& r) {
    const std::string& n = r.name();
    if (ev == Event::kStart) {
      if (n == "p" || n == "h")
        ++in_p;
      else if (n == "tracked-changes" || n == "annotation" || n == "note-citation" || n == "notes")
        r.SkipSubtree();
      else if (n == "s")
        out->push_back(' ');
      else if (n == "tab")
        out->push_back('\t');
      else if (n == "line-break")
        out->push_back('\n');
    } else if (ev == Event::kEnd) {
      if (n == "p" || n == "h") {
        --in_p;
        out->push_back('\n');
      } else if (n == "table-cell") {
        out->push_back('\t');
      } else if (n == "table-row") {
        out->push_back('\n');
      }
    } else if (in_p > 0) {
      out->append(r.text());
    }
  });
}

// The first non-empty <dc:title> of docProps/core.xml or ODF meta.xml.
std::string MetadataTitle(std::string_view xml) {
  std::string title, current, error;
  int in_title = 0;
  Walk(xml, &error, [&](Event ev, XmlReader& r) {
    if (ev == Event::kStart && r.name() == "title") {
      ++in_title;
      current.clear();
    } else if (ev == Event::kEnd && r.name() == "title") {
      --in_title;
      if (title.empty()) title = TrimTitle(current);
    } else if (ev == Event::kText && in_title > 0) {
      current.append(r.text());
    }
  });
  return title;
}

// ---------------------------------------------------------------- OOXML

enum class OoxmlKind { kNone, kWord, kExcel, kPresentation };

struct OoxmlParts {
  OoxmlKind kind = OoxmlKind::kNone;
  std::vector<std::string> text_parts;  // in reading order
  std::string shared_strings;           // Excel only; "" if none
  std::string core_properties;          // "" if none
};

// The parts named in [Content_Types].xml Override elements, mapped to the
// zip member names (part names are case-insensitive; members may differ).
OoxmlParts PartsFromContentTypes(std::string_view content_types,
                                 const std::map<std::string, std::string>& by_lower_name) {
  OoxmlParts parts;
  std::vector<std::string> extra;  // footnotes, endnotes: after the body
  std::string error;
  Walk(content_types, &error, [&](Event ev, XmlReader& r) {
    if (ev != Event::kStart || r.name() != "Override") return;
    auto it = by_lower_name.find(Lower(NormalizeMemberPath(r.Attribute("PartName"))));
    if (it == by_lower_name.end()) return;
    const std::string& name = it->second;
    std::string ct = Lower(r.Attribute("ContentType"));
    auto has = [&](const char* s) { return ct.find(s) != std::string::npos; };
    bool main = has(".main+xml");
    if (main && (has("wordprocessingml") || has("ms-word"))) {
      parts.kind = OoxmlKind::kWord;
      parts.text_parts.insert(parts.text_parts.begin(), name);
    } else if (main && (has("spreadsheetml") || has("ms-excel"))) {
      parts.kind = OoxmlKind::kExcel;
    } else if (main && (has("presentationml") || has("ms-powerpoint"))) {
      parts.kind = OoxmlKind::kPresentation;
    } else if (has("wordprocessingml.footnotes+xml") || has("wordprocessingml.endnotes+xml")) {
      extra.push_back(name);
    } else if (has("spreadsheetml.worksheet+xml") || has("presentationml.slide+xml")) {
      parts.text_parts.push_back(name);
    } else if (has("spreadsheetml.sharedstrings+xml")) {
      parts.shared_strings = name;
    } else if (has("package.core-properties+xml")) {
      parts.core_properties = name;
    }
  });
  if (parts.kind != OoxmlKind::kWord)
    std::sort(parts.text_parts.begin(), parts.text_parts.end(), NaturalLess);
  std::sort(extra.begin(), extra.end());
  parts.text_parts.insert(parts.text_parts.end(), extra.begin(), extra.end());
  return parts;
}

// The conventional part names, for a package whose content types list none.
OoxmlParts PartsFromNames(const std::vector<std::string>& names) {
  OoxmlParts parts;
  std::set<std::string> all(names.begin(), names.end());
  auto with_prefix = [&](const std::string& prefix) {
    std::vector<std::string> found;
    for (const std::string& n : names)
      if (n.rfind(prefix, 0) == 0 && n.find('/', prefix.size()) == std::string::npos &&
          n.size() > 4 && n.compare(n.size() - 4, 4, ".xml") == 0)
        found.push_back(n);
    std::sort(found.begin(), found.end(), NaturalLess);
    return found;
  };
  if (all.count("word/document.xml")) {
    parts.kind = OoxmlKind::kWord;
    parts.text_parts = {"word/document.xml"};
    for (const char* n : {"word/footnotes.xml", "word/endnotes.xml"})
      if (all.count(n)) parts.text_parts.push_back(n);
  } else if (all.count("xl/workbook.xml")) {
    parts.kind = OoxmlKind::kExcel;
    parts.text_parts = with_prefix("xl/worksheets/sheet");
    if (all.count("xl/sharedStrings.xml")) parts.shared_strings = "xl/sharedStrings.xml";
  } else if (all.count("ppt/presentation.xml")) {
    parts.kind = OoxmlKind::kPresentation;
    parts.text_parts = with_prefix("ppt/slides/slide");
  }
  if (all.count("docProps/core.xml")) parts.core_properties = "docProps/core.xml";
  return parts;
}

bool ExtractOoxml(ZipReader& zip, const std::vector<std::string>& names, Extracted* e) {
  std::map<std::string, std::string> by_lower_name;
  for (const std::string& n : names) by_lower_name.emplace(Lower(NormalizeMemberPath(n)), n);
  auto ct = by_lower_name.find("[content_types].xml");
  if (ct == by_lower_name.end()) return false;

  std::string content_types;
  if (!zip.ReadOne(ct->second, &content_types)) {
    e->note = ZipFailureNote(zip, "Office document");
    return true;
  }
  OoxmlParts parts = PartsFromContentTypes(content_types, by_lower_name);
  if (parts.kind == OoxmlKind::kNone) parts = PartsFromNames(names);
  if (parts.kind == OoxmlKind::kNone) return false;
  if (e->type == "file")
    e->type = parts.kind == OoxmlKind::kWord    ? "docx"
              : parts.kind == OoxmlKind::kExcel ? "xlsx"
                                                : "pptx";

  std::set<std::string> wanted(parts.text_parts.begin(), parts.text_parts.end());
  if (!parts.shared_strings.empty()) wanted.insert(parts.shared_strings);
  if (!parts.core_properties.empty()) wanted.insert(parts.core_properties);
  std::map<std::string, std::string> members;
  if (!zip.Read([&](const std::string& n) { return wanted.count(n) > 0; }, &members)) {
    e->note = ZipFailureNote(zip, "." + e->type + " document");
    return true;
  }

  std::string raw, error, failed_part;
  auto note_failure = [&](const std::string& part) {
    if (failed_part.empty()) failed_part = part + ": " + error;
  };
  std::vector<std::string> shared;
  if (!parts.shared_strings.empty() &&
      !SharedStrings(members[parts.shared_strings], &shared, &error))
    note_failure(parts.shared_strings);
  for (const std::string& part : parts.text_parts) {
    bool ok = parts.kind == OoxmlKind::kExcel ? SheetText(members[part], shared, &raw, &error)
                                              : OoxmlText(members[part], &raw, &error);
    if (!ok) note_failure(part);
    raw.push_back('\n');
  }
  if (!parts.core_properties.empty()) e->title = MetadataTitle(members[parts.core_properties]);
  if (!failed_part.empty()) e->note = "XML error in " + failed_part;
  FinishText(raw, "no text in the document", e);
  return true;
}

// ---------------------------------------------------------------- ODF

bool ExtractOdf(ZipReader& zip, const std::vector<std::string>& names, Extracted* e) {
  std::set<std::string> all(names.begin(), names.end());
  if (!all.count("content.xml") || (!all.count("mimetype") && !all.count("META-INF/manifest.xml")))
    return false;
  std::map<std::string, std::string> members;
  static const std::set<std::string> kParts = {"mimetype", "content.xml", "meta.xml",
                                               "META-INF/manifest.xml"};
  if (!zip.Read([](const std::string& n) { return kParts.count(n) > 0; }, &members)) {
    e->note = ZipFailureNote(zip, "OpenDocument");
    return true;
  }
  static const std::string kPrefix = "application/vnd.oasis.opendocument.";
  const std::string& mimetype = members["mimetype"];
  if (e->type == "file" && mimetype.rfind(kPrefix, 0) == 0) {
    static const std::map<std::string, std::string> kTypes = {
        {"text", "odt"}, {"spreadsheet", "ods"}, {"presentation", "odp"}, {"graphics", "odg"}};
    auto it = kTypes.find(mimetype.substr(kPrefix.size()));
    e->type = it != kTypes.end() ? it->second : "odf";
  }
  // A password-protected ODF keeps its manifest readable and encrypts content.xml.
  if (members["META-INF/manifest.xml"].find("encryption-data") != std::string::npos) {
    e->note = "encrypted OpenDocument: a password is needed to read it";
    return true;
  }
  std::string raw, error;
  if (!OdfText(members["content.xml"], &raw, &error))
    e->note = "XML error in content.xml: " + error;
  if (members.count("meta.xml")) e->title = MetadataTitle(members["meta.xml"]);
  FinishText(raw, "no text in the document", e);
  return true;
}

}  // namespace

bool ExtractOffice(ZipReader& zip, const std::vector<std::string>& names, Extracted* e) {
  return ExtractOoxml(zip, names, e) || ExtractOdf(zip, names, e);
}

}  // namespace gongkai::indexer::detail
