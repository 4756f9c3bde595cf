// Property test for "nothing leaked": many documents, random changes of
// classification and review state through the admin API, each followed by
// anonymous searches (including for the exact text of hidden documents),
// fetches and totals, compared with a model of who may see what.
#include <catch2/catch.hpp>
#include <random>

#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::WriteFile;

namespace {

std::string Token(int i) {  // a unique, searchable ASCII word per document
  std::string t = "zq";
  for (int k = 0; k < 4; ++k, i /= 26) t += static_cast<char>('a' + i % 26);
  return t;
}

struct ModelDoc {
  std::string share, path, id, token;
  bool restricted = false;
  bool approved = false;
  bool visible() const { return !restricted && approved; }
};

}  // namespace

TEST_CASE("leaks: random classification and review flips never expose a hidden document",
          "[e2e][leak]") {
  constexpr int kDocs = 1500;
  constexpr int kSteps = 600;
  DaemonProcess d({{"pub", ""}, {"rev", "review = required"}});
  std::vector<ModelDoc> docs;
  for (int i = 0; i < kDocs; ++i) {
    ModelDoc m;
    m.share = i % 3 == 0 ? "rev" : "pub";
    m.path = "d" + std::to_string(i) + ".txt";
    m.token = Token(i);
    m.approved = m.share == "pub";
    WriteFile(d.FilePath(m.share, m.path),
              "公開文件 common " + m.token + " 第" + std::to_string(i) + "號。\n");
    docs.push_back(m);
  }
  d.Start();
  d.WaitIdle(kDocs, 600);

  // Learn the ids from the inspector's listing.
  std::map<std::string, std::string> ids;  // share:path -> id
  for (int offset = 0; offset < kDocs; offset += 100) {
    auto list =
        d.Get("/api/v1/search?limit=100&offset=" + std::to_string(offset), d.inspector()).json();
    auto results = list->getArray("results");
    for (size_t k = 0; k < results->size(); ++k) {
      auto r = results->getObject(static_cast<unsigned>(k));
      ids[r->getValue<std::string>("share") + ":" + r->getValue<std::string>("path")] =
          r->getValue<std::string>("id");
    }
  }
  REQUIRE(ids.size() == kDocs);
  for (auto& m : docs) m.id = ids[m.share + ":" + m.path];
  const std::string missing_body = d.Get("/api/v1/documents/aaaaaaaaaaaaaaaaaaaaaaaa").body;

  auto visible_count = [&] {
    return std::count_if(docs.begin(), docs.end(), [](const ModelDoc& m) { return m.visible(); });
  };
  size_t leaks = 0, checks = 0;
  auto check_doc = [&](const ModelDoc& m) {
    auto paths = d.SearchPaths(m.token);
    const bool found = paths.size() == 1 && paths[0] == m.share + ":" + m.path;
    const bool hidden_ok = paths.empty();
    auto fetch = d.Get("/api/v1/documents/" + m.id);
    auto content = d.Get("/api/v1/documents/" + m.id + "/versions/1/content");
    checks += 3;
    if (m.visible()) {
      CHECK(found);
      CHECK(fetch.status == 200);
    } else {
      if (!hidden_ok || fetch.status != 404 || fetch.body != missing_body ||
          content.status != 404) {
        ++leaks;
        FAIL_CHECK("hidden document " << m.share << ":" << m.path << " exposed: search "
                                      << paths.size() << " hits, fetch " << fetch.status
                                      << ", content " << content.status);
      }
    }
  };

  std::mt19937 rng(424242);
  for (int step = 0; step < kSteps; ++step) {
    ModelDoc& m = docs[std::uniform_int_distribution<size_t>(0, docs.size() - 1)(rng)];
    const std::string url = "/api/v1/documents/" + m.id;
    if (m.share == "rev" && !m.approved && rng() % 2 == 0) {
      REQUIRE(d.Request("POST", url + "/approve", d.admin()).status == 200);
      m.approved = true;
    } else {
      const bool to_restricted = !m.restricted;
      auto r = d.Request("POST", url + "/classification", d.admin(), {},
                         std::string("{\"classification\":\"") +
                             (to_restricted ? "restricted" : "public") + "\"}");
      REQUIRE(r.status == 200);
      m.restricted = to_restricted;
    }
    check_doc(m);
    // And a hidden document picked at random, searched by its own text.
    for (int tries = 0; tries < 20; ++tries) {
      const ModelDoc& h = docs[std::uniform_int_distribution<size_t>(0, docs.size() - 1)(rng)];
      if (h.visible()) continue;
      check_doc(h);
      break;
    }
    if (step % 50 == 49) {  // totals and facets count exactly the visible ones
      auto all = d.Get("/api/v1/search?limit=1").json();
      CHECK(all->getValue<int64_t>("total") == visible_count());
      int64_t facet_sum = 0;
      auto shares = all->getObject("facets")->getObject("share");
      for (const auto& name : shares->getNames()) facet_sum += shares->getValue<int64_t>(name);
      CHECK(facet_sum == visible_count());
      CHECK(d.Search("common").json()->getValue<int64_t>("total") == visible_count());
      auto metrics = d.Get("/metrics").body;
      CHECK(metrics.find("gongkai_documents") == std::string::npos);
    }
  }
  INFO(checks << " anonymous checks");
  CHECK(leaks == 0);
  CHECK(d.Stop() == 0);
  CHECK(d.Cli("verify").exit_code == 0);
}
