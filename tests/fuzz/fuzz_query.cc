// libFuzzer target: anonymous searches aimed at lifting the visibility filter.
//
// The index holds a public document, a restricted one and a public one whose
// newer version waits for review; the hidden texts contain 機密 (and
// "secret"). Whatever the query string, filters, sort and paging, an
// anonymous search may only ever return the public views, and no snippet,
// title or count may reveal the hidden texts.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gongkai/indexer/index.h"

using namespace gongkai::indexer;

namespace {

std::string g_dir;

IndexDoc Doc(const std::string& id, const std::string& text, bool inspectors, bool anon,
             const std::string& cls) {
  IndexDoc d;
  d.id = id;
  d.share = "pub";
  d.path = id + ".txt";
  d.office = "鄉政府";
  d.title = text.substr(0, 12);
  d.type = "txt";
  d.sha256 = std::string(64, 'a');
  d.modified = "2026-03-01T10:00:00Z";
  d.status = "active";
  d.classification = cls;
  d.category = "預算";
  d.version = 1;
  d.size = static_cast<int64_t>(text.size());
  d.for_inspectors = inspectors;
  d.for_public = anon;
  d.text = text;
  return d;
}

void Build() {
  char tmpl[] = "/tmp/gongkai-fuzz-query-XXXXXX";
  g_dir = ::mkdtemp(tmpl);
  auto w = IndexWriter::Open(g_dir + "/index");
  if (!w.ok()) std::abort();
  // Public and approved: one entry for everyone.
  (*w)->Replace(
      Doc("pubdoc", "道路養護經費公開 public budget notice 政务公开", true, true, "public"));
  // Restricted: inspectors only.
  (*w)->Replace(
      Doc("hidden", "機密文件 secret restricted 道路養護經費", true, false, "restricted"));
  // Pending review: inspectors see v2, the public keeps v1.
  (*w)->Replace(Doc("pending", "待審核 機密 secret draft 經費", true, false, "public"));
  (*w)->Replace(Doc("pending", "已公開的舊版 經費 approved old version", false, true, "public"));
  if (!(*w)->Commit(3).ok()) std::abort();
}

bool Reveals(const std::string& s) {
  return s.find("機密") != std::string::npos || s.find("secret") != std::string::npos ||
         s.find("待審核") != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  Build();
  std::atexit([] { std::filesystem::remove_all(g_dir); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Searcher searcher(g_dir + "/index");
  // Fields separated by \x01: q, share, office, type, category, from, to, sort, status, offset,
  // limit.
  std::vector<std::string> f(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 1)
      f.emplace_back();
    else
      f.back() += static_cast<char>(data[i]);
  }
  f.resize(11);
  SearchQuery q;
  q.q = f[0];
  q.share = f[1];
  q.office = f[2];
  q.type = f[3];
  q.category = f[4];
  q.from = f[5];
  q.to = f[6];
  q.sort = f[7];
  if (f[8] == "all")
    q.status = std::nullopt;
  else if (!f[8].empty())
    q.status = gongkai::ParseDocumentStatus(f[8]);  // an unknown one lists all
  q.offset = f[9].empty() ? 0 : static_cast<int>(static_cast<unsigned char>(f[9][0]) % 8);
  q.limit = f[10].empty() ? 20 : static_cast<int>(static_cast<unsigned char>(f[10][0]) % 60);
  q.anonymous = true;
  auto r = searcher.Search(q);
  if (!r.ok()) return 0;           // a refused query is fine; a leak is not
  if (r->total > 2) std::abort();  // only two public views exist
  for (const auto& hit : r->hits) {
    if (hit.doc.classification != "public") std::abort();
    if (hit.doc.id == "hidden") std::abort();
    if (Reveals(hit.snippet) || Reveals(hit.doc.title)) std::abort();
  }
  for (const auto& [facet, values] : r->facets)
    for (const auto& [value, count] : values)
      if (count > 2) std::abort();
  return 0;
}
