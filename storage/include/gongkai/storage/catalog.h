// The catalog: the rows of documents, versions, signed records, the Merkle
// log's nodes and checkpoints, and keys.
//
// The catalog is the archive's source of truth (the Xapian index is derived
// from it). It stores and reads rows and decides nothing: which changes are
// allowed, how records are built and signed, and who may see what live in
// gongkai::ledger. Catalog is an interface so backends (SQLite, PostgreSQL)
// can be swapped; callers never see SQL.
//
// Writes happen between BeginWrite() and Commit() (or Rollback()): one
// writer at a time, even across processes, durable at Commit(). Readers see
// only committed rows.
//
// Thread-safety: a Catalog object belongs to one thread at a time. Open one
// per thread; the backends let many readers run beside the single writer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gongkai/domain.h"
#include "gongkai/status.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/env.h"
#include "gongkai/storage/merkle.h"

namespace gongkai::storage {

struct FileState {  // what the share's file looked like when last archived
  int64_t size = -1;
  int64_t mtime_ns = -1;
  int64_t inode = -1;
  // Catches rewrites that restore the mtime (cp -p, rsync -t). 0 = unknown:
  // recorded before catalog schema 3.
  int64_t ctime_ns = 0;
  bool operator==(const FileState&) const = default;
  // True when a file now in state `now` looks unchanged since this state was
  // recorded: all equal, except that an unknown ctime matches any.
  bool Matches(const FileState& now) const {
    return size == now.size && mtime_ns == now.mtime_ns && inode == now.inode &&
           (ctime_ns == 0 || ctime_ns == now.ctime_ns);
  }
};

struct DocumentRow {
  std::string id;
  std::string share;
  std::string path;
  DocumentStatus status = DocumentStatus::kActive;
  Classification classification = Classification::kPublic;
  // Log index of the record that set `classification` (the document's first
  // record, or its latest classify record).
  int64_t classified_seq = -1;
  int64_t current_version = 0;
  std::string last_leaf;  // hex leaf hash of the latest record of this document
  FileState file;
  std::string created;
  std::string updated;
  // The 索引号 (CONTRACT.md section 9) the document got when it first became
  // public and approved, and that day's local date (YYYY-MM-DD): its
  // publication. Both "" until then.
  std::string index_no;
  std::string published;
};

struct VersionRow {
  std::string doc;
  int64_t version = 0;
  std::string sha256;
  int64_t size = 0;
  std::string modified;  // file mtime, RFC 3339
  std::string archived;  // RFC 3339
  int64_t log_index = 0;
  ReviewState review = ReviewState::kApproved;
  std::string meta;  // JSON object (sidecar metadata), "{}" when none
};

struct RecordRow {
  int64_t seq = 0;
  std::string doc;        // "" for a request's record (its code is inside the record)
  std::string record;     // the exact signed bytes
  std::string signature;  // base64
  std::string key_id;
  std::string leaf;  // hex
};

struct CheckpointRow {
  int64_t size = 0;
  std::string text;  // the signed note, exactly as issued
  std::string created;
};

// The newest version archived per (share, category) up to a time; category
// comes from the version's sidecar metadata ("" when none).
struct LatestVersionRow {
  std::string share;
  std::string category;
  std::string archived;  // RFC 3339
  int64_t versions = 0;
};

struct KeyRow {
  std::string key_id;
  std::string public_pem;
  std::string created;
  std::string retired;  // "" while in use
};

// The annual report's entered figures for a year (CONTRACT.md section 9),
// as last signed: the normalised JSON of disclosure/report_figures.h.
struct ReportFiguresRow {
  int64_t year = 0;
  std::string figures;
  int64_t log_index = 0;  // of the record that signed them
  std::string leaf;       // that record's hex leaf hash
  std::string recorded;   // RFC 3339
};

// A disclosure request (依申请公开, CONTRACT.md section 8) as stored. Only
// `details` is personal: the applicant, the description and the delivery
// wish, as one JSON object. Signed records carry only its salted SHA-256.
struct RequestRow {
  std::string code;  // the tracking code, unguessable
  std::string channel;
  std::string received;  // YYYY-MM-DD
  std::string applicant_type;
  std::string details;    // JSON object; personal
  std::string salt;       // hex, random per request
  std::string last_leaf;  // hex leaf hash of the request's latest record
  std::string created;    // RFC 3339
};

// One event of a request, in the order of its records (log_index).
struct RequestEventRow {
  std::string code;
  int64_t log_index = 0;
  std::string event;           // "received", "extended", ... (disclosure::RequestEvent)
  std::string date;            // YYYY-MM-DD, as stated for the event
  std::string outcome;         // replied
  int64_t days = 0;            // extended
  std::string approved_by;     // extended; personal
  std::string note;            // personal
  std::string reply_document;  // replied: an archived document's id, or ""
  std::string recorded;        // RFC 3339, when it was recorded
};

struct CatalogCounts {
  int64_t documents = 0;  // all documents, active and withdrawn
  int64_t active = 0;
  int64_t versions = 0;
  int64_t records = 0;
};

// Reads convert the status, classification and review columns with
// domain.h's Parse*(); a stored value that names none is a Corruption error.
class Catalog {
 public:
  virtual ~Catalog() = default;

  virtual Result<std::optional<DocumentRow>> FindByPath(const std::string& share,
                                                        const std::string& path) = 0;
  virtual Result<std::optional<DocumentRow>> GetDocument(const std::string& id) = 0;
  virtual Result<std::vector<VersionRow>> Versions(const std::string& doc_id) = 0;
  // The file state of each active document of `share`, by path: all that a
  // scan compares the share with (whole rows made a scan of 100,000 files
  // about 50 MB heavier).
  virtual Result<std::map<std::string, FileState>> ArchivedFiles(const std::string& share) = 0;
  // The active documents of `share` inside `folder` (each path that begins
  // with `folder` + "/", at any depth), by path: what a folder's rename
  // moves, read as one range of the (share, path) index.
  virtual Result<std::vector<DocumentRow>> ActiveDocumentsIn(const std::string& share,
                                                             const std::string& folder) = 0;
  virtual Result<std::vector<DocumentRow>> AllDocuments() = 0;
  // The ids of the documents with an 索引号, newest publication first.
  virtual Result<std::vector<std::string>> IndexedDocumentIds() = 0;
  // The 索引号 of `year` given so far (those "<code>/<year>-<serial>").
  virtual Result<std::vector<std::string>> IndexNumbersOf(int year) = 0;
  // Whether a document holds `index_no` (a lookup in the unique index).
  virtual Result<bool> HasIndexNumber(const std::string& index_no) = 0;
  // Records with seq >= first, in order, at most `limit`.
  virtual Result<std::vector<RecordRow>> Records(int64_t first, int64_t limit) = 0;
  virtual Result<CatalogCounts> Counts() = 0;
  // The rows of those of `ids` that exist, with all their versions (oldest
  // first). One round trip for a page of search hits.
  virtual Result<std::vector<std::pair<DocumentRow, std::vector<VersionRow>>>>
  DocumentsWithVersions(const std::vector<std::string>& ids) = 0;
  // Of `sha256s` (hex), those that a restricted document other than
  // `except_doc` holds as the content of one of its versions, each with the
  // log index from which it did so while restricted: the later of that
  // document's classified_seq and its first version with the content. When
  // several documents hold it, the latest such index.
  virtual Result<std::map<std::string, int64_t>> RestrictedAmong(
      const std::vector<std::string>& sha256s, const std::string& except_doc) = 0;
  // Ids of the documents with a version whose content is `sha256` (hex).
  virtual Result<std::vector<std::string>> DocumentsHolding(const std::string& sha256) = 0;
  // Versions archived at or before `until` (RFC 3339 UTC).
  virtual Result<std::vector<LatestVersionRow>> LatestVersions(const std::string& until) = 0;

  // Requests: one, its events (log order), or all of them (by received
  // date, then code) with all events (log order).
  virtual Result<std::optional<RequestRow>> GetRequest(const std::string& code) = 0;
  virtual Result<std::vector<RequestEventRow>> RequestEvents(const std::string& code) = 0;
  virtual Result<std::vector<RequestRow>> AllRequests() = 0;
  virtual Result<std::vector<RequestEventRow>> AllRequestEvents() = 0;
  // The entered figures of every year that has them, by year.
  virtual Result<std::vector<ReportFiguresRow>> AllReportFigures() = 0;
  // Of `doc_ids`, those a request's reply names as its reply letter.
  virtual Result<std::set<std::string>> ReplyLetters(const std::vector<std::string>& doc_ids) = 0;

  // Write transactions. BeginWrite() waits for other writers (Busy after a
  // timeout); Commit() makes every row written since durable at once;
  // Rollback() drops them and never fails.
  virtual Status BeginWrite() = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
  // Row writes, inside a write transaction. They check nothing but the
  // schema's constraints.
  virtual Result<int64_t> NextRecordSeq() = 0;  // 1 + the highest record seq, 0 when none
  virtual Status InsertDocument(const DocumentRow& doc) = 0;
  virtual Status UpdateDocument(const DocumentRow& doc) = 0;  // every column, by id
  virtual Status InsertVersion(const VersionRow& version) = 0;
  virtual Status SetReview(const std::string& doc_id, int64_t version, ReviewState review) = 0;
  virtual Status InsertRecord(const RecordRow& record) = 0;
  virtual Status InsertTreeNodes(const std::vector<TreeNode>& nodes) = 0;
  virtual Status PutCheckpoint(const CheckpointRow& checkpoint) = 0;
  // Stores a year's figures, replacing those it had.
  virtual Status PutReportFigures(const ReportFiguresRow& row) = 0;
  virtual Status InsertRequest(const RequestRow& request) = 0;
  virtual Status InsertRequestEvent(const RequestEventRow& event) = 0;
  virtual Status SetRequestLeaf(const std::string& code, const std::string& leaf) = 0;
  // Records that the file behind a document changed only in metadata (same bytes).
  virtual Status UpdateFileState(const std::string& doc_id, const FileState& file) = 0;

  virtual Status AddKey(const KeyRow& key) = 0;
  // Marks every key but `active_key_id` retired (now), and registers the active one.
  virtual Status RotateTo(const KeyRow& active) = 0;
  virtual Result<std::vector<KeyRow>> Keys() = 0;

  // The Merkle log (see merkle.h): stored complete-subtree hashes, and every
  // checkpoint ever issued.
  virtual Result<Digest> TreeNode(int level, uint64_t index) = 0;
  virtual Result<std::optional<CheckpointRow>> LatestCheckpoint() = 0;
  virtual Result<std::vector<CheckpointRow>> Checkpoints() = 0;
  // Holds one read snapshot until EndSnapshot() (SQLite: a read transaction;
  // PostgreSQL: a read-only REPEATABLE READ transaction), so a long check
  // sees one consistent state while the daemon appends.
  virtual Status BeginSnapshot() = 0;
  virtual Status EndSnapshot() = 0;
  // "ok" or the problems found. SQLite: PRAGMA integrity_check. PostgreSQL:
  // amcheck's bt_index_check on every catalog index when the extension is
  // installed and usable, else only a read of the schema version.
  virtual Result<std::string> IntegrityCheck() = 0;

  // A NodeReader over this catalog, for the merkle.h functions.
  std::function<Result<Digest>(int, uint64_t)> Nodes() {
    return [this](int level, uint64_t index) { return TreeNode(level, index); };
  }
};

// Opens the archive's catalog, the one way the daemon and the CLI do: in the
// PostgreSQL database `postgres` names (a libpq connection string: a
// postgresql:// URI or key=value pairs) when it is not empty, else in the
// SQLite file at `sqlite_path`. `env` supplies the clock (key rotation times).
Result<std::unique_ptr<Catalog>> OpenCatalog(const std::string& postgres,
                                             const std::string& sqlite_path, Env* env);

// Opens (creating if missing) the SQLite catalog at `path`.
Result<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path, Env* env);

// Opens the PostgreSQL catalog at `conninfo`, creating its tables when the
// database has none. The database must be UTF-8; one database (or schema,
// through search_path) per archive.
Result<std::unique_ptr<Catalog>> OpenPostgresCatalog(const std::string& conninfo, Env* env);

}  // namespace gongkai::storage
