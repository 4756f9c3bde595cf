#include "catalogue.h"

#include <algorithm>
#include <cstdlib>

#include "csv.h"
#include "gongkai/ledger/visibility.h"
#include "json_writer.h"
#include "sidecar.h"

namespace gongkai::daemon {
namespace {

constexpr size_t kBatch = 500;  // documents per catalog read

bool InCategory(const std::string& category, const std::string& wanted) {
  return wanted.empty() || category == wanted ||
         (category.size() > wanted.size() && category.compare(0, wanted.size(), wanted) == 0 &&
          category[wanted.size()] == '/');
}

std::string OfficeOf(const Config& config, const std::string& share) {
  for (const ShareConfig& s : config.shares)
    if (s.name == share) return s.office;
  return share;
}

CatalogueEntry EntryOf(const Config& config, const storage::DocumentRow& doc,
                       const storage::VersionRow& shown) {
  const Sidecar meta = SidecarFromStored(shown.meta);
  std::string title = meta.title;
  if (title.empty()) {
    title = doc.path.substr(doc.path.rfind('/') + 1);
    if (size_t dot = title.rfind('.'); dot != std::string::npos && dot > 0) title.resize(dot);
  }
  return CatalogueEntry{doc.index_no,
                        title,
                        meta.summary,
                        meta.created,
                        doc.published,
                        meta.category,
                        meta.agency.empty() ? OfficeOf(config, doc.share) : meta.agency,
                        meta.doc_number,
                        doc.id,
                        shown.version,
                        meta.legal_status,
                        meta.repealed_on};
}

}  // namespace

Result<Catalogue> LoadCatalogue(storage::Catalog& catalog, const Config& config,
                                const CatalogueFilter& filter) {
  auto docs = catalog.IndexedDocuments();
  if (!docs.ok()) return docs.status();
  const std::string year = filter.year > 0 ? std::to_string(filter.year) : "";
  Catalogue out;
  for (size_t first = 0; first < docs->size(); first += kBatch) {
    std::vector<std::string> ids;
    for (size_t i = first; i < std::min(first + kBatch, docs->size()); ++i) {
      const storage::DocumentRow& d = (*docs)[i];
      if (d.published.size() >= 4) out.years.insert(std::atoi(d.published.substr(0, 4).c_str()));
      if (year.empty() || d.published.compare(0, 4, year) == 0) ids.push_back(d.id);
    }
    auto states = ledger::LoadDocuments(catalog, ids);
    if (!states.ok()) return states.status();
    for (const std::string& id : ids) {
      auto it = states->find(id);
      if (it == states->end()) continue;
      auto shown = ledger::ShownVersion(ledger::Role::kAnonymous, it->second);
      if (!shown) continue;
      CatalogueEntry e = EntryOf(config, it->second.doc, *shown);
      ++out.categories[e.category];
      if (InCategory(e.category, filter.category)) out.entries.push_back(std::move(e));
    }
  }
  return out;
}

std::string CatalogueJson(const Catalogue& c, int64_t offset, int64_t limit) {
  JsonWriter w;
  w.BeginObject().Field("total", static_cast<int64_t>(c.entries.size()));
  w.Key("results").BeginArray();
  const auto n = static_cast<int64_t>(c.entries.size());
  for (int64_t i = std::max<int64_t>(offset, 0); i < n && i < offset + limit; ++i) {
    const CatalogueEntry& e = c.entries[static_cast<size_t>(i)];
    w.BeginObject()
        .Field("index_no", e.index_no)
        .Field("title", e.title)
        .Field("summary", e.summary)
        .Field("created", e.created)
        .Field("published", e.published)
        .Field("category", e.category)
        .Field("office", e.office)
        .Field("doc_number", e.doc_number)
        .Field("id", e.id);
    if (!e.legal_status.empty()) w.Field("legal_status", e.legal_status);
    if (!e.repealed_on.empty()) w.Field("repealed_on", e.repealed_on);
    w.EndObject();
  }
  w.EndArray().Key("categories").BeginObject();
  for (const auto& [category, count] : c.categories) w.Field(category, count);
  w.EndObject().EndObject();
  return w.str();
}

std::string CatalogueCsv(const Catalogue& c) {
  std::string out =
      "index_no,title,summary,created,published,category,office,doc_number,id,legal_status,"
      "repealed_on\n";
  for (const CatalogueEntry& e : c.entries) {
    for (const std::string* v : {&e.index_no, &e.title, &e.summary, &e.created, &e.published,
                                 &e.category, &e.office, &e.doc_number, &e.id, &e.legal_status})
      out += CsvCell(*v) + ",";
    out += CsvCell(e.repealed_on) + "\n";
  }
  return out;
}

}  // namespace gongkai::daemon
