// The 索引号 the ledger gives (exactly once, at a document's first public
// approved version, serial per year), what `gongkai verify` checks of them,
// and the catalogue and timeliness report built on them, over a real
// catalog of each backend with a clock the test sets.
#include <catch2/catch.hpp>

#include "annual_report.h"
#include "catalogue.h"
#include "gongkai/ledger/ledger.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/verify.h"
#include "support/calendar.h"
#include "support/clock_env.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "timeliness.h"

using gongkai::Classification;
using gongkai::ledger::Change;
namespace storage = gongkai::storage;
namespace ledger = gongkai::ledger;
namespace gk = gongkai::daemon;

namespace {

constexpr const char* kCode = "11350602MB1234567X";

struct Office {
  gongkai::test::TempDir dir;
  gongkai::test::ClockEnv env{"2026-12-30"};
  std::unique_ptr<storage::Catalog> catalog;
  std::unique_ptr<storage::SigningKey> key;
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<storage::BlobStore> blobs;

  bool Open(const std::string& backend, const std::string& agency_code = kCode) {
    auto place = gongkai::test::FreshCatalog(backend, dir);
    if (!place) return false;
    auto c = place->Open();
    auto k = storage::SigningKey::Generate();
    REQUIRE((c.ok() && k.ok()));
    catalog = std::move(*c);
    key = std::move(*k);
    REQUIRE(catalog->AddKey({key->KeyId(), key->PublicPem(), "2026-01-01T00:00:00Z", ""}).ok());
    ledger =
        std::make_unique<ledger::Ledger>(catalog.get(), &env, "catalogue.test/log", agency_code);
    return true;
  }
  // Applies one change on `day`; returns it as applied.
  Change Apply(Change c, const char* day) {
    env.At(day);
    std::vector<Change> one{std::move(c)};
    const gongkai::Status s = ledger->Apply(one, *key);
    INFO(s.ToString());
    REQUIRE(s.ok());
    return one[0];
  }
  Change NewVersion(const std::string& path, const std::string& meta, const char* day,
                    bool review = false, const std::string& doc = "",
                    Classification classification = Classification::kPublic) {
    return Apply(MakeVersion(path, meta, day, review, doc, classification), day);
  }
  // The change NewVersion applies, with its blob stored.
  Change MakeVersion(const std::string& path, const std::string& meta, const char* day,
                     bool review = false, const std::string& doc = "",
                     Classification classification = Classification::kPublic) {
    const std::string content = path + meta + day;  // distinct bytes per version
    auto writer = Blobs().NewWriter();
    REQUIRE(writer.ok());
    REQUIRE((*writer)->Append(content.data(), content.size()).ok());
    auto sha = (*writer)->Finish();
    REQUIRE((sha.ok() && (*writer)->Commit().ok()));
    Change c;
    c.doc_id = doc;
    c.share = "pub";
    c.path = path;
    c.sha256 = *sha;
    c.size = static_cast<int64_t>(content.size());
    c.file = {c.size, 1'700'000'000'000'000'000, 7};
    c.meta = meta;
    c.review_required = review;
    c.classification = classification;
    return c;
  }
  Change Event(Change::Kind kind, const std::string& doc, const char* day,
               Classification classification = Classification::kPublic) {
    Change c;
    c.kind = kind;
    c.doc_id = doc;
    c.classification = classification;
    return Apply(std::move(c), day);
  }
  storage::DocumentRow Doc(const std::string& id) {
    auto d = catalog->GetDocument(id);
    REQUIRE(d.ok());
    REQUIRE(d->has_value());
    return **d;
  }
  storage::BlobStore& Blobs() {
    if (!blobs) {
      auto opened = storage::BlobStore::Open(storage::Env::Default(), dir / "blobs", dir / "tmp");
      REQUIRE(opened.ok());
      blobs = std::move(*opened);
    }
    return *blobs;
  }
  std::vector<std::string> Problems() {
    storage::VerifyOptions options;
    options.origin = "catalogue.test/log";
    auto report = storage::VerifyArchive(catalog.get(), Blobs(), dir / "blobs", options);
    REQUIRE(report.ok());
    std::vector<std::string> out;
    for (const auto& p : report->problems) out.push_back(p.where + ": " + p.what);
    return out;
  }
};

// The index_no a change's record carries, "" for none.
std::string RecordIndexNo(const Change& c) {
  const std::string key = "\"index_no\":\"";
  const size_t at = c.record.record.find(key);
  if (at == std::string::npos) return "";
  const size_t from = at + key.size();
  return c.record.record.substr(from, c.record.record.find('"', from) - from);
}

// The configuration of the share the Office's changes are in.
gongkai::Config OneShare() {
  gongkai::Config config;
  config.shares.push_back(gongkai::ShareConfig{.name = "pub", .office = "某某乡党政办"});
  return config;
}

std::string No(int year, int serial) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "/%d-%05d", year, serial);
  return kCode + std::string(buf);
}

}  // namespace

TEST_CASE("index numbers: given once, at the first public approved version, serial per year",
          "[catalogue][ledger]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  Office o;
  if (!o.Open(backend)) return;

  // Public without review: the first version's record gives the number.
  const Change a = o.NewVersion("a.txt", "{}", "2026-12-30");
  CHECK(RecordIndexNo(a) == No(2026, 1));
  CHECK(o.Doc(a.doc_id).index_no == No(2026, 1));
  CHECK(o.Doc(a.doc_id).published == "2026-12-30");
  // Later events keep it and never repeat it.
  CHECK(RecordIndexNo(o.NewVersion("a.txt", "{}", "2026-12-31", false, a.doc_id)).empty());
  Change move;
  move.kind = Change::Kind::kMove;
  move.doc_id = a.doc_id;
  move.path = "a-2026.txt";
  CHECK(RecordIndexNo(o.Apply(move, "2026-12-31")).empty());

  // Waiting for review: no number until the approval, which gives the next.
  const Change b = o.NewVersion("b.txt", "{}", "2026-12-30", true);
  CHECK(RecordIndexNo(b).empty());
  CHECK(o.Doc(b.doc_id).index_no.empty());
  // Restricted: none, until it is classified public.
  const Change c =
      o.NewVersion("c.txt", "{}", "2026-12-31", false, "", Classification::kRestricted);
  CHECK(RecordIndexNo(c).empty());
  const Change approved = o.Event(Change::Kind::kApprove, b.doc_id, "2026-12-31");
  CHECK(RecordIndexNo(approved) == No(2026, 2));

  // A new year starts again from 00001; the old numbers stay.
  const Change opened = o.Event(Change::Kind::kClassify, c.doc_id, "2027-01-04");
  CHECK(RecordIndexNo(opened) == No(2027, 1));
  CHECK(o.Doc(c.doc_id).published == "2027-01-04");
  // Restricted again, withdrawn, public again: still its first number.
  o.Event(Change::Kind::kClassify, c.doc_id, "2027-01-05", Classification::kRestricted);
  o.Event(Change::Kind::kWithdraw, c.doc_id, "2027-01-05");
  const Change back = o.NewVersion("c.txt", "{}", "2027-01-06", false, c.doc_id);
  CHECK(RecordIndexNo(back).empty());
  const Change republished =
      o.Event(Change::Kind::kClassify, c.doc_id, "2027-01-06", Classification::kPublic);
  CHECK(RecordIndexNo(republished).empty());
  CHECK(o.Doc(c.doc_id).index_no == No(2027, 1));
  CHECK(o.Doc(b.doc_id).index_no == No(2026, 2));
  CHECK(o.NewVersion("d.txt", "{}", "2027-01-06").record.record.find(No(2027, 2)) !=
        std::string::npos);

  CHECK(o.Problems().empty());
}

TEST_CASE(
    "index numbers: counted on without a gap after a failed transaction, never repeating another "
    "writer's",
    "[catalogue][ledger]") {
  const std::string backend = GENERATE(from_range(gongkai::test::CatalogBackends()));
  INFO("catalog backend: " << backend);
  Office o;
  if (!o.Open(backend)) return;
  const Change a = o.NewVersion("a.txt", "{}", "2026-12-30");
  CHECK(RecordIndexNo(a) == No(2026, 1));

  // A batch that fails after giving a number keeps nothing: the next
  // document gets the number the failed one would have had.
  Change approve;
  approve.kind = Change::Kind::kApprove;  // a has no version waiting: Invalid
  approve.doc_id = a.doc_id;
  std::vector<Change> failing{o.MakeVersion("b.txt", "{}", "2026-12-30"), approve};
  CHECK_FALSE(o.ledger->Apply(failing, *o.key).ok());
  CHECK(RecordIndexNo(o.NewVersion("c.txt", "{}", "2026-12-30")) == No(2026, 2));

  // Another writer on the same catalog gives the next numbers: this
  // ledger's count is behind, finds its next taken, and reads them afresh.
  ledger::Ledger other(o.catalog.get(), &o.env, "catalogue.test/log", kCode);
  for (const char* path : {"d.txt", "e.txt"}) {
    std::vector<Change> one{o.MakeVersion(path, "{}", "2026-12-30")};
    REQUIRE(other.Apply(one, *o.key).ok());
  }
  CHECK(RecordIndexNo(o.NewVersion("f.txt", "{}", "2026-12-30")) == No(2026, 5));
  // And the other's, in turn.
  std::vector<Change> g{o.MakeVersion("g.txt", "{}", "2026-12-30")};
  REQUIRE(other.Apply(g, *o.key).ok());
  CHECK(RecordIndexNo(g[0]) == No(2026, 6));
  CHECK(o.Problems().empty());
}

TEST_CASE("index numbers: verify finds a changed, a removed or a repeated one", "[catalogue]") {
  Office o;
  REQUIRE(o.Open("sqlite"));
  const Change a = o.NewVersion("a.txt", "{}", "2026-12-30");
  const Change b = o.NewVersion("b.txt", "{}", "2026-12-30");
  REQUIRE(o.Problems().empty());

  // The catalog's row says another number than the signed record.
  storage::DocumentRow row = o.Doc(a.doc_id);
  row.index_no = No(2026, 7);
  REQUIRE(o.catalog->BeginWrite().ok());
  REQUIRE(o.catalog->UpdateDocument(row).ok());
  REQUIRE(o.catalog->Commit().ok());
  auto problems = o.Problems();
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("differs from its signed record") != std::string::npos);

  // The catalog refuses a number twice, whatever writes it.
  row.index_no = o.Doc(b.doc_id).index_no;
  REQUIRE(o.catalog->BeginWrite().ok());
  CHECK_FALSE(o.catalog->UpdateDocument(row).ok());
  o.catalog->Rollback();

  // Its date of publication is that of the record too.
  row = o.Doc(b.doc_id);
  row.published = "2026-11-02";
  REQUIRE(o.catalog->BeginWrite().ok());
  REQUIRE(o.catalog->UpdateDocument(row).ok());
  REQUIRE(o.catalog->Commit().ok());
  problems = o.Problems();
  REQUIRE(problems.size() == 2);  // and the changed number above
  CHECK((problems[0] + problems[1]).find("published 2026-11-02 is not the date") !=
        std::string::npos);

  // A number lost from the catalog is still never given again: the next
  // is one more than the highest.
  row = o.Doc(a.doc_id);
  row.index_no = "";
  REQUIRE(o.catalog->BeginWrite().ok());
  REQUIRE(o.catalog->UpdateDocument(row).ok());
  REQUIRE(o.catalog->Commit().ok());
  CHECK(RecordIndexNo(o.NewVersion("c.txt", "{}", "2026-12-31")) == No(2026, 3));
}

TEST_CASE("index numbers: without an agency code they begin with the log's origin", "[catalogue]") {
  Office o;
  REQUIRE(o.Open("sqlite", ""));
  const Change a = o.NewVersion("a.txt", "{}", "2026-12-30");
  CHECK(RecordIndexNo(a) == "catalogue.test-log/2026-00001");
}

TEST_CASE("catalogue and timeliness: the public view, by category, and who was late",
          "[catalogue]") {
  Office o;
  REQUIRE(o.Open("sqlite"));
  const gongkai::Config config = OneShare();

  // 生成 on Monday 2 November 2026: 20 working days end on Monday 30 November.
  const std::string rule =
      R"({"title":"村级财务管理规定","doc_number":"某政规〔2026〕1号",)"
      R"("category":"法定主动公开内容/行政规范性文件","created":"2026-11-02","summary":"财务"})";
  const Change on_time = o.NewVersion("rule.txt", rule, "2026-11-30");
  const std::string late_meta =
      R"({"title":"预算公开","category":"财政预决算","created":"2026-11-02"})";
  const Change late = o.NewVersion("budget.txt", late_meta, "2026-12-01");
  const Change undated = o.NewVersion("通知.pdf", "{}", "2026-12-02");
  o.NewVersion("secret.txt", R"({"category":"财政预决算"})", "2026-12-02", false, "",
               Classification::kRestricted);
  o.NewVersion("pending.txt", R"({"category":"财政预决算"})", "2026-12-02", true);
  o.NewVersion("old.txt", "{}", "2025-06-02");
  // Published in 2024, restricted since: no year of the public catalogue.
  const Change hidden = o.NewVersion("hidden.txt", "{}", "2024-03-01");
  o.Event(Change::Kind::kClassify, hidden.doc_id, "2024-03-02", Classification::kRestricted);

  auto all = gk::LoadCatalogue(*o.catalog, config, {});
  REQUIRE(all.ok());
  REQUIRE(all->entries.size() == 4);            // neither the restricted nor the pending one
  CHECK(all->entries[0].id == undated.doc_id);  // newest publication first
  CHECK(all->entries[0].title == "通知");       // the file name without its extension
  CHECK(all->entries[3].published == "2025-06-02");
  const gk::CatalogueEntry& first = all->entries[2];
  CHECK(first.index_no == No(2026, 1));
  CHECK(first.title == "村级财务管理规定");
  CHECK(first.doc_number == "某政规〔2026〕1号");
  CHECK(first.summary == "财务");
  CHECK(first.created == "2026-11-02");
  CHECK(first.office == "某某乡党政办");
  CHECK(all->categories == std::map<std::string, int64_t>{
                               {"", 2}, {"法定主动公开内容/行政规范性文件", 1}, {"财政预决算", 1}});
  CHECK(all->years == std::set<int>{2025, 2026});
  // Inspectors' view: the restricted one too.
  auto inspectors = gk::LoadCatalogue(*o.catalog, config, {}, ledger::Role::kInspector);
  REQUIRE(inspectors.ok());
  CHECK(inspectors->entries.size() == 5);
  CHECK(inspectors->years == std::set<int>{2024, 2025, 2026});

  auto year = gk::LoadCatalogue(*o.catalog, config, {2026, "法定主动公开内容"});
  REQUIRE(year.ok());
  REQUIRE(year->entries.size() == 1);  // a first level takes in what lies below it
  CHECK(year->entries[0].id == on_time.doc_id);
  CHECK(year->categories.at("") == 1);  // counts over the year, whatever the category asked
  CHECK(gk::LoadCatalogue(*o.catalog, config, {2026, "法定主动"})->entries.empty());

  const std::string json = gk::CatalogueJson(*all, 1, 1);
  CHECK(json.rfind(R"({"total":4,"results":[{"index_no":")", 0) == 0);
  CHECK(json.find(R"("categories":{"":2,)") != std::string::npos);
  const std::string csv = gk::CatalogueCsv(*all);
  CHECK(csv.rfind("index_no,title,summary,created,published,category,office,doc_number,id,", 0) ==
        0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 5);
  // A title a spreadsheet would run as a formula is written as text.
  gk::Catalogue formula;
  formula.entries.push_back(
      gk::CatalogueEntry{.index_no = "x", .title = "=HYPERLINK(\"http://x\")"});
  CHECK(gk::CatalogueCsv(formula).find("\n'=HYPERLINK") == std::string::npos);
  CHECK(gk::CatalogueCsv(formula).find(",\"'=HYPERLINK(\"\"http://x\"\")\",") != std::string::npos);

  // Withdrawn since: no longer in the public catalogue, still in the report.
  o.Event(Change::Kind::kWithdraw, late.doc_id, "2026-12-03");
  CHECK(gk::LoadCatalogue(*o.catalog, config, {2026, ""})->entries.size() == 2);

  // 2026: three published, the budget one day late (Tuesday 1 December).
  const auto t = gk::ComputeTimeliness(
      *gk::LoadCatalogue(*o.catalog, config, {2026, ""}, ledger::Role::kInspector), {},
      gongkai::test::ShippedCalendar(), 2026);
  CHECK(t.documents == 3);
  CHECK(t.documents_undated == 1);
  REQUIRE(t.late_documents.size() == 1);
  CHECK(t.late_documents[0].entry.id == late.doc_id);
  CHECK(t.late_documents[0].due == "2026-11-30");
  CHECK(t.late_documents[0].workdays == 21);
  CHECK_FALSE(t.provisional);
  // Counted from the catalog a batch at a time, as the report, the CLI and
  // the gauges do: the same figures.
  const auto loaded =
      gk::LoadTimeliness(*o.catalog, config, gongkai::test::ShippedCalendar(), 2026);
  REQUIRE(loaded.ok());
  CHECK(loaded->documents == t.documents);
  CHECK(loaded->documents_undated == t.documents_undated);
  REQUIRE(loaded->late_documents.size() == 1);
  CHECK(loaded->late_documents[0].entry.id == late.doc_id);
  CHECK(loaded->late_documents[0].workdays == 21);
  CHECK(loaded->requests_closed == 0);
  // Only the year's documents: old.txt in 2025; hidden.txt, restricted since, still in 2024.
  for (int other_year : {2024, 2025}) {
    auto other =
        gk::LoadTimeliness(*o.catalog, config, gongkai::test::ShippedCalendar(), other_year);
    REQUIRE(other.ok());
    CHECK(other->documents == 1);
  }
}

TEST_CASE("catalogue: read a batch at a time, every entry once, in order, across batches",
          "[catalogue]") {
  Office o;
  REQUIRE(o.Open("sqlite"));
  const gongkai::Config config = OneShare();
  // Two batches and one more, in one signed batch of the ledger: each change
  // a document of its own (one stored blob serves them all).
  const size_t n = 2 * gk::kIndexedBatch + 1;
  const Change model = o.MakeVersion(
      "rule-0.txt", R"({"category":"法定主动公开内容/行政规范性文件"})", "2026-12-01");
  std::vector<Change> changes(n, model);
  for (size_t i = 0; i < n; ++i) changes[i].path = "rule-" + std::to_string(i) + ".txt";
  o.env.At("2026-12-01");
  REQUIRE(o.ledger->Apply(changes, *o.key).ok());

  size_t batches = 0, largest = 0;
  REQUIRE(gk::ForEachIndexedBatch(*o.catalog, [&](const std::vector<std::string>& ids) {
            ++batches;
            largest = std::max(largest, ids.size());
            return gongkai::Status::OK();
          }).ok());
  CHECK(batches == 3);
  CHECK(largest == gk::kIndexedBatch);
  // Newest 索引号 first: 1001, 1000, ..., 1, each once.
  std::vector<std::string> numbers;
  REQUIRE(gk::ForEachCatalogueEntry(*o.catalog, config, ledger::Role::kAnonymous,
                                    [&](gk::CatalogueEntry&& e) { numbers.push_back(e.index_no); })
              .ok());
  REQUIRE(numbers.size() == n);
  for (size_t i = 0; i < n; ++i) {
    INFO(i);
    CHECK(numbers[i] == No(2026, static_cast<int>(n - i)));
  }
  // Table 二 reads the same batches.
  auto table2 = gk::ComputeTable2(*o.catalog, 2026);
  REQUIRE(table2.ok());
  CHECK(table2->cells.at("normative_documents").at("issued") == static_cast<int64_t>(n));
  CHECK(table2->cells.at("normative_documents").at("in_force") == static_cast<int64_t>(n));
  // An error from `fn` ends the walk with that error.
  batches = 0;
  const gongkai::Status stopped =
      gk::ForEachIndexedBatch(*o.catalog, [&](const std::vector<std::string>&) {
        ++batches;
        return gongkai::Status::IOError("stop here");
      });
  CHECK(stopped.message() == "stop here");
  CHECK(batches == 1);
}
