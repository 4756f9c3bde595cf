#include <sqlite3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>

#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/keys.h"
#include "gongkai/storage/record.h"
#include "support/ledger_apply.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

using namespace gongkai::storage;
using gongkai::ledger::Change;
using gongkai::test::Slurp;
using gongkai::test::TempDir;

namespace {

std::string Store(BlobStore& store, const std::string& data) {
  auto w = store.NewWriter();
  REQUIRE(w.ok());
  REQUIRE((*w)->Append(data.data(), data.size()).ok());
  auto sha = (*w)->Finish();
  REQUIRE(sha.ok());
  REQUIRE((*w)->Commit().ok());
  return *sha;
}

Change Version(const std::string& share, const std::string& path, const std::string& content,
               const std::string& doc_id = "") {
  Change c;
  c.kind = Change::Kind::kVersion;
  c.doc_id = doc_id;
  c.share = share;
  c.path = path;
  c.sha256 = Hex(Sha256Of(content));
  c.size = static_cast<int64_t>(content.size());
  c.file = {c.size, 1'700'000'000'000'000'000, 42};
  return c;
}

}  // namespace

TEST_CASE("crypto: SHA-256 and base64 known answers", "[storage]") {
  CHECK(Hex(Sha256Of("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Hex(Sha256Of("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a", 1);
  h.Update("bc", 2);
  CHECK(Hex(h.Finish()) == Hex(Sha256Of("abc")));
  CHECK(Base64("") == "");
  CHECK(Base64("f") == "Zg==");
  CHECK(Base64("foobar") == "Zm9vYmFy");
  for (std::string s : {"", "f", "fo", "foo", "\x01\xff\x00z"})
    CHECK(*Base64Decode(Base64(s)) == s);
  CHECK_FALSE(Base64Decode("abc").ok());
  // Strict: padding only at the end, at most two, the alphabet only.
  for (const char* bad : {"0=======", "====", "ab=c", "Zg=A", " Zg=", "Zm9v\nYmFy", "Zm9v-mFy"})
    CHECK_FALSE(Base64Decode(bad).ok());
  CHECK(*Base64Decode("Zg==") == "f");
  CHECK(*Base64Decode("Zm8=") == "fo");
}

TEST_CASE("crypto: Ed25519 signatures verify, and fail when anything changes", "[storage]") {
  auto key = SigningKey::Generate();
  REQUIRE(key.ok());
  const std::string msg = "{\"seq\":0}";
  const std::string sig = (*key)->Sign(msg);
  CHECK(sig.size() == 64);
  CHECK((*key)->RawPublic().size() == 32);
  CHECK((*key)->KeyId() == Hex(Sha256Of((*key)->RawPublic())));
  CHECK(VerifyEd25519((*key)->RawPublic(), msg, sig));
  CHECK_FALSE(VerifyEd25519((*key)->RawPublic(), msg + " ", sig));
  std::string bad = sig;
  bad[10] ^= 1;
  CHECK_FALSE(VerifyEd25519((*key)->RawPublic(), msg, bad));
  auto other = SigningKey::Generate();
  CHECK_FALSE(VerifyEd25519((*other)->RawPublic(), msg, sig));
  // PEM round trip keeps the key.
  auto again = SigningKey::FromPem((*key)->PrivatePem());
  REQUIRE(again.ok());
  CHECK((*again)->KeyId() == (*key)->KeyId());
  CHECK_FALSE(SigningKey::FromPem("not a key").ok());
}

TEST_CASE("records: every event serialises to the same bytes as ever", "[storage]") {
  // The record format is signed and hashed: these bytes must never change.
  RecordFields f;
  f.seq = 12;
  f.doc = "d0c";
  f.share = "pub";
  f.path = "b.txt";
  f.from = "a.txt";
  f.version = 3;
  f.sha256 = std::string(64, 'b');
  f.size = 5;
  f.modified = "2026-01-02T03:04:05Z";
  f.classification = gongkai::Classification::kRestricted;
  f.review = gongkai::ReviewState::kPending;
  f.meta = std::string(64, 'c');
  f.time = "2026-11-28T00:00:00Z";
  f.key = "k1";
  f.prev = std::string(64, 'd');
  const std::string tail =
      "\",\"doc\":\"d0c\",\"share\":\"pub\",\"path\":\"b.txt\",\"from\":\"a.txt\","
      "\"version\":3,\"sha256\":\"" +
      std::string(64, 'b') +
      "\",\"size\":5,\"modified\":\"2026-01-02T03:04:05Z\",\"classification\":\"restricted\","
      "\"review\":\"pending\",\"meta\":\"" +
      std::string(64, 'c') + "\",\"time\":\"2026-11-28T00:00:00Z\",\"key\":\"k1\",\"prev\":\"" +
      std::string(64, 'd') + "\"}";
  for (auto [event, name] : {std::pair{gongkai::EventKind::kVersion, "version"},
                             {gongkai::EventKind::kMove, "move"},
                             {gongkai::EventKind::kWithdraw, "withdraw"},
                             {gongkai::EventKind::kClassify, "classify"},
                             {gongkai::EventKind::kApprove, "approve"}}) {
    f.event = event;
    CHECK(SerializeRecord(f) == "{\"seq\":12,\"event\":\"" + std::string(name) + tail);
  }
  f.event = gongkai::EventKind::kVersion;
  f.classification = gongkai::Classification::kPublic;
  f.review = gongkai::ReviewState::kApproved;
  f.from.clear();
  f.meta.clear();
  const std::string r = SerializeRecord(f);
  CHECK(r.find(",\"classification\":\"public\",\"review\":\"approved\",\"time\":") !=
        std::string::npos);
  CHECK(Hex(LeafHash(r)) == Hex(Sha256Of(std::string(1, '\0') + r)));
}

TEST_CASE("records: fixed serialisation, valid JSON strings, RFC 9162 hashes", "[storage]") {
  RecordFields f;
  f.seq = 7;
  f.event = gongkai::EventKind::kVersion;
  f.doc = "abc";
  f.share = "pub";
  f.path = "子目錄/\"quoted\"\n\xff.txt";
  f.version = 2;
  f.sha256 = std::string(64, 'a');
  f.size = 10;
  f.time = "2026-11-28T00:00:00Z";
  f.key = "k";
  f.prev = "";
  const std::string r = SerializeRecord(f);
  CHECK(r.find('\n') == std::string::npos);
  CHECK(r.rfind("{\"seq\":7,\"event\":\"version\",\"doc\":\"abc\"", 0) == 0);
  CHECK(r.find("\"path\":\"子目錄/\\\"quoted\\\"\\n\xEF\xBF\xBD.txt\"") != std::string::npos);
  CHECK(r.find("\"prev\":\"\"") != std::string::npos);
  Digest leaf = LeafHash(r);
  CHECK(Hex(leaf) == Hex(Sha256Of(std::string(1, '\0') + r)));
  CHECK(Hex(NodeHash(leaf, leaf)) == Hex(Sha256Of("\x01" + std::string(leaf.begin(), leaf.end()) +
                                                  std::string(leaf.begin(), leaf.end()))));
  // Bytes that can never start a UTF-8 sequence become U+FFFD, too.
  CHECK(JsonQuote("a\xf8\x80\x80"
                  "b") ==
        "\"a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
        "b\"");
  CHECK(JsonQuote("\xed\xa0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // a surrogate
  CHECK(Rfc3339FromNanos(0) == "1970-01-01T00:00:00Z");
  CHECK(Rfc3339FromNanos(1'700'000'000'123'000'000) == "2023-11-14T22:13:20Z");
}

TEST_CASE("blob store: content-addressed, durable layout, stored once", "[storage]") {
  TempDir dir;
  auto store = BlobStore::Open(Env::Default(), dir / "blobs", dir / "tmp");
  REQUIRE(store.ok());
  const std::string data = "政務公開 blob";
  const std::string sha = Store(**store, data);
  CHECK(sha == Hex(Sha256Of(data)));
  CHECK((*store)->PathOf(sha) ==
        dir / ("blobs/" + sha.substr(0, 2) + "/" + sha.substr(2, 2) + "/" + sha));
  CHECK(Slurp((*store)->PathOf(sha)) == data);
  CHECK((*store)->Contains(sha));
  // Identical content again: same blob, no temp files left behind.
  CHECK(Store(**store, data) == sha);
  CHECK(std::filesystem::is_empty(dir / "tmp"));
  size_t files = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir / "blobs"))
    files += e.is_regular_file();
  CHECK(files == 1);
  // An abandoned writer leaves nothing.
  {
    auto w = (*store)->NewWriter();
    REQUIRE((*w)->Append("partial", 7).ok());
  }
  CHECK(std::filesystem::is_empty(dir / "tmp"));
  CHECK_FALSE((*store)->Contains(Hex(Sha256Of("partial"))));
  CHECK_FALSE((*store)->Contains("../etc/passwd"));
}

// The catalog tests run on every backend (support/postgres_server.h).
TEST_CASE("catalog: versions, signed records, prev chains, withdrawal, reopen",
          "[storage][catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  TempDir dir;
  const auto place = gongkai::test::FreshCatalog(backend, dir);
  if (!place) return;
  auto key = SigningKey::Generate();
  std::string doc_id;
  {
    auto cat = place->Open();
    REQUIRE(cat.ok());
    std::vector<Change> batch = {Version("pub", "a.txt", "one"), Version("pub", "b.txt", "bee")};
    REQUIRE(gongkai::test::ApplyChanges(cat->get(), batch, **key).ok());
    CHECK(batch[0].version == 1);
    CHECK(batch[0].record.seq == 0);
    CHECK(batch[1].record.seq == 1);
    doc_id = batch[0].doc_id;
    CHECK(doc_id.size() == 24);
    CHECK(doc_id.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567") == std::string::npos);
    CHECK(batch[1].doc_id != doc_id);

    std::vector<Change> v2 = {Version("pub", "a.txt", "two", doc_id)};
    REQUIRE(gongkai::test::ApplyChanges(cat->get(), v2, **key).ok());
    CHECK(v2[0].version == 2);
    std::vector<Change> w = {Change{Change::Kind::kWithdraw, doc_id}};
    REQUIRE(gongkai::test::ApplyChanges(cat->get(), w, **key).ok());
    CHECK(w[0].version == 2);
    CHECK(w[0].path == "a.txt");
  }
  // Reopen: everything is there.
  auto cat = place->Open();
  REQUIRE(cat.ok());
  auto doc = (*cat)->GetDocument(doc_id);
  REQUIRE(doc.ok());
  REQUIRE(doc->has_value());
  CHECK((*doc)->status == gongkai::DocumentStatus::kWithdrawn);
  CHECK((*doc)->current_version == 2);
  auto found = (*cat)->FindByPath("pub", "a.txt");
  REQUIRE(found->has_value());
  CHECK((*found)->id == doc_id);
  auto versions = (*cat)->Versions(doc_id);
  REQUIRE(versions->size() == 2);
  CHECK((*versions)[1].sha256 == Hex(Sha256Of("two")));
  CHECK((*versions)[1].log_index == 2);
  CHECK((*versions)[1].review == gongkai::ReviewState::kApproved);

  auto records = (*cat)->Records(0, 100);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 4);
  std::map<std::string, std::string> last_leaf;  // doc -> leaf of its previous record
  for (size_t i = 0; i < records->size(); ++i) {
    const RecordRow& r = (*records)[i];
    CHECK(r.seq == static_cast<int64_t>(i));  // no gaps
    CHECK(r.key_id == (*key)->KeyId());
    CHECK(VerifyEd25519((*key)->RawPublic(), r.record, *Base64Decode(r.signature)));
    CHECK(r.leaf == Hex(LeafHash(r.record)));
    CHECK(r.record.find("\"seq\":" + std::to_string(i) + ",") != std::string::npos);
    CHECK(r.record.find("\"prev\":\"" + last_leaf[r.doc] + "\"") != std::string::npos);
    last_leaf[r.doc] = r.leaf;
  }
  CHECK((*records)[3].record.find("\"event\":\"withdraw\"") != std::string::npos);
  auto counts = (*cat)->Counts();
  CHECK(counts->documents == 2);
  CHECK(counts->active == 1);
  CHECK(counts->versions == 3);
  CHECK(counts->records == 4);
  CHECK((*cat)->Records(2, 1)->front().seq == 2);
}

// SQLite only: the PostgreSQL catalog starts at schema 4.
TEST_CASE(
    "catalog: schemas 3, 4, 6 and 7 add the file's ctime, the classifying record, 索引号 and "
    "the counts",
    "[storage]") {
  TempDir dir;
  auto key = SigningKey::Generate();
  const std::string path = dir / "catalog.sqlite";
  {
    auto cat = OpenSqliteCatalog(path, Env::Default());
    REQUIRE(cat.ok());
    std::vector<Change> batch = {Version("pub", "a.txt", "one")};
    batch[0].file.ctime_ns = 7;
    REQUIRE(gongkai::test::ApplyChanges(cat->get(), batch, **key).ok());
    std::vector<Change> more = {Version("pub", "b.txt", "two")};
    more.push_back(Change{Change::Kind::kClassify, batch[0].doc_id});
    more.back().classification = gongkai::Classification::kRestricted;
    REQUIRE(gongkai::test::ApplyChanges(cat->get(), more, **key).ok());
    CHECK((*(*cat)->FindByPath("pub", "a.txt"))->file.ctime_ns == 7);
    CHECK((*(*cat)->FindByPath("pub", "a.txt"))->classified_seq == 2);
  }
  // Turn it back into a schema 2 catalog, as written before ctimes were kept.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(
            db,
            "ALTER TABLE documents DROP COLUMN file_ctime_ns; ALTER TABLE documents DROP COLUMN"
            " classified_seq; DROP INDEX documents_index_no; ALTER TABLE documents DROP COLUMN"
            " index_no; ALTER TABLE documents DROP COLUMN published; DROP TABLE counts;"
            " DROP TRIGGER counts_document_in; DROP TRIGGER counts_document_status;"
            " DROP TRIGGER counts_document_out; DROP TRIGGER counts_version_in;"
            " DROP TRIGGER counts_version_out; DROP TRIGGER counts_record_in;"
            " DROP TRIGGER counts_record_out; PRAGMA user_version=2",
            nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);

  auto cat = OpenSqliteCatalog(path, Env::Default());
  REQUIRE(cat.ok());
  CHECK((*(*cat)->FindByPath("pub", "a.txt"))->classified_seq == 2);  // its classify record
  CHECK((*(*cat)->FindByPath("pub", "b.txt"))->classified_seq == 1);  // its first record
  // Schema 6: no 索引号 yet; each gets its own at its next public approved event.
  CHECK((*(*cat)->FindByPath("pub", "b.txt"))->index_no.empty());
  const FileState old = (*(*cat)->FindByPath("pub", "a.txt"))->file;
  CHECK(old.ctime_ns == 0);
  FileState now = old;
  now.ctime_ns = 1'700'000'000'000'000'000;
  CHECK(old.Matches(now));  // upgrading re-reads nothing
  CHECK_FALSE(now.Matches(FileState{now.size, now.mtime_ns, now.inode, now.ctime_ns + 1}));
  CHECK_FALSE(old.Matches(FileState{now.size, now.mtime_ns + 1, now.inode, 0}));
  REQUIRE((*cat)->UpdateFileState((*(*cat)->FindByPath("pub", "a.txt"))->id, now).ok());
  CHECK((*(*cat)->FindByPath("pub", "a.txt"))->file == now);

  // Schema 7: the counts, filled once from the tables, then kept by triggers.
  const auto counted = [&] {
    auto c = (*cat)->Counts();
    REQUIRE(c.ok());
    return std::vector<int64_t>{c->documents, c->active, c->versions, c->records};
  };
  CHECK(counted() == std::vector<int64_t>{2, 2, 2, 3});
  std::vector<Change> later = {
      Version("pub", "c.txt", "three"),
      Change{Change::Kind::kWithdraw, (*(*cat)->FindByPath("pub", "a.txt"))->id}};
  REQUIRE(gongkai::test::ApplyChanges(cat->get(), later, **key).ok());
  std::vector<int64_t> direct;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  for (const char* sql :
       {"SELECT COUNT(*) FROM documents", "SELECT COUNT(*) FROM documents WHERE status = 'active'",
        "SELECT COUNT(*) FROM versions", "SELECT COUNT(*) FROM records"}) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    direct.push_back(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  CHECK(direct == std::vector<int64_t>{3, 2, 3, 5});
  CHECK(counted() == direct);
}

TEST_CASE("catalog: a failing batch commits nothing", "[storage][catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  TempDir dir;
  const auto place = gongkai::test::FreshCatalog(backend, dir);
  if (!place) return;
  auto key = SigningKey::Generate();
  auto cat = place->Open();
  REQUIRE(cat.ok());
  std::vector<Change> ok = {Version("pub", "a.txt", "one")};
  REQUIRE(gongkai::test::ApplyChanges(cat->get(), ok, **key).ok());
  std::vector<Change> bad = {Version("pub", "b.txt", "bee"),
                             Version("pub", "x", "y", "no-such-doc")};
  CHECK_FALSE(gongkai::test::ApplyChanges(cat->get(), bad, **key).ok());
  CHECK((*cat)->Counts()->records == 1);
  CHECK_FALSE((*cat)->FindByPath("pub", "b.txt")->has_value());
  // And the log continues without a gap.
  std::vector<Change> next = {Version("pub", "c.txt", "sea")};
  REQUIRE(gongkai::test::ApplyChanges(cat->get(), next, **key).ok());
  CHECK(next[0].record.seq == 1);
}

TEST_CASE("keys: generated once with mode 0600, then reused", "[storage][catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  TempDir dir;
  const auto place = gongkai::test::FreshCatalog(backend, dir);
  if (!place) return;
  auto cat = place->Open();
  REQUIRE(cat.ok());
  auto k1 = LoadOrCreateSigningKey(Env::Default(), dir / "keys", cat->get());
  REQUIRE(k1.ok());
  const std::string pem = dir / ("keys/" + (*k1)->KeyId() + ".pem");
  struct stat st {};
  REQUIRE(::stat(pem.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir / "keys").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  // Its note verifier key splits cleanly on '+' (see keys.cc).
  CHECK(Base64("\x01" + (*k1)->RawPublic()).find('+') == std::string::npos);
  auto k2 = LoadOrCreateSigningKey(Env::Default(), dir / "keys", cat->get());
  REQUIRE(k2.ok());
  CHECK((*k2)->KeyId() == (*k1)->KeyId());
  auto keys = (*cat)->Keys();
  REQUIRE(keys->size() == 1);
  CHECK(keys->front().key_id == (*k1)->KeyId());
  CHECK(keys->front().public_pem.find("BEGIN PUBLIC KEY") != std::string::npos);
  CHECK(keys->front().public_pem.find("PRIVATE") == std::string::npos);
}
