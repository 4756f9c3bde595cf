#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "auth.h"
#include "connection_limiter.h"
#include "gongkai/daemon/layout.h"
#include "gongkai/storage/crypto.h"
#include "json_writer.h"
#include "settle_queue.h"
#include "sidecar.h"
#include "status_report.h"
#include "support/temp_dir.h"

using namespace gongkai::daemon;
using namespace std::chrono_literals;
using gongkai::test::Slurp;
using gongkai::test::TempDir;
using gongkai::test::WriteFile;

TEST_CASE("ignored names: hidden, office temp, partial downloads, sidecars", "[daemon]") {
  for (const char* n : {".hidden", ".~lock.report.odt#", "~$report.docx", "x.tmp", "x.TMP",
                        "big.iso.part", "a.crdownload", "notice.pdf.meta.json", "backup~"})
    CHECK(IsIgnoredName(n));
  for (const char* n : {"report.docx", "公告.txt", "a.meta.json.pdf", "tmp.txt", "part"})
    CHECK_FALSE(IsIgnoredName(n));
}

TEST_CASE("settle queue: due order, debounce, requeue keeps what was seen", "[daemon]") {
  SettleQueue q;
  const auto now = Clock::now();
  q.Touch(0, "b", now - 1ms);
  q.Touch(0, "a", now - 2ms);
  q.Touch(1, "later", now + 1h);
  CHECK(q.size() == 3);
  auto due = q.TakeDue(10, 0ms);
  REQUIRE(due.size() == 2);
  CHECK(due[0].rel == "a");  // oldest due first
  CHECK(due[1].rel == "b");
  CHECK(q.TakeDue(10, 20ms).empty());  // "later" is not due

  // A new event moves the due time; an event for a queued file is one entry.
  q.Touch(1, "later", now - 1ms);
  q.Touch(1, "later", now - 1ms);
  due = q.TakeDue(10, 0ms);
  REQUIRE(due.size() == 1);
  CHECK(q.size() == 0);

  PendingFile f = due[0];
  f.seen = true;
  f.size = 5;
  q.Requeue(f, Clock::now());
  due = q.TakeDue(10, 100ms);
  REQUIRE(due.size() == 1);
  CHECK(due[0].seen);
  CHECK(due[0].size == 5);

  // Activity only postpones: due_if_new applies when absent, and a queued
  // file is never made due earlier by it.
  q.Postpone(2, "x", now + 1h, now - 1ms);
  CHECK(q.TakeDue(10, 0ms).size() == 1);
  q.Postpone(2, "y", now - 1ms, now + 1h);
  q.Postpone(2, "y", now - 1ms, now - 1ms);
  CHECK(q.TakeDue(10, 0ms).empty());
  q.Touch(2, "y", now - 1ms);  // a close-write makes it due
  CHECK(q.TakeDue(10, 0ms).size() == 1);
  q.Stop();
  CHECK(q.TakeDue(10, 10s).empty());  // returns at once when stopped
}

TEST_CASE("settle queue: bounded, refused files mark their share for a rescan once drained",
          "[daemon]") {
  std::vector<size_t> full_events;
  SettleQueue q(4, [&](size_t share) { full_events.push_back(share); });
  const auto now = Clock::now();
  for (int i = 0; i < 4; ++i) CHECK(q.Touch(0, "f" + std::to_string(i), now - 1ms));
  CHECK_FALSE(q.Touch(0, "f4", now - 1ms));
  CHECK_FALSE(q.Postpone(1, "g", now, now));
  CHECK_FALSE(q.Touch(0, "f5", now - 1ms));
  CHECK(q.size() == 4);
  CHECK(full_events == std::vector<size_t>{0, 1});  // once per share and episode
  CHECK(q.Touch(0, "f1", now - 2ms));               // a queued file is still debounced

  CHECK(q.TakeRescans().empty());  // not before the queue has drained to half
  auto taken = q.TakeDue(1, 0ms);
  REQUIRE(taken.size() == 1);
  q.Requeue(taken[0], now);  // the archiver's put-back is never refused
  CHECK(q.size() == 4);
  CHECK(q.TakeDue(2, 0ms).size() == 2);
  CHECK(q.TakeRescans() == std::set<size_t>{0, 1});

  // Share 0's rescan meets a full queue again: marked, but the same episode.
  CHECK(q.Touch(2, "h1", now));
  CHECK(q.Touch(2, "h2", now));
  CHECK_FALSE(q.Touch(0, "f6", now));
  CHECK(full_events == std::vector<size_t>{0, 1});
  CHECK(q.TakeRescans().empty());  // full: not yet
  CHECK(q.TakeDue(10, 0ms).size() == 4);
  CHECK(q.TakeRescans() == std::set<size_t>{0});
  // That rescan queues everything: the episode ends, and a new one logs again.
  CHECK(q.TakeRescans().empty());
  for (int i = 0; i < 4; ++i) CHECK(q.Touch(1, "k" + std::to_string(i), now + 1h));
  CHECK_FALSE(q.Touch(0, "f7", now));
  CHECK(full_events == std::vector<size_t>{0, 1, 0});
}

TEST_CASE("tokens: roles, bad tokens, malformed files", "[daemon]") {
  using gongkai::storage::Hex;
  using gongkai::storage::Sha256Of;
  const std::string text = "# comment\n\ninspector " + Hex(Sha256Of("s3cret")) +
                           " 王檢查員\nadmin " + Hex(Sha256Of("boss")) + " admin one\nhub " +
                           Hex(Sha256Of("county")) + " county hub\n";
  auto parsed = ParseTokens(text, "tokens");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 3);
  CHECK((*parsed)[0].name == "王檢查員");
  CHECK((*parsed)[1].role == Role::kAdmin);
  CHECK((*parsed)[2].role == Role::kHub);
  for (const char* bad : {"root", "anonymous"})
    CHECK(ParseTokens(std::string(bad) + " abc x\n", "t").status().message() ==
          "t:1: role must be inspector, admin or hub");
  // A hub token is below anonymous: no `role >= X` check grants it anything
  // (the router alone maps it, tests/hub_e2e_test.cc).
  CHECK(Role::kHub < Role::kAnonymous);
  CHECK_FALSE(ParseTokens("admin ABCDEF x\n", "t").ok());

  TokenStore store;
  CHECK(store.Authenticate("") == Role::kAnonymous);
  CHECK_FALSE(store.Authenticate("Bearer s3cret").has_value());
  CHECK_FALSE(store.Load("/nonexistent/tokens").ok());
}

TEST_CASE("tokens: added and revoked in the file, comments kept, only hashes stored", "[daemon]") {
  TempDir dir;
  const std::string file = dir / "tokens";
  WriteFile(file, "# who may look\ninspector " + std::string(64, 'b') + " old one\n\n");
  auto added = AddToken(file, Role::kAdmin, "張三");
  REQUIRE(added.ok());
  CHECK(added->token.rfind("gk_", 0) == 0);
  CHECK(Slurp(file).find(added->token) == std::string::npos);
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto parsed = ParseTokens(Slurp(file), file);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 2);
  CHECK(parsed->at(1).sha256_hex == added->entry.sha256_hex);
  CHECK_FALSE(AddToken(file, Role::kAdmin, "two\nlines").ok());

  CHECK(RevokeTokens(file, "nobody").status().IsNotFound());
  CHECK(RevokeTokens(file, "bbbb").status().IsNotFound());  // a prefix needs 8 digits
  auto revoked = RevokeTokens(file, added->entry.sha256_hex.substr(0, 8));
  REQUIRE(revoked.ok());
  CHECK(*revoked == 1);
  CHECK(Slurp(file) == "# who may look\ninspector " + std::string(64, 'b') + " old one\n\n");
  CHECK(RevokeTokens(dir / "missing", "x").status().code() == gongkai::Status::Code::kIOError);
  WriteFile(file, "superuser " + std::string(64, 'c') + " x\n");
  CHECK(AddToken(file, Role::kAdmin, "y").status().code() == gongkai::Status::Code::kCorruption);
}

TEST_CASE("json writer: nesting, commas, escaping", "[daemon]") {
  JsonWriter w;
  w.BeginObject().Field("a", 1).Field("b", "x\"y").Key("c").BeginArray().Int(1).Int(2).EndArray();
  w.Key("d").BeginObject().EndObject().Field("e", true).Key("f").Raw("{\"k\":null}").EndObject();
  CHECK(w.str() == R"({"a":1,"b":"x\"y","c":[1,2],"d":{},"e":true,"f":{"k":null}})");
  JsonWriter bad;
  bad.String("\xff\x01");
  CHECK(bad.str() == "\"\xEF\xBF\xBD\\u0001\"");
}

TEST_CASE("connection limiter: a cap per client, slots given back, refusals logged once a minute",
          "[daemon]") {
  using gongkai::daemon::ConnectionLimiter;
  ConnectionLimiter limiter(2);
  const auto t0 = ConnectionLimiter::Clock::now();
  int ids[6];
  std::string report;
  CHECK(limiter.Admit(&ids[0], "10.0.0.1", t0, &report));
  CHECK(limiter.Admit(&ids[1], "10.0.0.1", t0, &report));
  CHECK(limiter.open("10.0.0.1") == 2);
  CHECK_FALSE(limiter.Admit(&ids[2], "10.0.0.1", t0, &report));
  CHECK(report.find("refused a connection from 10.0.0.1") != std::string::npos);
  CHECK(limiter.Admit(&ids[3], "10.0.0.2", t0, &report));  // another client is not affected
  CHECK(report.empty());

  // Within the minute, further refusals are counted, not logged.
  for (int i = 0; i < 5; ++i) {
    CHECK_FALSE(limiter.Admit(&ids[2], "10.0.0.1", t0 + std::chrono::seconds(i), &report));
    CHECK(report.empty());
  }
  CHECK_FALSE(limiter.Admit(&ids[2], "10.0.0.1", t0 + std::chrono::seconds(61), &report));
  CHECK(report.find("5 more refused") != std::string::npos);

  limiter.Release(&ids[0]);
  limiter.Release(&ids[0]);  // a second release of the same connection changes nothing
  CHECK(limiter.open("10.0.0.1") == 1);
  CHECK(limiter.Admit(&ids[4], "10.0.0.1", t0, &report));
  limiter.Release(&ids[1]);
  limiter.Release(&ids[4]);
  CHECK(limiter.open("10.0.0.1") == 0);

  // An id counted again (a socket dropped before it was served, its memory
  // reused) gives its old slot back first.
  CHECK(limiter.Admit(&ids[5], "10.0.0.3", t0, &report));
  CHECK(limiter.Admit(&ids[5], "10.0.0.4", t0, &report));
  CHECK(limiter.open("10.0.0.3") == 0);
  CHECK(limiter.open("10.0.0.4") == 1);
}

TEST_CASE("connection limiter: 0 is no cap", "[daemon]") {
  gongkai::daemon::ConnectionLimiter limiter(0);
  std::vector<int> ids(1000);
  std::string report;
  for (int& id : ids) CHECK(limiter.Admit(&id, "127.0.0.1", {}, &report));
  CHECK(limiter.open("127.0.0.1") == 1000);
  for (int& id : ids) limiter.Release(&id);
  CHECK(limiter.open("127.0.0.1") == 0);
}

TEST_CASE("status report: the status object, the systemd line and the archive gauges agree",
          "[daemon]") {
  Snapshot snap;
  snap.counts = {.documents = 3, .active = 2, .versions = 5, .records = 9};
  snap.waiting = 4;
  snap.index_backlog = 2;
  snap.index_shards = 3;
  snap.failures.push_back({.share = "pub", .path = "坏.pdf", .error = "cannot read: \"x\""});
  snap.last_commit_unix = 1700000000;
  gongkai::Config config;
  config.shares.push_back({.name = "pub", .path = "/srv/pub", .office = "县政府办"});

  CHECK(StatusLine(snap) == "3 documents, 5 versions, 6 queued, 1 failed");
  snap.storage_problem = "no space left";
  CHECK(StatusLine(snap) ==
        "3 documents, 5 versions, 6 queued, 1 failed; INGEST PAUSED: no space left");

  const std::string json = StatusJson(snap, config, std::chrono::system_clock::time_point{}, 42);
  for (const char* field :
       {R"("documents":3)", R"("active":2)", R"("versions":5)", R"("records":9)", R"("queued":6)",
        R"("index_backlog":2)", R"("index_shards":3)", R"("failed":1)",
        R"("storage_problem":"no space left")", R"("started":"1970-01-01T00:00:00Z")",
        R"("pid":42)", R"("path":"坏.pdf")", R"("error":"cannot read: \"x\"")",
        R"("office":"县政府办")"})
    CHECK_THAT(json, Catch::Contains(field));

  const std::string gauges = ArchiveGauges(snap);
  for (const char* line :
       {"gongkai_documents 3\n", "gongkai_documents_active 2\n", "gongkai_versions 5\n",
        "gongkai_log_records 9\n", "gongkai_queue_depth 4\n", "gongkai_index_backlog 2\n",
        "gongkai_index_shards 3\n", "gongkai_failed_files 1\n",
        "gongkai_last_commit_timestamp_seconds 1700000000\n", "# TYPE gongkai_versions gauge\n"})
    CHECK_THAT(gauges, Catch::Contains(line));
}

TEST_CASE("sidecar: the catalogue's keys, normalised in a fixed order, and what is refused",
          "[daemon]") {
  auto m = gongkai::daemon::ParseSidecar(
      R"({"summary": "2026年本级预算", "legal_status": "repealed", "repealed_on": "2026-06-30",
          "category": "法定主动公开内容/行政规范性文件", "created": "2026-01-05",
          "title": "预算办法"})");
  REQUIRE(m.ok());
  CHECK(m->created == "2026-01-05");
  CHECK(
      m->json ==
      R"({"title":"预算办法","category":"法定主动公开内容/行政规范性文件","created":"2026-01-05",)"
      R"("summary":"2026年本级预算","legal_status":"repealed","repealed_on":"2026-06-30"})");
  CHECK(gongkai::daemon::ParseSidecar(R"({"category": "预算"})").ok());
  CHECK(gongkai::daemon::ParseSidecar(R"({"legal_status": "effective"})").ok());
  for (const char* bad :
       {R"({"category": "a/b/c"})", R"({"category": "/b"})", R"({"category": "a/"})",
        R"({"category": ""})", R"({"created": "2026-13-01"})", R"({"created": 20260105})",
        R"({"legal_status": "void"})", R"({"legal_status": "repealed"})",
        R"({"repealed_on": "2026-06-30"})",
        R"({"legal_status": "effective", "repealed_on": "2026-06-30"})", R"({"summary": 7})"}) {
    INFO(bad);
    CHECK_FALSE(gongkai::daemon::ParseSidecar(bad).ok());
  }
}
