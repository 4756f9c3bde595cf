// End-to-end: the real gongkaid binary, a real share on disk, real inotify,
// real HTTP over loopback.
#include <Poco/InflatingStream.h>
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <iterator>
#include <set>
#include <sstream>

#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"
#include "http_router.h"
#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::WriteFile;

TEST_CASE("e2e: dropped files become searchable in Chinese, by words and phrases", "[e2e]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "notice.txt"),
            "鄉政府公告：本鄉年度道路養護經費公開，詳列工程項目與金額。\n第二段：歡迎群眾監督。\n");
  WriteFile(
      d.FilePath("pub", "plans/plan.html"),
      "<html><head><title>政务公开实施方案</title><style>.x{color:red}</style></head>"
      "<body><script>var "
      "hidden='脚本内容不应被索引';</script><p>为推进政务公开，制定本方案。</p></body></html>");
  // Fixed dates, an hour apart, so "newest" and "oldest" differ and the date
  // filters below do not depend on when the test runs (it once straddled midnight UTC).
  auto set_mtime = [](const std::string& path, std::time_t t) {
    struct timespec times[2] = {{t, 0}, {t, 0}};
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  };
  set_mtime(d.FilePath("pub", "notice.txt"), 1772359200);       // 2026-03-01T10:00:00Z
  set_mtime(d.FilePath("pub", "plans/plan.html"), 1772362800);  // 2026-03-01T11:00:00Z
  d.Start();
  d.WaitIdle(2);

  CHECK(d.SearchPaths("經費") == std::vector<std::string>{"pub:notice.txt"});          // 2 chars
  CHECK(d.SearchPaths("道路養護") == std::vector<std::string>{"pub:notice.txt"});      // 4 chars
  CHECK(d.SearchPaths("\"群眾監督\"") == std::vector<std::string>{"pub:notice.txt"});  // phrase
  CHECK(d.SearchPaths("\"制定本方案\"") == std::vector<std::string>{"pub:plans/plan.html"});
  CHECK(d.SearchPaths("\"方案制定\"").empty());  // a phrase is ordered
  CHECK(d.SearchPaths("脚本内容").empty());      // <script> is not text
  // Either script finds either script.
  CHECK(d.SearchPaths("经费") == std::vector<std::string>{"pub:notice.txt"});
  CHECK(d.SearchPaths("政務公開") == std::vector<std::string>{"pub:plans/plan.html"});

  auto r = d.Search("政务公开");
  REQUIRE(r.status == 200);
  auto hit = r.json()->getArray("results")->getObject(0);
  CHECK(hit->getValue<std::string>("title") == "政务公开实施方案");
  CHECK(hit->getValue<std::string>("office") == "測試辦公室-pub");
  CHECK(hit->getValue<std::string>("type") == "html");
  for (const char* f : {"id", "share", "path", "office", "title", "type", "version", "sha256",
                        "size", "modified", "published", "snippet"})
    CHECK(hit->has(f));

  // An empty query lists every visible document with an exact total.
  r = d.Search("");
  REQUIRE(r.status == 200);
  CHECK(r.json()->getValue<int64_t>("total") == 2);

  // Dates (the files' dates: 2026-03-01), sorting, bad parameters.
  CHECK(d.Search("", "", "&from=2026-02-28").json()->getValue<int64_t>("total") == 2);
  CHECK(d.Search("", "", "&to=2026-02-28").json()->getValue<int64_t>("total") == 0);
  CHECK(d.Search("", "", "&from=2026-03-02").json()->getValue<int64_t>("total") == 0);
  CHECK(d.Search("", "", "&from=2026-03-01&to=2026-03-01&type=txt")
            .json()
            ->getValue<int64_t>("total") == 1);
  CHECK(d.Search("", "", "&category=預算").json()->getValue<int64_t>("total") == 0);
  auto oldest = d.Search("", "", "&sort=oldest").json()->getArray("results");
  auto newest = d.Search("", "", "&sort=newest").json()->getArray("results");
  REQUIRE(oldest->size() == 2);
  CHECK(oldest->getObject(0)->getValue<std::string>("id") ==
        newest->getObject(1)->getValue<std::string>("id"));
  CHECK(d.Search("", "", "&from=2026-1-1").status == 400);
  CHECK(d.Search("", "", "&sort=random").status == 400);
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: a question is answered relaxed, saying so, and never with a restricted document",
          "[e2e][relax]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "fee.txt"), "交通部訂定航空站回饋金分配及使用辦法，自公布日施行。\n");
  WriteFile(d.FilePath("pub", "secret.txt"), "交通部航空站回饋金分配辦法內部檢討意見。\n");
  WriteFile(d.FilePath("pub", "road.txt"), "道路養護經費公開。\n");
  d.Start();
  d.WaitIdle(3);
  const std::string secret = d.FirstId("內部檢討意見", d.inspector());
  REQUIRE(d.Request("POST", "/api/v1/documents/" + secret + "/classification", d.admin(), {},
                    R"({"classification":"restricted"})")
              .status == 200);
  REQUIRE(DaemonProcess::Eventually([&] { return d.SearchPaths("內部檢討意見").empty(); }));

  const std::string question = "请问交通部关于航空站回馈金分配的办法在哪里";
  auto r = d.Search(question);
  REQUIRE(r.status == 200);
  auto answer = r.json();
  CHECK(answer->getValue<bool>("relaxed"));
  CHECK(answer->getValue<int64_t>("strict_total") == 0);
  CHECK(answer->getArray("dropped")->size() == 4);
  CHECK(answer->getArray("dropped")->getElement<std::string>(0) == "请问");
  CHECK(d.SearchPaths(question) == std::vector<std::string>{"pub:fee.txt"});
  CHECK(d.SearchPaths(question, d.inspector()).size() == 2);  // inspectors see the restricted one
  // The strict answer on request, and a query that matches as written is not relaxed.
  answer = d.Search(question, "", "&relax=0").json();
  CHECK(answer->getValue<int64_t>("total") == 0);
  CHECK_FALSE(answer->getValue<bool>("relaxed"));
  CHECK(d.Search(question, "", "&relax=maybe").status == 400);
  // One strict match: first, then whatever relaxation adds.
  answer = d.Search("道路養護 經費").json();
  CHECK(answer->getValue<bool>("relaxed"));
  CHECK(answer->getValue<int64_t>("strict_total") == 1);
  CHECK(answer->getArray("results")->getObject(0)->getValue<std::string>("path") == "road.txt");
  CHECK(d.SearchPaths("航空站的回馈金 -使用").empty());  // the query language stays exact
  CHECK(d.SearchPaths("內部檢討意見啊").empty());  // relaxed, still without the restricted one
  CHECK(d.Search("航空站回馈金分配办法").json()->getValue<int64_t>("total") ==
        0);  // one word: exact

  // The page without JavaScript says so; the CLI too, and --strict does not relax.
  std::string enc;
  Poco::URI::encode(question, "&=+?#/", enc);
  const std::string page = d.Get("/?q=" + enc).body;
  CHECK(page.find("没有完全符合") != std::string::npos);
  CHECK(page.find("航空站回饋金分配及使用辦法") != std::string::npos);
  CHECK(page.find("內部檢討意見") == std::string::npos);
  auto cli = d.Cli("search --json " + gongkai::test::Quote(question));
  REQUIRE(cli.exit_code == 0);
  CHECK(cli.out.find("\"relaxed\":true") != std::string::npos);
  cli = d.Cli("search --strict --json " + gongkai::test::Quote(question));
  REQUIRE(cli.exit_code == 0);
  CHECK(cli.out.find("\"total\":0") != std::string::npos);
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: versions, withdrawal, content and ETag", "[e2e]") {
  DaemonProcess d;
  const std::string path = d.FilePath("pub", "budget.txt");
  const std::string v1 = "預算公開第一版：總額一百萬元。\n";
  WriteFile(path, v1);
  d.Start();
  d.WaitIdle(1);
  const std::string id = d.FirstId("第一版");
  const std::string doc_url = "/api/v1/documents/" + id;

  auto content = d.Get(doc_url + "/versions/1/content");
  REQUIRE(content.status == 200);
  CHECK(content.body == v1);
  CHECK(content.headers["etag"] ==
        "\"" + gongkai::storage::Hex(gongkai::storage::Sha256Of(content.body)) + "\"");
  CHECK(d.Get(doc_url + "/versions/1/content", "", {{"If-None-Match", content.headers["etag"]}})
            .status == 304);
  auto part = d.Get(doc_url + "/versions/1/content", "", {{"Range", "bytes=0-2"}});
  CHECK(part.status == 206);
  CHECK(part.body == v1.substr(0, 3));

  // Modify: version 2, and search shows the new text.
  const std::string v2 = v1 + "第二版補充：追加預算二十萬元。\n";
  WriteFile(path, v2);
  REQUIRE(DaemonProcess::Eventually([&] {
    auto doc = d.Get(doc_url);
    return doc.status == 200 && doc.json()->getArray("versions")->size() == 2;
  }));
  REQUIRE(DaemonProcess::Eventually([&] { return !d.SearchPaths("追加預算").empty(); }));
  auto doc = d.Get(doc_url).json();
  auto versions = doc->getArray("versions");
  CHECK(versions->getObject(1)->getValue<int>("version") == 2);
  CHECK(versions->getObject(1)->getValue<std::string>("sha256") ==
        gongkai::storage::Hex(gongkai::storage::Sha256Of(v2)));
  CHECK(d.Get(doc_url + "/versions/2/content").body == v2);

  // Saving identical bytes again makes no version.
  WriteFile(path, v2);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(d.Get(doc_url).json()->getArray("versions")->size() == 2);

  // Delete: withdrawn, every version still retrievable.
  std::filesystem::remove(path);
  REQUIRE(DaemonProcess::Eventually(
      [&] { return d.Get(doc_url).json()->getValue<std::string>("status") == "withdrawn"; }));
  CHECK(d.Get(doc_url + "/versions/1/content").body == v1);
  CHECK(d.Get(doc_url + "/versions/2/content").body == v2);
  // Default search shows active documents (once the index caught up).
  CHECK(DaemonProcess::Eventually([&] { return d.SearchPaths("追加預算").empty(); }));
  CHECK(d.SearchPaths("追加預算", d.inspector()).empty());
  auto withdrawn = d.Search("追加預算", d.inspector(), "&status=withdrawn");
  CHECK(withdrawn.json()->getValue<int64_t>("total") == 1);

  // It comes back: the same document continues with version 3.
  WriteFile(path, "預算公開第三版。\n");
  REQUIRE(DaemonProcess::Eventually([&] {
    auto j = d.Get(doc_url).json();
    return j->getValue<std::string>("status") == "active" && j->getArray("versions")->size() == 3;
  }));
  CHECK(d.Get(doc_url + "/versions/9/content").status == 404);
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: restart archives offline changes, duplicates nothing", "[e2e]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "a.txt"), "文件甲：原始內容。\n");
  WriteFile(d.FilePath("pub", "b.txt"), "文件乙：原始內容。\n");
  d.Start();
  auto s = d.WaitIdle(2);
  CHECK(s->getValue<int64_t>("versions") == 2);
  CHECK(d.Stop() == 0);

  // Untouched restart: nothing new.
  d.Start();
  s = d.WaitIdle(2);
  CHECK(s->getValue<int64_t>("documents") == 2);
  CHECK(s->getValue<int64_t>("versions") == 2);
  CHECK(d.Stop() == 0);

  // Changes while down are picked up at start-up.
  WriteFile(d.FilePath("pub", "a.txt"), "文件甲：停機期間修改。\n");
  std::filesystem::remove(d.FilePath("pub", "b.txt"));
  WriteFile(d.FilePath("pub", "c.txt"), "文件丙：停機期間新增。\n");
  d.Start();
  s = d.WaitIdle(3);
  CHECK(s->getValue<int64_t>("documents") == 3);
  CHECK(s->getValue<int64_t>("versions") == 4);
  CHECK(s->getValue<int64_t>("records") == 5);  // 2 + v2 of a + withdraw b + c
  // a and c rank alike: their order follows Xapian's document ids, which
  // depend on the index shards their random ids fall in.
  std::vector<std::string> changed = d.SearchPaths("停機期間");
  std::sort(changed.begin(), changed.end());
  CHECK(changed == std::vector<std::string>{"pub:a.txt", "pub:c.txt"});
  CHECK(d.Search("").json()->getValue<int64_t>("total") == 2);

  // The CLI sees the same archive.
  auto st = d.Cli("status --json");
  CHECK(st.exit_code == 0);
  CHECK(st.out.find("\"documents\":3") != std::string::npos);
  CHECK(st.out.find("\"queued\":") != std::string::npos);
  CHECK(st.out.find("\"failed\":") != std::string::npos);
  auto hist = d.Cli("history pub:a.txt");
  CHECK(hist.exit_code == 0);
  CHECK(hist.out.find("v2") != std::string::npos);
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: roles and visibility", "[e2e]") {
  DaemonProcess d(
      {{"pub", ""}, {"sec", "classification = restricted"}, {"rev", "review = required"}});
  WriteFile(d.FilePath("pub", "open.txt"), "公開文件：人人可查。\n");
  WriteFile(d.FilePath("sec", "secret.txt"), "內部文件：保密審查材料甲乙丙。\n");
  WriteFile(d.FilePath("rev", "pending.txt"), "待審核文件：丁戊己。\n");
  d.Start();
  d.WaitIdle(3);

  CHECK(d.Search("").json()->getValue<int64_t>("total") == 1);
  CHECK(d.Search("", d.inspector()).json()->getValue<int64_t>("total") == 3);
  CHECK(d.SearchPaths("保密審查").empty());
  CHECK(d.SearchPaths("丁戊己").empty());
  CHECK(d.SearchPaths("保密審查", d.inspector()) == std::vector<std::string>{"sec:secret.txt"});

  const std::string secret = d.FirstId("保密審查", d.inspector());
  auto missing = d.Get("/api/v1/documents/no-such-document");
  for (std::string suffix : {"", "/versions/1/content"}) {
    auto r = d.Get("/api/v1/documents/" + secret + suffix);
    CHECK(r.status == 404);
    CHECK(r.body == missing.body);  // indistinguishable from a missing document
    CHECK(d.Get("/api/v1/documents/" + secret + suffix, d.inspector()).status == 200);
  }
  auto facets = d.Search("").json()->getObject("facets")->getObject("share");
  CHECK_FALSE(facets->has("sec"));
  CHECK_FALSE(facets->has("rev"));

  CHECK(d.Get("/api/v1/status").status == 401);
  CHECK(d.Get("/api/v1/search?q=x", "wrong-token").status == 401);
  auto err = d.Get("/api/v1/search?q=x", "wrong-token").json();
  CHECK(err->getObject("error")->getValue<std::string>("code") == "unauthorized");
  CHECK(d.Get("/api/v1/search?limit=1000").status == 400);
  CHECK(d.Get("/api/v1/nope").status == 404);
  CHECK(d.Request("DELETE", "/api/v1/search").status == 405);

  // Metrics: request counters for everyone, archive counts (which include
  // restricted documents) only for inspectors.
  auto anon_metrics = d.Get("/metrics");
  CHECK(anon_metrics.status == 200);
  CHECK(anon_metrics.headers["content-type"].find("text/plain; version=0.0.4") == 0);
  CHECK(anon_metrics.body.find("gongkai_http_requests_total{route=\"search\",status=\"200\"}") !=
        std::string::npos);
  CHECK(anon_metrics.body.find(
            "gongkai_http_request_duration_seconds_bucket{route=\"search\",le=\"+Inf\"}") !=
        std::string::npos);
  CHECK(anon_metrics.body.find("gongkai_documents") == std::string::npos);
  auto metrics = d.Get("/metrics", d.inspector()).body;
  CHECK(metrics.find("\ngongkai_documents 3\n") != std::string::npos);
  CHECK(metrics.find("gongkai_queue_depth 0") != std::string::npos);
  CHECK(metrics.find("route=\"other\",status=\"404\"") != std::string::npos);
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: incomplete and ignored files", "[e2e]") {
  DaemonProcess d;
  d.Start();
  d.WaitIdle(0);
  // Temp and hidden files are never documents.
  WriteFile(d.FilePath("pub", "~$draft.docx"), "x");
  WriteFile(d.FilePath("pub", ".hidden.txt"), "x");
  WriteFile(d.FilePath("pub", "upload.txt.part"), "x");
  WriteFile(d.FilePath("pub", "note.txt.meta.json"), "{}");
  ::mkfifo(d.FilePath("pub", "fifo.txt").c_str(), 0644);  // never opened for reading
  std::filesystem::create_symlink("/etc/passwd", d.FilePath("pub", "link.txt"));
  // A file still being written stays out until it is complete.
  {
    std::ofstream slow(d.FilePath("pub", "slow.txt"), std::ios::binary);
    slow << "第一部分寫入中。" << std::flush;
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    slow << "第二部分完成。" << std::flush;
  }
  WriteFile(d.FilePath("pub", "real.txt"), "正式文件。\n");
  d.WaitIdle(2);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto s = d.Get("/api/v1/status", d.inspector()).json();
  CHECK(s->getValue<int64_t>("documents") == 2);
  CHECK(s->getValue<int64_t>("versions") == 2);  // slow.txt archived once, complete
  auto id = d.FirstId("第二部分完成");
  CHECK(d.Get("/api/v1/documents/" + id + "/versions/1/content").body ==
        "第一部分寫入中。第二部分完成。");
  CHECK(d.Get("/healthz").status == 200);
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: review, approval and classification are signed events", "[e2e]") {
  DaemonProcess d(std::vector<DaemonProcess::Share>{{"rev", "review = required"}});
  WriteFile(d.FilePath("rev", "plan.txt"), "待審核的實施方案：庚辛壬。\n");
  d.Start();
  d.WaitIdle(1);
  CHECK(d.SearchPaths("庚辛壬").empty());
  const std::string id = d.FirstId("庚辛壬", d.inspector());
  const std::string url = "/api/v1/documents/" + id;
  CHECK(d.Get(url).status == 404);
  CHECK(d.Get(url, d.inspector()).json()->getValue<std::string>("review") == "pending");

  CHECK(d.Request("POST", url + "/approve").status == 401);
  CHECK(d.Request("POST", url + "/approve", d.inspector()).status == 403);
  CHECK(d.Request("POST", "/api/v1/documents/nope/approve", d.admin()).status == 404);
  auto approved = d.Request("POST", url + "/approve", d.admin());
  REQUIRE(approved.status == 200);
  CHECK(approved.json()->getValue<int64_t>("version") == 1);
  CHECK(d.Request("POST", url + "/approve", d.admin()).status == 409);  // nothing pending any more
  REQUIRE(DaemonProcess::Eventually([&] { return !d.SearchPaths("庚辛壬").empty(); }));
  CHECK(d.Get(url).status == 200);

  // Restricting it hides it again; every step is a record.
  auto classified = d.Request("POST", url + "/classification", d.admin(), {},
                              R"({"classification":"restricted"})");
  REQUIRE(classified.status == 200);
  CHECK(d.Request("POST", url + "/classification", d.admin(), {}, R"({"classification":"secret"})")
            .status == 400);
  CHECK(d.Request("POST", url + "/classification", d.admin(), {}, "not json").status == 400);
  REQUIRE(DaemonProcess::Eventually([&] { return d.SearchPaths("庚辛壬").empty(); }));
  CHECK(d.Get(url).status == 404);
  auto entries =
      d.Get("/api/v1/log/entries?start=0&end=10", d.inspector()).json()->getArray("entries");
  REQUIRE(entries->size() == 3);
  CHECK(entries->getObject(1)->getValue<std::string>("record").find("\"event\":\"approve\"") !=
        std::string::npos);
  CHECK(entries->getObject(2)->getValue<std::string>("record").find("\"event\":\"classify\"") !=
        std::string::npos);
  CHECK(d.Get("/api/v1/log/entries?start=0&end=10").status == 401);
  CHECK(d.Stop() == 0);
  auto verify = d.Cli("verify");
  CHECK(verify.exit_code == 0);
  CHECK(verify.out.find("verify: OK") != std::string::npos);
}

TEST_CASE("e2e: restricting a document hides the public copies of its bytes too", "[e2e]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "original.txt"), "會議紀要：癸子丑寅。\n");
  d.Start();
  d.WaitIdle(1);
  WriteFile(d.FilePath("pub", "copy.txt"),
            "會議紀要：癸子丑寅。\n");  // archived while the original is public
  d.WaitIdle(2);
  REQUIRE(d.SearchPaths("癸子丑寅").size() == 2);
  std::string original, copy;
  auto hits = d.Search("癸子丑寅", d.inspector()).json()->getArray("results");
  for (size_t i = 0; i < hits->size(); ++i)
    (hits->getObject(i)->getValue<std::string>("path") == "original.txt" ? original : copy) =
        hits->getObject(i)->getValue<std::string>("id");
  REQUIRE_FALSE(original.empty());
  REQUIRE_FALSE(copy.empty());

  auto classified = d.Request("POST", "/api/v1/documents/" + original + "/classification",
                              d.admin(), {}, R"({"classification":"restricted"})");
  REQUIRE(classified.status == 200);
  REQUIRE(DaemonProcess::Eventually([&] { return d.SearchPaths("癸子丑寅").empty(); }));
  CHECK(d.Get("/api/v1/documents/" + copy).status == 404);
  CHECK(d.Get("/api/v1/documents/" + copy + "/versions/1/content").status == 404);
  CHECK(d.SearchPaths("癸子丑寅", d.inspector()).size() == 2);
  auto inspected = d.Get("/api/v1/documents/" + copy, d.inspector()).json();
  CHECK(inspected->getValue<std::string>("classification") ==
        "public");  // its own classification stands

  // Lifting the restriction shows both again.
  REQUIRE(d.Request("POST", "/api/v1/documents/" + original + "/classification", d.admin(), {},
                    R"({"classification":"public"})")
              .status == 200);
  REQUIRE(DaemonProcess::Eventually([&] { return d.SearchPaths("癸子丑寅").size() == 2; }));
  CHECK(d.Get("/api/v1/documents/" + copy + "/versions/1/content").status == 200);
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: the log as C2SP tiles rebuilds the signed checkpoint's root", "[e2e][tiles]") {
  DaemonProcess d;
  for (int i = 0; i < 7; ++i)
    WriteFile(d.FilePath("pub", "tile" + std::to_string(i) + ".txt"),
              "瓦片文件" + std::to_string(i) + "號。\n");
  d.Start();
  d.WaitIdle(7);
  auto keys = d.Get("/api/v1/keys").json()->getArray("keys");
  auto raw = gongkai::storage::RawPublicFromPem(
      keys->getObject(0)->getValue<std::string>("public_key_pem"));
  REQUIRE(raw.ok());
  auto checkpoint = d.Get("/tlog/checkpoint");
  REQUIRE(checkpoint.status == 200);
  auto cp = gongkai::storage::VerifyCheckpoint(checkpoint.body, "e2e.gongkai.test", *raw);
  REQUIRE(cp.ok());
  REQUIRE(cp->size >= 7);
  REQUIRE(cp->size < 256);  // one partial level-0 tile

  // The partial level-0 tile, anonymously; the root rebuilt from it.
  const std::string width = std::to_string(cp->size);
  auto tile = d.Get("/tlog/tile/0/000.p/" + width);
  REQUIRE(tile.status == 200);
  REQUIRE(tile.body.size() == cp->size * 32);
  CHECK(tile.headers["content-type"] == "application/octet-stream");
  // A partial tile is a prefix of the tile, the same bytes forever.
  CHECK(tile.headers["cache-control"] == "public, max-age=31536000, immutable");
  gongkai::storage::StreamingTree tree;
  std::vector<gongkai::storage::Digest> leaves;
  for (uint64_t i = 0; i < cp->size; ++i) {
    gongkai::storage::Digest leaf;
    std::copy_n(tile.body.data() + i * 32, 32, leaf.begin());
    leaves.push_back(leaf);
    tree.Append(leaf);
  }
  CHECK(tree.Root() == cp->root);
  // An earlier checkpoint's partial tile is the same prefix.
  CHECK(d.Get("/tlog/tile/0/000.p/1").body == tile.body.substr(0, 32));
  // Not wider than the tree, not the full tile yet, not a path the spec does not allow.
  CHECK(d.Get("/tlog/tile/0/000").status == 404);
  CHECK(d.Get("/tlog/tile/0/000.p/" + std::to_string(cp->size + 1)).status == 404);
  CHECK(d.Get("/tlog/tile/0/0").status == 404);
  CHECK(d.Get("/tlog/tile/1/000.p/1").status == 404);

  // Entry bundles: records, for inspectors only; each hashes to its leaf.
  CHECK(d.Get("/tlog/tile/entries/000.p/" + width).status == 401);
  auto bundle = d.Get("/tlog/tile/entries/000.p/" + width, d.inspector());
  REQUIRE(bundle.status == 200);
  CHECK(bundle.headers["cache-control"] == "private, no-store");
  const std::string first = d.Get("/tlog/tile/entries/000.p/1", d.inspector()).body;
  CHECK(first.size() > 2);
  CHECK(bundle.body.rfind(first, 0) == 0);  // an earlier checkpoint's bundle is a prefix too
  size_t at = 0;
  for (uint64_t i = 0; i < cp->size; ++i) {
    REQUIRE(at + 2 <= bundle.body.size());
    const size_t n = (static_cast<unsigned char>(bundle.body[at]) << 8) |
                     static_cast<unsigned char>(bundle.body[at + 1]);
    REQUIRE(at + 2 + n <= bundle.body.size());
    CHECK(gongkai::storage::LeafHash(bundle.body.substr(at + 2, n)) == leaves[i]);
    at += 2 + n;
  }
  CHECK(at == bundle.body.size());
  // For a client that accepts gzip, the same bytes packed; not for one that refuses it.
  REQUIRE(bundle.body.size() >= 1024);  // long enough to be packed
  auto packed =
      d.Get("/tlog/tile/entries/000.p/" + width, d.inspector(), {{"Accept-Encoding", "br, gzip"}});
  REQUIRE(packed.status == 200);
  CHECK(packed.headers["content-encoding"] == "gzip");
  CHECK(packed.headers["vary"] == "Accept-Encoding");
  CHECK(packed.body.size() < bundle.body.size());
  std::istringstream packed_in(packed.body);
  Poco::InflatingInputStream unpack(packed_in, Poco::InflatingStreamBuf::STREAM_GZIP);
  CHECK(std::string(std::istreambuf_iterator<char>(unpack), {}) == bundle.body);
  auto refused =
      d.Get("/tlog/tile/entries/000.p/" + width, d.inspector(), {{"Accept-Encoding", "gzip;q=0"}});
  CHECK(refused.headers.count("content-encoding") == 0);
  CHECK(refused.body == bundle.body);
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: proofs and checkpoints verify with the published key", "[e2e]") {
  DaemonProcess d;
  for (int i = 0; i < 5; ++i)
    WriteFile(d.FilePath("pub", "doc" + std::to_string(i) + ".txt"),
              "文件" + std::to_string(i) + "號。\n");
  d.Start();
  d.WaitIdle(5);
  auto keys = d.Get("/api/v1/keys").json()->getArray("keys");
  REQUIRE(keys->size() == 1);
  auto raw = gongkai::storage::RawPublicFromPem(
      keys->getObject(0)->getValue<std::string>("public_key_pem"));
  REQUIRE(raw.ok());
  CHECK(keys->getObject(0)->getValue<std::string>("note_key") ==
        gongkai::storage::NoteVerifierKey("e2e.gongkai.test", *raw));
  auto cp_text = d.Get("/api/v1/log/checkpoint").body;
  auto cp = gongkai::storage::VerifyCheckpoint(cp_text, "e2e.gongkai.test", *raw);
  REQUIRE(cp.ok());
  CHECK(cp->size == 5);

  const std::string id = d.FirstId("文件3號");
  auto proof = d.Get("/api/v1/documents/" + id + "/versions/1/proof").json();
  const std::string record = proof->getValue<std::string>("record");
  auto sig = gongkai::storage::Base64Decode(proof->getValue<std::string>("signature"));
  CHECK(gongkai::storage::VerifyEd25519(*raw, record, *sig));
  std::vector<gongkai::storage::Digest> path;
  auto inclusion = proof->getArray("inclusion");
  for (size_t i = 0; i < inclusion->size(); ++i) {
    std::string hex = inclusion->getElement<std::string>(static_cast<unsigned>(i));
    gongkai::storage::Digest dg{};
    for (size_t k = 0; k < 32; ++k)
      dg[k] = static_cast<uint8_t>(std::stoi(hex.substr(2 * k, 2), nullptr, 16));
    path.push_back(dg);
  }
  CHECK(gongkai::storage::VerifyInclusion(proof->getValue<uint64_t>("log_index"), cp->size,
                                          gongkai::storage::LeafHash(record), path, cp->root));
  CHECK(d.Get("/api/v1/log/consistency?from=2&to=5").json()->getArray("proof")->size() > 0);
  CHECK(d.Get("/api/v1/log/consistency?from=6").status == 400);
  CHECK(d.Get("/api/v1/log/consistency?from=0").json()->getArray("proof")->size() ==
        0);  // RFC 9162: empty
  CHECK(d.Stop() == 0);

  // A checkpoint kept elsewhere catches a rollback of the archive.
  WriteFile(d.root() + "/kept-checkpoint", cp_text);
  CHECK(d.Cli("verify --checkpoint " + gongkai::test::Quote(d.root() + "/kept-checkpoint"))
            .exit_code == 0);
}

TEST_CASE("e2e: key rotation keeps old signatures valid", "[e2e]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "before.txt"), "輪換前的文件。\n");
  d.Start();
  d.WaitIdle(1);
  auto rotated = d.Cli("keys rotate");
  REQUIRE(rotated.exit_code == 0);
  CHECK(rotated.out.find("made by gongkaid") != std::string::npos);
  REQUIRE(d.log().find("keys rotate: signing with key") != std::string::npos);
  WriteFile(d.FilePath("pub", "after.txt"), "輪換後的文件。\n");
  d.WaitIdle(2);

  auto keys = d.Get("/api/v1/keys");
  CHECK(keys.body.find("PRIVATE") == std::string::npos);
  auto list = keys.json()->getArray("keys");
  REQUIRE(list->size() == 2);
  std::map<std::string, std::string> raw;  // key_id -> raw public key
  int retired = 0;
  for (size_t i = 0; i < list->size(); ++i) {
    auto k = list->getObject(static_cast<unsigned>(i));
    raw[k->getValue<std::string>("key_id")] =
        *gongkai::storage::RawPublicFromPem(k->getValue<std::string>("public_key_pem"));
    retired += k->isNull("retired") ? 0 : 1;
  }
  CHECK(retired == 1);
  auto entries =
      d.Get("/api/v1/log/entries?start=0&end=2", d.inspector()).json()->getArray("entries");
  REQUIRE(entries->size() == 2);
  std::set<std::string> used;
  for (size_t i = 0; i < entries->size(); ++i) {
    auto e = entries->getObject(static_cast<unsigned>(i));
    const std::string key_id = e->getValue<std::string>("key_id");
    used.insert(key_id);
    CHECK(gongkai::storage::VerifyEd25519(
        raw[key_id], e->getValue<std::string>("record"),
        *gongkai::storage::Base64Decode(e->getValue<std::string>("signature"))));
  }
  CHECK(used.size() == 2);  // one record per key
  CHECK(d.Stop() == 0);
  CHECK(d.Cli("verify").exit_code == 0);
  for (const auto& e : std::filesystem::directory_iterator(d.root() + "/data/keys"))
    CHECK((std::filesystem::status(e.path()).permissions() & std::filesystem::perms::others_all) ==
          std::filesystem::perms::none);
}

TEST_CASE("e2e: docs/verify.md steps work as written", "[e2e]") {
  // Runs every ```sh block of docs/verify.md, in order, against a real daemon.
  std::ifstream doc(std::string(GONGKAI_SOURCE_DIR) + "/docs/verify.md");
  REQUIRE(doc);
  std::string line, script = "set -euo pipefail\n";
  bool in_block = false;
  while (std::getline(doc, line)) {
    if (line == "```sh")
      in_block = true;
    else if (line == "```")
      in_block = false;
    else if (in_block)
      script += line + "\n";
  }
  REQUIRE(script.find("openssl pkeyutl -verify") != std::string::npos);
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "report.txt"), "二〇二六年政府工作報告。\n");
  WriteFile(d.FilePath("pub", "other.txt"), "另一份文件。\n");
  d.Start();
  d.WaitIdle(2);
  const std::string id = d.FirstId("政府工作報告");
  gongkai::test::TempDir work;
  WriteFile(work / "steps.sh", script);
  // The bag steps check an export of the same archive.
  REQUIRE(d.Cli("export --out " + gongkai::test::Quote(work / "transfer.tar")).exit_code == 0);
  auto r = gongkai::test::RunCommand(
      "cd " + gongkai::test::Quote(work.path()) +
      " && BASE=http://127.0.0.1:" + std::to_string(d.port()) + " DOC=" + id +
      " V=1 BAG=" + gongkai::test::Quote(work / "transfer.tar") + " bash steps.sh 2>&1");
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("Signature Verified Successfully") != std::string::npos);
  CHECK(r.out.find("content sha256 matches the record") != std::string::npos);
  CHECK(r.out.find("key_id is the SHA-256 of the public key") != std::string::npos);
  CHECK(r.out.find("ALL CHECKS PASSED") != std::string::npos);
  CHECK(r.out.find("every record's signature verifies") != std::string::npos);
  CHECK(r.out.find("BAG CHECKS PASSED") != std::string::npos);
  // A changed payload file fails the manifest check.
  auto changed =
      gongkai::test::RunCommand("cd " + gongkai::test::Quote(work / "unpacked/transfer") +
                                " && echo x >> data/pub/report.txt/v1/report.txt"
                                " && sha256sum -c --quiet manifest-sha256.txt 2>&1");
  CHECK(changed.exit_code != 0);
  CHECK(changed.out.find("data/pub/report.txt/v1/report.txt: FAILED") != std::string::npos);

  // And the same steps fail on a forged record.
  gongkai::test::RunCommand("cd " + gongkai::test::Quote(work.path()) +
                            " && sed -i 's/\"version\":1/\"version\":2/' record.bin");
  auto forged = gongkai::test::RunCommand(
      "cd " + gongkai::test::Quote(work.path()) +
      " && openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in record.bin "
      "-sigfile record.sig 2>&1");
  CHECK(forged.exit_code != 0);
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: the public sees the latest approved version while a newer one is pending",
          "[e2e]") {
  DaemonProcess d(std::vector<DaemonProcess::Share>{{"rev", "review = required"}});
  const std::string path = d.FilePath("rev", "budget.txt");
  WriteFile(path, "預算第一版：公開內容子丑。\n");
  d.Start();
  d.WaitIdle(1);
  const std::string id = d.FirstId("子丑", d.inspector());
  const std::string url = "/api/v1/documents/" + id;
  REQUIRE(d.Request("POST", url + "/approve", d.admin()).status == 200);
  REQUIRE(DaemonProcess::Eventually([&] { return !d.SearchPaths("子丑").empty(); }));

  WriteFile(path, "預算第二版：待審內容寅卯。\n");
  REQUIRE(DaemonProcess::Eventually([&] { return !d.SearchPaths("寅卯", d.inspector()).empty(); }));
  d.WaitIdle(1);
  // Anonymous: version 1 only, everywhere.
  CHECK(d.SearchPaths("寅卯").empty());
  CHECK(d.SearchPaths("子丑") == std::vector<std::string>{"rev:budget.txt"});
  auto hit = d.Search("").json()->getArray("results")->getObject(0);
  CHECK(hit->getValue<int64_t>("version") == 1);
  auto doc = d.Get(url).json();
  CHECK(doc->getArray("versions")->size() == 1);
  CHECK(d.Get(url + "/versions/1/content").status == 200);
  CHECK(d.Get(url + "/versions/2/content").status == 404);
  CHECK(d.Get(url + "/versions/2/proof").status == 404);
  // Inspector: both, the second pending.
  auto full = d.Get(url, d.inspector()).json();
  REQUIRE(full->getArray("versions")->size() == 2);
  CHECK(full->getArray("versions")->getObject(1)->getValue<std::string>("review") == "pending");

  REQUIRE(d.Request("POST", url + "/approve", d.admin()).status == 200);
  REQUIRE(DaemonProcess::Eventually([&] { return !d.SearchPaths("寅卯").empty(); }));
  CHECK(d.SearchPaths("子丑").empty());
  CHECK(d.Get(url + "/versions/2/content").status == 200);
  CHECK(d.Stop() == 0);
  CHECK(d.Cli("verify").exit_code == 0);
}

TEST_CASE("e2e: tokens added and revoked with the CLI take effect on the running daemon", "[e2e]") {
  DaemonProcess d;
  d.Start();
  d.WaitIdle(0);
  auto added = d.Cli("token add --role inspector --name '王檢查員' 2>&1");
  REQUIRE(added.exit_code == 0);
  const std::string token = added.out.substr(0, added.out.find('\n'));
  CHECK(token.rfind("gk_", 0) == 0);
  CHECK(added.out.find("made by gongkaid") != std::string::npos);
  CHECK(gongkai::test::Slurp(d.root() + "/tokens").find(token) ==
        std::string::npos);  // only the hash
  REQUIRE(DaemonProcess::Eventually([&] { return d.Get("/api/v1/status", token).status == 200; }));
  auto list = d.Cli("token list");
  CHECK(list.out.find("inspector") != std::string::npos);
  CHECK(list.out.find("王檢查員") != std::string::npos);
  CHECK(d.Cli("token add --role root --name x 2>&1").exit_code == 2);
  CHECK(d.Cli("token revoke nobody 2>&1").exit_code == 1);
  REQUIRE(d.Cli("token revoke '王檢查員'").exit_code == 0);
  REQUIRE(DaemonProcess::Eventually([&] { return d.Get("/api/v1/status", token).status == 401; }));
  CHECK(d.Get("/api/v1/status", d.inspector()).status == 200);  // the others stay
  CHECK(d.Stop() == 0);
}

namespace {
std::string DatePlusDays(int days) {
  std::time_t t = std::time(nullptr) + static_cast<std::time_t>(days) * 86400;
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}
}  // namespace

TEST_CASE("e2e: freshness report shows overdue offices", "[e2e]") {
  DaemonProcess d({{"monthly", "update_every = 30d"},
                   {"quarterly", ""},
                   {"silent", ""},
                   {"statutory", "update_every = 20wd"}});
  WriteFile(d.FilePath("monthly", "a.txt"), "月報。\n");
  WriteFile(d.FilePath("quarterly", "b.txt"), "季報。\n");
  WriteFile(d.FilePath("statutory", "c.txt"), "法定公開。\n");
  d.Start();
  d.WaitIdle(3);
  auto entries_of = [&](const std::string& as_of) {
    auto r = d.Get("/api/v1/reports/freshness?as_of=" + as_of, d.inspector());
    REQUIRE(r.status == 200);
    std::map<std::string, Poco::JSON::Object::Ptr> by_share;
    auto list = r.json()->getArray("entries");
    for (size_t i = 0; i < list->size(); ++i) {
      auto e = list->getObject(static_cast<unsigned>(i));
      by_share[e->getValue<std::string>("share")] = e;
    }
    return by_share;
  };
  auto today = entries_of(DatePlusDays(0));
  CHECK(today["monthly"]->getValue<int64_t>("days_since") == 0);
  CHECK_FALSE(today["monthly"]->getValue<bool>("overdue"));
  CHECK(today["silent"]->isNull("last_version"));
  CHECK(today["silent"]->getValue<bool>("overdue"));
  auto later = entries_of(DatePlusDays(40));
  CHECK(later["monthly"]->getValue<bool>("overdue"));
  CHECK(later["monthly"]->getValue<int64_t>("update_every_days") == 30);
  CHECK_FALSE(later["quarterly"]->getValue<bool>("overdue"));
  CHECK(later["quarterly"]->getValue<int64_t>("update_every_days") == 90);
  // 20 working days (条例第二十六条): 40 days later is at least 26 of them.
  CHECK(today["statutory"]->getValue<int64_t>("workdays_since") == 0);
  CHECK_FALSE(today["statutory"]->getValue<bool>("overdue"));
  CHECK(later["statutory"]->getValue<int64_t>("update_every_workdays") == 20);
  CHECK(later["statutory"]->getValue<int64_t>("workdays_since") >= 26);
  CHECK(later["statutory"]->getValue<bool>("overdue"));
  CHECK(later["monthly"]->isNull("workdays_since"));
  auto before = entries_of(DatePlusDays(-1));  // nothing archived yet then
  CHECK(before["monthly"]->isNull("last_version"));

  CHECK(d.Get("/api/v1/reports/freshness").status == 401);
  CHECK(d.Get("/api/v1/reports/freshness?as_of=2026-13-45", d.inspector()).status == 400);
  auto csv = d.Get("/api/v1/reports/freshness?format=csv&as_of=" + DatePlusDays(40), d.inspector());
  CHECK(csv.headers["content-type"].find("text/csv") == 0);
  CHECK(csv.body.rfind("share,office,category,last_version,days_since,update_every_days,"
                       "update_every_workdays,workdays_since,overdue\n",
                       0) == 0);
  CHECK(csv.body.find("\nmonthly,") != std::string::npos);
  auto cli = d.Cli("report freshness --as-of " + DatePlusDays(40));
  CHECK(cli.exit_code == 0);
  CHECK(cli.out.find("OVERDUE monthly") != std::string::npos);
  CHECK(d.Stop() == 0);
}

// Whether an OpenAPI operation requires a token: it lists security
// requirements and none of them is the empty (anonymous) one.
static bool RequiresToken(const Poco::JSON::Object::Ptr& operation) {
  auto security = operation->getArray("security");
  if (!security || security->size() == 0) return false;
  for (size_t i = 0; i < security->size(); ++i)
    if (security->getObject(static_cast<unsigned>(i))->size() == 0) return false;
  return true;
}

TEST_CASE("e2e: docs/openapi.json describes exactly the routes the server answers", "[e2e]") {
  std::ifstream in(std::string(GONGKAI_SOURCE_DIR) + "/docs/openapi.json");
  REQUIRE(in);
  auto spec = Poco::JSON::Parser().parse(in).extract<Poco::JSON::Object::Ptr>();
  CHECK(spec->getValue<std::string>("openapi").rfind("3.", 0) == 0);
  std::set<std::string> documented, served, documented_token, served_token;
  auto paths = spec->getObject("paths");
  for (const auto& path : paths->getNames())
    for (const auto& method : paths->getObject(path)->getNames()) {
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(upper + " " + path);
      if (RequiresToken(paths->getObject(path)->getObject(method)))
        documented_token.insert(upper + " " + path);
    }
  for (const auto& r : gongkai::daemon::RouteTable()) {
    std::string path = r.path;  // "{rest...}" is an OpenAPI "{rest}" spanning segments
    if (const size_t at = path.find("...}"); at != std::string::npos) path.erase(at, 3);
    served.insert(std::string(r.method) + " " + path);
    if (r.role != gongkai::daemon::Role::kAnonymous)
      served_token.insert(std::string(r.method) + " " + path);
  }
  CHECK(documented == served);
  CHECK(documented_token ==
        served_token);  // inspector and admin routes, and only they, require a token

  // Each listed route is really dispatched by the running daemon.
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "a.txt"), "路由測試。\n");
  d.Start();
  d.WaitIdle(1);
  const std::string id = d.FirstId("路由測試");
  auto concrete = [&](std::string path) {
    for (auto [from, to] : {std::pair<std::string, std::string>{"{id}", id},
                            {"{n}", "1"},
                            {"{name}", "app.js"},
                            {"{tile...}", "0/000.p/1"}}) {
      size_t at = path.find(from);
      if (at != std::string::npos) path.replace(at, from.size(), to);
    }
    return path == "/api/v1/log/consistency" ? path + "?from=1" : path;
  };
  for (const auto& r : gongkai::daemon::RouteTable()) {
    const std::string path = concrete(r.path);
    const std::string body = std::string(r.method) == "POST" ? "{}" : "";
    auto res = d.Request(r.method, path, d.admin(), {}, body);
    INFO(r.method << " " << path << " -> " << res.status << " " << res.body.substr(0, 120));
    CHECK(res.body.find("no such endpoint") == std::string::npos);
    CHECK(res.status != 405);
    CHECK(res.status < 500);
    // Below the route's role: 401 without a token, 403 with a lesser one.
    if (r.role >= gongkai::daemon::Role::kInspector)
      CHECK(d.Request(r.method, path, "", {}, body).status == 401);
    if (r.role == gongkai::daemon::Role::kAdmin)
      CHECK(d.Request(r.method, path, d.inspector(), {}, body).status == 403);
  }
  CHECK(d.Get("/api/v1/no/such/route").body.find("no such endpoint") != std::string::npos);
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: sidecar metadata is validated, versioned, signed and searchable", "[e2e]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "budget.txt"), "本年度道路養護預算說明。\n");
  WriteFile(
      d.FilePath("pub", "budget.txt.meta.json"),
      R"({"title":"二〇二六年道路養護預算","doc_number":"府財字第123號","agency":"財政所",)"
      R"("category":"預算","published":"2026-03-01","keywords":"道路;橋梁、養護","color":"red"})");
  WriteFile(d.FilePath("pub", "broken.txt"), "壞的附屬檔案。\n");
  WriteFile(d.FilePath("pub", "broken.txt.meta.json"), "{not json");
  WriteFile(d.FilePath("pub", "inner.txt"), "內部簽呈甲乙。\n");
  WriteFile(d.FilePath("pub", "inner.txt.meta.json"), R"({"classification":"restricted"})");
  d.Start();
  d.WaitIdle(3);
  CHECK(d.Get("/api/v1/search?q=&limit=100", d.inspector()).json()->getValue<int64_t>("total") ==
        3);  // sidecars are not documents

  auto hit = d.Search("府財字第123號").json()->getArray("results");
  REQUIRE(hit->size() == 1);
  auto r = hit->getObject(0);
  CHECK(r->getValue<std::string>("title") == "二〇二六年道路養護預算");
  CHECK(r->getValue<std::string>("published") == "2026-03-01");
  CHECK(d.Search("", "", "&category=預算").json()->getValue<int64_t>("total") == 1);
  CHECK(
      d.Search("").json()->getObject("facets")->getObject("category")->getValue<int64_t>("預算") ==
      1);
  CHECK(d.Search("", "", "&from=2026-03-01&to=2026-03-01").json()->getValue<int64_t>("total") == 1);
  CHECK(d.SearchPaths("橋梁") == std::vector<std::string>{"pub:budget.txt"});
  const std::string id = r->getValue<std::string>("id");
  auto doc = d.Get("/api/v1/documents/" + id).json();
  auto meta = doc->getObject("meta");
  CHECK(meta->getValue<std::string>("doc_number") == "府財字第123號");
  CHECK(meta->getArray("keywords")->size() == 3);
  CHECK_FALSE(meta->has("color"));
  CHECK(d.log().find("unknown key 'color' ignored") != std::string::npos);

  // A sidecar that cannot be read fails closed: archived, but restricted.
  CHECK(d.SearchPaths("壞的附屬檔案").empty());
  CHECK(d.SearchPaths("壞的附屬檔案", d.inspector()) == std::vector<std::string>{"pub:broken.txt"});
  CHECK(d.log().find("bad sidecar pub:broken.txt.meta.json") != std::string::npos);
  CHECK(d.SearchPaths("內部簽呈").empty());
  CHECK(d.SearchPaths("內部簽呈", d.inspector()) == std::vector<std::string>{"pub:inner.txt"});

  // Editing only the sidecar makes a version (same bytes, new metadata).
  WriteFile(d.FilePath("pub", "budget.txt.meta.json"),
            R"({"title":"修訂後的預算","category":"預算"})");
  REQUIRE(DaemonProcess::Eventually(
      [&] { return d.Get("/api/v1/documents/" + id).json()->getArray("versions")->size() == 2; }));
  auto versions = d.Get("/api/v1/documents/" + id).json()->getArray("versions");
  CHECK(versions->getObject(0)->getValue<std::string>("sha256") ==
        versions->getObject(1)->getValue<std::string>("sha256"));
  auto proof = d.Get("/api/v1/documents/" + id + "/versions/2/proof").json();
  CHECK(proof->getValue<std::string>("record").find("\"meta\":\"") != std::string::npos);
  REQUIRE(DaemonProcess::Eventually([&] { return !d.SearchPaths("修訂後的預算").empty(); }));
  CHECK(d.Stop() == 0);
  auto verify = d.Cli("verify");
  CHECK(verify.exit_code == 0);
  INFO(verify.out);
}

TEST_CASE("e2e: renames and moves keep the document id and are signed move records", "[e2e]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "a.txt"), "改名文件甲。\n");
  WriteFile(d.FilePath("pub", "dir1/x.txt"), "目錄文件乙。\n");
  WriteFile(d.FilePath("pub", "dir1/sub/y.txt"), "目錄文件丙。\n");
  WriteFile(d.FilePath("pub", "report.txt"), "報告第一版。\n");
  d.Start();
  d.WaitIdle(4);
  const std::string a = d.FirstId("改名文件甲");
  const std::string x = d.FirstId("目錄文件乙");
  const std::string y = d.FirstId("目錄文件丙");
  const std::string report = d.FirstId("報告第一版");
  auto path_of = [&](const std::string& id) {
    auto r = d.Get("/api/v1/documents/" + id, d.inspector());
    return r.status == 200 ? r.json()->getValue<std::string>("path") + "|" +
                                 r.json()->getValue<std::string>("status")
                           : std::string("?");
  };

  std::filesystem::rename(d.FilePath("pub", "a.txt"), d.FilePath("pub", "b.txt"));
  REQUIRE(DaemonProcess::Eventually([&] { return path_of(a) == "b.txt|active"; }));
  std::filesystem::rename(d.FilePath("pub", "dir1"), d.FilePath("pub", "dir2"));
  REQUIRE(DaemonProcess::Eventually([&] { return path_of(x) == "dir2/x.txt|active"; }));
  REQUIRE(DaemonProcess::Eventually([&] { return path_of(y) == "dir2/sub/y.txt|active"; }));
  // The moved folder is still watched under its new name.
  WriteFile(d.FilePath("pub", "dir2/sub/z.txt"), "新目錄裡的新文件。\n");
  REQUIRE(DaemonProcess::Eventually([&] { return !d.SearchPaths("新目錄裡的新文件").empty(); }));
  CHECK(d.SearchPaths("新目錄裡的新文件") == std::vector<std::string>{"pub:dir2/sub/z.txt"});

  // Editors save by writing a temp file and renaming it over the original.
  WriteFile(d.FilePath("pub", "report.txt.tmp"), "報告第二版。\n");
  std::filesystem::rename(d.FilePath("pub", "report.txt.tmp"), d.FilePath("pub", "report.txt"));
  REQUIRE(DaemonProcess::Eventually([&] {
    return d.Get("/api/v1/documents/" + report).json()->getArray("versions")->size() == 2;
  }));

  // Out of the share: withdrawn. Into it: a new document.
  std::filesystem::rename(d.FilePath("pub", "b.txt"), d.root() + "/outside.txt");
  REQUIRE(DaemonProcess::Eventually([&] { return path_of(a) == "b.txt|withdrawn"; }));
  std::filesystem::rename(d.root() + "/outside.txt", d.FilePath("pub", "back.txt"));
  REQUIRE(DaemonProcess::Eventually(
      [&] { return d.SearchPaths("改名文件甲") == std::vector<std::string>{"pub:back.txt"}; }));

  d.WaitIdle(5);
  CHECK(d.SearchPaths("目錄文件乙") == std::vector<std::string>{"pub:dir2/x.txt"});
  auto entries =
      d.Get("/api/v1/log/entries?start=0&end=100", d.inspector()).json()->getArray("entries");
  int moves = 0;
  for (size_t i = 0; i < entries->size(); ++i) {
    const std::string rec =
        entries->getObject(static_cast<unsigned>(i))->getValue<std::string>("record");
    if (rec.find("\"event\":\"move\"") != std::string::npos) {
      ++moves;
      CHECK(rec.find("\"from\":\"") != std::string::npos);
    }
  }
  CHECK(moves == 3);  // a.txt -> b.txt, and the two files of dir1
  CHECK(d.Get("/api/v1/documents/" + x).json()->getArray("versions")->size() ==
        1);  // a move is not a version
  CHECK(d.Stop() == 0);
  CHECK(d.Cli("verify").exit_code == 0);
}

TEST_CASE("e2e: a polled share is archived by periodic scans", "[e2e]") {
  DaemonProcess d({{"net", "watch = poll"}}, "anonymous_search_rate = 0\npoll_interval = 1s\n");
  WriteFile(d.FilePath("net", "first.txt"), "網路磁碟文件一。\n");
  d.Start();
  d.WaitIdle(1);
  CHECK(d.log().find("share net: polling (watch = poll)") != std::string::npos);
  WriteFile(d.FilePath("net", "later/second.txt"), "網路磁碟文件二。\n");
  REQUIRE(DaemonProcess::Eventually([&] { return !d.SearchPaths("網路磁碟文件二").empty(); }));
  const std::string id = d.FirstId("網路磁碟文件一");
  WriteFile(d.FilePath("net", "first.txt"), "網路磁碟文件一，修改後。\n");
  REQUIRE(DaemonProcess::Eventually(
      [&] { return d.Get("/api/v1/documents/" + id).json()->getArray("versions")->size() == 2; }));
  std::filesystem::remove(d.FilePath("net", "later/second.txt"));
  REQUIRE(DaemonProcess::Eventually([&] { return d.SearchPaths("網路磁碟文件二").empty(); }));
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: a folder swapped for a symlink cannot lead the archiver out of the share",
          "[e2e]") {
  DaemonProcess d;
  WriteFile(d.root() + "/outside/secret.txt", "機密金鑰內容，不得歸檔。\n");
  d.Start();
  d.WaitIdle(0);
  for (int round = 0; round < 5; ++round) {
    // Queue d/secret.txt, then swap the folder d for a symlink to a folder
    // outside the share before the settle time has passed.
    WriteFile(d.FilePath("pub", "d/secret.txt"), "誘餌文件。\n");
    std::filesystem::remove_all(d.FilePath("pub", "d"));
    std::filesystem::create_directory_symlink(d.root() + "/outside", d.FilePath("pub", "d"));
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    d.WaitIdle(0);
    CHECK(d.SearchPaths("機密金鑰", d.inspector()).empty());
    std::filesystem::remove(d.FilePath("pub", "d"));
  }
  // The archiver was not just idle: a real folder and file are archived, and
  // the outside file's text never reached the archive.
  WriteFile(d.FilePath("pub", "d/real.txt"), "真正的文件。\n");
  REQUIRE(DaemonProcess::Eventually([&] { return !d.SearchPaths("真正的文件").empty(); }));
  CHECK(d.SearchPaths("機密金鑰", d.inspector()).empty());
  CHECK(d.Stop() == 0);
  CHECK(d.Cli("search 機密金鑰").out.find("0 documents match") != std::string::npos);
}

TEST_CASE("e2e: gongkai approve and classify change a running daemon's answers", "[e2e]") {
  DaemonProcess d(std::vector<DaemonProcess::Share>{{"rev", "review = required"}});
  WriteFile(d.FilePath("rev", "plan.txt"), "命令列審核文件午未。\n");
  d.Start();
  d.WaitIdle(1);
  const std::string id = d.FirstId("午未", d.inspector());
  CHECK(d.SearchPaths("午未").empty());
  auto approved = d.Cli("approve " + id);
  INFO(approved.out);
  REQUIRE(approved.exit_code == 0);
  CHECK(d.SearchPaths("午未") ==
        std::vector<std::string>{"rev:plan.txt"});         // visible as soon as it returns
  CHECK(d.Cli("approve " + id + " 2>&1").exit_code == 1);  // nothing pending now
  REQUIRE(d.Cli("classify " + id + " restricted").exit_code == 0);
  CHECK(d.SearchPaths("午未").empty());
  CHECK(d.Get("/api/v1/documents/" + id).status == 404);
  CHECK(d.Cli("classify " + id + " secret 2>&1").exit_code == 2);
  CHECK(d.Cli("approve no-such-id 2>&1").exit_code == 1);
  CHECK(d.Stop() == 0);
  CHECK(d.Cli("verify").exit_code == 0);
}

TEST_CASE("e2e: an upload finished with link() and unlink() is archived once, promptly", "[e2e]") {
  DaemonProcess d;
  d.Start();
  d.WaitIdle(0);
  // sftp-style: write under a temporary name, link the final name, drop the temporary one.
  const std::string tmp = d.FilePath("pub", "upload.8f3a2c");
  WriteFile(tmp, "經由SFTP上傳的公告。\n");
  std::this_thread::sleep_for(
      std::chrono::milliseconds(20));  // a server's next request, at the earliest
  REQUIRE(::link(tmp.c_str(), d.FilePath("pub", "公告.txt").c_str()) == 0);
  REQUIRE(::unlink(tmp.c_str()) == 0);
  // Usually at once (the new name's inode was written earlier); at worst
  // after the 30 s quiet period that activity without a close-write waits.
  REQUIRE(DaemonProcess::Eventually([&] { return !d.SearchPaths("經由SFTP上傳").empty(); }, 45));
  d.WaitIdle(1);
  CHECK(d.SearchPaths("經由SFTP上傳") == std::vector<std::string>{"pub:公告.txt"});
  // O_TMPFILE, then linkat() into place: also no close-write on the name.
  int fd = ::open(d.SharePath("pub").c_str(), O_TMPFILE | O_WRONLY, 0644);
  REQUIRE(fd >= 0);
  const std::string text = "匿名暫存檔寫入的文件。\n";
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(::linkat(fd, "", AT_FDCWD, d.FilePath("pub", "tmpfile.txt").c_str(), AT_EMPTY_PATH) == 0);
  ::close(fd);
  REQUIRE(DaemonProcess::Eventually([&] { return !d.SearchPaths("匿名暫存檔").empty(); }, 45));
  d.WaitIdle(2);
  auto s = d.Get("/api/v1/status", d.inspector()).json();
  CHECK(s->getValue<int64_t>("versions") == 2);
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: a slow writer with pauses is archived once, with its final content", "[e2e]") {
  DaemonProcess d;
  d.Start();
  d.WaitIdle(0);
  std::string expected;
  {
    // About 1 MB/s in 50 KB pieces, with pauses shorter and longer than the
    // 300 ms settle time, the file open all along.
    std::ofstream out(d.FilePath("pub", "slow-report.txt"), std::ios::binary);
    for (int i = 0; i < 30; ++i) {
      std::string piece =
          "第" + std::to_string(i) + "段。" + std::string(size_t{50} * 1024, 'x') + "\n";
      out << piece << std::flush;
      expected += piece;
      std::this_thread::sleep_for(std::chrono::milliseconds(i % 10 == 9 ? 600 : 50));
    }
    out << "全文完。\n";
    expected += "全文完。\n";
  }
  REQUIRE(
      DaemonProcess::Eventually([&] { return !d.SearchPaths("全文完", d.inspector()).empty(); }));
  d.WaitIdle(1);
  auto s = d.Get("/api/v1/status", d.inspector()).json();
  CHECK(s->getValue<int64_t>("versions") == 1);
  const std::string id = d.FirstId("全文完");
  auto content = d.Get("/api/v1/documents/" + id + "/versions/1/content");
  CHECK(content.body.size() == expected.size());
  CHECK(content.body == expected);
  CHECK(d.Stop() == 0);
}
