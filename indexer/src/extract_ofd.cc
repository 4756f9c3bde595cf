// OFD (GB/T 33190-2016, the Chinese fixed-layout format) text.
//
// An OFD is a zip of XML parts: OFD.xml names each document's root
// (DocBody/DocRoot) and title (DocBody/DocInfo/Title); the document's
// Document.xml lists its pages in order (Pages/Page@BaseLoc) and its
// template pages (CommonData/TemplatePage@ID,@BaseLoc); each page's
// Content.xml holds text objects whose TextCode elements carry the text.
// A location is relative to the part naming it, or to the package root
// when it starts with "/".
//
// The text is the TextCode contents in page order, each page preceded by
// the text of its templates the first time one is used (a red-header
// template carries the issuing office). TextCodes are joined with a space,
// which NormalizeWhitespace drops between two CJK characters; a Latin word
// split over two TextCodes stays split. Annotations, attachments and
// signatures are not read.
#include <map>
#include <set>

#include "extract_internal.h"
#include "xml_reader.h"

namespace gongkai::indexer::detail {
namespace {

using Event = XmlReader::Event;

std::string Dir(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string Resolve(const std::string& base_dir, std::string loc) {
  size_t first = loc.find_first_not_of(" \t\r\n");
  loc = first == std::string::npos ? ""
                                   : loc.substr(first, loc.find_last_not_of(" \t\r\n") + 1 - first);
  if (!loc.empty() && loc[0] == '/') return NormalizeMemberPath(loc);
  return NormalizeMemberPath(base_dir + "/" + loc);
}

// Package paths are matched case-insensitively (producers differ on "Doc_0"/"doc_0").
class Members {
 public:
  explicit Members(const std::vector<std::string>& names) {
    for (const std::string& n : names) by_lower_.emplace(Lower(NormalizeMemberPath(n)), n);
  }
  // The member name for a package path, or "" if there is none.
  std::string Find(const std::string& path) const {
    auto it = by_lower_.find(Lower(path));
    return it == by_lower_.end() ? std::string() : it->second;
  }

 private:
  std::map<std::string, std::string> by_lower_;
};

// The text of every element whose local name is in `wanted`, in document
// order, as (name, text); `on_start` sees every other start tag. False with
// *error when malformed (what came before is kept).
using Texts = std::vector<std::pair<std::string, std::string>>;
template <typename OnStart>
bool Collect(std::string_view xml, const std::set<std::string>& wanted, Texts* texts,
             std::string* error, OnStart on_start) {
  XmlReader r(xml);
  int inside = 0;
  for (;;) {
    switch (r.Next()) {
      case Event::kStart:
        if (wanted.count(r.name())) {
          if (inside++ == 0) texts->emplace_back(r.name(), "");
        } else {
          on_start(r);
        }
        break;
      case Event::kEnd:
        if (wanted.count(r.name())) --inside;
        break;
      case Event::kText:
        if (inside > 0) texts->back().second.append(r.text());
        break;
      case Event::kDone:
        return true;
      case Event::kError:
        *error = r.error();
        return false;
    }
  }
}

struct PageText {
  std::string text;
  std::vector<std::string> template_ids;
};

bool ReadPage(std::string_view xml, PageText* page, std::string* error) {
  Texts codes;
  bool ok = Collect(xml, {"TextCode"}, &codes, error, [&](XmlReader& r) {
    if (r.name() == "Template") page->template_ids.push_back(r.Attribute("TemplateID"));
  });
  for (const auto& [name, code] : codes) {
    page->text += code;
    page->text += ' ';
  }
  page->text += '\n';
  return ok;
}

}  // namespace

bool ExtractOfd(ZipReader& zip, const std::vector<std::string>& names, Extracted* e) {
  Members members(names);
  std::string root = members.Find("ofd.xml");
  if (root.empty()) return false;
  if (e->type == "file") e->type = "ofd";

  std::string xml, error, first_error;
  auto remember = [&](const std::string& part) {
    if (first_error.empty()) first_error = "XML error in " + part + ": " + error;
  };
  if (!zip.ReadOne(root, &xml)) {
    e->note = ZipFailureNote(zip, "OFD package");
    return true;
  }
  // DocInfo/Title is the only Title element OFD.xml has.
  Texts entries;
  if (!Collect(xml, {"DocRoot", "Title"}, &entries, &error, [](XmlReader&) {})) remember(root);
  std::vector<std::string> doc_roots;
  for (const auto& [name, text] : entries) {
    if (name == "DocRoot")
      doc_roots.push_back(text);
    else if (e->title.empty())
      e->title = TrimTitle(text);
  }

  std::string raw;
  std::set<std::string> docs_done;
  for (const std::string& doc_root : doc_roots) {
    std::string doc_path = members.Find(Resolve("", doc_root));
    if (doc_path.empty()) {
      if (first_error.empty()) first_error = "OFD document " + doc_root + " missing";
      continue;
    }
    if (!docs_done.insert(doc_path).second) continue;
    if (!zip.ReadOne(doc_path, &xml)) {
      e->note = ZipFailureNote(zip, "OFD package");
      return true;
    }
    // Pages in order, and template pages by ID.
    std::vector<std::string> page_paths;
    std::map<std::string, std::string> templates;
    const std::string doc_dir = Dir(doc_path);
    bool in_pages = false;
    XmlReader r(xml);
    for (Event ev = r.Next(); ev != Event::kDone; ev = r.Next()) {
      if (ev == Event::kError) {
        error = r.error();
        remember(doc_path);
        break;
      }
      if (ev == Event::kStart && r.name() == "Pages") in_pages = true;
      if (ev == Event::kEnd && r.name() == "Pages") in_pages = false;
      if (ev != Event::kStart) continue;
      if (in_pages && r.name() == "Page") {
        page_paths.push_back(members.Find(Resolve(doc_dir, r.Attribute("BaseLoc"))));
      } else if (r.name() == "TemplatePage") {
        std::string id = r.Attribute("ID");
        templates[id] = members.Find(Resolve(doc_dir, r.Attribute("BaseLoc")));
      }
    }

    std::set<std::string> wanted(page_paths.begin(), page_paths.end());
    for (const auto& [id, path] : templates) wanted.insert(path);
    wanted.erase("");
    std::map<std::string, std::string> parts;
    if (!zip.Read([&](const std::string& n) { return wanted.count(n) > 0; }, &parts)) {
      e->note = ZipFailureNote(zip, "OFD package");
      return true;
    }
    std::set<std::string> templates_used, pages_done;
    for (const std::string& path : page_paths) {
      // A missing page's content is skipped: the others still count. A part
      // listed twice is read once, so references cannot multiply the text.
      if (path.empty() || !pages_done.insert(path).second) continue;
      PageText page;
      if (!ReadPage(parts[path], &page, &error)) remember(path);
      for (const std::string& id : page.template_ids) {
        auto t = templates.find(id);
        if (t == templates.end() || t->second.empty() || !templates_used.insert(id).second)
          continue;
        PageText tpl;
        if (!ReadPage(parts[t->second], &tpl, &error)) remember(t->second);
        raw += tpl.text;
      }
      raw += page.text;
    }
  }
  if (!first_error.empty()) e->note = first_error;
  FinishText(raw, "no text in the OFD document", e);
  return true;
}

}  // namespace gongkai::indexer::detail
