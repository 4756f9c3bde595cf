// The same searches as bench/search.sh sends to gongkaid, run in-process on
// raw Xapian: what the index alone costs, without HTTP, JSON, the catalog
// re-check of every hit, snippets or facets.
//
//   xapian_search_bench --db DATA/index [--db DIR...] --queries FILE [--seconds S] [--threads N]
//                       [--check-all | --check N] [--spies] [--boost] [--snippets]
//                       [--json FILE]
//
// FILE has one query a line: "QUERY<TAB>TYPE<TAB>SORT" (TYPE and SORT may be
// empty). Each query is folded Traditional -> Simplified with gongkai's own
// FoldScript (as gongkai does) once, before the clock starts: the figures
// exclude the folding. Then each thread (own read-only Database) goes round
// the queries for S seconds (default 10): QueryParser with FLAG_DEFAULT |
// FLAG_CJK_NGRAM | FLAG_PURE_NOT, default op AND, the anonymous filter
// (XANON) and any type filter, sort by the modified value for "newest" and
// by relevance then that value otherwise (gongkai's order), and
// get_mset(0, 20) — or, with --check-all, get_mset(0, 20, doccount) as
// gongkai does to get exact totals. Prints queries/s and p50/p99 latency.
// Several --db are searched as one sharded database, as the hub searches its
// mirror's shards (bench/hub.sh). --check, --spies, --boost and --snippets
// add gongkai's own semantics piece by piece: at least N matches checked, the
// four facets' match spies, the words as typed ranked first, and a snippet of
// each hit: Xapian's MSet::snippet of its stored snippet text as gongkai
// cuts it (folded to Simplified with gongkai's FoldScript, the query's terms
// being folded; 200 bytes, SNIPPET_CJK_NGRAM). See bench/README.md.
#include <xapian.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gongkai/indexer/chinese.h"

namespace {

struct Query {
  std::string q, type, sort, folded;
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

}  // namespace

// gongkai's phrase boost (indexer/src/index.cc, WithoutNeedlessPositions):
// the quoted query, as AND when it is two terms whose joined form (a
// two-character CJK word's bigram) the query already requires.
Xapian::Query PhraseBoost(const Xapian::Query& phrase, const Xapian::Query& query) {
  if (phrase.get_type() != Xapian::Query::OP_PHRASE || phrase.get_num_subqueries() != 2 ||
      query.get_type() != Xapian::Query::OP_AND)
    return phrase;
  const Xapian::Query a = phrase.get_subquery(0), b = phrase.get_subquery(1);
  for (size_t i = 0; i < query.get_num_subqueries(); ++i)
    if (query.get_subquery(i).get_type() == Xapian::Query::LEAF_TERM &&
        *query.get_subquery(i).get_terms_begin() == *a.get_terms_begin() + *b.get_terms_begin())
      return Xapian::Query(Xapian::Query::OP_AND, a, b);
  return phrase;
}

int main(int argc, char** argv) {
  std::vector<std::string> db_paths;
  std::string queries_path, json_path;
  double seconds = 10;
  int threads = 1;
  bool check_all = false, spies = false, boost = false, snippets = false;
  Xapian::doccount check = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--db")
      db_paths.push_back(next());
    else if (a == "--queries")
      queries_path = next();
    else if (a == "--seconds")
      seconds = std::stod(next());
    else if (a == "--threads")
      threads = std::max(1, std::stoi(next()));
    else if (a == "--check-all")
      check_all = true;
    else if (a == "--check")
      check = static_cast<Xapian::doccount>(std::stoul(next()));
    else if (a == "--spies")
      spies = true;
    else if (a == "--snippets")
      snippets = true;
    else if (a == "--boost")
      boost = true;
    else if (a == "--json")
      json_path = next();
    else {
      std::cerr << "usage: xapian_search_bench --db DIR [--db DIR...] --queries FILE [--seconds S] "
                   "[--threads N] "
                   "[--check-all | --check N] [--spies] [--boost] [--snippets] [--json FILE]\n";
      return 2;
    }
  }
  if (db_paths.empty() || queries_path.empty()) {
    std::cerr << "--db and --queries are required\n";
    return 2;
  }

  std::vector<Query> queries;
  std::ifstream in(queries_path);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    Query q;
    std::istringstream ls(line);
    std::getline(ls, q.q, '\t');
    std::getline(ls, q.type, '\t');
    std::getline(ls, q.sort, '\t');
    q.folded = gongkai::indexer::FoldScript(q.q);
    queries.push_back(q);
  }
  if (queries.empty()) {
    std::cerr << "no queries in " << queries_path << "\n";
    return 2;
  }

  std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
  std::vector<unsigned long> matches(queries.size());
  std::vector<double> slowest(queries.size());  // thread 0's, per query
  std::atomic<bool> failed{false};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      try {
        Xapian::Database db;
        for (const std::string& path : db_paths) db.add_database(Xapian::Database(path));
        const Xapian::doccount all = db.get_doccount();
        auto& mine = lat[static_cast<size_t>(t)];
        mine.reserve(1 << 20);
        for (size_t n = static_cast<size_t>(t);; ++n) {
          auto t0 = std::chrono::steady_clock::now();
          if (t0 >= deadline) break;
          const Query& q = queries[n % queries.size()];
          Xapian::QueryParser qp;
          qp.set_database(db);
          qp.set_default_op(Xapian::Query::OP_AND);
          qp.add_prefix("title", "S");
          constexpr unsigned kFlags = Xapian::QueryParser::FLAG_DEFAULT |
                                      Xapian::QueryParser::FLAG_CJK_NGRAM |
                                      Xapian::QueryParser::FLAG_PURE_NOT;
          Xapian::Query query = qp.parse_query(q.folded, kFlags);
          if (boost && q.folded.find('"') == std::string::npos && query.get_length() > 1)
            query = Xapian::Query(Xapian::Query::OP_AND_MAYBE, query,
                                  PhraseBoost(qp.parse_query('"' + q.folded + '"', kFlags), query));
          std::vector<Xapian::Query> filters{Xapian::Query("XANON")};
          if (!q.type.empty()) filters.emplace_back("XT" + q.type);
          query =
              Xapian::Query(Xapian::Query::OP_FILTER, query,
                            Xapian::Query(Xapian::Query::OP_AND, filters.begin(), filters.end()));
          Xapian::Enquire enquire(db);
          enquire.set_query(query);
          // gongkai's order (indexer/src/index.cc, Order): slot 0 is the
          // date and the entry, no two alike.
          if (q.sort == "newest")
            enquire.set_sort_by_value_then_relevance(0, true);
          else
            enquire.set_sort_by_relevance_then_value(0, true);
          std::vector<std::unique_ptr<Xapian::ValueCountMatchSpy>> spy_list;
          if (spies)
            for (Xapian::valueno slot : {2, 3, 4, 6}) {  // gongkai's facets
              spy_list.push_back(std::make_unique<Xapian::ValueCountMatchSpy>(slot));
              enquire.add_matchspy(spy_list.back().get());
            }
          Xapian::MSet mset = enquire.get_mset(0, 20, check_all ? all : check);
          for (auto& spy : spy_list) (void)spy->get_total();
          // Touch each hit's data, as any search that shows results must.
          size_t bytes = 0;
          for (auto it = mset.begin(); it != mset.end(); ++it) {
            const Xapian::Document doc = it.get_document();
            bytes += doc.get_data().size();
            if (snippets)  // slot 1: the snippet text (indexer/src/index.cc)
              bytes += mset.snippet(gongkai::indexer::FoldScript(doc.get_value(1)), 200,
                                    Xapian::Stem("english"), Xapian::MSet::SNIPPET_CJK_NGRAM)
                           .size();
          }
          auto t1 = std::chrono::steady_clock::now();
          mine.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
          if (t == 0 && n < queries.size()) matches[n] = mset.get_matches_estimated();
          if (t == 0)
            slowest[n % queries.size()] = std::max(slowest[n % queries.size()], mine.back());
          (void)bytes;
        }
      } catch (const Xapian::Error& e) {
        std::cerr << "xapian_search_bench: " << e.get_description() << "\n";
        failed = true;
      }
    });
  }
  for (auto& th : pool) th.join();
  if (failed) return 1;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  const double qps = static_cast<double>(all.size()) / elapsed;
  const double p50 = Percentile(all, 0.50), p99 = Percentile(all, 0.99);
  std::printf(
      "raw xapian%s: %d thread(s), %zu queries in %.2f s: %.0f queries/s, p50 %.3f ms, p99 %.3f "
      "ms\n",
      check_all ? " (check all)" : "", threads, all.size(), elapsed, qps, p50, p99);
  for (size_t i = 0; i < queries.size() && threads == 1; ++i)
    std::fprintf(stderr, "  %-24s -> %-16s type=%s sort=%s matches~%lu slowest %.1f ms\n",
                 queries[i].q.c_str(), queries[i].folded.c_str(), queries[i].type.c_str(),
                 queries[i].sort.c_str(), matches[i], slowest[i]);
  if (!json_path.empty()) {
    std::ofstream j(json_path);
    j << "{\"threads\": " << threads << ", \"check_all\": " << (check_all ? "true" : "false")
      << ", \"queries\": " << all.size() << ", \"seconds\": " << elapsed << ", \"qps\": " << qps
      << ", \"p50_ms\": " << p50 << ", \"p99_ms\": " << p99 << "}\n";
  }
  return 0;
}
