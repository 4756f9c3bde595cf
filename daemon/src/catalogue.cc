#include "catalogue.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "csv.h"
#include "gongkai/ledger/visibility.h"
#include "json_writer.h"
#include "sidecar.h"

namespace gongkai::daemon {
namespace {

bool InCategory(const std::string& category, const std::string& wanted) {
  return wanted.empty() || category == wanted ||
         (category.size() > wanted.size() && category.compare(0, wanted.size(), wanted) == 0 &&
          category[wanted.size()] == '/');
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

// Counts `e` in `out`'s years, and in its categories if it is of the
// filter's year; true if it belongs in `out`'s entries.
bool Counted(const CatalogueFilter& filter, const CatalogueEntry& e, Catalogue& out) {
  const int year = e.published.size() >= 4 ? std::atoi(e.published.substr(0, 4).c_str()) : 0;
  if (year > 0) out.years.insert(year);
  if (filter.year > 0 && year != filter.year) return false;
  ++out.categories[e.category];
  return InCategory(e.category, filter.category);
}

// The version an entry describes, or none: no entry for `role`.
std::optional<storage::VersionRow> Described(ledger::Role role, const ledger::DocumentState& s) {
  if (role == ledger::Role::kAnonymous)
    return s.doc.status == DocumentStatus::kActive ? ledger::ShownVersion(role, s) : std::nullopt;
  for (auto v = s.versions.rbegin(); v != s.versions.rend(); ++v)
    if (v->review == ReviewState::kApproved) return *v;
  return std::nullopt;
}

// A spreadsheet runs a cell that starts with one of these as a formula.
std::string CsvText(const std::string& value) {
  const bool formula =
      !value.empty() && std::string("=+-@\t\r").find(value[0]) != std::string::npos;
  return CsvCell(formula ? "'" + value : value);
}

}  // namespace

Status ForEachIndexedBatch(storage::Catalog& catalog,
                           const std::function<Status(const std::vector<std::string>&)>& fn) {
  auto ids = catalog.IndexedDocumentIds();
  if (!ids.ok()) return ids.status();
  for (size_t first = 0; first < ids->size(); first += kIndexedBatch) {
    const auto begin = ids->begin() + static_cast<std::ptrdiff_t>(first);
    const auto n = static_cast<std::ptrdiff_t>(std::min(kIndexedBatch, ids->size() - first));
    if (Status s = fn(std::vector<std::string>(begin, begin + n)); !s.ok()) return s;
  }
  return Status::OK();
}

Status ForEachCatalogueEntry(storage::Catalog& catalog, const Config& config, ledger::Role role,
                             const std::function<void(CatalogueEntry&&)>& fn) {
  return ForEachIndexedBatch(catalog, [&](const std::vector<std::string>& batch) {
    auto states = ledger::LoadDocuments(catalog, batch);
    if (!states.ok()) return states.status();
    for (const std::string& id : batch) {
      auto it = states->find(id);
      if (it == states->end()) continue;
      if (auto shown = Described(role, it->second)) fn(EntryOf(config, it->second.doc, *shown));
    }
    return Status::OK();
  });
}

Result<CatalogueEntries> LoadCatalogueEntries(storage::Catalog& catalog, const Config& config,
                                              ledger::Role role) {
  CatalogueEntries out;
  const Status s = ForEachCatalogueEntry(catalog, config, role,
                                         [&](CatalogueEntry&& e) { out.push_back(std::move(e)); });
  if (!s.ok()) return s;
  return out;
}

Catalogue FilterCatalogue(const CatalogueEntries& all, const CatalogueFilter& filter) {
  Catalogue out;
  for (const CatalogueEntry& e : all)
    if (Counted(filter, e, out)) out.entries.push_back(e);
  return out;
}

Result<Catalogue> LoadCatalogue(storage::Catalog& catalog, const Config& config,
                                const CatalogueFilter& filter, ledger::Role role) {
  Catalogue out;
  const Status s = ForEachCatalogueEntry(catalog, config, role, [&](CatalogueEntry&& e) {
    if (Counted(filter, e, out)) out.entries.push_back(std::move(e));
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::shared_ptr<const CatalogueEntries>> CatalogueCache::Get(storage::Catalog& catalog,
                                                                    const Config& config) {
  auto records = catalog.NextRecordSeq();
  if (!records.ok()) return records.status();
  std::lock_guard<std::mutex> lock(mutex_);
  if (entries_ && *records == records_) return entries_;
  auto all = LoadCatalogueEntries(catalog, config, ledger::Role::kAnonymous);
  if (!all.ok()) return all.status();
  entries_ = std::make_shared<const CatalogueEntries>(std::move(*all));
  records_ = *records;
  return entries_;
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
      out += CsvText(*v) + ",";
    out += CsvText(e.repealed_on) + "\n";
  }
  return out;
}

}  // namespace gongkai::daemon
