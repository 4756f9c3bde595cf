#include "gongkai/ledger/ledger.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"

namespace gongkai::ledger {
namespace {

using storage::DocumentRow;
using storage::VersionRow;

// The version an event other than kVersion concerns, if the event may happen
// to `doc` now; Invalid (with the reason) if it may not.
Result<const VersionRow*> EventSubject(const Change& c, const DocumentRow& doc,
                                       const std::vector<VersionRow>& versions) {
  if (versions.empty()) return Status::Corruption("document " + doc.id + " has no versions");
  switch (c.kind) {
    case Change::Kind::kWithdraw:
      if (doc.status != DocumentStatus::kActive)
        return Status::Invalid("document " + doc.id + " is already withdrawn");
      break;
    case Change::Kind::kApprove: {
      const VersionRow* pending = nullptr;
      for (const VersionRow& v : versions)
        if (v.review == ReviewState::kPending) pending = &v;
      if (!pending) return Status::Invalid("document " + doc.id + " has no pending version");
      return pending;
    }
    case Change::Kind::kMove:
      if (doc.status != DocumentStatus::kActive)
        return Status::Invalid("document " + doc.id + " is withdrawn");
      if (c.path.empty() || c.path == doc.path) return Status::Invalid("move to the same path");
      break;
    case Change::Kind::kClassify:
      if (c.classification == doc.classification)
        return Status::Invalid("document " + doc.id + " is already " + ToString(c.classification));
      break;
    case Change::Kind::kVersion:
      return Status::Invalid("a new version is not an event on a version");
  }
  return &versions.back();
}

// The document a change applies to: a new row for a new document's first
// version, else the catalog's row (NotFound if there is none).
Result<DocumentRow> Subject(storage::Catalog& catalog, const Change& c, const std::string& time) {
  if (c.doc_id.empty()) {
    if (c.kind != Change::Kind::kVersion) return Status::Invalid("event without a document");
    DocumentRow d;
    d.id = storage::RandomBase32(15);  // 24 URL-safe characters
    d.share = c.share;
    d.path = c.path;
    d.classification = c.classification;
    d.created = time;
    return d;
  }
  auto found = catalog.GetDocument(c.doc_id);
  if (!found.ok()) return found.status();
  if (!found->has_value()) return Status::NotFound("document " + c.doc_id);
  return std::move(**found);
}

}  // namespace

Ledger::Ledger(storage::Catalog* catalog, storage::Env* env, std::string origin,
               std::string agency_code)
    : catalog_(catalog),
      env_(env),
      origin_(std::move(origin)),
      index_prefix_(std::move(agency_code)) {
  if (index_prefix_.empty()) {
    index_prefix_ = origin_.substr(0, 40);
    for (char& ch : index_prefix_)
      if (!IsAgencyCode(std::string_view(&ch, 1))) ch = '-';
  }
}

Status Ledger::Apply(std::vector<Change>& changes, const storage::SigningKey& key) {
  if (changes.empty()) return Status::OK();
  return Transaction(key, [&](int64_t& seq, const std::string& time) -> Status {
    for (Change& c : changes)
      if (Status one = ApplyOne(c, seq++, time, key); !one.ok()) return one;
    return Status::OK();
  });
}

Status Ledger::Transaction(const storage::SigningKey& key, const TransactionBody& body) {
  if (Status s = catalog_->BeginWrite(); !s.ok()) return s;
  Status s = [&]() -> Status {
    auto next = catalog_->NextRecordSeq();
    if (!next.ok()) return next.status();
    now_ = env_->Now();
    const std::string time = storage::Rfc3339(now_);
    int64_t seq = *next;
    if (Status b = body(seq, time); !b.ok()) return b;
    if (seq == *next) return Status::Invalid("nothing to record");
    if (Status cp = IssueCheckpoint(static_cast<uint64_t>(seq), key); !cp.ok()) return cp;
    return catalog_->Commit();
  }();
  if (!s.ok()) {
    catalog_->Rollback();
    last_serial_.clear();
  }
  return s;
}

Status Ledger::Append(const storage::RecordRow& record) {
  if (Status s = catalog_->InsertRecord(record); !s.ok()) return s;
  auto nodes = storage::NodesForAppend(static_cast<uint64_t>(record.seq),
                                       storage::LeafHash(record.record), catalog_->Nodes());
  if (!nodes.ok()) return nodes.status();
  return catalog_->InsertTreeNodes(*nodes);
}

storage::RecordRow Ledger::Sign(int64_t seq, std::string doc, std::string record,
                                const storage::SigningKey& key) {
  storage::RecordRow rec;
  rec.seq = seq;
  rec.doc = std::move(doc);
  rec.record = std::move(record);
  rec.signature = storage::Base64(key.Sign(rec.record));
  rec.key_id = key.KeyId();
  rec.leaf = storage::Hex(storage::LeafHash(rec.record));
  return rec;
}

Status Ledger::ApplyOne(Change& c, int64_t seq, const std::string& time,
                        const storage::SigningKey& key) {
  auto subject = Subject(*catalog_, c, time);
  if (!subject.ok()) return subject.status();
  DocumentRow& doc = *subject;
  const bool created = c.doc_id.empty();
  if (created) doc.classified_seq = seq;

  storage::RecordFields f;
  f.seq = static_cast<uint64_t>(seq);
  f.time = time;
  f.key = key.KeyId();
  f.event = c.kind;
  f.prev = doc.last_leaf;
  std::optional<VersionRow> new_version;
  if (c.kind == Change::Kind::kVersion) {
    if (c.meta.empty()) c.meta = "{}";
    c.version = doc.current_version + 1;
    f.sha256 = c.sha256;
    f.size = static_cast<uint64_t>(c.size);
    f.modified = storage::Rfc3339FromNanos(c.modified_ns >= 0 ? c.modified_ns : c.file.mtime_ns);
    f.review = c.review_required ? ReviewState::kPending : ReviewState::kApproved;
    f.meta = storage::Hex(storage::Sha256Of(c.meta));
    new_version =
        VersionRow{doc.id, c.version, c.sha256, c.size, f.modified, time, seq, f.review, c.meta};
    doc.status = DocumentStatus::kActive;
    doc.current_version = c.version;
    doc.file = c.file;
  } else {
    auto versions = catalog_->Versions(doc.id);
    if (!versions.ok()) return versions.status();
    auto event = EventSubject(c, doc, *versions);
    if (!event.ok()) return event.status();
    const VersionRow& v = **event;
    c.version = v.version;
    c.sha256 = v.sha256;
    c.size = v.size;
    f.sha256 = v.sha256;
    f.size = static_cast<uint64_t>(v.size);
    f.modified = v.modified;
    f.review = c.kind == Change::Kind::kApprove ? ReviewState::kApproved : v.review;
    if (c.kind == Change::Kind::kWithdraw) {
      doc.status = DocumentStatus::kWithdrawn;
      doc.file = storage::FileState{-1, -1, -1, 0};
    } else if (c.kind == Change::Kind::kMove) {
      f.from = doc.path;
      doc.path = c.path;
    } else if (c.kind == Change::Kind::kClassify) {
      doc.classification = c.classification;
      doc.classified_seq = seq;
    }
  }
  if (Status s =
          AssignIndexNo(doc,
                        f.review == ReviewState::kApproved &&
                            (c.kind == Change::Kind::kVersion || c.kind == Change::Kind::kApprove),
                        f);
      !s.ok())
    return s;
  c.doc_id = doc.id;
  c.share = doc.share;
  c.path = doc.path;
  f.doc = doc.id;
  f.share = doc.share;
  f.path = doc.path;
  f.version = static_cast<uint64_t>(c.version);
  f.classification = doc.classification;

  c.record = Sign(seq, doc.id, storage::SerializeRecord(f), key);
  const storage::RecordRow& rec = c.record;
  doc.last_leaf = rec.leaf;
  doc.updated = time;

  if (Status s = created ? catalog_->InsertDocument(doc) : catalog_->UpdateDocument(doc); !s.ok())
    return s;
  if (new_version)
    if (Status s = catalog_->InsertVersion(*new_version); !s.ok()) return s;
  if (c.kind == Change::Kind::kApprove)
    if (Status s = catalog_->SetReview(doc.id, c.version, ReviewState::kApproved); !s.ok())
      return s;
  return Append(rec);
}

Status Ledger::AssignIndexNo(DocumentRow& doc, bool approved, storage::RecordFields& f) {
  if (!doc.index_no.empty() || doc.status != DocumentStatus::kActive ||
      doc.classification != Classification::kPublic)
    return Status::OK();
  if (!approved) {
    auto versions = catalog_->Versions(doc.id);
    if (!versions.ok()) return versions.status();
    if (std::none_of(versions->begin(), versions->end(),
                     [](const VersionRow& v) { return v.review == ReviewState::kApproved; }))
      return Status::OK();
  }
  const disclosure::Date today = disclosure::LocalDate(now_);
  const int year = disclosure::YearOf(today);
  // One more than the highest serial of the year: never one given before,
  // even were a number of the year lost from the catalog.
  const auto number = [&](long long serial) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%d-%05lld", year, serial);
    return index_prefix_ + "/" + buf;
  };
  auto last = last_serial_.find(year);
  if (last != last_serial_.end()) {  // counted on: unless another writer gave it since
    auto taken = catalog_->HasIndexNumber(number(last->second + 1));
    if (!taken.ok()) return taken.status();
    if (*taken) {
      last_serial_.erase(last);
      last = last_serial_.end();
    }
  }
  if (last == last_serial_.end()) {
    auto given = catalog_->IndexNumbersOf(year);
    if (!given.ok()) return given.status();
    long long highest = 0;
    for (const std::string& n : *given)
      highest = std::max(highest, std::atoll(n.c_str() + n.rfind('-') + 1));
    last = last_serial_.emplace(year, highest).first;
  }
  doc.index_no = number(++last->second);
  doc.published = disclosure::FormatDate(today);
  f.index_no = doc.index_no;
  return Status::OK();
}

Result<storage::ReportFiguresRow> Ledger::SetReportFigures(int year,
                                                           const disclosure::ReportFigures& figures,
                                                           const storage::SigningKey& key) {
  const int this_year = disclosure::YearOf(disclosure::LocalDate(env_->Now()));
  if (year < 2000 || year > this_year)
    return Status::Invalid("figures are for a year from 2000 to " + std::to_string(this_year));
  storage::ReportFiguresRow row;
  Status s = Transaction(key, [&](int64_t& seq, const std::string& time) -> Status {
    auto all = catalog_->AllReportFigures();
    if (!all.ok()) return all.status();
    const storage::ReportFiguresRow* last = nullptr;  // the chain's latest record
    for (const storage::ReportFiguresRow& r : *all)
      if (!last || r.log_index > last->log_index) last = &r;
    storage::ReportFiguresRecordFields f;
    f.seq = static_cast<uint64_t>(seq);
    f.year = year;
    f.figures = disclosure::ReportFiguresJson(figures);
    f.time = time;
    f.key = key.KeyId();
    f.prev = last ? last->leaf : "";
    const storage::RecordRow rec = Sign(seq, "", storage::SerializeReportFiguresRecord(f), key);
    row = {year, f.figures, seq, rec.leaf, time};
    if (Status p = catalog_->PutReportFigures(row); !p.ok()) return p;
    ++seq;
    return Append(rec);
  });
  if (!s.ok()) return s;
  return row;
}

Status Ledger::IssueCheckpoint(uint64_t size, const storage::SigningKey& key) {
  auto root = storage::RootHash(size, catalog_->Nodes());
  if (!root.ok()) return root.status();
  const std::string text = storage::SignCheckpoint(storage::Checkpoint{origin_, size, *root}, key);
  return catalog_->PutCheckpoint(
      storage::CheckpointRow{static_cast<int64_t>(size), text, storage::Rfc3339(env_->Now())});
}

}  // namespace gongkai::ledger
