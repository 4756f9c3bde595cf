// The 公开目录 (CONTRACT.md section 9, 条例第十二条): every public, approved
// document with its 索引号, 名称, 内容概述, 生成日期 and publication date, by
// category. Shared by GET /api/v1/catalogue, the catalogue page,
// `gongkai catalogue`, and (as inspectors see it) the timeliness report.
//
// Guarantee: a public entry is exactly an active document anonymous callers
// may see (ledger/visibility.h decides, as for search and documents),
// described by the version they are shown. Restricted, pending-only and
// withdrawn documents and reply letters are never listed to them. For
// inspectors every document that ever got an 索引号 is an entry, described
// by its latest approved version.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "gongkai/config.h"
#include "gongkai/ledger/visibility.h"
#include "gongkai/status.h"
#include "gongkai/storage/catalog.h"

namespace gongkai::daemon {

struct CatalogueEntry {
  std::string index_no;
  std::string title;       // the sidecar's, else the file name
  std::string summary;     // 内容概述 (sidecar), may be ""
  std::string created;     // 生成日期 (sidecar, YYYY-MM-DD), may be ""
  std::string published;   // the local date it got its 索引号
  std::string category;    // 一级/二级 or 一级, "" when none
  std::string office;      // the sidecar's agency, else the share's office
  std::string doc_number;  // 文号 (sidecar), may be ""
  std::string id;
  int64_t version = 0;                    // the version described
  std::string legal_status, repealed_on;  // for 规章 and 行政规范性文件 (sidecar)
};

struct CatalogueFilter {
  int year = 0;          // of publication; 0 = every year
  std::string category;  // a whole category, or a first level and all below it
};

struct Catalogue {
  std::vector<CatalogueEntry> entries;        // matching the filter, newest first
  std::map<std::string, int64_t> categories;  // entries per category in the year
  std::set<int> years;                        // years with an entry, whatever the filter
};

using CatalogueEntries = std::vector<CatalogueEntry>;

// Calls `fn` with the ids of the documents that have an 索引号, newest
// publication first, kIndexedBatch at a time (what one catalog read should
// hold); stops at the first error, `fn`'s or the catalog's.
constexpr size_t kIndexedBatch = 500;
Status ForEachIndexedBatch(storage::Catalog& catalog,
                           const std::function<Status(const std::vector<std::string>&)>& fn);
// Calls `fn` with every entry `role` gets, newest publication first, reading
// the catalog a batch of documents at a time: besides the ids of the
// documents with an 索引号, it holds one batch, however long the catalogue.
Status ForEachCatalogueEntry(storage::Catalog& catalog, const Config& config, ledger::Role role,
                             const std::function<void(CatalogueEntry&&)>& fn);
// Every entry `role` gets, newest publication first.
Result<CatalogueEntries> LoadCatalogueEntries(storage::Catalog& catalog, const Config& config,
                                              ledger::Role role);
// The entries of `all` that match `filter`, with the counts.
Catalogue FilterCatalogue(const CatalogueEntries& all, const CatalogueFilter& filter);
// Both at once, holding only the entries that match.
Result<Catalogue> LoadCatalogue(storage::Catalog& catalog, const Config& config,
                                const CatalogueFilter& filter,
                                ledger::Role role = ledger::Role::kAnonymous);

// The public entries, read again only when the log has grown (every change
// that could alter them is a signed record). Thread-safe.
class CatalogueCache {
 public:
  Result<std::shared_ptr<const CatalogueEntries>> Get(storage::Catalog& catalog,
                                                      const Config& config);

 private:
  std::mutex mutex_;
  int64_t records_ = -1;  // the log's size when `entries_` was read
  std::shared_ptr<const CatalogueEntries> entries_;
};

// {"total", "results": [...], "categories": {...}}: entries [offset, offset + limit).
std::string CatalogueJson(const Catalogue& catalogue, int64_t offset, int64_t limit);
// One line per entry, with a header line of the JSON keys. A text cell that
// a spreadsheet would run as a formula (=, +, -, @) starts with a '.
std::string CatalogueCsv(const Catalogue& catalogue);

}  // namespace gongkai::daemon
