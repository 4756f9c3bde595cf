// SQLite catalog through Poco::Data. Poco exceptions are caught here and
// become Status values; nothing Poco-specific leaves this file.
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>
#include <sqlite3.h>

#include <map>
#include <mutex>
#include <stdexcept>

#include "catalog_columns.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"

namespace gongkai::storage {
namespace {

using namespace Poco::Data::Keywords;
using Poco::Data::RecordSet;
using Poco::Data::Session;
using Poco::Data::Statement;

constexpr int kSchemaVersion = 7;

const char* const kSchema[] = {
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS documents("
    " id TEXT PRIMARY KEY, share TEXT NOT NULL, path TEXT NOT NULL,"
    " status TEXT NOT NULL, classification TEXT NOT NULL,"
    " current_version INTEGER NOT NULL, last_leaf TEXT NOT NULL,"
    " file_size INTEGER NOT NULL, file_mtime_ns INTEGER NOT NULL, file_inode INTEGER NOT NULL,"
    " created TEXT NOT NULL, updated TEXT NOT NULL, UNIQUE(share, path))",
    "CREATE TABLE IF NOT EXISTS versions("
    " doc TEXT NOT NULL REFERENCES documents(id), version INTEGER NOT NULL,"
    " sha256 TEXT NOT NULL, size INTEGER NOT NULL, modified TEXT NOT NULL,"
    " archived TEXT NOT NULL, log_index INTEGER NOT NULL UNIQUE, review TEXT NOT NULL,"
    " meta TEXT NOT NULL, PRIMARY KEY(doc, version))",
    "CREATE TABLE IF NOT EXISTS records("
    " seq INTEGER PRIMARY KEY, doc TEXT NOT NULL, record TEXT NOT NULL,"
    " signature TEXT NOT NULL, key_id TEXT NOT NULL, leaf TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS records_doc ON records(doc, seq)",
    "CREATE TABLE IF NOT EXISTS keys("
    " key_id TEXT PRIMARY KEY, public_pem TEXT NOT NULL, created TEXT NOT NULL,"
    " retired TEXT NOT NULL DEFAULT '')",
    // Schema 2: the Merkle log.
    "CREATE TABLE IF NOT EXISTS tree(level INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " hash BLOB NOT NULL, PRIMARY KEY(level, idx)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS checkpoints(size INTEGER PRIMARY KEY, text TEXT NOT NULL,"
    " created TEXT NOT NULL)",
    // Schema 5: disclosure requests.
    "CREATE TABLE IF NOT EXISTS requests("
    " code TEXT PRIMARY KEY, channel TEXT NOT NULL, received TEXT NOT NULL,"
    " applicant_type TEXT NOT NULL, details TEXT NOT NULL, salt TEXT NOT NULL,"
    " last_leaf TEXT NOT NULL, created TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS request_events("
    " code TEXT NOT NULL REFERENCES requests(code), log_index INTEGER PRIMARY KEY,"
    " event TEXT NOT NULL, date TEXT NOT NULL, outcome TEXT NOT NULL, days INTEGER NOT NULL,"
    " approved_by TEXT NOT NULL, note TEXT NOT NULL, reply_document TEXT NOT NULL,"
    " recorded TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS request_events_code ON request_events(code, log_index)",
    "CREATE INDEX IF NOT EXISTS request_events_reply ON request_events(reply_document)"
    " WHERE reply_document <> ''",
    // Schema 6: the annual report's entered figures.
    "CREATE TABLE IF NOT EXISTS report_figures(year INTEGER PRIMARY KEY, figures TEXT NOT NULL,"
    " log_index INTEGER NOT NULL, leaf TEXT NOT NULL, recorded TEXT NOT NULL)",
    // Schema 7: Counts() in one row, kept by triggers in the transaction that
    // changes a table (a COUNT(*) reads the whole table, and the status is
    // asked for every second).
    "CREATE TABLE IF NOT EXISTS counts(one INTEGER PRIMARY KEY CHECK(one = 1),"
    " documents INTEGER NOT NULL, active INTEGER NOT NULL, versions INTEGER NOT NULL,"
    " records INTEGER NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS counts_document_in AFTER INSERT ON documents BEGIN"
    " UPDATE counts SET documents = documents + 1, active = active + (NEW.status = 'active');"
    " END",
    "CREATE TRIGGER IF NOT EXISTS counts_document_status AFTER UPDATE OF status ON documents BEGIN"
    " UPDATE counts SET active = active + (NEW.status = 'active') - (OLD.status = 'active');"
    " END",
    "CREATE TRIGGER IF NOT EXISTS counts_document_out AFTER DELETE ON documents BEGIN"
    " UPDATE counts SET documents = documents - 1, active = active - (OLD.status = 'active');"
    " END",
    "CREATE TRIGGER IF NOT EXISTS counts_version_in AFTER INSERT ON versions BEGIN"
    " UPDATE counts SET versions = versions + 1; END",
    "CREATE TRIGGER IF NOT EXISTS counts_version_out AFTER DELETE ON versions BEGIN"
    " UPDATE counts SET versions = versions - 1; END",
    "CREATE TRIGGER IF NOT EXISTS counts_record_in AFTER INSERT ON records BEGIN"
    " UPDATE counts SET records = records + 1; END",
    "CREATE TRIGGER IF NOT EXISTS counts_record_out AFTER DELETE ON records BEGIN"
    " UPDATE counts SET records = records - 1; END",
};

const char* const kRequestColumns =
    "code, channel, received, applicant_type, details, salt, last_leaf, created";
const char* const kRequestEventColumns =
    "code, log_index, event, date, outcome, days, approved_by, note, reply_document, recorded";

// Made at every open (cheap once it exists): older catalogs get it without a
// schema version of their own.
const char* const kVersionsBySha = "CREATE INDEX IF NOT EXISTS versions_sha ON versions(sha256)";

const char* const kVersionColumns =
    "doc, version, sha256, size, modified, archived, log_index, review, meta";

const char* const kDocColumns =
    "id, share, path, status, classification, current_version, last_leaf,"
    " file_size, file_mtime_ns, file_inode, created, updated, file_ctime_ns, classified_seq,"
    " index_no, published";

// One use of a prepared statement kept by its connection: binds, steps,
// and resets it on destruction, so no half-read statement keeps a read
// transaction open. Throws std::runtime_error on an SQLite error.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  ~Query() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  // The string must outlive the query (it is bound without a copy).
  Query& Bind(const std::string& v) {
    Check(sqlite3_bind_text(st_, ++bound_, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
    return *this;
  }
  // A string with static storage: a literal, or domain.h's ToString().
  Query& Bind(const char* v) {
    Check(sqlite3_bind_text(st_, ++bound_, v, -1, SQLITE_STATIC));
    return *this;
  }
  Query& BindBlob(const std::string& v) {
    Check(sqlite3_bind_blob(st_, ++bound_, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
    return *this;
  }
  Query& Bind(int64_t v) {
    Check(sqlite3_bind_int64(st_, ++bound_, v));
    return *this;
  }
  // Steps to the next row: false when there are no more.
  bool Next() {
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Check(rc);
    return false;
  }
  std::string Text(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(st_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(st_, col))) : std::string();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(st_, col); }
  bool Null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

 private:
  void Check(int rc) const {
    if (rc != SQLITE_OK)
      throw std::runtime_error(std::string(sqlite3_errmsg(db_)) + " (SQLite " + std::to_string(rc) +
                               ")");
  }
  sqlite3* db_;
  sqlite3_stmt* st_;
  int bound_ = 0;
};

// The statements a connection has prepared, by SQL text, for its lifetime:
// the per-document and per-node reads (verify, the index feeder, the search
// re-check) were prepared again on every call through Poco::Data, about a
// tenth of verify's time. Like the connection, not thread-safe.
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache() {
    for (auto& [sql, st] : statements_) sqlite3_finalize(st);
  }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  Query Prepare(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* st = nullptr;
      if (const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()) + 1,
                                            SQLITE_PREPARE_PERSISTENT, &st, nullptr);
          rc != SQLITE_OK) {
        sqlite3_finalize(st);
        throw std::runtime_error(std::string(sqlite3_errmsg(db_)) + " (SQLite " +
                                 std::to_string(rc) + ")");
      }
      it = statements_.emplace(sql, st).first;
    }
    return Query(db_, it->second);
  }

 private:
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> statements_;
};

DocumentRow DocFromRow(const Query& q) {
  DocumentRow d;
  d.id = q.Text(0);
  d.share = q.Text(1);
  d.path = q.Text(2);
  d.status = StatusColumn(q.Text(3));
  d.classification = ClassificationColumn(q.Text(4));
  d.current_version = q.Int(5);
  d.last_leaf = q.Text(6);
  d.file.size = q.Int(7);
  d.file.mtime_ns = q.Int(8);
  d.file.inode = q.Int(9);
  d.created = q.Text(10);
  d.updated = q.Text(11);
  d.file.ctime_ns = q.Int(12);
  d.classified_seq = q.Int(13);
  d.index_no = q.Text(14);
  d.published = q.Text(15);
  return d;
}

VersionRow VersionFromRow(const Query& q) {
  VersionRow v;
  v.doc = q.Text(0);
  v.version = q.Int(1);
  v.sha256 = q.Text(2);
  v.size = q.Int(3);
  v.modified = q.Text(4);
  v.archived = q.Text(5);
  v.log_index = q.Int(6);
  v.review = ReviewColumn(q.Text(7));
  v.meta = q.Text(8);
  return v;
}

RequestRow RequestFromRow(const Query& q) {
  return RequestRow{q.Text(0), q.Text(1), q.Text(2), q.Text(3),
                    q.Text(4), q.Text(5), q.Text(6), q.Text(7)};
}

RequestEventRow RequestEventFromRow(const Query& q) {
  return RequestEventRow{q.Text(0), q.Int(1),  q.Text(2), q.Text(3), q.Text(4),
                         q.Int(5),  q.Text(6), q.Text(7), q.Text(8), q.Text(9)};
}

std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += i ? ", ?" : "?";
  return out;
}

template <typename F>
auto Guard(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Poco::Data::SQLite::DatabaseFullException& e) {
    return Status::NoSpace(std::string("catalog ") + what + ": " + e.displayText());
  } catch (const Poco::Exception& e) {
    return Status::IOError(std::string("catalog ") + what + ": " + e.displayText());
  } catch (const CorruptColumn& e) {
    return Status::Corruption(std::string("catalog ") + what + ": " + e.what());
  } catch (const std::exception& e) {
    return Status::IOError(std::string("catalog ") + what + ": " + e.what());
  }
}

class SqliteCatalog final : public Catalog {
 public:
  SqliteCatalog(const std::string& path, Env* env)
      // Login timeout 0: Poco otherwise retries a failed open for 60 s, which
      // only delays the one-line error (a full disk, a read-only folder).
      : session_("SQLite", path, 0),
        env_(env),
        statements_(Poco::Data::SQLite::Utility::dbHandle(session_)) {}

  Status Init() {
    return Guard("open", [&]() -> Status {
      std::string mode;
      int ignored = 0;
      session_ << "PRAGMA busy_timeout=10000", into(ignored), now;
      session_ << "PRAGMA journal_mode=WAL", into(mode), now;
      session_ << "PRAGMA synchronous=FULL", now;
      session_ << "PRAGMA foreign_keys=ON", now;
      int version = 0;
      session_ << "PRAGMA user_version", into(version), now;
      if (version > kSchemaVersion)
        return Status::Corruption("catalog schema version " + std::to_string(version) +
                                  " is newer than this gongkai understands (" +
                                  std::to_string(kSchemaVersion) + ")");
      if (version < kSchemaVersion) {
        session_ << "BEGIN IMMEDIATE", now;
        session_ << "PRAGMA user_version", into(version), now;  // another process may have won
        for (const char* sql : kSchema) session_ << sql, now;
        if (version == 1) {
          // Schema 1 had records but no tree: build the tree from them.
          for (int64_t seq = 0;; seq += 1000) {
            auto rows = Records(seq, 1000);
            if (!rows.ok()) throw std::runtime_error(rows.status().ToString());
            if (rows->empty()) break;
            for (const RecordRow& r : *rows)
              if (Status s = AppendLeaf(static_cast<uint64_t>(r.seq), LeafHash(r.record)); !s.ok())
                throw std::runtime_error(s.ToString());
          }
        }
        // Schema 3: the file's ctime. Rows written before have 0, "unknown",
        // which matches any ctime, so an upgrade re-reads nothing.
        if (version < 3)
          session_ << "ALTER TABLE documents ADD COLUMN file_ctime_ns INTEGER NOT NULL DEFAULT 0",
              now;
        // Schema 4: the log index that set each document's classification.
        if (version < 4) {
          session_ << "ALTER TABLE documents ADD COLUMN classified_seq INTEGER NOT NULL DEFAULT -1",
              now;
          session_ << "UPDATE documents SET classified_seq = COALESCE("
                      "(SELECT MAX(seq) FROM records r WHERE r.doc = documents.id"
                      " AND r.record LIKE '%\"event\":\"classify\"%'),"
                      " (SELECT MIN(seq) FROM records r WHERE r.doc = documents.id), -1)",
              now;
        }
        // Schema 6: the 索引号, unique. Documents archived before get theirs
        // at their next event that finds them public and approved.
        if (version < 6) {
          session_ << "ALTER TABLE documents ADD COLUMN index_no TEXT NOT NULL DEFAULT ''", now;
          session_ << "ALTER TABLE documents ADD COLUMN published TEXT NOT NULL DEFAULT ''", now;
          session_ << "CREATE UNIQUE INDEX documents_index_no ON documents(index_no)"
                      " WHERE index_no <> ''",
              now;
        }
        if (version < 7)  // the one pass over the tables; the triggers keep it after
          session_ << "INSERT OR REPLACE INTO counts VALUES(1, (SELECT COUNT(*) FROM documents),"
                      " (SELECT COUNT(*) FROM documents WHERE status = 'active'),"
                      " (SELECT COUNT(*) FROM versions), (SELECT COUNT(*) FROM records))",
              now;
        session_ << "PRAGMA user_version=" + std::to_string(kSchemaVersion), now;
        session_ << "COMMIT", now;
      }
      session_ << kVersionsBySha, now;
      return Status::OK();
    });
  }

  Result<std::optional<DocumentRow>> FindByPath(const std::string& share,
                                                const std::string& path) override {
    return Guard("lookup", [&]() -> Result<std::optional<DocumentRow>> {
      Query q = statements_.Prepare("SELECT " + std::string(kDocColumns) +
                                    " FROM documents WHERE share = ? AND path = ?");
      q.Bind(share).Bind(path);
      if (!q.Next()) return std::optional<DocumentRow>();
      return std::optional<DocumentRow>(DocFromRow(q));
    });
  }

  Result<std::optional<DocumentRow>> GetDocument(const std::string& id) override {
    return Guard("lookup", [&]() -> Result<std::optional<DocumentRow>> {
      Query q = statements_.Prepare("SELECT " + std::string(kDocColumns) +
                                    " FROM documents WHERE id = ?");
      q.Bind(id);
      if (!q.Next()) return std::optional<DocumentRow>();
      return std::optional<DocumentRow>(DocFromRow(q));
    });
  }

  Result<std::map<std::string, FileState>> ArchivedFiles(const std::string& share) override {
    return Guard("files", [&]() -> Result<std::map<std::string, FileState>> {
      Query q = statements_.Prepare(
          "SELECT path, file_size, file_mtime_ns, file_inode, file_ctime_ns FROM documents"
          " WHERE share = ? AND status = ?");
      q.Bind(share);
      q.Bind(ToString(DocumentStatus::kActive));
      std::map<std::string, FileState> out;
      while (q.Next())
        out.emplace(
            q.Text(0),
            FileState{
                .size = q.Int(1), .mtime_ns = q.Int(2), .inode = q.Int(3), .ctime_ns = q.Int(4)});
      return out;
    });
  }

  Result<std::vector<DocumentRow>> ActiveDocumentsIn(const std::string& share,
                                                     const std::string& folder) override {
    return Guard("documents", [&]() -> Result<std::vector<DocumentRow>> {
      // From "folder/" up to "folder0" ('0' follows '/'), as bytes (BINARY).
      // Bound as they are (SQLITE_STATIC): they must outlive the query.
      const std::string from = folder + "/", below = folder + "0";
      Query q = statements_.Prepare("SELECT " + std::string(kDocColumns) +
                                    " FROM documents WHERE share = ? AND path >= ? AND path < ?"
                                    " AND status = ? ORDER BY path");
      q.Bind(share).Bind(from).Bind(below).Bind(ToString(DocumentStatus::kActive));
      std::vector<DocumentRow> out;
      while (q.Next()) out.push_back(DocFromRow(q));
      return out;
    });
  }

  Result<std::vector<DocumentRow>> AllDocuments() override {
    return QueryDocs("SELECT " + std::string(kDocColumns) + " FROM documents ORDER BY id", "");
  }

  Result<std::vector<std::string>> IndexedDocumentIds() override {
    return Guard("documents", [&]() -> Result<std::vector<std::string>> {
      Query q = statements_.Prepare(
          "SELECT id FROM documents WHERE index_no <> '' ORDER BY published DESC, index_no DESC");
      std::vector<std::string> out;
      while (q.Next()) out.push_back(q.Text(0));
      return out;
    });
  }

  Result<std::vector<std::string>> IndexNumbersOf(int year) override {
    return Guard("index numbers", [&]() -> Result<std::vector<std::string>> {
      const std::string pattern = "%/" + std::to_string(year) + "-%";
      Query q = statements_.Prepare("SELECT index_no FROM documents WHERE index_no LIKE ?");
      q.Bind(pattern);
      std::vector<std::string> out;
      while (q.Next()) out.push_back(q.Text(0));
      return out;
    });
  }

  Result<bool> HasIndexNumber(const std::string& index_no) override {
    return Guard("index number", [&]() -> Result<bool> {
      // "<> ''" lets SQLite use the partial unique index (else: a full scan).
      Query q = statements_.Prepare(
          "SELECT 1 FROM documents WHERE index_no = ? AND index_no <> '' LIMIT 1");
      q.Bind(index_no);
      return q.Next();
    });
  }

  Result<std::vector<VersionRow>> Versions(const std::string& doc_id) override {
    return Guard("versions", [&]() -> Result<std::vector<VersionRow>> {
      Query q = statements_.Prepare("SELECT " + std::string(kVersionColumns) +
                                    " FROM versions WHERE doc = ? ORDER BY version");
      q.Bind(doc_id);
      std::vector<VersionRow> out;
      while (q.Next()) out.push_back(VersionFromRow(q));
      return out;
    });
  }

  Result<std::vector<RecordRow>> Records(int64_t first, int64_t limit) override {
    return Guard("records", [&]() -> Result<std::vector<RecordRow>> {
      Query q = statements_.Prepare(
          "SELECT seq, doc, record, signature, key_id, leaf FROM records WHERE seq >= ? ORDER BY "
          "seq LIMIT ?");
      q.Bind(first).Bind(limit);
      std::vector<RecordRow> out;
      while (q.Next()) {
        RecordRow r;
        r.seq = q.Int(0);
        r.doc = q.Text(1);
        r.record = q.Text(2);
        r.signature = q.Text(3);
        r.key_id = q.Text(4);
        r.leaf = q.Text(5);
        out.push_back(std::move(r));
      }
      return out;
    });
  }

  Result<CatalogCounts> Counts() override {
    return Guard("counts", [&]() -> Result<CatalogCounts> {
      Query q = statements_.Prepare("SELECT documents, active, versions, records FROM counts");
      if (!q.Next()) return Status::Corruption("catalog: the counts row is missing");
      return CatalogCounts{q.Int(0), q.Int(1), q.Int(2), q.Int(3)};
    });
  }

  Result<std::vector<std::pair<DocumentRow, std::vector<VersionRow>>>> DocumentsWithVersions(
      const std::vector<std::string>& ids) override {
    using Rows = std::vector<std::pair<DocumentRow, std::vector<VersionRow>>>;
    return Guard("documents", [&]() -> Result<Rows> {
      Rows out;
      if (ids.empty()) return out;
      // One statement per list length (a page holds at most 100 hits).
      std::string sql = "SELECT " + std::string(kDocColumns) + " FROM documents WHERE id IN (" +
                        Placeholders(ids.size()) + ")";
      Query docs = statements_.Prepare(sql);
      for (const auto& id : ids) docs.Bind(id);
      std::map<std::string, size_t> where;
      while (docs.Next()) {
        out.emplace_back(DocFromRow(docs), std::vector<VersionRow>());
        where[out.back().first.id] = out.size() - 1;
      }
      if (out.empty()) return out;
      Query versions = statements_.Prepare("SELECT " + std::string(kVersionColumns) +
                                           " FROM versions WHERE doc IN (" +
                                           Placeholders(ids.size()) + ") ORDER BY doc, version");
      for (const auto& id : ids) versions.Bind(id);
      while (versions.Next()) {
        VersionRow v = VersionFromRow(versions);
        if (auto it = where.find(v.doc); it != where.end())
          out[it->second].second.push_back(std::move(v));
      }
      return out;
    });
  }

  Result<std::map<std::string, int64_t>> RestrictedAmong(const std::vector<std::string>& sha256s,
                                                         const std::string& except_doc) override {
    return Guard("restricted content", [&]() -> Result<std::map<std::string, int64_t>> {
      std::map<std::string, int64_t> out;
      if (sha256s.empty()) return out;
      // One statement for any number of hashes: they go in as a JSON array.
      std::string list = "[";
      for (const std::string& sha : sha256s) list += (list.size() > 1 ? "," : "") + JsonQuote(sha);
      list += "]";
      Query q = statements_.Prepare(
          "SELECT v.sha256, MAX(MAX(d.classified_seq, v.first_seq)) FROM"
          " (SELECT doc, sha256, MIN(log_index) AS first_seq FROM versions"
          "  WHERE sha256 IN (SELECT value FROM json_each(?)) GROUP BY doc, sha256) v"
          " JOIN documents d ON d.id = v.doc WHERE d.classification = 'restricted' AND d.id != ?"
          " GROUP BY v.sha256");
      q.Bind(list).Bind(except_doc);
      while (q.Next()) out[q.Text(0)] = q.Int(1);
      return out;
    });
  }

  Result<std::vector<std::string>> DocumentsHolding(const std::string& sha256) override {
    return Guard("documents by content", [&]() -> Result<std::vector<std::string>> {
      Query q =
          statements_.Prepare("SELECT DISTINCT doc FROM versions WHERE sha256 = ? ORDER BY doc");
      q.Bind(sha256);
      std::vector<std::string> out;
      while (q.Next()) out.push_back(q.Text(0));
      return out;
    });
  }

  Result<std::vector<LatestVersionRow>> LatestVersions(const std::string& until) override {
    return Guard("latest versions", [&]() -> Result<std::vector<LatestVersionRow>> {
      Statement st(session_);
      st << "SELECT d.share, COALESCE(json_extract(v.meta, '$.category'), ''), MAX(v.archived), "
            "COUNT(*)"
            " FROM versions v JOIN documents d ON d.id = v.doc WHERE v.archived <= ?"
            " GROUP BY 1, 2 ORDER BY 1, 2",
          bind(until);
      st.execute();
      RecordSet rs(st);
      std::vector<LatestVersionRow> out;
      for (bool more = rs.moveFirst(); more; more = rs.moveNext())
        out.push_back({rs[0].convert<std::string>(), rs[1].convert<std::string>(),
                       rs[2].convert<std::string>(), rs[3].convert<Poco::Int64>()});
      return out;
    });
  }

  Result<std::optional<RequestRow>> GetRequest(const std::string& code) override {
    return Guard("request", [&]() -> Result<std::optional<RequestRow>> {
      Query q = statements_.Prepare("SELECT " + std::string(kRequestColumns) +
                                    " FROM requests WHERE code = ?");
      q.Bind(code);
      if (!q.Next()) return std::optional<RequestRow>();
      return std::optional<RequestRow>(RequestFromRow(q));
    });
  }

  Result<std::vector<RequestEventRow>> RequestEvents(const std::string& code) override {
    return QueryRequestEvents("SELECT " + std::string(kRequestEventColumns) +
                                  " FROM request_events WHERE code = ? ORDER BY log_index",
                              code);
  }

  Result<std::vector<RequestRow>> AllRequests() override {
    return Guard("requests", [&]() -> Result<std::vector<RequestRow>> {
      Query q = statements_.Prepare("SELECT " + std::string(kRequestColumns) +
                                    " FROM requests ORDER BY received, code");
      std::vector<RequestRow> out;
      while (q.Next()) out.push_back(RequestFromRow(q));
      return out;
    });
  }

  Result<std::vector<RequestEventRow>> AllRequestEvents() override {
    return QueryRequestEvents(
        "SELECT " + std::string(kRequestEventColumns) + " FROM request_events ORDER BY log_index",
        "");
  }

  Result<std::vector<ReportFiguresRow>> AllReportFigures() override {
    return Guard("report figures", [&]() -> Result<std::vector<ReportFiguresRow>> {
      Query q = statements_.Prepare(
          "SELECT year, figures, log_index, leaf, recorded FROM report_figures ORDER BY year");
      std::vector<ReportFiguresRow> out;
      while (q.Next()) out.push_back({q.Int(0), q.Text(1), q.Int(2), q.Text(3), q.Text(4)});
      return out;
    });
  }

  Result<std::set<std::string>> ReplyLetters(const std::vector<std::string>& doc_ids) override {
    return Guard("reply letters", [&]() -> Result<std::set<std::string>> {
      // Every letter, then those asked about: there are few letters, and a
      // list of every document (export) would pass SQLite's bound-variable limit.
      std::set<std::string> out;
      if (doc_ids.empty()) return out;
      Query q = statements_.Prepare(
          "SELECT DISTINCT reply_document FROM request_events WHERE reply_document <> ''");
      std::set<std::string> letters;
      while (q.Next()) letters.insert(q.Text(0));
      for (const auto& id : doc_ids)
        if (letters.count(id)) out.insert(id);
      return out;
    });
  }

  Status BeginWrite() override {
    return Guard("begin", [&]() -> Status {
      session_ << "BEGIN IMMEDIATE", now;
      return Status::OK();
    });
  }

  Status Commit() override {
    return Guard("commit", [&]() -> Status {
      session_ << "COMMIT", now;
      return Status::OK();
    });
  }

  void Rollback() override {
    try {
      session_ << "ROLLBACK", now;
    } catch (...) {  // no transaction open (SQLite rolled back itself, e.g. on a full disk)
    }
  }

  Result<int64_t> NextRecordSeq() override {
    return Guard("records", [&]() -> Result<int64_t> {
      Query q = statements_.Prepare("SELECT COALESCE(MAX(seq) + 1, 0) FROM records");
      q.Next();
      return q.Int(0);
    });
  }

  Status InsertDocument(const DocumentRow& d) override {
    return Write(
        "insert document",
        "INSERT INTO documents(id, share, path, status, classification, current_version, last_leaf,"
        " file_size, file_mtime_ns, file_inode, created, updated, file_ctime_ns, classified_seq,"
        " index_no, published) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [&](Query& q) {
          q.Bind(d.id).Bind(d.share).Bind(d.path);
          BindDocumentColumns(q, d)
              .Bind(d.created)
              .Bind(d.updated)
              .Bind(d.file.ctime_ns)
              .Bind(d.classified_seq)
              .Bind(d.index_no)
              .Bind(d.published);
        });
  }

  Status UpdateDocument(const DocumentRow& d) override {
    return Write(
        "update document",
        "UPDATE documents SET status = ?, classification = ?, current_version = ?, last_leaf = ?,"
        " file_size = ?, file_mtime_ns = ?, file_inode = ?, share = ?, path = ?, updated = ?,"
        " file_ctime_ns = ?, classified_seq = ?, index_no = ?, published = ? WHERE id = ?",
        [&](Query& q) {
          BindDocumentColumns(q, d).Bind(d.share).Bind(d.path).Bind(d.updated).Bind(
              d.file.ctime_ns);
          q.Bind(d.classified_seq).Bind(d.index_no).Bind(d.published).Bind(d.id);
        });
  }

  Status InsertVersion(const VersionRow& v) override {
    return Write("insert version",
                 "INSERT INTO versions(doc, version, sha256, size, modified, archived, log_index, "
                 "review, meta)"
                 " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 [&](Query& q) {
                   q.Bind(v.doc)
                       .Bind(v.version)
                       .Bind(v.sha256)
                       .Bind(v.size)
                       .Bind(v.modified)
                       .Bind(v.archived);
                   q.Bind(v.log_index).Bind(ToString(v.review)).Bind(v.meta);
                 });
  }

  Status SetReview(const std::string& doc_id, int64_t version, ReviewState review) override {
    return Write("set review", "UPDATE versions SET review = ? WHERE doc = ? AND version = ?",
                 [&](Query& q) { q.Bind(ToString(review)).Bind(doc_id).Bind(version); });
  }

  Status InsertRecord(const RecordRow& r) override {
    return Write(
        "insert record",
        "INSERT INTO records(seq, doc, record, signature, key_id, leaf) VALUES(?, ?, ?, ?, ?, ?)",
        [&](Query& q) {
          q.Bind(r.seq).Bind(r.doc).Bind(r.record).Bind(r.signature).Bind(r.key_id).Bind(r.leaf);
        });
  }

  Status InsertRequest(const RequestRow& r) override {
    return Write(
        "insert request",
        "INSERT INTO requests(" + std::string(kRequestColumns) + ") VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
        [&](Query& q) {
          q.Bind(r.code).Bind(r.channel).Bind(r.received).Bind(r.applicant_type);
          q.Bind(r.details).Bind(r.salt).Bind(r.last_leaf).Bind(r.created);
        });
  }

  Status InsertRequestEvent(const RequestEventRow& e) override {
    return Write(
        "insert request event",
        "INSERT INTO request_events(" + std::string(kRequestEventColumns) +
            ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [&](Query& q) {
          q.Bind(e.code).Bind(e.log_index).Bind(e.event).Bind(e.date).Bind(e.outcome);
          q.Bind(e.days).Bind(e.approved_by).Bind(e.note).Bind(e.reply_document).Bind(e.recorded);
        });
  }

  Status SetRequestLeaf(const std::string& code, const std::string& leaf) override {
    return Write("update request", "UPDATE requests SET last_leaf = ? WHERE code = ?",
                 [&](Query& q) { q.Bind(leaf).Bind(code); });
  }

  Status InsertTreeNodes(const std::vector<storage::TreeNode>& nodes) override {
    for (const storage::TreeNode& node : nodes) {
      const std::string hash(node.hash.begin(), node.hash.end());
      Status s = Write(
          "insert tree node", "INSERT INTO tree(level, idx, hash) VALUES(?, ?, ?)", [&](Query& q) {
            q.Bind(int64_t{node.level}).Bind(static_cast<int64_t>(node.index)).BindBlob(hash);
          });
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  Status PutCheckpoint(const CheckpointRow& cp) override {
    return Write("insert checkpoint",
                 "INSERT OR REPLACE INTO checkpoints(size, text, created) VALUES(?, ?, ?)",
                 [&](Query& q) { q.Bind(cp.size).Bind(cp.text).Bind(cp.created); });
  }

  Status PutReportFigures(const ReportFiguresRow& r) override {
    return Write("store report figures",
                 "INSERT OR REPLACE INTO report_figures(year, figures, log_index, leaf, recorded)"
                 " VALUES(?, ?, ?, ?, ?)",
                 [&](Query& q) {
                   q.Bind(r.year).Bind(r.figures).Bind(r.log_index).Bind(r.leaf).Bind(r.recorded);
                 });
  }

  Status UpdateFileState(const std::string& doc_id, const FileState& f) override {
    return Guard("update", [&]() -> Status {
      Poco::Int64 size = f.size, mtime = f.mtime_ns, inode = f.inode, ctime = f.ctime_ns;
      session_ << "UPDATE documents SET file_size = ?, file_mtime_ns = ?, file_inode = ?, "
                  "file_ctime_ns = ?"
                  " WHERE id = ?",
          bind(size), bind(mtime), bind(inode), bind(ctime), bind(doc_id), now;
      return Status::OK();
    });
  }

  Status AddKey(const KeyRow& k) override {
    return Guard("add key", [&]() -> Status {
      session_
          << "INSERT OR IGNORE INTO keys(key_id, public_pem, created, retired) VALUES(?, ?, ?, ?)",
          bind(k.key_id), bind(k.public_pem), bind(k.created), bind(k.retired), now;
      return Status::OK();
    });
  }

  Status RotateTo(const KeyRow& active) override {
    return Guard("rotate key", [&]() -> Status {
      const std::string time = Rfc3339(env_->Now());
      session_ << "BEGIN IMMEDIATE", now;
      session_ << "UPDATE keys SET retired = ? WHERE retired = '' AND key_id <> ?", bind(time),
          bind(active.key_id), now;
      session_
          << "INSERT OR IGNORE INTO keys(key_id, public_pem, created, retired) VALUES(?, ?, ?, '')",
          bind(active.key_id), bind(active.public_pem), bind(active.created), now;
      session_ << "COMMIT", now;
      return Status::OK();
    });
  }

  Status BeginSnapshot() override {
    return Guard("snapshot", [&]() -> Status {
      session_ << "BEGIN", now;
      Poco::Int64 n = 0;
      session_ << "SELECT COUNT(*) FROM records", into(n),
          now;  // the snapshot starts at the first read
      return Status::OK();
    });
  }

  Status EndSnapshot() override {
    return Guard("snapshot", [&]() -> Status {
      session_ << "COMMIT", now;
      return Status::OK();
    });
  }

  Result<std::string> IntegrityCheck() override {
    return Guard("integrity check", [&]() -> Result<std::string> {
      std::vector<std::string> lines;
      session_ << "PRAGMA integrity_check", into(lines), now;
      std::string out;
      for (const auto& l : lines) out += (out.empty() ? "" : "; ") + l;
      return out;
    });
  }

  Result<Digest> TreeNode(int level, uint64_t index) override {
    return Guard("tree", [&]() -> Result<Digest> {
      Query q = statements_.Prepare("SELECT hash FROM tree WHERE level = ? AND idx = ?");
      q.Bind(int64_t{level}).Bind(static_cast<int64_t>(index));
      std::string hash;
      if (q.Next()) hash = q.Text(0);
      if (hash.size() != 32)
        return Status::Corruption("Merkle node (" + std::to_string(level) + ", " +
                                  std::to_string(index) + ") missing from the catalog");
      Digest d;
      std::copy(hash.begin(), hash.end(), d.begin());
      return d;
    });
  }

  Result<std::optional<CheckpointRow>> LatestCheckpoint() override {
    return Guard("checkpoint", [&]() -> Result<std::optional<CheckpointRow>> {
      Statement st(session_);
      st << "SELECT size, text, created FROM checkpoints ORDER BY size DESC LIMIT 1";
      st.execute();
      RecordSet rs(st);
      if (!rs.moveFirst()) return std::optional<CheckpointRow>();
      return std::optional<CheckpointRow>(CheckpointRow{rs[0].convert<Poco::Int64>(),
                                                        rs[1].convert<std::string>(),
                                                        rs[2].convert<std::string>()});
    });
  }

  Result<std::vector<CheckpointRow>> Checkpoints() override {
    return Guard("checkpoints", [&]() -> Result<std::vector<CheckpointRow>> {
      Statement st(session_);
      st << "SELECT size, text, created FROM checkpoints ORDER BY size";
      st.execute();
      RecordSet rs(st);
      std::vector<CheckpointRow> out;
      for (bool more = rs.moveFirst(); more; more = rs.moveNext())
        out.push_back({rs[0].convert<Poco::Int64>(), rs[1].convert<std::string>(),
                       rs[2].convert<std::string>()});
      return out;
    });
  }

  Result<std::vector<KeyRow>> Keys() override {
    return Guard("keys", [&]() -> Result<std::vector<KeyRow>> {
      Statement st(session_);
      st << "SELECT key_id, public_pem, created, retired FROM keys ORDER BY created, key_id";
      st.execute();
      RecordSet rs(st);
      std::vector<KeyRow> out;
      for (bool more = rs.moveFirst(); more; more = rs.moveNext())
        out.push_back({rs[0].convert<std::string>(), rs[1].convert<std::string>(),
                       rs[2].convert<std::string>(), rs[3].convert<std::string>()});
      return out;
    });
  }

 private:
  Result<std::vector<RequestEventRow>> QueryRequestEvents(const std::string& sql,
                                                          const std::string& arg) {
    return Guard("request events", [&]() -> Result<std::vector<RequestEventRow>> {
      Query q = statements_.Prepare(sql);
      if (!arg.empty()) q.Bind(arg);
      std::vector<RequestEventRow> out;
      while (q.Next()) out.push_back(RequestEventFromRow(q));
      return out;
    });
  }

  Result<std::vector<DocumentRow>> QueryDocs(const std::string& sql, const std::string& arg) {
    return Guard("documents", [&]() -> Result<std::vector<DocumentRow>> {
      Query q = statements_.Prepare(sql);
      if (!arg.empty()) q.Bind(arg);
      std::vector<DocumentRow> out;
      while (q.Next()) out.push_back(DocFromRow(q));
      return out;
    });
  }

  // Runs `bind` on the cached statement `sql` and steps it once.
  template <typename F>
  Status Write(const char* what, const std::string& sql, F&& bind) {
    return Guard(what, [&]() -> Status {
      Query q = statements_.Prepare(sql);
      bind(q);
      q.Next();
      return Status::OK();
    });
  }

  // status, classification, current_version, last_leaf and the file state.
  static Query& BindDocumentColumns(Query& q, const DocumentRow& d) {
    return q.Bind(ToString(d.status))
        .Bind(ToString(d.classification))
        .Bind(d.current_version)
        .Bind(d.last_leaf)
        .Bind(d.file.size)
        .Bind(d.file.mtime_ns)
        .Bind(d.file.inode);
  }

  // Stores the nodes leaf `n` completes: the schema 1 upgrade builds the tree.
  Status AppendLeaf(uint64_t n, const Digest& leaf) {
    auto nodes = NodesForAppend(n, leaf, Nodes());
    if (!nodes.ok()) return nodes.status();
    return InsertTreeNodes(*nodes);
  }

  Session session_;
  Env* env_;
  StatementCache statements_;  // after session_: finalized before the connection closes
};

}  // namespace

Result<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path, Env* env) {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Data::SQLite::Connector::registerConnector(); });
  try {
    auto catalog = std::make_unique<SqliteCatalog>(path, env);
    if (Status s = catalog->Init(); !s.ok()) return s;
    return std::unique_ptr<Catalog>(std::move(catalog));
  } catch (const Poco::Exception& e) {
    return Status::IOError("open catalog " + path + ": " + e.displayText());
  }
}

}  // namespace gongkai::storage
