#include "index_check.h"

#include "gongkai/indexer/index.h"
#include "gongkai/indexer/sharded_index.h"
#include "gongkai/ledger/visibility.h"
#include "index_feeder.h"

namespace gongkai::daemon {
namespace {

// What Get() found for one kind of user against what the catalog wants.
void CompareView(const indexer::IndexDoc& want, const indexer::IndexDoc& indexed,
                 const std::string& where, const std::string& view, storage::VerifyReport& report) {
  if (indexed.version != want.version)
    report.problems.push_back({where, view + " has version " + std::to_string(indexed.version) +
                                          ", catalog " + std::to_string(want.version)});
  if (indexed.status != want.status)
    report.problems.push_back(
        {where, view + " status " + indexed.status + ", catalog " + want.status});
  if (indexed.classification != want.classification)
    report.problems.push_back({where, view + " classification " + indexed.classification +
                                          ", catalog " + want.classification});
}

// Checks one document's entries; returns how many public views it should have.
size_t CheckDocument(const Config& config, storage::Catalog* catalog,
                     const storage::BlobStore& blobs, indexer::Searcher& searcher,
                     const storage::DocumentRow& d, storage::VerifyReport& report) {
  const std::string where = "index of document " + d.id + " (" + d.share + ":" + d.path + ")";
  auto state = ledger::LoadDocument(*catalog, d.id);
  if (!state.ok() || !state->has_value()) return 0;  // reported by the archive check
  auto want = BuildIndexDocs(config, blobs, **state, /*with_text=*/false);
  if (!want.ok()) return 0;  // reported by the archive check
  size_t public_views = 0;
  for (const indexer::IndexDoc& w : *want) {
    for (bool public_view : {false, true}) {
      if (public_view ? !w.for_public : !w.for_inspectors) continue;
      public_views += public_view;
      const std::string view = public_view ? "public view" : "inspector view";
      auto indexed = searcher.Get(d.id, public_view);
      if (indexed.ok())
        CompareView(w, *indexed, where, view, report);
      else
        report.problems.push_back({where, view + " missing"});
    }
  }
  if (public_views == 0 && searcher.Get(d.id, true).ok())
    report.problems.push_back(
        {where, "is searchable by anonymous users, but may not be seen by them"});
  return public_views;
}

// The index's totals and its archive members.
void CheckTotals(indexer::Searcher& searcher, size_t documents, size_t public_views,
                 storage::VerifyReport& report) {
  if (auto n = searcher.PublicCount(); n.ok() && *n != public_views)
    report.problems.push_back({"index", std::to_string(*n) +
                                            " public views indexed, catalog allows " +
                                            std::to_string(public_views)});
  if (auto n = searcher.DocCount(); n.ok() && *n != documents)
    report.problems.push_back({"index", std::to_string(*n) + " documents indexed, catalog has " +
                                            std::to_string(documents)});
  // Archive members carry their archive entry's visibility; one that does not is stale or leaks.
  auto members = searcher.MemberProblems();
  if (!members.ok())
    report.problems.push_back({"index", members.status().ToString()});
  else
    for (const std::string& p : *members) report.problems.push_back({"index archive member", p});
}

}  // namespace

void VerifyIndex(const Config& config, storage::Catalog* catalog, const storage::BlobStore& blobs,
                 const std::string& index_dir, storage::VerifyReport& report) {
  const size_t shards = indexer::ShardDirs(index_dir).size();
  if (const size_t wanted = indexer::ResolveShards(index_dir, config.index_shards);
      shards != wanted)
    report.warnings.push_back({"index", (shards == 0 ? std::string("not a sharded index")
                                                     : std::to_string(shards) + " shards") +
                                            ", [index] shards is " + std::to_string(wanted) +
                                            ": the daemon rebuilds it at its next start"});
  indexer::Searcher searcher(index_dir);
  auto watermark = searcher.Watermark();
  auto counts = catalog->Counts();
  if (!watermark.ok() || !counts.ok()) {
    report.problems.push_back(
        {"index", watermark.ok() ? counts.status().ToString() : watermark.status().ToString()});
    return;
  }
  if (*watermark < counts->records - 1) {
    report.warnings.push_back({"index", "behind the catalog by " +
                                            std::to_string(counts->records - 1 - *watermark) +
                                            " records (still indexing); index not compared"});
    return;
  }
  auto docs = catalog->AllDocuments();
  if (!docs.ok()) {
    report.problems.push_back({"index", docs.status().ToString()});
    return;
  }
  size_t public_views = 0;
  for (const auto& d : *docs)
    public_views += CheckDocument(config, catalog, blobs, searcher, d, report);
  CheckTotals(searcher, docs->size(), public_views, report);
}

}  // namespace gongkai::daemon
