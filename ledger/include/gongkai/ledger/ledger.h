// The ledger: the one component that changes the archive's history.
//
// Apply() decides whether each change is allowed given the document's state,
// builds its record, signs it, appends its leaf to the Merkle log, and signs
// a checkpoint for the new tree size, all inside one catalog write
// transaction: either every change of a call is committed with exactly one
// record each (gap-free log indexes), or none is. The catalog below only
// stores and reads rows; the rules live here.
//
// Thread-safety: a Ledger uses its catalog connection; one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gongkai/disclosure/calendar.h"
#include "gongkai/disclosure/report_figures.h"
#include "gongkai/domain.h"
#include "gongkai/status.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/env.h"
#include "gongkai/storage/record.h"

namespace gongkai::ledger {

// One change to the archive. kVersion with an empty `doc_id` creates a
// document; kApprove approves the latest pending version; kClassify sets
// `classification`; kMove renames the document to `path` (same share).
struct Change {
  using Kind = EventKind;  // the kind of the record the change makes
  Kind kind = Kind::kVersion;
  std::string doc_id;
  std::string share;
  std::string path;
  std::string sha256;
  int64_t size = 0;
  storage::FileState file;
  Classification classification = Classification::kPublic;
  bool review_required = false;
  std::string meta = "{}";   // normalised sidecar metadata; its SHA-256 goes into the record
  int64_t modified_ns = -1;  // the file's own mtime (file.mtime_ns may include the sidecar's)
  // Filled in by Apply():
  int64_t version = 0;
  storage::RecordRow record;
};

struct NewRequest;
struct RequestChange;
struct RequestState;

class Ledger {
 public:
  // `catalog` and `env` must outlive the Ledger. `origin` names the log in
  // the checkpoints it signs. `agency_code` ([disclosure] agency_code) is the
  // front of every 索引号 the ledger gives; "" uses the origin instead, with
  // any character an agency code may not hold replaced by '-'.
  Ledger(storage::Catalog* catalog, storage::Env* env, std::string origin,
         std::string agency_code = "");

  // Commits `changes` atomically, each signed with `key`, and fills in
  // version and record. The change after which a document is first public,
  // active and has an approved version gives it its 索引号,
  // "<agency_code>/<YYYY>-<NNNNN>": YYYY the local year now, NNNNN one more
  // than the 索引号 of that year so far. It is in that change's record, and
  // the document keeps it for life. A change that does not apply (approve without a
  // pending version, classify to the current value, withdraw twice, an
  // unknown document) fails with Invalid or NotFound and nothing of the
  // call is committed; `changes` is then unspecified.
  Status Apply(std::vector<Change>& changes, const storage::SigningKey& key);

  // Registers a disclosure request (requests.h): checks it (Invalid: an
  // empty, oversized or unknown field, a receipt date after today), gives it
  // a tracking code and a salt, and commits its `request.received` record
  // with its rows. Returns the request as stored, its clock counted in
  // `calendar`.
  Result<RequestState> Register(const NewRequest& request, const disclosure::WorkCalendar& calendar,
                                const storage::SigningKey& key);
  // Appends an event to a request: NotFound for no such request; Invalid,
  // changing nothing, when the event cannot follow (disclosure::Apply), is
  // dated after today, or names a reply document that is not archived and
  // restricted (a reply letter is never public: visibility.h).
  Result<RequestState> AddRequestEvent(const RequestChange& change,
                                       const disclosure::WorkCalendar& calendar,
                                       const storage::SigningKey& key);

  // Signs and stores the annual report's entered figures for `year`
  // (disclosure/report_figures.h), replacing any entered before; the old
  // stay in the log. Invalid for a year before 2000 or after this one.
  Result<storage::ReportFiguresRow> SetReportFigures(int year,
                                                     const disclosure::ReportFigures& figures,
                                                     const storage::SigningKey& key);

  // The catalog the ledger writes to, for reads on the same connection.
  storage::Catalog* catalog() const { return catalog_; }

 private:
  // Runs `body` in one write transaction: it gets the next log index (and
  // advances it once per record it appends) and the records' time; then the
  // checkpoint for the new size is signed and all is committed, or nothing.
  using TransactionBody = std::function<Status(int64_t& seq, const std::string& time)>;
  Status Transaction(const storage::SigningKey& key, const TransactionBody& body);
  // Signs `record` as log entry `seq` (of document `doc`, "" for a request's).
  static storage::RecordRow Sign(int64_t seq, std::string doc, std::string record,
                                 const storage::SigningKey& key);
  // Stores a signed record and the Merkle nodes it completes.
  Status Append(const storage::RecordRow& record);
  Status ApplyOne(Change& change, int64_t seq, const std::string& time,
                  const storage::SigningKey& key);
  Status IssueCheckpoint(uint64_t size, const storage::SigningKey& key);
  // Gives `doc` its 索引号 if it has none and `c` leaves it public and
  // approved (`approved`: the change itself approves a version).
  Status AssignIndexNo(storage::DocumentRow& doc, bool approved, storage::RecordFields& f);

  storage::Catalog* catalog_;
  storage::Env* env_;
  std::string origin_;
  std::string index_prefix_;                   // agency code, or the origin made one
  std::chrono::system_clock::time_point now_;  // of the running transaction
  // The highest 索引号 serial given in each year: read from the catalog
  // once (all of the year's numbers), then counted on, so that giving one
  // costs an indexed lookup at the 100,000th document as at the first (it
  // read them all each time: quadratic). Read afresh when the next is found
  // taken (another writer on the catalog) and after a failed transaction
  // (what it gave was rolled back).
  std::map<int, long long> last_serial_;
};

}  // namespace gongkai::ledger
