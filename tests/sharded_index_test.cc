// The sharded index (indexer/sharded_index.h) on real Xapian databases: the
// same answers with N shards as with one, query by query, on the corpus when
// it is present and always on generated documents; a document's entries in
// one shard; the watermark the least of the shards'; another shard count or
// the old single-database layout rebuilt, never opened as it is.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "gongkai/indexer/extract.h"
#include "gongkai/indexer/index.h"
#include "gongkai/indexer/sharded_index.h"
#include "gongkai/utf8.h"
#include "support/temp_dir.h"

using namespace gongkai;
using namespace gongkai::indexer;
using gongkai::test::TempDir;
namespace fs = std::filesystem;

namespace {

// Generated documents: words from a small vocabulary (so that many share
// terms and weights tie), in both scripts, two shares, some withdrawn, some
// with a separate public entry or archive members.
std::vector<IndexDoc> GeneratedDocs(int count) {
  const std::vector<std::string> words = {"政府", "信息", "公開",   "公开",   "預算",
                                          "预算", "鄉鎮", "budget", "report", "水利",
                                          "道路", "補助", "采购"};
  std::mt19937 rng(17);
  std::vector<IndexDoc> docs;
  for (int i = 0; i < count; ++i) {
    IndexDoc d;
    d.id = "doc" + std::to_string(i);
    d.share = i % 3 == 0 ? "county" : "town";
    d.office = d.share + " office";
    d.path = "dir" + std::to_string(i % 4) + "/file" + std::to_string(i) + ".txt";
    d.type = i % 5 == 0 ? "pdf" : "txt";
    d.version = 1 + i % 2;
    d.sha256 = std::string(64, "0123456789abcdef"[i % 16]);
    d.modified =
        "2026-0" + std::to_string(1 + i % 9) + "-1" + std::to_string(i % 10) + "T00:00:00Z";
    d.status = i % 11 == 0 ? "withdrawn" : "active";
    d.classification = "public";
    d.title = words[rng() % words.size()] + words[rng() % words.size()] + " " + std::to_string(i);
    for (int w = 0; w < 5 + static_cast<int>(rng() % 40); ++w)
      d.text += words[rng() % words.size()] + " ";
    d.for_public = i % 4 != 0;
    docs.push_back(d);
    if (i % 7 == 0) {  // a newer version pending review: the public entry is the older one
      IndexDoc p = d;
      p.version = d.version - 1;
      p.for_inspectors = false;
      p.for_public = true;
      p.text += "舊版 older";
      docs.push_back(p);
    }
    if (i % 9 == 0) {  // an archive with two members
      for (const char* member : {"a.txt", "sub/b.txt"}) {
        IndexDoc m = d;
        m.member = member;
        m.path = d.path + "!/" + member;
        m.title = member;
        m.text = words[rng() % words.size()] + " member " + member;
        docs.push_back(m);
      }
    }
  }
  return docs;
}

// The corpus's documents, extracted here (not in worker processes: the
// corpus is trusted test data), or none when it is absent.
std::vector<IndexDoc> CorpusDocs() {
  const fs::path root = fs::path(GONGKAI_SHARED_DIR) / "corpus/docs";
  std::vector<IndexDoc> docs;
  if (!fs::is_directory(root)) return docs;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.file_size() < std::uintmax_t{4} * 1024 * 1024)
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string bytes = gongkai::test::Slurp(files[i].string());
    const std::string rel = fs::relative(files[i], root).string();
    Extracted e = Extract(bytes, rel);
    IndexDoc d;
    d.id = "c" + std::to_string(i);
    d.share = rel.substr(0, rel.find('/'));
    d.office = d.share;
    d.path = rel;
    d.type = TypeFromName(rel);
    d.version = 1;
    d.sha256 = std::string(64, 'c');
    d.modified = "2026-11-" + std::to_string(10 + i % 20) + "T00:00:00Z";
    d.status = "active";
    d.classification = "public";
    d.title = e.title.empty() ? rel : e.title;
    d.text = e.text;
    d.for_public = i % 5 != 0;
    docs.push_back(d);
  }
  return docs;
}

// Queries from the documents themselves: the first words of titles and
// texts (two and four characters of Chinese, English words), and listings.
std::vector<SearchQuery> QueriesFor(const std::vector<IndexDoc>& docs) {
  std::set<std::string> texts;
  for (size_t i = 0; i < docs.size(); i += std::max<size_t>(1, docs.size() / 40)) {
    for (const std::string* source : {&docs[i].title, &docs[i].text}) {
      const std::string& t = *source;
      size_t start = t.size() / 3;
      while (start < t.size() && (static_cast<unsigned char>(t[start]) & 0xC0) == 0x80) ++start;
      for (size_t chars : {2, 4}) {
        std::string cut;
        size_t n = 0, at = start;
        while (at < t.size() && n < chars) {
          const size_t len = Utf8SequenceLength(t, at);
          if (len == 0) break;
          cut += t.substr(at, len);
          at += len;
          ++n;
        }
        if (n == chars && IsValidUtf8(cut) && cut.find_first_of("\"()\n\t") == std::string::npos)
          texts.insert(cut);
      }
    }
  }
  for (const char* fixed : {"", "政府 信息", "公開", "budget OR report", "預算 -道路", "member"})
    texts.insert(fixed);
  std::vector<SearchQuery> queries;
  for (const std::string& t : texts)
    for (bool anonymous : {true, false}) {
      SearchQuery q;
      q.q = t;
      q.anonymous = anonymous;
      q.limit = 2000;  // every hit: a page could end inside a run of ties
      queries.push_back(q);
      if (t.empty() || anonymous) continue;
      q.status = std::nullopt;
      q.sort = "oldest";
      queries.push_back(q);
      q.sort = "";
      q.share = "town";
      q.type = "txt";
      queries.push_back(q);
    }
  return queries;
}

// What a snippet highlights. Of two passages that score alike, Xapian may
// pick either, and the rounding of its passage scores differs by shard.
std::string Highlighted(const std::string& snippet) {
  std::set<std::string> words;
  for (size_t at = snippet.find("<b>"); at != std::string::npos; at = snippet.find("<b>", at)) {
    const size_t end = snippet.find("</b>", at);
    if (end == std::string::npos) break;
    words.insert(snippet.substr(at + 3, end - at - 3));
    at = end;
  }
  std::string out;
  for (const std::string& w : words) out += w + " ";
  return out;
}

// A hit: its entry, version and what its snippet highlights.
std::string Hit(const SearchHit& h) {
  return h.doc.id + "|" + h.doc.path + "|" + std::to_string(h.doc.version) + "|" +
         Highlighted(h.snippet);
}

std::vector<std::string> Hits(const SearchResult& r) {
  std::vector<std::string> out;
  for (const SearchHit& h : r.hits) out.push_back(Hit(h));
  return out;
}

// The hits in order, those of a weight alike to 6 digits sorted among
// themselves.
std::vector<std::string> Ranked(const SearchResult& r) {
  std::vector<std::string> out;
  std::string last;
  size_t run = 0;  // where the run of hits of weight `last` began in `out`
  for (const SearchHit& h : r.hits) {
    char weight[32];
    std::snprintf(weight, sizeof weight, "%.6g", h.weight);
    if (weight != last) {
      std::sort(out.begin() + static_cast<std::ptrdiff_t>(run), out.end());
      run = out.size();
      last = weight;
    }
    out.push_back(Hit(h));
  }
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(run), out.end());
  return out;
}

void Fill(ShardedWriter& w, const std::vector<IndexDoc>& docs) {
  for (const IndexDoc& d : docs) {
    auto p = Prepare(d);
    REQUIRE(p.ok());
    REQUIRE(w.Replace(std::move(*p)).ok());
  }
  REQUIRE(w.Commit(41).ok());
}

void CompareShardCounts(const std::vector<IndexDoc>& docs, const std::string& what) {
  TempDir dir;
  const std::string one = dir / "one", many = dir / "many";
  {
    auto w1 = ShardedWriter::Open(one, 1);
    auto w4 = ShardedWriter::Open(many, 4);
    REQUIRE((w1.ok() && w4.ok()));
    Fill(**w1, docs);
    Fill(**w4, docs);
    CHECK((*w4)->doc_count() == (*w1)->doc_count());
  }
  Searcher a(one), b(many);
  const std::vector<SearchQuery> queries = QueriesFor(docs);
  size_t compared = 0, with_hits = 0;
  for (const SearchQuery& q : queries) {
    auto x = a.Search(q);
    auto y = b.Search(q);
    REQUIRE((x.ok() && y.ok()));
    INFO(what << ": query '" << q.q << "' anonymous " << q.anonymous << " sort " << q.sort);
    CHECK(x->total == y->total);
    CHECK(x->strict_total == y->strict_total);
    CHECK(x->relaxed == y->relaxed);
    CHECK(x->facets == y->facets);
    const bool by_date = q.q.empty() || !q.sort.empty();
    if (by_date) {
      // In the same order, ties too (by entry, not by Xapian's document
      // ids), so that every page holds the same hits.
      CHECK(Hits(*x) == Hits(*y));
      SearchQuery page = q;
      page.offset = 3;
      page.limit = 7;
      auto px = a.Search(page);
      auto py = b.Search(page);
      REQUIRE((px.ok() && py.ok()));
      CHECK(Hits(*px) == Hits(*py));
    } else if (!x->relaxed || x->total < kRelaxedMax) {
      // By relevance, equal weights are put in entry order alike; but a
      // weight summed over N shards can differ in its last bit, which
      // reorders two hits a bit apart. Hits of a weight alike to 6 digits
      // are compared as a set. (A relaxed answer keeps no weights, and at
      // kRelaxedMax is cut inside such a run.)
      CHECK(Ranked(*x) == Ranked(*y));
    }
    CHECK(x->dropped == y->dropped);
    CHECK(x->optional == y->optional);
    ++compared;
    with_hits += x->hits.empty() ? 0 : 1;
  }
  CHECK(with_hits * 2 > compared);  // the queries find things: the comparison means something
  std::cout << what << ": " << docs.size() << " entries, " << compared << " queries (" << with_hits
            << " with hits) answered alike by 1 and 4 shards\n";
}

}  // namespace

TEST_CASE("sharded index: four shards answer every query as one does", "[indexer][shards]") {
  CompareShardCounts(GeneratedDocs(400), "generated documents");
  const std::vector<IndexDoc> corpus = CorpusDocs();
  if (corpus.empty()) {
    WARN("corpus part skipped: no corpus at " GONGKAI_SHARED_DIR "/corpus/docs");
    return;
  }
  CompareShardCounts(corpus, "corpus");
}

TEST_CASE("sharded index: a document's entries share one shard, spread over all",
          "[indexer][shards]") {
  TempDir dir;
  const std::vector<IndexDoc> docs = GeneratedDocs(120);
  {
    auto w = ShardedWriter::Open(dir / "index", 3);
    REQUIRE(w.ok());
    CHECK((*w)->rebuilt().empty());  // new: nothing was there
    Fill(**w, docs);
  }
  const std::vector<std::string> shards = ShardDirs(dir / "index");
  REQUIRE(shards.size() == 3);
  std::map<std::string, std::set<size_t>> where;  // id -> shards holding an entry of it
  std::vector<uint64_t> per_shard;
  for (size_t k = 0; k < shards.size(); ++k) {
    Searcher s(shards[k]);
    SearchQuery all;
    all.anonymous = false;
    all.status = std::nullopt;
    all.limit = 10000;
    for (bool anonymous : {false, true}) {
      all.anonymous = anonymous;
      auto r = s.Search(all);
      REQUIRE(r.ok());
      for (const SearchHit& h : r->hits) where[h.doc.id].insert(k);
    }
    auto count = s.DocCount();
    REQUIRE(count.ok());
    per_shard.push_back(*count);
    CHECK(*count > 0);
  }
  CHECK(per_shard[0] + per_shard[1] + per_shard[2] == 120);
  CHECK(where.size() == 120);
  for (const auto& [id, in] : where) {
    INFO(id);
    CHECK(in == std::set<size_t>{ShardOf(id, 3)});
  }
  // Members are found with their archive: searched in the shard of "doc0".
  Searcher s(shards[ShardOf("doc0", 3)]);
  SearchQuery q;
  q.q = "member";
  q.anonymous = false;
  q.status = std::nullopt;  // doc0 is withdrawn
  q.limit = 100;
  auto r = s.Search(q);
  REQUIRE(r.ok());
  CHECK(std::any_of(r->hits.begin(), r->hits.end(),
                    [](const SearchHit& h) { return h.doc.path == "dir0/file0.txt!/a.txt"; }));
}

TEST_CASE(
    "sharded index: the watermark is the least of the shards', and a failed change is not "
    "committed",
    "[indexer][shards]") {
  TempDir dir;
  const std::vector<IndexDoc> docs = GeneratedDocs(30);
  {
    auto w = ShardedWriter::Open(dir / "index", 3);
    REQUIRE(w.ok());
    CHECK((*w)->watermark() == -1);
    Fill(**w, docs);  // watermark 41
    CHECK((*w)->watermark() == 41);
  }
  // A crash between two shards' commits: shard 1 went on to 50, the others did not.
  {
    auto shard = IndexWriter::Open(ShardDirs(dir / "index")[1]);
    REQUIRE(shard.ok());
    REQUIRE((*shard)->Commit(50).ok());
  }
  CHECK(*Searcher(dir / "index").Watermark() == 41);
  {
    auto w = ShardedWriter::Open(dir / "index", 3);
    REQUIRE(w.ok());
    CHECK((*w)->rebuilt().empty());
    CHECK((*w)->watermark() == 41);  // replayed from the earliest
    CHECK((*w)->doc_count() == 30);
    // Uncommitted changes are not durable: dropped when the writer closes.
    REQUIRE((*w)->Remove("doc1").ok());
    REQUIRE((*w)->Remove("doc2").ok());
  }
  {
    auto w = ShardedWriter::Open(dir / "index", 3);
    REQUIRE(w.ok());
    CHECK((*w)->doc_count() == 30);
    REQUIRE((*w)->Remove("doc1").ok());
    REQUIRE((*w)->Commit(60).ok());
    CHECK((*w)->doc_count() == 29);
  }
  CHECK(*Searcher(dir / "index").Watermark() == 60);
  CHECK(*Searcher(dir / "index").DocCount() == 29);
  // A change a shard cannot apply (an id past Xapian's term length) fails the
  // commit: that shard commits nothing and stays at 60, the others commit.
  const std::string too_long(300, 'x');
  {
    auto w = ShardedWriter::Open(dir / "index", 3);
    REQUIRE(w.ok());
    IndexDoc bad = docs[3];
    bad.id = too_long;
    auto prepared = Prepare(bad);
    REQUIRE(prepared.ok());
    REQUIRE((*w)->Remove("doc3").ok());
    REQUIRE((*w)->Replace(std::move(*prepared)).ok());  // queued: fails on its shard
    CHECK_FALSE((*w)->Commit(70).ok());
    CHECK((*w)->watermark() == 60);
    REQUIRE((*w)->Commit(71).ok());  // the shards go on after the failure
  }
  CHECK(*Searcher(dir / "index").Watermark() == 71);
  // doc3's removal went with the failed change when they share a shard.
  const bool same_shard = ShardOf("doc3", 3) == ShardOf(too_long, 3);
  CHECK(*Searcher(dir / "index").DocCount() == (same_shard ? 29U : 28U));
  CHECK_FALSE(Searcher(dir / "index").Get(too_long).ok());
}

TEST_CASE(
    "sharded index: commits queued without waiting are taken in order, and a failed one drops "
    "the later ones",
    "[indexer][shards]") {
  TempDir dir;
  const std::vector<IndexDoc> docs = GeneratedDocs(30);
  auto w = ShardedWriter::Open(dir / "index", 3);
  REQUIRE(w.ok());
  Fill(**w, docs);                           // watermark 41
  CHECK((*w)->Settle(/*wait=*/false).ok());  // nothing queued
  REQUIRE((*w)->Remove("doc1").ok());
  (*w)->CommitLater(50);
  CHECK((*w)->queued_watermark() == 50);
  REQUIRE((*w)->Remove("doc2").ok());  // goes into the next commit
  (*w)->CommitLater(51);
  REQUIRE((*w)->Settle(/*wait=*/true).ok());
  CHECK((*w)->watermark() == 51);
  CHECK((*w)->doc_count() == 28);
  CHECK(*Searcher(dir / "index").Watermark() == 51);

  // A change that fails on its shard fails its commit; the commit queued
  // after it is dropped too, even where a shard made it, and the watermark
  // stays at the last commit every shard made.
  IndexDoc bad = docs[3];
  bad.id = std::string(300, 'x');
  auto prepared = Prepare(bad);
  REQUIRE(prepared.ok());
  REQUIRE((*w)->Replace(std::move(*prepared)).ok());
  (*w)->CommitLater(60);
  REQUIRE((*w)->Remove("doc4").ok());
  (*w)->CommitLater(61);
  CHECK_FALSE((*w)->Settle(/*wait=*/true).ok());
  CHECK((*w)->watermark() == 51);
  CHECK((*w)->queued_watermark() == 51);  // the feeder reads on from here
  REQUIRE((*w)->Commit(62).ok());         // the shards go on after the failure
  CHECK(*Searcher(dir / "index").Watermark() == 62);

  // Far more changes than a shard queues (one removal per document): the
  // caller waits for room, and none is lost on the way.
  auto one = ShardedWriter::Open(dir / "one", 1);
  REQUIRE(one.ok());
  const std::vector<IndexDoc> many = GeneratedDocs(200);
  Fill(**one, many);
  REQUIRE((*one)->doc_count() == 200);
  std::set<std::string> ids;
  for (const IndexDoc& d : many) ids.insert(d.id);
  for (const std::string& id : ids) REQUIRE((*one)->Remove(id).ok());
  REQUIRE((*one)->Commit(42).ok());
  CHECK((*one)->doc_count() == 0);
}

TEST_CASE("sharded index: another shard count, or the single database of before, is rebuilt",
          "[indexer][shards]") {
  TempDir dir;
  const std::string index = dir / "index";
  {
    auto old = IndexWriter::Open(index);  // the layout before shards
    REQUIRE(old.ok());
    REQUIRE((*old)->Replace(GeneratedDocs(1)[0]).ok());
    REQUIRE((*old)->Commit(7).ok());
  }
  CHECK(ShardDirs(index).empty());
  CHECK(ResolveShards(index, 0) ==
        std::clamp<size_t>(std::thread::hardware_concurrency(), 1, kMaxAutoShards));
  {
    auto w = ShardedWriter::Open(index, 2);
    REQUIRE(w.ok());
    CHECK((*w)->rebuilt().find("not a sharded index") != std::string::npos);
    CHECK((*w)->watermark() == -1);
    CHECK((*w)->doc_count() == 0);
    Fill(**w, GeneratedDocs(10));
  }
  CHECK(ShardDirs(index).size() == 2);
  CHECK(ResolveShards(index, 0) == 2);  // auto keeps what is there
  CHECK(ResolveShards(index, 5) == 5);
  {
    auto same = ShardedWriter::Open(index, 2);
    REQUIRE(same.ok());
    CHECK((*same)->rebuilt().empty());
    CHECK((*same)->watermark() == 41);
  }
  auto w = ShardedWriter::Open(index, 5);
  REQUIRE(w.ok());
  CHECK((*w)->rebuilt() == index + " has 2 shards, and [index] shards is 5");
  CHECK((*w)->watermark() == -1);
  CHECK((*w)->doc_count() == 0);
  CHECK(ShardDirs(index).size() == 5);
  // Clear() (gongkai reindex) empties every shard.
  Fill(**w, GeneratedDocs(10));
  CHECK((*w)->doc_count() == 10);
  REQUIRE((*w)->Clear().ok());
  CHECK((*w)->watermark() == -1);
  CHECK((*w)->doc_count() == 0);
}
