// The 公开目录 (CONTRACT.md section 9, 条例第十二条): every public, approved
// document with its 索引号, 名称, 内容概述, 生成日期 and publication date, by
// category. Shared by GET /api/v1/catalogue, the catalogue page and
// `gongkai catalogue`.
//
// Guarantee: an entry is exactly a document anonymous callers may see
// (ledger/visibility.h decides, as for search and documents), described by
// the version they are shown. Restricted, pending-only, withdrawn documents
// and reply letters are never listed, whoever asks.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gongkai/config.h"
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
  int64_t version = 0;  // the version shown, which the entry describes
  std::string legal_status, repealed_on;  // for 规章 and 行政规范性文件 (sidecar)
};

struct CatalogueFilter {
  int year = 0;          // of publication; 0 = every year
  std::string category;  // a whole category, or a first level and all below it
};

struct Catalogue {
  std::vector<CatalogueEntry> entries;            // matching the filter, newest first
  std::map<std::string, int64_t> categories;      // entries per category in the year
  std::set<int> years;  // every year with a publication, whatever the filter
};

// Reads the catalogue: one pass over the documents that have an 索引号.
Result<Catalogue> LoadCatalogue(storage::Catalog& catalog, const Config& config,
                                const CatalogueFilter& filter);

// {"total", "results": [...], "categories": {...}}: entries [offset, offset + limit).
std::string CatalogueJson(const Catalogue& catalogue, int64_t offset, int64_t limit);
// One line per entry, with a header line of the JSON keys.
std::string CatalogueCsv(const Catalogue& catalogue);

}  // namespace gongkai::daemon
