// The catalog in PostgreSQL: the same rows as the SQLite catalog's schema 4,
// through one connection (postgres_connection.h), which turns every error
// into a Status.
//
// Writers serialize on a table lock taken by BeginWrite(), so record
// sequence numbers stay gap-free with writers in several processes; readers
// never wait for it. Text columns that are compared or sorted use the "C"
// collation, so that order and comparisons are bytewise as in SQLite.
#include <cstdint>
#include <set>

#include "catalog_columns.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/record.h"
#include "gongkai/utf8.h"
#include "postgres_connection.h"

namespace gongkai::storage {
namespace {

using pg::Rows;

constexpr int kSchemaVersion = 7;

// Schema creation runs under this transaction-level advisory lock, so that
// processes opening a new database at once do not race ("gongkai" in ASCII).
constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(29103276584493417)";

const char* const kSchema[] = {
    "CREATE TABLE IF NOT EXISTS meta(key TEXT COLLATE \"C\" PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS documents("
    " id TEXT COLLATE \"C\" PRIMARY KEY,"
    " share TEXT COLLATE \"C\" NOT NULL, path TEXT COLLATE \"C\" NOT NULL,"
    " status TEXT NOT NULL, classification TEXT NOT NULL,"
    " current_version BIGINT NOT NULL, last_leaf TEXT NOT NULL,"
    " file_size BIGINT NOT NULL, file_mtime_ns BIGINT NOT NULL, file_inode BIGINT NOT NULL,"
    " created TEXT NOT NULL, updated TEXT NOT NULL,"
    " file_ctime_ns BIGINT NOT NULL DEFAULT 0, classified_seq BIGINT NOT NULL DEFAULT -1,"
    " UNIQUE(share, path))",
    "CREATE TABLE IF NOT EXISTS versions("
    " doc TEXT COLLATE \"C\" NOT NULL REFERENCES documents(id), version BIGINT NOT NULL,"
    " sha256 TEXT COLLATE \"C\" NOT NULL, size BIGINT NOT NULL, modified TEXT NOT NULL,"
    " archived TEXT COLLATE \"C\" NOT NULL, log_index BIGINT NOT NULL UNIQUE,"
    " review TEXT NOT NULL, meta TEXT NOT NULL, PRIMARY KEY(doc, version))",
    "CREATE INDEX IF NOT EXISTS versions_sha ON versions(sha256)",
    "CREATE TABLE IF NOT EXISTS records("
    " seq BIGINT PRIMARY KEY, doc TEXT COLLATE \"C\" NOT NULL, record TEXT NOT NULL,"
    " signature TEXT NOT NULL, key_id TEXT NOT NULL, leaf TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS records_doc ON records(doc, seq)",
    "CREATE TABLE IF NOT EXISTS keys("
    " key_id TEXT COLLATE \"C\" PRIMARY KEY, public_pem TEXT NOT NULL,"
    " created TEXT COLLATE \"C\" NOT NULL, retired TEXT NOT NULL DEFAULT '')",
    "CREATE TABLE IF NOT EXISTS tree("
    " level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY(level, idx))",
    "CREATE TABLE IF NOT EXISTS checkpoints("
    " size BIGINT PRIMARY KEY, text TEXT NOT NULL, created TEXT NOT NULL)",
    // Schema 5: disclosure requests.
    "CREATE TABLE IF NOT EXISTS requests("
    " code TEXT COLLATE \"C\" PRIMARY KEY, channel TEXT NOT NULL,"
    " received TEXT COLLATE \"C\" NOT NULL, applicant_type TEXT NOT NULL,"
    " details TEXT NOT NULL, salt TEXT NOT NULL, last_leaf TEXT NOT NULL, created TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS request_events("
    " code TEXT COLLATE \"C\" NOT NULL REFERENCES requests(code), log_index BIGINT PRIMARY KEY,"
    " event TEXT NOT NULL, date TEXT NOT NULL, outcome TEXT NOT NULL, days BIGINT NOT NULL,"
    " approved_by TEXT NOT NULL, note TEXT NOT NULL,"
    " reply_document TEXT COLLATE \"C\" NOT NULL, recorded TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS request_events_code ON request_events(code, log_index)",
    "CREATE INDEX IF NOT EXISTS request_events_reply ON request_events(reply_document)"
    " WHERE reply_document <> ''",
    // Schema 6: the 索引号, unique. Documents archived before get theirs at
    // their next event that finds them public and approved.
    "ALTER TABLE documents ADD COLUMN IF NOT EXISTS index_no TEXT COLLATE \"C\" NOT NULL DEFAULT "
    "''",
    "ALTER TABLE documents ADD COLUMN IF NOT EXISTS published TEXT COLLATE \"C\" NOT NULL DEFAULT "
    "''",
    "CREATE UNIQUE INDEX IF NOT EXISTS documents_index_no ON documents(index_no)"
    " WHERE index_no <> ''",
    "CREATE TABLE IF NOT EXISTS report_figures(year BIGINT PRIMARY KEY, figures TEXT NOT NULL,"
    " log_index BIGINT NOT NULL, leaf TEXT NOT NULL, recorded TEXT NOT NULL)",
    // Schema 7: Counts() in one row, kept by triggers in the transaction that
    // changes a table, as in SQLite (a COUNT(*) reads the whole table, and
    // the status is asked for every second). Writers take turns already
    // (BeginWrite's lock on records), so the one row makes none wait. Init()
    // fills it after creating the triggers, whose creation locks out writers
    // until it commits.
    "CREATE TABLE IF NOT EXISTS counts(one INTEGER PRIMARY KEY CHECK(one = 1),"
    " documents BIGINT NOT NULL, active BIGINT NOT NULL, versions BIGINT NOT NULL,"
    " records BIGINT NOT NULL)",
    "CREATE OR REPLACE FUNCTION gongkai_count_documents() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "  IF TG_OP = 'INSERT' THEN"
    "   UPDATE counts SET documents = documents + 1,"
    "    active = active + (NEW.status = 'active')::int;"
    "  ELSIF TG_OP = 'DELETE' THEN"
    "   UPDATE counts SET documents = documents - 1,"
    "    active = active - (OLD.status = 'active')::int;"
    "  ELSE"
    "   UPDATE counts SET active = active + (NEW.status = 'active')::int"
    "    - (OLD.status = 'active')::int;"
    "  END IF;"
    "  RETURN NULL;"
    " END $$",
    // No "$<digit>" in these bodies: Poco takes it for a parameter.
    "CREATE OR REPLACE FUNCTION gongkai_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE step BIGINT;"
    " BEGIN"
    "  step := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;"
    "  IF TG_TABLE_NAME = 'versions' THEN UPDATE counts SET versions = versions + step;"
    "  ELSE UPDATE counts SET records = records + step;"
    "  END IF;"
    "  RETURN NULL;"
    " END $$",
    "DROP TRIGGER IF EXISTS counts_documents ON documents",
    "CREATE TRIGGER counts_documents AFTER INSERT OR DELETE OR UPDATE OF status ON documents"
    " FOR EACH ROW EXECUTE FUNCTION gongkai_count_documents()",
    "DROP TRIGGER IF EXISTS counts_versions ON versions",
    "CREATE TRIGGER counts_versions AFTER INSERT OR DELETE ON versions"
    " FOR EACH ROW EXECUTE FUNCTION gongkai_count_rows()",
    "DROP TRIGGER IF EXISTS counts_records ON records",
    "CREATE TRIGGER counts_records AFTER INSERT OR DELETE ON records"
    " FOR EACH ROW EXECUTE FUNCTION gongkai_count_rows()",
    "INSERT INTO counts VALUES(1, (SELECT COUNT(*) FROM documents),"
    " (SELECT COUNT(*) FROM documents WHERE status = 'active'),"
    " (SELECT COUNT(*) FROM versions), (SELECT COUNT(*) FROM records))"
    " ON CONFLICT(one) DO UPDATE SET documents = EXCLUDED.documents, active = EXCLUDED.active,"
    " versions = EXCLUDED.versions, records = EXCLUDED.records",
};

const char* const kTables[] = {"meta",           "documents",      "versions",    "records",
                               "keys",           "tree",           "checkpoints", "requests",
                               "request_events", "report_figures", "counts"};

const std::string kRequestColumns =
    "code, channel, received, applicant_type, details, salt, last_leaf, created";
const std::string kRequestEventColumns =
    "code, log_index, event, date, outcome, days, approved_by, note, reply_document, recorded";

const std::string kDocColumns =
    "id, share, path, status, classification, current_version, last_leaf,"
    " file_size, file_mtime_ns, file_inode, created, updated, file_ctime_ns, classified_seq,"
    " index_no, published";

const std::string kVersionColumns =
    "doc, version, sha256, size, modified, archived, log_index, review, meta";

std::string S(int64_t v) { return std::to_string(v); }

// True when `text` can be a TEXT value (UTF-8 without NUL). Nothing else is
// ever stored, so a lookup by anything else finds nothing, as in SQLite,
// where PostgreSQL would fail the query (a file name in GBK, a mangled id).
bool Storable(const std::string& text) {
  return IsValidUtf8(text) && text.find('\0') == std::string::npos;
}

std::vector<std::string> OnlyStorable(const std::vector<std::string>& values) {
  std::set<std::string> out;
  for (const std::string& v : values)
    if (Storable(v)) out.insert(v);
  return {out.begin(), out.end()};
}

DocumentRow DocFromRow(const Rows& rows, size_t r) {
  DocumentRow d;
  d.id = rows.Text(r, 0);
  d.share = rows.Text(r, 1);
  d.path = rows.Text(r, 2);
  d.status = StatusColumn(rows.Text(r, 3));
  d.classification = ClassificationColumn(rows.Text(r, 4));
  d.current_version = rows.Int(r, 5);
  d.last_leaf = rows.Text(r, 6);
  d.file.size = rows.Int(r, 7);
  d.file.mtime_ns = rows.Int(r, 8);
  d.file.inode = rows.Int(r, 9);
  d.created = rows.Text(r, 10);
  d.updated = rows.Text(r, 11);
  d.file.ctime_ns = rows.Int(r, 12);
  d.classified_seq = rows.Int(r, 13);
  d.index_no = rows.Text(r, 14);
  d.published = rows.Text(r, 15);
  return d;
}

VersionRow VersionFromRow(const Rows& rows, size_t r) {
  return VersionRow{
      rows.Text(r, 0), rows.Int(r, 1),  rows.Text(r, 2), rows.Int(r, 3),
      rows.Text(r, 4), rows.Text(r, 5), rows.Int(r, 6),  ReviewColumn(rows.Text(r, 7)),
      rows.Text(r, 8)};
}

std::vector<RequestRow> RequestsOf(const Rows& rows) {
  std::vector<RequestRow> out;
  for (size_t r = 0; r < rows.size(); ++r)
    out.push_back(RequestRow{rows.Text(r, 0), rows.Text(r, 1), rows.Text(r, 2), rows.Text(r, 3),
                             rows.Text(r, 4), rows.Text(r, 5), rows.Text(r, 6), rows.Text(r, 7)});
  return out;
}

std::vector<RequestEventRow> RequestEventsOf(const Rows& rows) {
  std::vector<RequestEventRow> out;
  for (size_t r = 0; r < rows.size(); ++r)
    out.push_back(RequestEventRow{rows.Text(r, 0), rows.Int(r, 1), rows.Text(r, 2), rows.Text(r, 3),
                                  rows.Text(r, 4), rows.Int(r, 5), rows.Text(r, 6), rows.Text(r, 7),
                                  rows.Text(r, 8), rows.Text(r, 9)});
  return out;
}

std::vector<DocumentRow> Documents(const Rows& rows) {
  std::vector<DocumentRow> out;
  for (size_t r = 0; r < rows.size(); ++r) out.push_back(DocFromRow(rows, r));
  return out;
}

std::vector<CheckpointRow> CheckpointsOf(const Rows& rows) {
  std::vector<CheckpointRow> out;
  for (size_t r = 0; r < rows.size(); ++r)
    out.push_back({rows.Int(r, 0), rows.Text(r, 1), rows.Text(r, 2)});
  return out;
}

// status, classification, current_version, last_leaf, the file state and
// the 索引号 with its date.
std::vector<std::string> DocumentColumns(const DocumentRow& d) {
  return {ToString(d.status),   ToString(d.classification),
          S(d.current_version), d.last_leaf,
          S(d.file.size),       S(d.file.mtime_ns),
          S(d.file.inode),      S(d.file.ctime_ns),
          S(d.classified_seq),  d.index_no,
          d.published};
}

class PostgresCatalog final : public Catalog {
 public:
  PostgresCatalog(std::unique_ptr<pg::Connection> db, Env* env) : db_(std::move(db)), env_(env) {}

  // Creates the schema in an empty database; refuses one from a newer gongkai.
  Status Init() {
    return InTransaction("open", [&]() -> Status {
      db_->Query(kSchemaLock);
      const int64_t version = SchemaVersion();
      if (version > kSchemaVersion)
        return Status::Corruption("catalog schema version " + S(version) + " in " + db_->target() +
                                  " is newer than this gongkai understands (" + S(kSchemaVersion) +
                                  ")");
      if (version < kSchemaVersion) {
        for (const char* sql : kSchema) db_->Query(sql);
        db_->Query(
            "INSERT INTO meta(key, value) VALUES('schema', $1)"
            " ON CONFLICT(key) DO UPDATE SET value = EXCLUDED.value",
            {S(kSchemaVersion)});
      }
      return Status::OK();
    });
  }

  Result<std::optional<DocumentRow>> FindByPath(const std::string& share,
                                                const std::string& path) override {
    if (!Storable(share) || !Storable(path)) return std::optional<DocumentRow>();
    return OneDocument("lookup",
                       "SELECT " + kDocColumns + " FROM documents WHERE share = $1 AND path = $2",
                       {share, path});
  }

  Result<std::optional<DocumentRow>> GetDocument(const std::string& id) override {
    if (!Storable(id)) return std::optional<DocumentRow>();
    return OneDocument("lookup", "SELECT " + kDocColumns + " FROM documents WHERE id = $1", {id});
  }

  Result<std::vector<VersionRow>> Versions(const std::string& doc_id) override {
    return db_->Call("versions", [&]() -> Result<std::vector<VersionRow>> {
      if (!Storable(doc_id)) return std::vector<VersionRow>();
      Rows rows = db_->Query(
          "SELECT " + kVersionColumns + " FROM versions WHERE doc = $1 ORDER BY version", {doc_id});
      std::vector<VersionRow> out;
      for (size_t r = 0; r < rows.size(); ++r) out.push_back(VersionFromRow(rows, r));
      return out;
    });
  }

  Result<std::map<std::string, FileState>> ArchivedFiles(const std::string& share) override {
    return db_->Call("files", [&]() -> Result<std::map<std::string, FileState>> {
      std::map<std::string, FileState> out;
      if (!Storable(share)) return out;
      Rows rows = db_->Query(
          "SELECT path, file_size, file_mtime_ns, file_inode, file_ctime_ns FROM documents"
          " WHERE share = $1 AND status = $2",
          {share, ToString(DocumentStatus::kActive)});
      for (size_t r = 0; r < rows.size(); ++r)
        out.emplace(rows.Text(r, 0), FileState{.size = rows.Int(r, 1),
                                               .mtime_ns = rows.Int(r, 2),
                                               .inode = rows.Int(r, 3),
                                               .ctime_ns = rows.Int(r, 4)});
      return out;
    });
  }

  Result<std::vector<DocumentRow>> ActiveDocumentsIn(const std::string& share,
                                                     const std::string& folder) override {
    return db_->Call("documents", [&]() -> Result<std::vector<DocumentRow>> {
      if (!Storable(share) || !Storable(folder)) return std::vector<DocumentRow>();
      // From "folder/" up to "folder0" ('0' follows '/'), as bytes (COLLATE "C").
      return Documents(
          db_->Query("SELECT " + kDocColumns +
                         " FROM documents WHERE share = $1 AND path >= $2"
                         " AND path < $3 AND status = $4 ORDER BY path",
                     {share, folder + "/", folder + "0", ToString(DocumentStatus::kActive)}));
    });
  }

  Result<std::vector<DocumentRow>> AllDocuments() override {
    return db_->Call("documents", [&]() -> Result<std::vector<DocumentRow>> {
      return Documents(db_->Query("SELECT " + kDocColumns + " FROM documents ORDER BY id"));
    });
  }

  Result<std::vector<std::string>> IndexedDocumentIds() override {
    return db_->Call("documents", [&]() -> Result<std::vector<std::string>> {
      Rows rows = db_->Query(
          "SELECT id FROM documents WHERE index_no <> '' ORDER BY published DESC, index_no DESC");
      std::vector<std::string> out;
      for (size_t r = 0; r < rows.size(); ++r) out.push_back(rows.Text(r, 0));
      return out;
    });
  }

  Result<std::vector<std::string>> IndexNumbersOf(int year) override {
    return db_->Call("index numbers", [&]() -> Result<std::vector<std::string>> {
      Rows rows = db_->Query("SELECT index_no FROM documents WHERE index_no LIKE $1",
                             {"%/" + S(year) + "-%"});
      std::vector<std::string> out;
      for (size_t r = 0; r < rows.size(); ++r) out.push_back(rows.Text(r, 0));
      return out;
    });
  }

  Result<bool> HasIndexNumber(const std::string& index_no) override {
    return db_->Call("index number", [&]() -> Result<bool> {
      // "<> ''" lets the planner use the partial unique index.
      return !db_->Query("SELECT 1 FROM documents WHERE index_no = $1 AND index_no <> '' LIMIT 1",
                         {index_no})
                  .empty();
    });
  }

  Result<std::vector<RecordRow>> Records(int64_t first, int64_t limit) override {
    return db_->Call("records", [&]() -> Result<std::vector<RecordRow>> {
      Rows rows = db_->Query(
          "SELECT seq, doc, record, signature, key_id, leaf FROM records"
          " WHERE seq >= $1 ORDER BY seq LIMIT $2",
          {S(first), S(limit)});
      std::vector<RecordRow> out;
      for (size_t r = 0; r < rows.size(); ++r)
        out.push_back({rows.Int(r, 0), rows.Text(r, 1), rows.Text(r, 2), rows.Text(r, 3),
                       rows.Text(r, 4), rows.Text(r, 5)});
      return out;
    });
  }

  Result<CatalogCounts> Counts() override {
    return db_->Call("counts", [&]() -> Result<CatalogCounts> {
      Rows rows = db_->Query("SELECT documents, active, versions, records FROM counts");
      if (rows.empty()) return Status::Corruption("catalog: the counts row is missing");
      return CatalogCounts{rows.Int(0, 0), rows.Int(0, 1), rows.Int(0, 2), rows.Int(0, 3)};
    });
  }

  Result<std::vector<std::pair<DocumentRow, std::vector<VersionRow>>>> DocumentsWithVersions(
      const std::vector<std::string>& ids) override {
    using Page = std::vector<std::pair<DocumentRow, std::vector<VersionRow>>>;
    return db_->Call("documents", [&]() -> Result<Page> {
      Page out;
      const std::vector<std::string> storable = OnlyStorable(ids);
      if (storable.empty()) return out;
      const std::string list = pg::ArrayLiteral(storable);
      std::map<std::string, size_t> where;
      for (DocumentRow& d : Documents(db_->Query(
               "SELECT " + kDocColumns + " FROM documents WHERE id = ANY($1)", {list}))) {
        where[d.id] = out.size();
        out.emplace_back(std::move(d), std::vector<VersionRow>());
      }
      if (out.empty()) return out;
      Rows versions = db_->Query(
          "SELECT " + kVersionColumns + " FROM versions WHERE doc = ANY($1) ORDER BY doc, version",
          {list});
      for (size_t r = 0; r < versions.size(); ++r) {
        VersionRow v = VersionFromRow(versions, r);
        if (auto it = where.find(v.doc); it != where.end())
          out[it->second].second.push_back(std::move(v));
      }
      return out;
    });
  }

  Result<std::map<std::string, int64_t>> RestrictedAmong(const std::vector<std::string>& sha256s,
                                                         const std::string& except_doc) override {
    return db_->Call("restricted content", [&]() -> Result<std::map<std::string, int64_t>> {
      std::map<std::string, int64_t> out;
      const std::vector<std::string> storable = OnlyStorable(sha256s);
      if (storable.empty()) return out;
      Rows rows = db_->Query(
          "SELECT v.sha256, MAX(GREATEST(d.classified_seq, v.first_seq)) FROM"
          " (SELECT doc, sha256, MIN(log_index) AS first_seq FROM versions WHERE sha256 = ANY($1)"
          "  GROUP BY doc, sha256) v"
          " JOIN documents d ON d.id = v.doc WHERE d.classification = 'restricted' AND d.id <> $2"
          " GROUP BY v.sha256",
          {pg::ArrayLiteral(storable), Storable(except_doc) ? except_doc : std::string()});
      for (size_t r = 0; r < rows.size(); ++r) out[rows.Text(r, 0)] = rows.Int(r, 1);
      return out;
    });
  }

  Result<std::vector<std::string>> DocumentsHolding(const std::string& sha256) override {
    return db_->Call("documents by content", [&]() -> Result<std::vector<std::string>> {
      if (!Storable(sha256)) return std::vector<std::string>();
      Rows rows =
          db_->Query("SELECT DISTINCT doc FROM versions WHERE sha256 = $1 ORDER BY doc", {sha256});
      std::vector<std::string> out;
      for (size_t r = 0; r < rows.size(); ++r) out.push_back(rows.Text(r, 0));
      return out;
    });
  }

  Result<std::vector<LatestVersionRow>> LatestVersions(const std::string& until) override {
    return db_->Call("latest versions", [&]() -> Result<std::vector<LatestVersionRow>> {
      Rows rows = db_->Query(
          "SELECT d.share, COALESCE(v.meta::jsonb ->> 'category', '') COLLATE \"C\","
          " MAX(v.archived), COUNT(*)"
          " FROM versions v JOIN documents d ON d.id = v.doc WHERE v.archived <= $1"
          " GROUP BY 1, 2 ORDER BY 1, 2",
          {until});
      std::vector<LatestVersionRow> out;
      for (size_t r = 0; r < rows.size(); ++r)
        out.push_back({rows.Text(r, 0), rows.Text(r, 1), rows.Text(r, 2), rows.Int(r, 3)});
      return out;
    });
  }

  Result<std::optional<RequestRow>> GetRequest(const std::string& code) override {
    return db_->Call("request", [&]() -> Result<std::optional<RequestRow>> {
      if (!Storable(code)) return std::optional<RequestRow>();
      auto rows = RequestsOf(
          db_->Query("SELECT " + kRequestColumns + " FROM requests WHERE code = $1", {code}));
      if (rows.empty()) return std::optional<RequestRow>();
      return std::optional<RequestRow>(std::move(rows[0]));
    });
  }

  Result<std::vector<RequestEventRow>> RequestEvents(const std::string& code) override {
    return db_->Call("request events", [&]() -> Result<std::vector<RequestEventRow>> {
      if (!Storable(code)) return std::vector<RequestEventRow>();
      return RequestEventsOf(db_->Query("SELECT " + kRequestEventColumns +
                                            " FROM request_events WHERE code = $1"
                                            " ORDER BY log_index",
                                        {code}));
    });
  }

  Result<std::vector<RequestRow>> AllRequests() override {
    return db_->Call("requests", [&]() -> Result<std::vector<RequestRow>> {
      return RequestsOf(
          db_->Query("SELECT " + kRequestColumns + " FROM requests ORDER BY received, code"));
    });
  }

  Result<std::vector<RequestEventRow>> AllRequestEvents() override {
    return db_->Call("request events", [&]() -> Result<std::vector<RequestEventRow>> {
      return RequestEventsOf(
          db_->Query("SELECT " + kRequestEventColumns + " FROM request_events ORDER BY log_index"));
    });
  }

  Result<std::vector<ReportFiguresRow>> AllReportFigures() override {
    return db_->Call("report figures", [&]() -> Result<std::vector<ReportFiguresRow>> {
      Rows rows = db_->Query(
          "SELECT year, figures, log_index, leaf, recorded FROM report_figures ORDER BY year");
      std::vector<ReportFiguresRow> out;
      for (size_t r = 0; r < rows.size(); ++r)
        out.push_back(
            {rows.Int(r, 0), rows.Text(r, 1), rows.Int(r, 2), rows.Text(r, 3), rows.Text(r, 4)});
      return out;
    });
  }

  Result<std::set<std::string>> ReplyLetters(const std::vector<std::string>& doc_ids) override {
    return db_->Call("reply letters", [&]() -> Result<std::set<std::string>> {
      std::set<std::string> out;
      const std::vector<std::string> storable = OnlyStorable(doc_ids);
      if (storable.empty()) return out;
      Rows rows = db_->Query(
          "SELECT DISTINCT reply_document FROM request_events"
          " WHERE reply_document <> '' AND reply_document = ANY($1)",
          {pg::ArrayLiteral(storable)});
      for (size_t r = 0; r < rows.size(); ++r) out.insert(rows.Text(r, 0));
      return out;
    });
  }

  // One writer at a time across every process: the lock conflicts with
  // itself and with row writes to records, not with readers, and is held
  // until Commit() or Rollback(). READ COMMITTED then shows this writer
  // every record committed before it got the lock.
  Status BeginWrite() override {
    return db_->Call("begin", [&]() -> Status {
      db_->Begin();
      try {
        db_->Query("LOCK TABLE records IN SHARE ROW EXCLUSIVE MODE");
      } catch (...) {
        db_->Rollback();
        throw;
      }
      return Status::OK();
    });
  }

  Status Commit() override {
    return db_->Call("commit", [&]() -> Status {
      db_->Commit();
      return Status::OK();
    });
  }

  void Rollback() override { db_->Rollback(); }

  Result<int64_t> NextRecordSeq() override {
    return db_->Call("records", [&]() -> Result<int64_t> {
      return db_->Query("SELECT COALESCE(MAX(seq) + 1, 0) FROM records").Int(0, 0);
    });
  }

  Status InsertDocument(const DocumentRow& d) override {
    std::vector<std::string> params = {d.id, d.share, d.path, d.created, d.updated};
    for (std::string& v : DocumentColumns(d)) params.push_back(std::move(v));
    return Write("insert document",
                 "INSERT INTO documents(id, share, path, created, updated,"
                 " status, classification, current_version,"
                 " last_leaf, file_size, file_mtime_ns, file_inode, file_ctime_ns, classified_seq,"
                 " index_no, published)"
                 " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                 params);
  }

  Status UpdateDocument(const DocumentRow& d) override {
    std::vector<std::string> params = {d.id, d.share, d.path, d.updated};
    for (std::string& v : DocumentColumns(d)) params.push_back(std::move(v));
    return Write("update document",
                 "UPDATE documents SET share = $2, path = $3, updated = $4,"
                 " status = $5, classification = $6, current_version = $7, last_leaf = $8,"
                 " file_size = $9, file_mtime_ns = $10, file_inode = $11,"
                 " file_ctime_ns = $12, classified_seq = $13, index_no = $14, published = $15"
                 " WHERE id = $1",
                 params);
  }

  Status InsertVersion(const VersionRow& v) override {
    return Write(
        "insert version",
        "INSERT INTO versions(" + kVersionColumns + ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        {v.doc, S(v.version), v.sha256, S(v.size), v.modified, v.archived, S(v.log_index),
         ToString(v.review), v.meta});
  }

  Status SetReview(const std::string& doc_id, int64_t version, ReviewState review) override {
    return Write("set review", "UPDATE versions SET review = $3 WHERE doc = $1 AND version = $2",
                 {doc_id, S(version), ToString(review)});
  }

  Status InsertRecord(const RecordRow& r) override {
    return Write("insert record",
                 "INSERT INTO records(seq, doc, record, signature, key_id, leaf)"
                 " VALUES($1, $2, $3, $4, $5, $6)",
                 {S(r.seq), r.doc, r.record, r.signature, r.key_id, r.leaf});
  }

  Status InsertRequest(const RequestRow& r) override {
    return Write(
        "insert request",
        "INSERT INTO requests(" + kRequestColumns + ") VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
        {r.code, r.channel, r.received, r.applicant_type, r.details, r.salt, r.last_leaf,
         r.created});
  }

  Status InsertRequestEvent(const RequestEventRow& e) override {
    return Write("insert request event",
                 "INSERT INTO request_events(" + kRequestEventColumns +
                     ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                 {e.code, S(e.log_index), e.event, e.date, e.outcome, S(e.days), e.approved_by,
                  e.note, e.reply_document, e.recorded});
  }

  Status SetRequestLeaf(const std::string& code, const std::string& leaf) override {
    return Write("update request", "UPDATE requests SET last_leaf = $2 WHERE code = $1",
                 {code, leaf});
  }

  Status InsertTreeNodes(const std::vector<storage::TreeNode>& nodes) override {
    for (const storage::TreeNode& node : nodes) {
      const std::string hash(node.hash.begin(), node.hash.end());
      Status s =
          Write("insert tree node", "INSERT INTO tree(level, idx, hash) VALUES($1, $2, $3)",
                {S(node.level), S(static_cast<int64_t>(node.index)), pg::ByteaLiteral(hash)});
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  Status PutCheckpoint(const CheckpointRow& cp) override {
    return Write(
        "insert checkpoint",
        "INSERT INTO checkpoints(size, text, created) VALUES($1, $2, $3)"
        " ON CONFLICT(size) DO UPDATE SET text = EXCLUDED.text, created = EXCLUDED.created",
        {S(cp.size), cp.text, cp.created});
  }

  Status PutReportFigures(const ReportFiguresRow& r) override {
    return Write("store report figures",
                 "INSERT INTO report_figures(year, figures, log_index, leaf, recorded)"
                 " VALUES($1, $2, $3, $4, $5) ON CONFLICT(year) DO UPDATE SET"
                 " figures = EXCLUDED.figures, log_index = EXCLUDED.log_index,"
                 " leaf = EXCLUDED.leaf, recorded = EXCLUDED.recorded",
                 {S(r.year), r.figures, S(r.log_index), r.leaf, r.recorded});
  }

  Status UpdateFileState(const std::string& doc_id, const FileState& f) override {
    return Write("update",
                 "UPDATE documents SET file_size = $2, file_mtime_ns = $3, file_inode = $4,"
                 " file_ctime_ns = $5 WHERE id = $1",
                 {doc_id, S(f.size), S(f.mtime_ns), S(f.inode), S(f.ctime_ns)});
  }

  Status AddKey(const KeyRow& k) override {
    return Write("add key",
                 "INSERT INTO keys(key_id, public_pem, created, retired) VALUES($1, $2, $3, $4)"
                 " ON CONFLICT(key_id) DO NOTHING",
                 {k.key_id, k.public_pem, k.created, k.retired});
  }

  Status RotateTo(const KeyRow& active) override {
    return InTransaction("rotate key", [&]() -> Status {
      db_->Query("UPDATE keys SET retired = $1 WHERE retired = '' AND key_id <> $2",
                 {Rfc3339(env_->Now()), active.key_id});
      db_->Query(
          "INSERT INTO keys(key_id, public_pem, created, retired) VALUES($1, $2, $3, '')"
          " ON CONFLICT(key_id) DO NOTHING",
          {active.key_id, active.public_pem, active.created});
      return Status::OK();
    });
  }

  Result<std::vector<KeyRow>> Keys() override {
    return db_->Call("keys", [&]() -> Result<std::vector<KeyRow>> {
      Rows rows = db_->Query(
          "SELECT key_id, public_pem, created, retired FROM keys ORDER BY created, key_id");
      std::vector<KeyRow> out;
      for (size_t r = 0; r < rows.size(); ++r)
        out.push_back({rows.Text(r, 0), rows.Text(r, 1), rows.Text(r, 2), rows.Text(r, 3)});
      return out;
    });
  }

  Result<Digest> TreeNode(int level, uint64_t index) override {
    return db_->Call("tree", [&]() -> Result<Digest> {
      Rows rows = db_->Query("SELECT hash FROM tree WHERE level = $1 AND idx = $2",
                             {S(level), S(static_cast<int64_t>(index))});
      if (rows.empty() || rows.Text(0, 0).size() != 32)
        return Status::Corruption("Merkle node (" + S(level) + ", " + std::to_string(index) +
                                  ") missing from the catalog");
      Digest d;
      std::copy(rows.Text(0, 0).begin(), rows.Text(0, 0).end(), d.begin());
      return d;
    });
  }

  Result<std::optional<CheckpointRow>> LatestCheckpoint() override {
    return db_->Call("checkpoint", [&]() -> Result<std::optional<CheckpointRow>> {
      auto rows = CheckpointsOf(
          db_->Query("SELECT size, text, created FROM checkpoints ORDER BY size DESC LIMIT 1"));
      if (rows.empty()) return std::optional<CheckpointRow>();
      return std::optional<CheckpointRow>(rows.front());
    });
  }

  Result<std::vector<CheckpointRow>> Checkpoints() override {
    return db_->Call("checkpoints", [&]() -> Result<std::vector<CheckpointRow>> {
      return CheckpointsOf(db_->Query("SELECT size, text, created FROM checkpoints ORDER BY size"));
    });
  }

  // A read-only REPEATABLE READ transaction: one snapshot, taken at its
  // first query, which never waits for writers nor makes them wait.
  Status BeginSnapshot() override {
    return db_->Call("snapshot", [&]() -> Status {
      db_->Begin("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      db_->Query("SELECT 1");
      return Status::OK();
    });
  }

  Status EndSnapshot() override {
    Status s = db_->Call("snapshot", [&]() -> Status {
      db_->Commit();
      return Status::OK();
    });
    db_->Rollback();  // when the commit failed
    return s;
  }

  // With amcheck installed and usable: bt_index_check on every index of the
  // catalog (each in a savepoint inside a snapshot, so that one corrupt index
  // does not end it). Without it, a query of the schema version: PostgreSQL
  // checks its pages itself (data_checksums) as it reads them.
  Result<std::string> IntegrityCheck() override {
    return db_->Call("integrity check", [&]() -> Result<std::string> {
      const std::string amcheck = AmcheckFunction();
      if (amcheck.empty())
        return SchemaVersion() == kSchemaVersion ? std::string("ok")
                                                 : std::string("no schema version");
      std::string problems;
      for (const std::string& index : CatalogIndexes()) {
        const std::string error = CheckIndex(amcheck, index);
        if (!error.empty())
          problems += (problems.empty() ? "" : "; ") + ("index " + index + ": " + error);
      }
      return problems.empty() ? std::string("ok") : problems;
    });
  }

 private:
  // Runs `f` in a transaction of its own, committed when it returns OK.
  template <typename F>
  Status InTransaction(const char* what, F&& f) {
    return db_->Call(what, [&]() -> Status {
      db_->Begin();
      try {
        Status s = f();
        if (s.ok()) db_->Commit();
        db_->Rollback();  // when f failed (after a commit there is nothing left to roll back)
        return s;
      } catch (...) {
        db_->Rollback();
        throw;
      }
    });
  }

  Result<std::optional<DocumentRow>> OneDocument(const char* what, const std::string& sql,
                                                 const std::vector<std::string>& params) {
    return db_->Call(what, [&]() -> Result<std::optional<DocumentRow>> {
      Rows rows = db_->Query(sql, params);
      if (rows.empty()) return std::optional<DocumentRow>();
      return std::optional<DocumentRow>(DocFromRow(rows, 0));
    });
  }

  Status Write(const char* what, const std::string& sql, const std::vector<std::string>& params) {
    return db_->Call(what, [&]() -> Status {
      db_->Query(sql, params);
      return Status::OK();
    });
  }

  // The schema version in meta; 0 in a database without the catalog.
  int64_t SchemaVersion() {
    if (db_->Query("SELECT COALESCE(to_regclass('meta')::text, '')").Text(0, 0).empty()) return 0;
    Rows rows = db_->Query("SELECT value FROM meta WHERE key = 'schema'");
    return rows.empty() ? 0 : rows.Int(0, 0);
  }

  // amcheck's bt_index_check, schema-qualified, if installed and this role may run it; else "".
  std::string AmcheckFunction() {
    Rows rows = db_->Query(
        "SELECT quote_ident(n.nspname) || '.bt_index_check' FROM pg_extension e"
        " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'"
        " AND has_function_privilege(to_regprocedure(quote_ident(n.nspname) || "
        "'.bt_index_check(regclass)'),"
        " 'EXECUTE')");
    return rows.empty() ? std::string() : rows.Text(0, 0);
  }

  std::vector<std::string> CatalogIndexes() {
    std::vector<std::string> tables;
    for (const char* t : kTables) tables.push_back(t);
    Rows rows = db_->Query(
        "SELECT i.indexrelid::regclass::text FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree'"
        " AND i.indrelid = ANY(SELECT to_regclass(t) FROM unnest($1::text[]) t) ORDER BY 1",
        {pg::ArrayLiteral(tables)});
    std::vector<std::string> out;
    for (size_t r = 0; r < rows.size(); ++r) out.push_back(rows.Text(r, 0));
    return out;
  }

  // "" when `index` checks out, else amcheck's complaint.
  std::string CheckIndex(const std::string& amcheck, const std::string& index) {
    const bool nested = db_->in_transaction();
    if (nested) db_->Query("SAVEPOINT integrity_check");
    try {
      db_->Query("SELECT " + amcheck + "($1::regclass)", {index});
    } catch (...) {
      std::string complaint = pg::CurrentError();
      if (nested) db_->Query("ROLLBACK TO SAVEPOINT integrity_check");
      return complaint;
    }
    if (nested) db_->Query("RELEASE SAVEPOINT integrity_check");
    return "";
  }

  std::unique_ptr<pg::Connection> db_;
  Env* env_;
};

}  // namespace

Result<std::unique_ptr<Catalog>> OpenPostgresCatalog(const std::string& conninfo, Env* env) {
  auto db = pg::Connection::Open(conninfo);
  if (!db.ok()) return db.status();
  auto catalog = std::make_unique<PostgresCatalog>(std::move(*db), env);
  if (Status s = catalog->Init(); !s.ok()) return s;
  return std::unique_ptr<Catalog>(std::move(catalog));
}

}  // namespace gongkai::storage
