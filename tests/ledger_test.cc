// The rule layer: who sees what (visibility.h) and which changes the ledger
// accepts (ledger.h), on a real catalog of each backend.
#include <catch2/catch.hpp>

#include "gongkai/ledger/ledger.h"
#include "gongkai/ledger/visibility.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

using gongkai::Status;
using gongkai::ledger::Change;
using gongkai::ledger::DocumentState;
using gongkai::ledger::Ledger;
using gongkai::ledger::Role;
using gongkai::test::TempDir;
namespace storage = gongkai::storage;
namespace ledger = gongkai::ledger;

namespace {

Change Version(const std::string& path, const std::string& content, const std::string& doc_id = "",
               bool review = false) {
  Change c;
  c.doc_id = doc_id;
  c.share = "pub";
  c.path = path;
  c.sha256 = storage::Hex(storage::Sha256Of(content));
  c.size = static_cast<int64_t>(content.size());
  c.file = {c.size, 1'700'000'000'000'000'000, 7};
  c.review_required = review;
  return c;
}

Change Event(Change::Kind kind, const std::string& doc_id, const std::string& value = "") {
  Change c;
  c.kind = kind;
  c.doc_id = doc_id;
  if (kind == Change::Kind::kClassify) c.classification = *gongkai::ParseClassification(value);
  if (kind == Change::Kind::kMove) c.path = value;
  return c;
}

struct Archive {
  TempDir dir;
  std::unique_ptr<storage::Catalog> catalog;
  std::unique_ptr<storage::SigningKey> key;
  std::unique_ptr<Ledger> ledger;

  // False (after a WARN) when `backend` is not available here: skip the test.
  bool Open(const std::string& backend) {
    const auto place = gongkai::test::FreshCatalog(backend, dir);
    if (!place) return false;
    auto c = place->Open();
    auto k = storage::SigningKey::Generate();
    REQUIRE((c.ok() && k.ok()));
    catalog = std::move(*c);
    key = std::move(*k);
    ledger = std::make_unique<Ledger>(catalog.get(), storage::Env::Default(), "ledger.test");
    return true;
  }
  Status Apply(Change c, Change* out = nullptr) {
    std::vector<Change> one{std::move(c)};
    Status s = ledger->Apply(one, *key);
    if (out) *out = one[0];
    return s;
  }
  std::string Add(Change c) {
    Change done;
    const Status s = Apply(std::move(c), &done);
    REQUIRE(s.ok());
    return done.doc_id;
  }
  DocumentState State(const std::string& id) {
    auto s = ledger::LoadDocument(*catalog, id);
    REQUIRE(s.ok());
    REQUIRE(s->has_value());
    return **s;
  }
  std::vector<int64_t> Visible(Role role, const std::string& id) {
    std::vector<int64_t> out;
    for (const auto& v : ledger::VisibleVersions(role, State(id))) out.push_back(v.version);
    return out;
  }
  int64_t Records() { return catalog->Counts()->records; }
};

}  // namespace

TEST_CASE("visibility: inspectors see everything, the public approved versions of public documents",
          "[ledger]") {
  DocumentState s;
  s.doc.classification = gongkai::Classification::kPublic;
  s.versions = {{"d", 1, "aa", 1, "", "", 0, gongkai::ReviewState::kApproved, "{}"},
                {"d", 2, "bb", 1, "", "", 1, gongkai::ReviewState::kApproved, "{}"},
                {"d", 3, "cc", 1, "", "", 2, gongkai::ReviewState::kPending, "{}"}};
  CHECK(ledger::VisibleVersions(Role::kInspector, s).size() == 3);
  CHECK(ledger::VisibleVersions(Role::kAdmin, s).size() == 3);
  CHECK(ledger::VisibleVersions(Role::kAnonymous, s).size() == 2);
  CHECK(ledger::ShownVersion(Role::kInspector, s)->version == 3);
  CHECK(ledger::ShownVersion(Role::kAnonymous, s)->version == 2);

  s.doc.classified_seq = 0;
  s.restricted_elsewhere = {
      {"bb", 4}};  // a restricted document holds version 2's bytes since log index 4
  CHECK(ledger::ShownVersion(Role::kAnonymous, s)->version == 1);
  CHECK(ledger::ShownVersion(Role::kInspector, s)->version == 3);
  s.doc.classified_seq = 5;  // classified public after that: the newer decision stands
  CHECK(ledger::ShownVersion(Role::kAnonymous, s)->version == 2);
  s.doc.classified_seq = 0;

  s.doc.classification = gongkai::Classification::kRestricted;
  CHECK(ledger::VisibleVersions(Role::kAnonymous, s).empty());
  CHECK_FALSE(ledger::ShownVersion(Role::kAnonymous, s).has_value());
  CHECK(ledger::VisibleVersions(Role::kInspector, s).size() == 3);

  DocumentState none;
  CHECK_FALSE(ledger::ShownVersion(Role::kInspector, none).has_value());
}

TEST_CASE(
    "visibility: a copy of bytes restricted later is hidden from then on, and shown again when "
    "lifted",
    "[ledger][catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  Archive a;
  if (!a.Open(backend)) return;
  const std::string original = a.Add(Version("original.txt", "同一份內容"));
  const std::string copy = a.Add(Version("copy.txt", "同一份內容"));
  const std::string other = a.Add(Version("other.txt", "另一份內容"));
  CHECK(a.Visible(Role::kAnonymous, copy) == std::vector<int64_t>{1});

  REQUIRE(a.Apply(Event(Change::Kind::kClassify, original, "restricted")).ok());
  CHECK(a.Visible(Role::kAnonymous, original).empty());
  CHECK(a.Visible(Role::kAnonymous, copy).empty());  // the copy is still classified public
  CHECK(a.State(copy).doc.classification == gongkai::Classification::kPublic);
  CHECK(a.Visible(Role::kInspector, copy) == std::vector<int64_t>{1});
  CHECK(a.Visible(Role::kAnonymous, other) == std::vector<int64_t>{1});

  // A page of hits sees the same, with the restricted original on it or not
  // (one catalog read for the page's contents).
  const std::pair<std::vector<std::string>, size_t> pages[] = {
      {{copy, other, "no-such-id"}, 2}, {{other, original, copy}, 3}};  // ids, documents found
  for (const auto& [ids, found] : pages) {
    auto page = ledger::LoadDocuments(*a.catalog, ids);
    REQUIRE(page.ok());
    REQUIRE(page->size() == found);
    CHECK_FALSE(ledger::ShownVersion(Role::kAnonymous, page->at(copy)).has_value());
    CHECK(ledger::ShownVersion(Role::kAnonymous, page->at(other))->version == 1);
    CHECK(ledger::ShownVersion(Role::kInspector, page->at(copy))->version == 1);
  }

  // A new version of the copy with other bytes is public again; the old one is not.
  REQUIRE(a.Apply(Version("copy.txt", "改寫後的內容", copy)).ok());
  CHECK(a.Visible(Role::kAnonymous, copy) == std::vector<int64_t>{2});
  auto page = ledger::LoadDocuments(*a.catalog, {original, copy, other});
  REQUIRE(page.ok());
  CHECK(ledger::VisibleVersions(Role::kAnonymous, page->at(copy)).size() == 1);
  CHECK(ledger::ShownVersion(Role::kAnonymous, page->at(copy))->version == 2);
  CHECK_FALSE(ledger::ShownVersion(Role::kAnonymous, page->at(original)).has_value());

  REQUIRE(a.Apply(Event(Change::Kind::kClassify, original, "public")).ok());
  CHECK(a.Visible(Role::kAnonymous, copy) == std::vector<int64_t>{1, 2});
  CHECK(a.Visible(Role::kAnonymous, original) == std::vector<int64_t>{1});
}

TEST_CASE(
    "visibility: an admin's later decision publishes a copy knowingly, but not bytes that came "
    "after it",
    "[ledger][catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  Archive a;
  if (!a.Open(backend)) return;
  Change secret = Version("secret.txt", "內部材料");
  secret.classification = gongkai::Classification::kRestricted;
  a.Add(secret);
  const std::string doc =
      a.Add(Version("doc.txt", "內部材料"));  // a copy archived after the restriction
  CHECK(a.Visible(Role::kAnonymous, doc).empty());
  REQUIRE(a.Apply(Event(Change::Kind::kClassify, doc, "restricted")).ok());
  REQUIRE(a.Apply(Event(Change::Kind::kClassify, doc, "public"))
              .ok());  // the admin publishes it knowingly
  CHECK(a.Visible(Role::kAnonymous, doc) == std::vector<int64_t>{1});

  REQUIRE(a.Apply(Version("doc.txt", "公開版本", doc)).ok());
  REQUIRE(a.Apply(Version("doc.txt", "內部材料", doc))
              .ok());  // the restricted bytes again, after the decision
  CHECK(a.Visible(Role::kAnonymous, doc) == std::vector<int64_t>{1, 2});
  CHECK(ledger::ShownVersion(Role::kAnonymous, a.State(doc))->version == 2);
  CHECK(ledger::ShownVersion(Role::kInspector, a.State(doc))->version == 3);
}

TEST_CASE("ledger: impossible changes are refused with a reason and change nothing",
          "[ledger][catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  Archive a;
  if (!a.Open(backend)) return;
  const std::string id = a.Add(Version("a.txt", "one"));
  const std::string pending = a.Add(Version("p.txt", "draft", "", /*review=*/true));
  const int64_t before = a.Records();

  auto refused = [&](Change c, Status::Code code, const std::string& reason) {
    Status s = a.Apply(std::move(c));
    CHECK(s.code() == code);
    CHECK(s.message().find(reason) != std::string::npos);
    CHECK(a.Records() == before);
  };
  refused(Event(Change::Kind::kApprove, id), Status::Code::kInvalid, "no pending version");
  refused(Event(Change::Kind::kClassify, id, "public"), Status::Code::kInvalid, "already public");
  refused(Event(Change::Kind::kMove, id, "a.txt"), Status::Code::kInvalid, "same path");
  refused(Event(Change::Kind::kWithdraw, "no-such-document"), Status::Code::kNotFound,
          "no-such-document");
  refused(Event(Change::Kind::kWithdraw, ""), Status::Code::kInvalid, "without a document");

  REQUIRE(a.Apply(Event(Change::Kind::kWithdraw, id)).ok());
  const int64_t after = a.Records();
  CHECK(a.Apply(Event(Change::Kind::kWithdraw, id)).code() == Status::Code::kInvalid);
  CHECK(a.Apply(Event(Change::Kind::kMove, id, "b.txt")).code() == Status::Code::kInvalid);
  CHECK(a.Records() == after);

  // One refused change in a batch refuses the batch, and the log has no gap.
  std::vector<Change> batch{Event(Change::Kind::kApprove, pending),
                            Event(Change::Kind::kApprove, id)};
  CHECK_FALSE(a.ledger->Apply(batch, *a.key).ok());
  CHECK(a.State(pending).versions.back().review == gongkai::ReviewState::kPending);
  Change approved;
  REQUIRE(a.Apply(Event(Change::Kind::kApprove, pending), &approved).ok());
  CHECK(approved.record.seq == after);
  CHECK(a.State(pending).versions.back().review == gongkai::ReviewState::kApproved);
}

TEST_CASE(
    "ledger: every change is one signed record, chained per document, under a signed checkpoint",
    "[ledger][catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  Archive a;
  if (!a.Open(backend)) return;
  Change first, moved, second;
  REQUIRE(a.Apply(Version("a.txt", "one"), &first).ok());
  REQUIRE(a.Apply(Event(Change::Kind::kMove, first.doc_id, "dir/a.txt"), &moved).ok());
  REQUIRE(a.Apply(Version("dir/a.txt", "two", first.doc_id), &second).ok());
  CHECK(second.version == 2);
  CHECK(moved.record.record.find("\"from\":\"a.txt\"") != std::string::npos);
  CHECK(second.record.record.find("\"prev\":\"" + moved.record.leaf + "\"") != std::string::npos);
  for (const Change* c : {&first, &moved, &second}) {
    auto sig = storage::Base64Decode(c->record.signature);
    REQUIRE(sig.ok());
    CHECK(storage::VerifyEd25519(a.key->RawPublic(), c->record.record, *sig));
    CHECK(c->record.leaf == storage::Hex(storage::LeafHash(c->record.record)));
  }
  auto cp = a.catalog->LatestCheckpoint();
  REQUIRE((cp.ok() && cp->has_value()));
  CHECK((*cp)->size == 3);
  auto root = storage::RootHash(3, a.catalog->Nodes());
  REQUIRE(root.ok());
  CHECK((*cp)->text.find(storage::Base64(std::string(root->begin(), root->end()))) !=
        std::string::npos);
  auto doc = a.catalog->GetDocument(first.doc_id);
  CHECK((*doc)->path == "dir/a.txt");
  CHECK((*doc)->last_leaf == second.record.leaf);
  CHECK((*doc)->current_version == 2);
}
