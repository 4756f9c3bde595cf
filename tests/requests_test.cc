// Disclosure requests in the ledger (requests.h), on a real catalog of each
// backend: registration and events as signed records, impossible events
// refused without a trace, nothing personal in any record, verify's check
// of the stored details against the records, and reply letters that no
// anonymous caller ever sees.
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "gongkai/ledger/ledger.h"
#include "gongkai/ledger/requests.h"
#include "gongkai/ledger/visibility.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/record.h"
#include "gongkai/storage/verify.h"
#include "support/calendar.h"
#include "support/clock_env.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

using gongkai::Status;
using gongkai::disclosure::RequestEvent;
using gongkai::ledger::Change;
using gongkai::ledger::Ledger;
using gongkai::ledger::NewRequest;
using gongkai::ledger::RequestChange;
using gongkai::ledger::RequestState;
using gongkai::ledger::Role;
using gongkai::test::D;
using gongkai::test::ShippedCalendar;
using gongkai::test::TempDir;
namespace storage = gongkai::storage;
namespace ledger = gongkai::ledger;

namespace {

constexpr const char* kOrigin = "requests.test";

NewRequest Sample(const std::string& name = "张三丰", const char* received = "2026-09-25") {
  NewRequest r;
  r.channel = "post";
  r.received = D(received);
  r.applicant = {"person", name, "110101199001011234", "13800138000", "北京市东城区某某路1号"};
  r.description = "请公开某某村2025年土地征收补偿方案";
  r.delivery = "邮寄";
  return r;
}

RequestChange Event(const std::string& code, RequestEvent e, const char* date) {
  RequestChange c;
  c.code = code;
  c.in.event = e;
  c.in.date = D(date);
  return c;
}

struct Archive {
  TempDir dir;
  gongkai::test::ClockEnv env{"2026-12-01"};
  gongkai::test::CatalogPlace place;
  std::unique_ptr<storage::Catalog> catalog;
  std::unique_ptr<storage::SigningKey> key;
  std::unique_ptr<Ledger> ledger;

  bool Open(const std::string& backend) {
    auto p = gongkai::test::FreshCatalog(backend, dir);
    if (!p) return false;
    place = *p;
    auto c = place.Open();
    auto k = storage::SigningKey::Generate();
    REQUIRE((c.ok() && k.ok()));
    catalog = std::move(*c);
    key = std::move(*k);
    REQUIRE(catalog->AddKey({key->KeyId(), key->PublicPem(), "2026-01-01T00:00:00Z", ""}).ok());
    ledger = std::make_unique<Ledger>(catalog.get(), &env, kOrigin);
    return true;
  }
  RequestState Register(const NewRequest& r) {
    auto st = ledger->Register(r, ShippedCalendar(), *key);
    REQUIRE(st.ok());
    return *st;
  }
  gongkai::Result<RequestState> Add(const RequestChange& c) {
    return ledger->AddRequestEvent(c, ShippedCalendar(), *key);
  }
  std::vector<storage::RecordRow> Records() { return *catalog->Records(0, 1000); }
  storage::VerifyReport Verify() {
    auto blobs = storage::BlobStore::Open(storage::Env::Default(), dir / "blobs", dir / "tmp");
    REQUIRE(blobs.ok());
    storage::VerifyOptions options;
    options.origin = kOrigin;
    auto report = storage::VerifyArchive(catalog.get(), **blobs, dir / "blobs", options);
    REQUIRE(report.ok());
    return *report;
  }
};

std::string Problems(const storage::VerifyReport& r) {
  std::string out;
  for (const auto& p : r.problems) out += p.where + ": " + p.what + "\n";
  return out;
}

}  // namespace

TEST_CASE("requests: registered and closed as signed records that name nothing personal",
          "[requests][catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  Archive a;
  if (!a.Open(backend)) return;

  // Received on Friday 25 September 2026; the National Day week and its
  // adjusted Sunday 27 September and Saturday 10 October lie ahead.
  RequestState st = a.Register(Sample());
  CHECK(st.row.code.size() >= 16);  // >= 80 random bits
  CHECK(st.clock.status == gongkai::disclosure::RequestStatus::kOpen);
  // Sep 28-30, Oct 8, 9, the worked Saturday 10th, then 14 more: Thursday 29 October.
  CHECK(st.clock.due == D("2026-10-29"));
  CHECK_FALSE(st.clock.provisional);
  CHECK(st.applicant.name == "张三丰");

  RequestChange ext = Event(st.row.code, RequestEvent::kExtended, "2026-10-20");
  ext.in.days = 20;
  ext.in.approved_by = "李四局长";
  ext.note = "涉及多个部门";
  auto extended = a.Add(ext);
  REQUIRE(extended.ok());
  CHECK(extended->clock.due == D("2026-11-26"));
  RequestChange reply = Event(st.row.code, RequestEvent::kReplied, "2026-11-02");
  reply.in.outcome = "partial";
  auto closed = a.Add(reply);
  REQUIRE(closed.ok());
  CHECK(closed->clock.status == gongkai::disclosure::RequestStatus::kClosed);
  CHECK(closed->clock.outcome == "partial");
  REQUIRE(closed->events.size() == 3);
  CHECK(closed->events[1].approved_by == "李四局长");

  const auto records = a.Records();
  REQUIRE(records.size() == 3);
  std::string prev;
  for (const auto& r : records) {
    CHECK(r.doc.empty());
    for (const char* personal : {"张三丰", "110101199001011234", "13800138000", "北京市东城区",
                                 "土地征收", "李四", "涉及多个部门", "邮寄"})
      CHECK(r.record.find(personal) == std::string::npos);
    CHECK(r.record.find("\"request\":\"" + st.row.code + "\"") != std::string::npos);
    CHECK(r.record.find("\"prev\":\"" + prev + "\"") != std::string::npos);
    prev = r.leaf;
  }
  CHECK(records[0].record.find("\"event\":\"request.received\"") != std::string::npos);
  CHECK(records[0].record.find("\"date\":\"2026-09-25\"") != std::string::npos);
  CHECK(records[1].record.find("\"days\":20") != std::string::npos);
  CHECK(records[1].record.find("\"note_sha256\":\"" +
                               storage::SaltedSha256(st.row.salt, storage::RequestNoteJson(
                                                                      "涉及多个部门", "李四局长")) +
                               "\"") != std::string::npos);
  CHECK(records[2].record.find("\"outcome\":\"partial\"") != std::string::npos);
  CHECK(records[2].record.find("\"details_sha256\":\"" +
                               storage::SaltedSha256(st.row.salt, st.row.details) + "\"") !=
        std::string::npos);

  const auto report = a.Verify();
  CHECK(Problems(report).empty());
  CHECK(report.requests == 1);
  CHECK(report.records == 3);
}

TEST_CASE("requests: an impossible event is refused and changes nothing", "[requests][catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  Archive a;
  if (!a.Open(backend)) return;
  const std::string code = a.Register(Sample()).row.code;

  RequestChange ext = Event(code, RequestEvent::kExtended, "2026-10-20");
  ext.in.days = 10;
  ext.in.approved_by = "王五";
  REQUIRE(a.Add(ext).ok());
  const size_t before = a.Records().size();

  auto refused = [&](const RequestChange& c, const std::string& why) {
    auto r = a.Add(c);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kInvalid);
    CHECK_THAT(r.status().message(), Catch::Contains(why));
    CHECK(a.Records().size() == before);
    CHECK(a.catalog->RequestEvents(code)->size() == 2);
  };
  refused(ext, "extended once already");
  refused(Event(code, RequestEvent::kSupplemented, "2026-10-21"), "without the pause");
  refused(Event(code, RequestEvent::kWithdrawn, "2026-10-19"), "before the previous event");
  refused(Event(code, RequestEvent::kWithdrawn, "2026-12-02"), "after today");
  RequestChange unknown = Event(code, RequestEvent::kReplied, "2026-10-21");
  unknown.in.outcome = "refused.because";
  refused(unknown, "unknown outcome");
  RequestChange letter = Event(code, RequestEvent::kReplied, "2026-10-21");
  letter.in.outcome = "disclosed";
  letter.reply_document = "nosuchdocument";
  refused(letter, "not an archived document");

  auto missing = a.Add(Event("nosuchcode", RequestEvent::kWithdrawn, "2026-10-21"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().IsNotFound());

  NewRequest future = Sample("x", "2026-12-02");
  CHECK_FALSE(a.ledger->Register(future, ShippedCalendar(), *a.key).ok());
  NewRequest nameless = Sample("");
  CHECK_THAT(a.ledger->Register(nameless, ShippedCalendar(), *a.key).status().message(),
             Catch::Contains("applicant.name is required"));
  NewRequest huge = Sample();
  huge.description.assign(ledger::kMaxDescriptionBytes + 1, 'x');
  CHECK_FALSE(a.ledger->Register(huge, ShippedCalendar(), *a.key).ok());
  NewRequest odd = Sample();
  odd.channel = "pigeon";
  CHECK_FALSE(a.ledger->Register(odd, ShippedCalendar(), *a.key).ok());
  CHECK(a.Records().size() == before);
  CHECK(a.catalog->AllRequests()->size() == 1);
}

TEST_CASE("requests: concurrent events on one request: exactly one extension wins",
          "[requests][catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  Archive a;
  if (!a.Open(backend)) return;
  const std::string code = a.Register(Sample()).row.code;
  std::atomic<int> ok{0}, refused{0}, unopened{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {  // no CHECK here: Catch2 is not thread-safe
      auto c = a.place.Open();     // its own connection, as another process would have
      if (!c.ok()) {
        ++unopened;
        return;
      }
      Ledger l(c->get(), &a.env, kOrigin);
      RequestChange ext = Event(code, RequestEvent::kExtended, "2026-10-20");
      ext.in.days = 5 + t;
      ext.in.approved_by = "局长";
      auto r = l.AddRequestEvent(ext, ShippedCalendar(), *a.key);
      (r.ok() ? ok : refused)++;
    });
  for (auto& t : threads) t.join();
  CHECK(unopened == 0);
  CHECK(ok == 1);
  CHECK(refused == 3);
  CHECK(a.catalog->RequestEvents(code)->size() == 2);
  CHECK(Problems(a.Verify()).empty());
}

TEST_CASE("requests: verify finds stored details, notes and events that differ from the records",
          "[requests]") {
  Archive a;
  REQUIRE(a.Open("sqlite"));
  const std::string code = a.Register(Sample()).row.code;
  RequestChange ext = Event(code, RequestEvent::kExtended, "2026-10-20");
  ext.in.days = 20;
  ext.in.approved_by = "李四";
  REQUIRE(a.Add(ext).ok());
  REQUIRE(Problems(a.Verify()).empty());

  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((a.dir / "catalog.sqlite").c_str(), &db) == SQLITE_OK);
  auto exec = [&](const char* sql) {
    REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  };
  exec("UPDATE requests SET details = replace(details, '张三丰', '王二')");
  exec("UPDATE request_events SET approved_by = '赵六' WHERE event = 'extended'");
  exec("UPDATE request_events SET date = '2026-09-28' WHERE event = 'received'");
  exec("UPDATE requests SET applicant_type = 'business'");
  sqlite3_close(db);
  const std::string problems = Problems(a.Verify());
  CHECK_THAT(problems, Catch::Contains("stored request details differ"));
  CHECK_THAT(problems, Catch::Contains("stored note or approver differs"));
  CHECK_THAT(problems,
             Catch::Contains("event received (record 0): differs from its signed record"));
  CHECK_THAT(problems,
             Catch::Contains("stored channel, date of receipt or applicant type differs"));
}

TEST_CASE("requests: a reply letter must be restricted, and is never shown to the public",
          "[requests][ledger][catalog]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  Archive a;
  if (!a.Open(backend)) return;
  Change v;
  v.share = "pub";
  v.path = "答复书.pdf";
  v.sha256 = storage::Hex(storage::Sha256Of("letter"));
  v.size = 6;
  v.file = {6, 1'700'000'000'000'000'000, 7};
  std::vector<Change> one{v};
  REQUIRE(a.ledger->Apply(one, *a.key).ok());
  const std::string doc = one[0].doc_id;
  auto shown = [&](Role role) {
    auto st = ledger::LoadDocument(*a.catalog, doc);
    REQUIRE((st.ok() && st->has_value()));
    auto many = ledger::LoadDocuments(*a.catalog, {doc});
    REQUIRE(many.ok());
    const bool one_way = !ledger::VisibleVersions(role, **st).empty();
    CHECK(one_way == !ledger::VisibleVersions(role, many->at(doc)).empty());
    return one_way;
  };
  REQUIRE(shown(Role::kAnonymous));

  const std::string code = a.Register(Sample()).row.code;
  RequestChange reply = Event(code, RequestEvent::kReplied, "2026-10-09");
  reply.in.outcome = "disclosed";
  reply.reply_document = doc;
  // A public document is not taken as a letter (it may be the regulation
  // that was handed over): nothing changes.
  auto refused = a.Add(reply);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.status().message(), Catch::Contains("classify it restricted first"));
  CHECK(a.Records().size() == 2);
  CHECK(shown(Role::kAnonymous));

  auto classify = [&](gongkai::Classification c) {
    std::vector<Change> change{Change{}};
    change[0].kind = Change::Kind::kClassify;
    change[0].doc_id = doc;
    change[0].classification = c;
    REQUIRE(a.ledger->Apply(change, *a.key).ok());
  };
  classify(gongkai::Classification::kRestricted);
  REQUIRE(a.Add(reply).ok());
  const auto records = a.Records();
  REQUIRE(records.size() == 4);  // version, received, classify, replied
  CHECK(records[3].record.find("\"reply_document\":\"" + doc + "\"") != std::string::npos);
  CHECK_FALSE(shown(Role::kAnonymous));
  CHECK(shown(Role::kInspector));

  // Made public again by mistake: still not anonymous.
  classify(gongkai::Classification::kPublic);
  CHECK_FALSE(shown(Role::kAnonymous));
  // The letter's bytes were never stored (no blob): that is the one problem.
  CHECK_THAT(Problems(a.Verify()), Catch::Matches("[^\n]*blob [0-9a-f]+ is missing[^\n]*\n"));
}
