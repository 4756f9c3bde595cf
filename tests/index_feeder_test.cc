// The index feeder's parallel pipeline on a real catalog, blob store, index
// and extraction workers: every document ends up with its last catalog state
// whatever order the pool's threads finish in, and a worker that crashes in
// the middle of a round costs only that document's text.
#include <xapian.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "gongkai/indexer/extract_worker.h"
#include "gongkai/indexer/index.h"
#include "gongkai/indexer/sharded_index.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/keys.h"
#include "index_feeder.h"
#include "support/ledger_apply.h"
#include "support/temp_dir.h"

using namespace gongkai;
using gongkai::test::TempDir;

namespace {

ledger::Change Version(storage::BlobStore& blobs, const std::string& path,
                       const std::string& content, const std::string& doc_id = "") {
  auto w = blobs.NewWriter();
  REQUIRE(w.ok());
  REQUIRE((*w)->Append(content.data(), content.size()).ok());
  auto sha = (*w)->Finish();
  REQUIRE(sha.ok());
  REQUIRE((*w)->Commit().ok());
  ledger::Change c;
  c.doc_id = doc_id;
  c.share = "pub";
  c.path = path;
  c.sha256 = *sha;
  c.size = static_cast<int64_t>(content.size());
  c.file = {c.size, 1'700'000'000'000'000'000, 42};
  return c;
}

std::vector<std::string> Paths(indexer::Searcher& searcher, const std::string& q) {
  indexer::SearchQuery query;
  query.q = q;
  query.anonymous = false;
  query.status = std::nullopt;  // all
  query.limit = 200;
  auto r = searcher.Search(query);
  REQUIRE(r.ok());
  std::vector<std::string> paths;
  for (const auto& hit : r->hits) paths.push_back(hit.doc.path);
  return paths;
}

// Each shard's Xapian revision: one more per commit.
std::vector<Xapian::rev> Revisions(const std::string& index) {
  std::vector<Xapian::rev> revs;
  for (const std::string& shard : indexer::ShardDirs(index))
    revs.push_back(Xapian::Database(shard).get_revision());
  return revs;
}

}  // namespace

TEST_CASE(
    "index feeder: in parallel, each document's last state wins, a worker crash costs one text",
    "[daemon][index]") {
  const size_t shards = GENERATE(1, 3);
  INFO(shards << " shards");
  ::setenv("GONGKAI_EXTRACT_TEST_HOOKS", "1", 1);  // inherited by the workers started below
  TempDir dir;
  Config config;
  config.shares.push_back(ShareConfig{"pub", dir.path() + "/share", "鄉公所"});
  auto key = storage::SigningKey::Generate();
  auto catalog = storage::OpenSqliteCatalog(dir / "catalog.sqlite", storage::Env::Default());
  auto blobs = storage::BlobStore::Open(storage::Env::Default(), dir / "blobs", dir / "tmp");
  auto writer = indexer::ShardedWriter::Open(dir / "index", shards);
  REQUIRE((key.ok() && catalog.ok() && blobs.ok() && writer.ok()));

  // 150 documents, then a second version of each in a later batch, with a
  // crashing parser and a withdrawal in between: 302 records, one round.
  constexpr int kDocs = 150;
  std::vector<ledger::Change> first, second;
  for (int i = 0; i < kDocs; ++i)
    first.push_back(
        Version(**blobs, "d" + std::to_string(i) + ".txt", "第一版 alpha" + std::to_string(i)));
  first.insert(first.begin() + kDocs / 2,
               Version(**blobs, "crash.pdf", "GONGKAI-EXTRACT-TEST:abort\n"));
  REQUIRE(gongkai::test::ApplyChanges(catalog->get(), first, **key).ok());
  for (const ledger::Change& c : first)
    if (c.path != "crash.pdf")
      second.push_back(Version(**blobs, c.path,
                               "第二版 beta" + c.path.substr(1, c.path.find('.') - 1), c.doc_id));
  ledger::Change withdraw{ledger::Change::Kind::kWithdraw, first[0].doc_id};
  second.insert(second.begin() + 1, withdraw);
  REQUIRE(gongkai::test::ApplyChanges(catalog->get(), second, **key).ok());

  indexer::ExtractWorkerOptions options = indexer::DefaultExtractWorkerOptions();
  options.program = GONGKAI_EXTRACT_PATH;
  options.max_workers = 3;
  indexer::ExtractWorkers workers(options);
  std::vector<std::unique_ptr<storage::Catalog>> readers;
  for (int i = 0; i < 3; ++i) {
    auto reader = storage::OpenSqliteCatalog(dir / "catalog.sqlite", storage::Env::Default());
    REQUIRE(reader.ok());
    readers.push_back(std::move(*reader));
  }
  const std::vector<Xapian::rev> before = Revisions(dir / "index");
  REQUIRE(before.size() == shards);
  std::vector<int64_t> commits;  // the watermark after each notice
  daemon::IndexFeeder feeder(
      config, catalog->get(), std::move(readers), blobs->get(), writer->get(), &workers,
      [&] { commits.push_back((*writer)->watermark()); },
      /*documents_per_shard_commit=*/128);
  auto indexed = feeder.CatchUp();
  REQUIRE(indexed.ok());
  CHECK(*indexed == kDocs + 1);  // one round: each document once, at its last state
  // A commit after 128 documents a shard: with one shard, all of those the
  // first 128 records touch; with three (384), the round ends first. The
  // feeder does not wait for the first commit, so the two may be noticed
  // together; the last notice is of the whole round.
  const int64_t last = second.back().record.seq;
  REQUIRE_FALSE(commits.empty());
  CHECK(commits.back() == last);
  CHECK(std::is_sorted(commits.begin(), commits.end()));
  CHECK((commits.size() == 1 || commits == std::vector<int64_t>{127, last}));
  const std::vector<Xapian::rev> after = Revisions(dir / "index");
  for (size_t k = 0; k < shards; ++k) CHECK(after[k] - before[k] == (shards == 1 ? 2 : 1));
  CHECK(feeder.backlog() == 0);

  indexer::Searcher searcher(dir / "index");
  CHECK(Paths(searcher, "第一版").empty());
  CHECK(Paths(searcher, "第二版").size() == kDocs);
  CHECK(Paths(searcher, "beta7") == std::vector<std::string>{"d7.txt"});
  CHECK(Paths(searcher, "alpha7").empty());
  auto withdrawn = searcher.Get(first[0].doc_id);
  REQUIRE(withdrawn.ok());
  CHECK(withdrawn->status == "withdrawn");
  auto crashed = searcher.Get(first[kDocs / 2].doc_id);
  REQUIRE(crashed.ok());
  CHECK(crashed->path == "crash.pdf");
  CHECK(crashed->text_note.rfind("extraction crashed (signal 6", 0) == 0);
  CHECK(*searcher.DocCount() == kDocs + 1);
  CHECK((*writer)->doc_count() == kDocs + 1);
  CHECK(indexer::ShardDirs(dir / "index").size() == shards);
  CHECK(feeder.errors() == 0);

  // Nothing new: nothing indexed, no commit.
  const size_t notices = commits.size();
  auto again = feeder.CatchUp();
  REQUIRE(again.ok());
  CHECK(*again == 0);
  CHECK(commits.size() == notices);
  CHECK(Revisions(dir / "index") == after);
  ::unsetenv("GONGKAI_EXTRACT_TEST_HOOKS");
}
