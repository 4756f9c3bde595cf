// The catalog's row primitives, snapshots and concurrent writers on every
// backend, and what only PostgreSQL has: connections that break, server
// errors, connection strings (support/postgres_server.h starts the server).
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "gongkai/ledger/ledger.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"
#include "gongkai/storage/verify.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

using gongkai::Status;
using gongkai::ledger::Change;
using gongkai::ledger::Ledger;
using gongkai::test::CatalogPlace;
using gongkai::test::PostgresServer;
using gongkai::test::TempDir;
using namespace gongkai::storage;

namespace {

constexpr const char* kOrigin = "catalog.test";

Change Version(const std::string& share, const std::string& path, const std::string& content,
               const std::string& doc_id = "") {
  Change c;
  c.doc_id = doc_id;
  c.share = share;
  c.path = path;
  c.sha256 = Hex(Sha256Of(content));
  c.size = static_cast<int64_t>(content.size());
  c.file = {c.size, 1'700'000'000'000'000'000, 7};
  return c;
}

Status Apply(Catalog* catalog, const SigningKey& key, std::vector<Change>& changes) {
  return Ledger(catalog, Env::Default(), kOrigin).Apply(changes, key);
}

Change ApplyOne(Catalog* catalog, const SigningKey& key, Change c) {
  std::vector<Change> one{std::move(c)};
  REQUIRE(Apply(catalog, key, one).ok());
  return one[0];
}

std::unique_ptr<Catalog> Open(const CatalogPlace& place) {
  auto c = place.Open();
  INFO((c.ok() ? "" : c.status().ToString()));
  REQUIRE(c.ok());
  return std::move(*c);
}

// A PostgreSQL catalog place, or nullopt (after a WARN) without the server.
std::optional<CatalogPlace> PostgresPlace(const TempDir& dir) {
  return gongkai::test::FreshCatalog("postgresql", dir);
}

}  // namespace

TEST_CASE("catalog: every row primitive reads back alike on each backend", "[catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  TempDir dir;
  const auto place = gongkai::test::FreshCatalog(backend, dir);
  if (!place) return;
  auto cat = Open(*place);
  auto key = std::move(*SigningKey::Generate());

  REQUIRE(cat->AddKey({key->KeyId(), key->PublicPem(), "2026-01-01T00:00:00Z", ""}).ok());
  REQUIRE(
      cat->AddKey({key->KeyId(), "ignored: the key is there", "2026-01-02T00:00:00Z", ""}).ok());
  Change notice = Version("pub", "子目錄/公告.txt", "同一份內容");
  notice.meta = R"({"category":"預算"})";
  const std::string a = ApplyOne(cat.get(), *key, notice).doc_id;
  const std::string b = ApplyOne(cat.get(), *key, Version("pub", "copy.txt", "同一份內容")).doc_id;
  const std::string c = ApplyOne(cat.get(), *key, Version("sec", "other.txt", "另一份")).doc_id;
  Change restrict {Change::Kind::kClassify, a};
  restrict.classification = gongkai::Classification::kRestricted;
  const int64_t restricted_at = ApplyOne(cat.get(), *key, restrict).record.seq;

  auto all = cat->AllDocuments();
  REQUIRE(all->size() == 3);
  CHECK(std::is_sorted(all->begin(), all->end(), [](auto& x, auto& y) { return x.id < y.id; }));
  CHECK(cat->ArchivedFiles("pub")->size() == 2);
  CHECK((*cat->FindByPath("pub", "子目錄/公告.txt"))->id == a);
  // Lookups by what is never stored (not UTF-8, a NUL) find nothing, and fail nothing.
  CHECK_FALSE(cat->FindByPath("pub", "\xb9\xab\xb8\xe6.txt")->has_value());  // 公告 in GBK
  CHECK_FALSE(cat->GetDocument(std::string("a\0b", 3))->has_value());
  CHECK(cat->Versions("\xff")->empty());
  CHECK(cat->DocumentsWithVersions({"\xff", a})->size() == 1);
  auto holders = *cat->DocumentsHolding(Hex(Sha256Of("同一份內容")));
  CHECK(holders == (a < b ? std::vector<std::string>{a, b} : std::vector<std::string>{b, a}));
  const std::string same = Hex(Sha256Of("同一份內容")), other = Hex(Sha256Of("另一份"));
  CHECK(*cat->RestrictedAmong({same, other, same}, b) ==
        std::map<std::string, int64_t>{{same, restricted_at}});
  CHECK(cat->RestrictedAmong({same}, a)->empty());  // the restricted document itself does not count
  // Any list, one read: hashes repeated, unknown, not hex, and no document excepted.
  CHECK(*cat->RestrictedAmong({other, "x\"y\\", same, same}, "") ==
        std::map<std::string, int64_t>{{same, restricted_at}});
  CHECK(cat->RestrictedAmong({}, "")->empty());
  auto page = *cat->DocumentsWithVersions({c, a, "no-such-id"});
  REQUIRE(page.size() == 2);
  for (const auto& [doc, versions] : page) CHECK(versions.size() == 1);

  auto latest = *cat->LatestVersions("9999-12-31T23:59:59Z");
  REQUIRE(latest.size() == 3);  // (pub, ""), (pub, 預算), (sec, "")
  CHECK((latest[0].share == "pub" && latest[0].category.empty() && latest[0].versions == 1));
  CHECK((latest[1].share == "pub" && latest[1].category == "預算" && latest[1].versions == 1));
  CHECK((latest[2].share == "sec" && latest[2].versions == 1));
  CHECK(cat->LatestVersions("2000-01-01T00:00:00Z")->empty());

  const FileState moved{9, 8, 7, 6};
  REQUIRE(cat->UpdateFileState(b, moved).ok());
  CHECK((*cat->GetDocument(b))->file == moved);
  CHECK((*cat->GetDocument(a))->classified_seq == restricted_at);
  CHECK(cat->TreeNode(40, 0).status().code() == Status::Code::kCorruption);
  auto checkpoints = *cat->Checkpoints();
  REQUIRE(checkpoints.size() == 4);
  CHECK(checkpoints.front().size == 1);
  CHECK((*cat->LatestCheckpoint())->size == 4);

  auto next = std::move(*SigningKey::Generate());
  REQUIRE(cat->RotateTo({next->KeyId(), next->PublicPem(), "2026-02-01T00:00:00Z", ""}).ok());
  auto keys = *cat->Keys();
  REQUIRE(keys.size() == 2);
  CHECK((keys[0].key_id == key->KeyId() && !keys[0].retired.empty()));
  CHECK((keys[1].key_id == next->KeyId() && keys[1].retired.empty()));
  CHECK(*cat->IntegrityCheck() == "ok");

  // What a scan compares the share with: each active document's file state, by path.
  Change withdraw{Change::Kind::kWithdraw, c};
  ApplyOne(cat.get(), *next, withdraw);
  CHECK(*cat->ArchivedFiles("pub") ==
        std::map<std::string, FileState>{{"子目錄/公告.txt", notice.file}, {"copy.txt", moved}});
  CHECK(cat->ArchivedFiles("sec")->empty());  // withdrawn
  CHECK(cat->ArchivedFiles("\xff")->empty());

  // What a folder's rename moves: the active documents under it at any
  // depth, by path, and nothing that only begins like it.
  ApplyOne(cat.get(), *next, Version("pub", "子目錄/二/深.txt", "深"));
  ApplyOne(cat.get(), *next, Version("pub", "子目錄-舊.txt", "舊"));  // '-' sorts before '/'
  ApplyOne(cat.get(), *next, Version("pub", "子目錄0.txt", "零"));    // '0' right after it
  const std::string gone = ApplyOne(cat.get(), *next, Version("pub", "子目錄/撤.txt", "撤")).doc_id;
  ApplyOne(cat.get(), *next, Change{Change::Kind::kWithdraw, gone});
  auto found = cat->ActiveDocumentsIn("pub", "子目錄");
  REQUIRE(found.ok());
  std::vector<std::string> inside;
  for (const auto& d : *found) inside.push_back(d.path);
  CHECK(inside == std::vector<std::string>{"子目錄/二/深.txt", "子目錄/公告.txt"});
  CHECK((*cat->ActiveDocumentsIn("pub", "子目錄/二")).size() == 1);
  CHECK(cat->ActiveDocumentsIn("pub", "子")->empty());
  CHECK(cat->ActiveDocumentsIn("sec", "子目錄")->empty());
  CHECK(cat->ActiveDocumentsIn("\xff", "子目錄")->empty());
}

TEST_CASE("catalog: a status, classification or review it cannot read is Corruption", "[catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  TempDir dir;
  const auto place = gongkai::test::FreshCatalog(backend, dir);
  if (!place) return;
  auto cat = Open(*place);
  auto key = std::move(*SigningKey::Generate());
  const std::string id = ApplyOne(cat.get(), *key, Version("pub", "a.txt", "one")).doc_id;
  auto sql = [&](const std::string& statement) {
    if (!place->postgres.empty()) return void(PostgresServer::Sql(place->postgres, statement));
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(place->sqlite_path.c_str(), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  };
  auto corrupt = [](const Status& s, const std::string& what) {
    INFO(s.ToString());
    CHECK(s.code() == Status::Code::kCorruption);
    CHECK(s.message().find(what) != std::string::npos);
  };

  sql("UPDATE documents SET status = 'gone'");
  corrupt(cat->GetDocument(id).status(), "documents.status 'gone'");
  corrupt(cat->FindByPath("pub", "a.txt").status(), "documents.status 'gone'");
  corrupt(cat->AllDocuments().status(), "documents.status 'gone'");
  corrupt(cat->DocumentsWithVersions({id}).status(), "documents.status 'gone'");
  sql("UPDATE documents SET status = 'active', classification = 'Public'");
  corrupt(cat->GetDocument(id).status(), "documents.classification 'Public'");
  sql("UPDATE documents SET classification = 'public'");
  REQUIRE(cat->GetDocument(id).ok());
  sql("UPDATE versions SET review = ''");
  corrupt(cat->Versions(id).status(), "versions.review ''");
  corrupt(cat->DocumentsWithVersions({id}).status(), "versions.review ''");
  sql("UPDATE versions SET review = 'approved'");
  REQUIRE(cat->Versions(id).ok());
  // The connection is still good for writes.
  CHECK(ApplyOne(cat.get(), *key, Version("pub", "b.txt", "two")).record.seq == 1);
}

TEST_CASE("catalog: a snapshot keeps one state while another connection appends", "[catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  TempDir dir;
  const auto place = gongkai::test::FreshCatalog(backend, dir);
  if (!place) return;
  auto reader = Open(*place);
  auto writer = Open(*place);
  auto key = std::move(*SigningKey::Generate());
  ApplyOne(writer.get(), *key, Version("pub", "a.txt", "one"));

  REQUIRE(reader->BeginSnapshot().ok());
  ApplyOne(writer.get(), *key, Version("pub", "b.txt", "two"));  // not blocked by the reader
  CHECK(reader->Counts()->records == 1);
  CHECK((*reader->LatestCheckpoint())->size == 1);
  CHECK(*reader->IntegrityCheck() == "ok");
  CHECK_FALSE(reader->FindByPath("pub", "b.txt")->has_value());
  REQUIRE(reader->EndSnapshot().ok());
  CHECK(reader->Counts()->records == 2);
}

// Writers in threads, each with its own connection and ledger, as the
// archiver and `gongkai approve` are in two processes: every Apply succeeds,
// the log has no gap, and every checkpoint is a prefix of one tree.
TEST_CASE(
    "catalog: concurrent writers on separate connections keep the log gap-free and consistent",
    "[catalog][concurrency]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  TempDir dir;
  const auto place = gongkai::test::FreshCatalog(backend, dir);
  if (!place) return;
  constexpr int kWriters = 3, kBatches = 20, kPerBatch = 3;
  auto key = std::move(*SigningKey::Generate());
  auto blobs = std::move(*BlobStore::Open(Env::Default(), dir / "blobs", dir / "tmp"));
  std::vector<std::unique_ptr<Catalog>> catalogs;
  for (int i = 0; i <= kWriters; ++i) catalogs.push_back(Open(*place));
  REQUIRE(catalogs[0]->AddKey({key->KeyId(), key->PublicPem(), "2026-01-01T00:00:00Z", ""}).ok());

  auto content = [](int w, int b, int f) {
    return "writer " + std::to_string(w) + " batch " + std::to_string(b) + " file " +
           std::to_string(f);
  };
  for (int w = 0; w < kWriters; ++w)
    for (int b = 0; b < kBatches; ++b)
      for (int f = 0; f < kPerBatch; ++f) {
        auto writer = std::move(*blobs->NewWriter());
        const std::string text = content(w, b, f);
        REQUIRE(writer->Append(text.data(), text.size()).ok());
        REQUIRE(writer->Finish().ok());
        REQUIRE(writer->Commit().ok());
      }

  std::vector<std::string> errors(kWriters + 1);
  std::atomic<int> writing{kWriters};
  std::vector<std::thread> threads;
  threads.reserve(kWriters + 1);
  for (int w = 0; w < kWriters; ++w)
    threads.emplace_back([&, w] {
      for (int b = 0; b < kBatches && errors[w].empty(); ++b) {
        std::vector<Change> batch;
        batch.reserve(kPerBatch);
        for (int f = 0; f < kPerBatch; ++f)
          batch.push_back(Version("w" + std::to_string(w),
                                  std::to_string(b) + "-" + std::to_string(f), content(w, b, f)));
        if (Status s = Apply(catalogs[w].get(), *key, batch); !s.ok()) errors[w] = s.ToString();
      }
      --writing;
    });
  int snapshots = 0;
  threads.emplace_back([&] {  // a reader: each snapshot is one committed state
    Catalog* reader = catalogs[kWriters].get();
    while (writing > 0 && errors[kWriters].empty()) {
      if (!reader->BeginSnapshot().ok()) errors[kWriters] = "snapshot";
      auto counts = reader->Counts();
      auto records = reader->Records(0, 1000);
      auto checkpoint = reader->LatestCheckpoint();
      if (!counts.ok() || !records.ok() || !checkpoint.ok())
        errors[kWriters] = "read failed";
      else if (static_cast<int64_t>(records->size()) != counts->records ||
               (counts->records > 0 && (*checkpoint)->size != counts->records))
        errors[kWriters] = "snapshot saw " + std::to_string(counts->records) + " records, " +
                           std::to_string(records->size()) + " rows";
      reader->EndSnapshot();
      ++snapshots;
    }
  });
  for (auto& t : threads) t.join();
  for (const std::string& e : errors) CHECK(e.empty());
  INFO(snapshots << " snapshots taken");

  Catalog* cat = catalogs[0].get();
  auto records = *cat->Records(0, 1000);
  REQUIRE(records.size() == static_cast<size_t>(kWriters * kBatches * kPerBatch));
  for (size_t i = 0; i < records.size(); ++i) CHECK(records[i].seq == static_cast<int64_t>(i));
  auto checkpoints = *cat->Checkpoints();
  CHECK(checkpoints.size() == static_cast<size_t>(kWriters * kBatches));
  StreamingTree tree;
  size_t next_checkpoint = 0;
  for (const RecordRow& r : records) {
    tree.Append(LeafHash(r.record));
    if (next_checkpoint < checkpoints.size() &&
        checkpoints[next_checkpoint].size == static_cast<int64_t>(tree.size())) {
      auto cp = VerifyCheckpoint(checkpoints[next_checkpoint].text, kOrigin, key->RawPublic());
      REQUIRE(cp.ok());
      CHECK(Hex(cp->root) == Hex(tree.Root()));
      ++next_checkpoint;
    }
  }
  CHECK(next_checkpoint ==
        checkpoints.size());  // every checkpoint is at a batch boundary of this one log

  VerifyOptions options;
  options.origin = kOrigin;
  auto report = VerifyArchive(cat, *blobs, dir / "blobs", options);
  REQUIRE(report.ok());
  for (const auto& p : report->problems) FAIL_CHECK(p.where << ": " << p.what);
  CHECK(report->records == records.size());
}

TEST_CASE("postgres catalog: a broken connection is replaced – a write it broke commits nothing",
          "[catalog][postgres]") {
  TempDir dir;
  const auto place = PostgresPlace(dir);
  if (!place) return;
  auto cat = Open(*place);
  auto key = std::move(*SigningKey::Generate());
  ApplyOne(cat.get(), *key, Version("pub", "a.txt", "one"));
  const std::string kill_catalogs =  // and wait until it is gone (5 s at most)
      "SELECT COUNT(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
      " WHERE datname = current_database() AND application_name = 'gongkai'";

  // Outside a transaction the next call reconnects and succeeds.
  CHECK(PostgresServer::Sql(place->postgres, kill_catalogs) == "1");
  auto counts = cat->Counts();
  INFO((counts.ok() ? "" : counts.status().ToString()));
  REQUIRE(counts.ok());
  CHECK(counts->records == 1);

  // Inside a write transaction the loss is reported, and nothing is committed.
  REQUIRE(cat->BeginWrite().ok());
  REQUIRE(cat->InsertDocument(DocumentRow{"zzz",
                                          "pub",
                                          "lost.txt",
                                          gongkai::DocumentStatus::kActive,
                                          gongkai::Classification::kPublic,
                                          0,
                                          1,
                                          "",
                                          {1, 1, 1, 0},
                                          "t",
                                          "t"})
              .ok());
  CHECK(PostgresServer::Sql(place->postgres, kill_catalogs) == "1");
  auto lost = cat->NextRecordSeq();
  CHECK(lost.status().code() == Status::Code::kIOError);
  CHECK(lost.status().message().find("lost the connection") != std::string::npos);
  CHECK_FALSE(cat->Commit().ok());
  cat->Rollback();
  CHECK_FALSE(cat->GetDocument("zzz")->has_value());
  CHECK(ApplyOne(cat.get(), *key, Version("pub", "b.txt", "two")).record.seq == 1);
}

TEST_CASE("postgres catalog: a full disk is NoSpace and commits nothing", "[catalog][postgres]") {
  TempDir dir;
  const auto place = PostgresPlace(dir);
  if (!place) return;
  auto cat = Open(*place);
  auto key = std::move(*SigningKey::Generate());
  ApplyOne(cat.get(), *key, Version("pub", "a.txt", "one"));
  // The server's own error for a file it cannot extend, raised where a record is written.
  PostgresServer::Sql(
      place->postgres,
      "CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION"
      " 'could not extend file \"base/1/2\": No space left on device' USING ERRCODE = 'disk_full';"
      " END $$;"
      " CREATE TRIGGER disk_full BEFORE INSERT ON records"
      " FOR EACH ROW EXECUTE FUNCTION disk_full()");
  std::vector<Change> batch{Version("pub", "b.txt", "two"), Version("pub", "c.txt", "three")};
  Status s = Apply(cat.get(), *key, batch);
  CHECK(s.code() == Status::Code::kNoSpace);
  CHECK(s.message().find("No space left on device") != std::string::npos);
  CHECK(cat->Counts()->documents == 1);
  PostgresServer::Sql(place->postgres, "DROP TRIGGER disk_full ON records");
  CHECK(ApplyOne(cat.get(), *key, Version("pub", "b.txt", "two")).record.seq == 1);
}

TEST_CASE("postgres catalog: a writer waits for a writer in another session",
          "[catalog][postgres]") {
  TempDir dir;
  const auto place = PostgresPlace(dir);
  if (!place) return;
  auto cat = Open(*place);
  auto key = std::move(*SigningKey::Generate());
  std::unique_ptr<PGconn, void (*)(PGconn*)> other(PQconnectdb(place->postgres.c_str()), PQfinish);
  REQUIRE(PQstatus(other.get()) == CONNECTION_OK);
  PQclear(PQexec(other.get(), "BEGIN; LOCK TABLE records IN SHARE ROW EXCLUSIVE MODE"));
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    PQclear(PQexec(other.get(), "COMMIT"));
  });
  const auto start = std::chrono::steady_clock::now();
  Change done = ApplyOne(cat.get(), *key, Version("pub", "a.txt", "one"));
  const auto waited = std::chrono::steady_clock::now() - start;
  release.join();
  CHECK(done.record.seq == 0);
  CHECK(waited >= std::chrono::milliseconds(700));
}

TEST_CASE("postgres catalog: schema 7 counts the rows once, then its triggers keep the counts",
          "[catalog][postgres]") {
  TempDir dir;
  const auto place = PostgresPlace(dir);
  if (!place) return;
  auto key = std::move(*SigningKey::Generate());
  const auto direct = [&] {
    std::vector<int64_t> out;
    for (const char* sql : {"SELECT COUNT(*) FROM documents",
                            "SELECT COUNT(*) FROM documents WHERE status = 'active'",
                            "SELECT COUNT(*) FROM versions", "SELECT COUNT(*) FROM records"})
      out.push_back(std::stoll(PostgresServer::Sql(place->postgres, sql)));
    return out;
  };
  const auto counted = [](Catalog* cat) {
    auto c = cat->Counts();
    REQUIRE(c.ok());
    return std::vector<int64_t>{c->documents, c->active, c->versions, c->records};
  };
  std::string a;
  {
    auto cat = Open(*place);
    CHECK(counted(cat.get()) == std::vector<int64_t>{0, 0, 0, 0});
    a = ApplyOne(cat.get(), *key, Version("pub", "a.txt", "one")).doc_id;
    ApplyOne(cat.get(), *key, Version("pub", "b.txt", "two"));
    ApplyOne(cat.get(), *key, Version("pub", "a.txt", "one, again", a));
    CHECK(counted(cat.get()) == std::vector<int64_t>{2, 2, 3, 3});
  }
  // Back to schema 6, before the counts: the next open counts once.
  PostgresServer::Sql(place->postgres,
                      "DROP TABLE counts; DROP FUNCTION gongkai_count_documents() CASCADE;"
                      " DROP FUNCTION gongkai_count_rows() CASCADE;"
                      " UPDATE meta SET value = '6' WHERE key = 'schema'");
  auto cat = Open(*place);
  CHECK(counted(cat.get()) == std::vector<int64_t>{2, 2, 3, 3});
  Change withdraw{Change::Kind::kWithdraw, a};
  ApplyOne(cat.get(), *key, withdraw);
  ApplyOne(cat.get(), *key, Version("pub", "c.txt", "three"));
  CHECK(direct() == std::vector<int64_t>{3, 2, 4, 5});
  CHECK(counted(cat.get()) == direct());
  CHECK(PostgresServer::Sql(place->postgres, "SELECT value FROM meta WHERE key = 'schema'") == "7");
}

TEST_CASE("postgres catalog: connection strings, and what it refuses, in one clear line",
          "[catalog][postgres]") {
  TempDir dir;
  const auto place = PostgresPlace(dir);
  if (!place) return;
  PostgresServer* server = PostgresServer::Shared(nullptr);
  const std::string db = place->postgres;
  const std::string dbname = db.substr(db.rfind('=') + 1);
  std::string encoded;
  for (char ch : server->socket_dir())
    encoded += ch == '/' ? std::string("%2F") : std::string(1, ch);
  // A URI works as well as key=value pairs.
  auto uri =
      OpenPostgresCatalog("postgresql://gongkai@/" + dbname + "?host=" + encoded, Env::Default());
  INFO((uri.ok() ? "" : uri.status().ToString()));
  CHECK(uri.ok());

  auto missing =
      OpenPostgresCatalog(server->Conninfo("no_such_db") + " password=hunter2", Env::Default());
  CHECK(missing.status().code() == Status::Code::kIOError);
  CHECK(missing.status().message().find("database \"no_such_db\" does not exist") !=
        std::string::npos);
  CHECK(missing.status().message().find("hunter2") == std::string::npos);
  CHECK(OpenPostgresCatalog("host=/nonexistent dbname=x", Env::Default()).status().code() ==
        Status::Code::kIOError);
  CHECK(OpenPostgresCatalog("dbname='unterminated", Env::Default()).status().code() ==
        Status::Code::kInvalid);
  auto spaced = OpenPostgresCatalog(db + " password='two words'", Env::Default());
  CHECK(spaced.status().code() == Status::Code::kInvalid);
  CHECK(spaced.status().message().find(".pgpass") != std::string::npos);

  PostgresServer::Sql(server->Conninfo("postgres"),
                      "CREATE DATABASE latin ENCODING 'LATIN1' TEMPLATE template0");
  auto latin = OpenPostgresCatalog(server->Conninfo("latin"), Env::Default());
  CHECK_FALSE(latin.ok());
  CHECK(latin.status().message().find("encoding is LATIN1") != std::string::npos);

  PostgresServer::Sql(db, "UPDATE meta SET value = '99' WHERE key = 'schema'");
  auto newer = OpenPostgresCatalog(db, Env::Default());
  CHECK(newer.status().code() == Status::Code::kCorruption);
  CHECK(newer.status().message().find("newer than this gongkai understands") != std::string::npos);
}

TEST_CASE("postgres catalog: the integrity check runs amcheck when it is installed",
          "[catalog][postgres]") {
  TempDir dir;
  const auto place = PostgresPlace(dir);
  if (!place) return;
  auto cat = Open(*place);
  auto key = std::move(*SigningKey::Generate());
  ApplyOne(cat.get(), *key, Version("pub", "a.txt", "one"));
  CHECK(*cat->IntegrityCheck() == "ok");  // without amcheck: the schema is there
  // With amcheck every index is checked; the server logs each call.
  PostgresServer::Sql(
      place->postgres,
      "CREATE EXTENSION amcheck; DO $$ BEGIN EXECUTE format("
      "'ALTER DATABASE %I SET log_statement = ''all''', current_database()); END $$");
  cat = Open(*place);
  auto checked = cat->IntegrityCheck();
  INFO((checked.ok() ? *checked : checked.status().ToString()));
  CHECK((checked.ok() && *checked == "ok"));
  const std::string log =
      gongkai::test::Slurp(PostgresServer::Shared(nullptr)->socket_dir() + "/server.log");
  CHECK(log.find("bt_index_check") != std::string::npos);
  CHECK(log.find("records_pkey") != std::string::npos);
  REQUIRE(cat->BeginSnapshot().ok());
  CHECK(*cat->IntegrityCheck() == "ok");
  CHECK(cat->Counts()->records == 1);  // the snapshot is still usable
  REQUIRE(cat->EndSnapshot().ok());
}
