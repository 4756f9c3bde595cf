// SQLite catalog through Poco::Data. Poco exceptions are caught here and
// become Status values; nothing Poco-specific leaves this file.
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Exception.h>
#include <sqlite3.h>

#include <map>
#include <mutex>
#include <stdexcept>

#include "gongkai/storage/catalog.h"
#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"

namespace gongkai::storage {
namespace {

using namespace Poco::Data::Keywords;
using Poco::Data::RecordSet;
using Poco::Data::Session;
using Poco::Data::Statement;

constexpr int kSchemaVersion = 3;

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
};

// Made at every open (cheap once it exists): older catalogs get it without a
// schema version of their own.
const char* const kVersionsBySha = "CREATE INDEX IF NOT EXISTS versions_sha ON versions(sha256)";

const char* const kDocColumns =
    "id, share, path, status, classification, current_version, last_leaf,"
    " file_size, file_mtime_ns, file_inode, created, updated, file_ctime_ns";

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

 private:
  void Check(int rc) const {
    if (rc != SQLITE_OK) throw std::runtime_error(std::string(sqlite3_errmsg(db_)) + " (SQLite " + std::to_string(rc) + ")");
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
      if (const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()) + 1, SQLITE_PREPARE_PERSISTENT,
                                            &st, nullptr);
          rc != SQLITE_OK) {
        sqlite3_finalize(st);
        throw std::runtime_error(std::string(sqlite3_errmsg(db_)) + " (SQLite " + std::to_string(rc) + ")");
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
  d.status = q.Text(3);
  d.classification = q.Text(4);
  d.current_version = q.Int(5);
  d.last_leaf = q.Text(6);
  d.file.size = q.Int(7);
  d.file.mtime_ns = q.Int(8);
  d.file.inode = q.Int(9);
  d.created = q.Text(10);
  d.updated = q.Text(11);
  d.file.ctime_ns = q.Int(12);
  return d;
}

template <typename F>
auto Guard(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Poco::Data::SQLite::DatabaseFullException& e) {
    return Status::NoSpace(std::string("catalog ") + what + ": " + e.displayText());
  } catch (const Poco::Exception& e) {
    return Status::IOError(std::string("catalog ") + what + ": " + e.displayText());
  } catch (const std::exception& e) {
    return Status::IOError(std::string("catalog ") + what + ": " + e.what());
  }
}

std::string NewDocumentId() {
  // 15 random bytes, base32 (RFC 4648 alphabet, lowercase): 24 URL-safe chars.
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string raw = RandomBytes(15);
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : raw) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

class SqliteCatalog final : public Catalog {
 public:
  SqliteCatalog(const std::string& path, Env* env, std::string origin)
      // Login timeout 0: Poco otherwise retries a failed open for 60 s, which
      // only delays the one-line error (a full disk, a read-only folder).
      : session_("SQLite", path, 0),
        env_(env),
        origin_(std::move(origin)),
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
          session_ << "ALTER TABLE documents ADD COLUMN file_ctime_ns INTEGER NOT NULL DEFAULT 0", now;
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
      Query q = statements_.Prepare("SELECT " + std::string(kDocColumns) + " FROM documents WHERE share = ? AND path = ?");
      q.Bind(share).Bind(path);
      if (!q.Next()) return std::optional<DocumentRow>();
      return std::optional<DocumentRow>(DocFromRow(q));
    });
  }

  Result<std::optional<DocumentRow>> GetDocument(const std::string& id) override {
    return Guard("lookup", [&]() -> Result<std::optional<DocumentRow>> {
      Query q = statements_.Prepare("SELECT " + std::string(kDocColumns) + " FROM documents WHERE id = ?");
      q.Bind(id);
      if (!q.Next()) return std::optional<DocumentRow>();
      return std::optional<DocumentRow>(DocFromRow(q));
    });
  }

  Result<std::vector<DocumentRow>> DocumentsInShare(const std::string& share) override {
    return QueryDocs("SELECT " + std::string(kDocColumns) + " FROM documents WHERE share = ?", share);
  }

  Result<std::vector<DocumentRow>> AllDocuments() override {
    return QueryDocs("SELECT " + std::string(kDocColumns) + " FROM documents ORDER BY id", "");
  }

  Result<std::vector<VersionRow>> Versions(const std::string& doc_id) override {
    return Guard("versions", [&]() -> Result<std::vector<VersionRow>> {
      Query q = statements_.Prepare(
          "SELECT doc, version, sha256, size, modified, archived, log_index, review, meta"
          " FROM versions WHERE doc = ? ORDER BY version");
      q.Bind(doc_id);
      std::vector<VersionRow> out;
      while (q.Next()) {
        VersionRow v;
        v.doc = q.Text(0);
        v.version = q.Int(1);
        v.sha256 = q.Text(2);
        v.size = q.Int(3);
        v.modified = q.Text(4);
        v.archived = q.Text(5);
        v.log_index = q.Int(6);
        v.review = q.Text(7);
        v.meta = q.Text(8);
        out.push_back(std::move(v));
      }
      return out;
    });
  }

  Result<std::vector<RecordRow>> Records(int64_t first, int64_t limit) override {
    return Guard("records", [&]() -> Result<std::vector<RecordRow>> {
      Query q = statements_.Prepare(
          "SELECT seq, doc, record, signature, key_id, leaf FROM records WHERE seq >= ? ORDER BY seq LIMIT ?");
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
      CatalogCounts c;
      Poco::Int64 docs = 0, active = 0, versions = 0, records = 0;
      session_ << "SELECT COUNT(*), COALESCE(SUM(status = 'active'), 0) FROM documents",
          into(docs), into(active), now;
      session_ << "SELECT COUNT(*) FROM versions", into(versions), now;
      session_ << "SELECT COUNT(*) FROM records", into(records), now;
      c.documents = docs;
      c.active = active;
      c.versions = versions;
      c.records = records;
      return c;
    });
  }

  Result<std::map<std::string, int64_t>> PublicVersions(const std::vector<std::string>& ids) override {
    return Guard("visibility", [&]() -> Result<std::map<std::string, int64_t>> {
      std::map<std::string, int64_t> out;
      if (ids.empty()) return out;
      // One statement per list length (a page holds at most 100 hits).
      std::string sql =
          "SELECT d.id, MAX(v.version) FROM documents d JOIN versions v ON v.doc = d.id"
          " WHERE d.classification = 'public' AND v.review = 'approved' AND d.id IN (";
      for (size_t i = 0; i < ids.size(); ++i) sql += i ? ", ?" : "?";
      sql += ") GROUP BY d.id";
      Query q = statements_.Prepare(sql);
      for (const auto& id : ids) q.Bind(id);
      while (q.Next()) out[q.Text(0)] = q.Int(1);
      return out;
    });
  }

  Result<bool> RestrictedContent(const std::string& sha256, const std::string& except_doc) override {
    return Guard("restricted content", [&]() -> Result<bool> {
      int found = 0;
      session_ << "SELECT COUNT(*) FROM (SELECT 1 FROM versions v JOIN documents d ON d.id = v.doc"
                  " WHERE v.sha256 = ? AND d.classification = 'restricted' AND d.id != ? LIMIT 1)",
          useRef(sha256), useRef(except_doc), into(found), now;
      return found > 0;
    });
  }

  Result<std::vector<LatestVersionRow>> LatestVersions(const std::string& until) override {
    return Guard("latest versions", [&]() -> Result<std::vector<LatestVersionRow>> {
      Statement st(session_);
      st << "SELECT d.share, COALESCE(json_extract(v.meta, '$.category'), ''), MAX(v.archived), COUNT(*)"
            " FROM versions v JOIN documents d ON d.id = v.doc WHERE v.archived <= ?"
            " GROUP BY 1, 2 ORDER BY 1, 2",
          bind(until);
      st.execute();
      RecordSet rs(st);
      std::vector<LatestVersionRow> out;
      for (bool more = rs.moveFirst(); more; more = rs.moveNext())
        out.push_back({rs[0].convert<std::string>(), rs[1].convert<std::string>(), rs[2].convert<std::string>(),
                       rs[3].convert<Poco::Int64>()});
      return out;
    });
  }

  Status Apply(std::vector<Change>& changes, const SigningKey& key) override {
    if (changes.empty()) return Status::OK();
    Status s = Guard("commit", [&]() -> Status {
      session_ << "BEGIN IMMEDIATE", now;
      try {
        Status inner = ApplyLocked(changes, key);
        if (!inner.ok()) {
          session_ << "ROLLBACK", now;
          return inner;
        }
        session_ << "COMMIT", now;
      } catch (...) {
        try {
          session_ << "ROLLBACK", now;
        } catch (...) {
        }
        throw;
      }
      return Status::OK();
    });
    return s;
  }

  Status UpdateFileState(const std::string& doc_id, const FileState& f) override {
    return Guard("update", [&]() -> Status {
      Poco::Int64 size = f.size, mtime = f.mtime_ns, inode = f.inode, ctime = f.ctime_ns;
      session_ << "UPDATE documents SET file_size = ?, file_mtime_ns = ?, file_inode = ?, file_ctime_ns = ?"
                  " WHERE id = ?",
          bind(size), bind(mtime), bind(inode), bind(ctime), bind(doc_id), now;
      return Status::OK();
    });
  }

  Status AddKey(const KeyRow& k) override {
    return Guard("add key", [&]() -> Status {
      session_ << "INSERT OR IGNORE INTO keys(key_id, public_pem, created, retired) VALUES(?, ?, ?, ?)",
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
      session_ << "INSERT OR IGNORE INTO keys(key_id, public_pem, created, retired) VALUES(?, ?, ?, '')",
          bind(active.key_id), bind(active.public_pem), bind(active.created), now;
      session_ << "COMMIT", now;
      return Status::OK();
    });
  }

  Status BeginSnapshot() override {
    return Guard("snapshot", [&]() -> Status {
      session_ << "BEGIN", now;
      Poco::Int64 n = 0;
      session_ << "SELECT COUNT(*) FROM records", into(n), now;  // the snapshot starts at the first read
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
        return Status::Corruption("Merkle node (" + std::to_string(level) + ", " + std::to_string(index) +
                                  ") missing from the catalog");
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
      return std::optional<CheckpointRow>(CheckpointRow{rs[0].convert<Poco::Int64>(), rs[1].convert<std::string>(),
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
        out.push_back({rs[0].convert<Poco::Int64>(), rs[1].convert<std::string>(), rs[2].convert<std::string>()});
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
  Result<std::vector<DocumentRow>> QueryDocs(const std::string& sql, const std::string& arg) {
    return Guard("documents", [&]() -> Result<std::vector<DocumentRow>> {
      Query q = statements_.Prepare(sql);
      if (!arg.empty()) q.Bind(arg);
      std::vector<DocumentRow> out;
      while (q.Next()) out.push_back(DocFromRow(q));
      return out;
    });
  }

  // Runs inside BEGIN IMMEDIATE; may throw Poco exceptions.
  Status ApplyLocked(std::vector<Change>& changes, const SigningKey& key) {
    Poco::Int64 next_seq = 0;
    session_ << "SELECT COALESCE(MAX(seq) + 1, 0) FROM records", into(next_seq), now;
    const std::string time = Rfc3339(env_->Now());
    for (Change& c : changes) {
      std::optional<DocumentRow> doc;
      if (!c.doc_id.empty()) {
        auto r = GetDocument(c.doc_id);
        if (!r.ok()) return r.status();
        if (!r->has_value()) return Status::NotFound("document " + c.doc_id);
        doc = std::move(**r);
      }
      RecordFields f;
      f.seq = static_cast<uint64_t>(next_seq);
      f.time = time;
      f.key = key.KeyId();
      if (c.kind == Change::Kind::kVersion) {
        if (!doc) {
          doc = DocumentRow{};
          doc->id = NewDocumentId();
          doc->share = c.share;
          doc->path = c.path;
          doc->created = time;
          doc->classification = c.classification;
          Poco::Int64 zero = 0, minus = -1;
          session_ << "INSERT INTO documents(id, share, path, status, classification, current_version,"
                      " last_leaf, file_size, file_mtime_ns, file_inode, created, updated)"
                      " VALUES(?, ?, ?, 'active', ?, ?, '', ?, ?, ?, ?, ?)",
              bind(doc->id), bind(c.share), bind(c.path), bind(c.classification), bind(zero),
              bind(minus), bind(minus), bind(minus), bind(time), bind(time), now;
        }
        c.doc_id = doc->id;
        c.version = doc->current_version + 1;
        f.event = "version";
        f.sha256 = c.sha256;
        f.size = static_cast<uint64_t>(c.size);
        f.modified = Rfc3339FromNanos(c.modified_ns >= 0 ? c.modified_ns : c.file.mtime_ns);
        f.review = c.review_required ? "pending" : "approved";
        if (c.meta.empty()) c.meta = "{}";
        f.meta = Hex(Sha256Of(c.meta));
      } else {
        if (!doc) return Status::Invalid("event without a document");
        auto versions = Versions(doc->id);
        if (!versions.ok()) return versions.status();
        if (versions->empty()) return Status::Corruption("document " + doc->id + " has no versions");
        const VersionRow* subject = &versions->back();
        if (c.kind == Change::Kind::kWithdraw) {
          if (doc->status != "active") return Status::Invalid("document " + doc->id + " is already withdrawn");
          f.event = "withdraw";
        } else if (c.kind == Change::Kind::kApprove) {
          subject = nullptr;  // the latest pending version
          for (const VersionRow& v : *versions)
            if (v.review == "pending") subject = &v;
          if (!subject) return Status::Invalid("document " + doc->id + " has no pending version");
          f.event = "approve";
        } else if (c.kind == Change::Kind::kMove) {
          if (doc->status != "active") return Status::Invalid("document " + doc->id + " is withdrawn");
          if (c.path.empty() || c.path == doc->path) return Status::Invalid("move to the same path");
          f.from = doc->path;
          doc->path = c.path;
          f.event = "move";
        } else {
          if (c.classification != "public" && c.classification != "restricted")
            return Status::Invalid("classification must be public or restricted");
          if (c.classification == doc->classification)
            return Status::Invalid("document " + doc->id + " is already " + c.classification);
          doc->classification = c.classification;
          f.event = "classify";
        }
        c.version = subject->version;
        c.sha256 = subject->sha256;
        c.size = subject->size;
        f.sha256 = subject->sha256;
        f.size = static_cast<uint64_t>(subject->size);
        f.modified = subject->modified;
        f.review = c.kind == Change::Kind::kApprove ? "approved" : subject->review;
      }
      c.share = doc->share;
      c.path = doc->path;
      f.doc = doc->id;
      f.share = doc->share;
      f.path = doc->path;
      f.version = static_cast<uint64_t>(c.version);
      f.classification = doc->classification;
      f.prev = doc->last_leaf;

      RecordRow& rec = c.record;
      rec.seq = next_seq;
      rec.doc = doc->id;
      rec.record = SerializeRecord(f);
      rec.signature = Base64(key.Sign(rec.record));
      rec.key_id = key.KeyId();
      rec.leaf = Hex(LeafHash(rec.record));
      Poco::Int64 seq = next_seq;
      session_ << "INSERT INTO records(seq, doc, record, signature, key_id, leaf) VALUES(?, ?, ?, ?, ?, ?)",
          bind(seq), bind(rec.doc), bind(rec.record), bind(rec.signature), bind(rec.key_id),
          bind(rec.leaf), now;
      if (Status s = AppendLeaf(static_cast<uint64_t>(seq), LeafHash(rec.record)); !s.ok()) return s;

      Poco::Int64 version = c.version;
      if (c.kind == Change::Kind::kVersion) {
        Poco::Int64 size = c.size, fsize = c.file.size, fmtime = c.file.mtime_ns, finode = c.file.inode,
                    fctime = c.file.ctime_ns;
        session_ << "INSERT INTO versions(doc, version, sha256, size, modified, archived, log_index,"
                    " review, meta) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
            bind(doc->id), bind(version), bind(c.sha256), bind(size), bind(f.modified), bind(time),
            bind(seq), bind(f.review), bind(c.meta), now;
        session_ << "UPDATE documents SET status = 'active', current_version = ?, last_leaf = ?,"
                    " file_size = ?, file_mtime_ns = ?, file_inode = ?, file_ctime_ns = ?, updated = ? WHERE id = ?",
            bind(version), bind(rec.leaf), bind(fsize), bind(fmtime), bind(finode), bind(fctime), bind(time),
            bind(doc->id), now;
      } else if (c.kind == Change::Kind::kWithdraw) {
        session_ << "UPDATE documents SET status = 'withdrawn', last_leaf = ?, file_size = -1,"
                    " file_mtime_ns = -1, file_inode = -1, file_ctime_ns = 0, updated = ? WHERE id = ?",
            bind(rec.leaf), bind(time), bind(doc->id), now;
      } else if (c.kind == Change::Kind::kMove) {
        session_ << "UPDATE documents SET path = ?, last_leaf = ?, updated = ? WHERE id = ?", bind(doc->path),
            bind(rec.leaf), bind(time), bind(doc->id), now;
      } else {
        if (c.kind == Change::Kind::kApprove)
          session_ << "UPDATE versions SET review = 'approved' WHERE doc = ? AND version = ?", bind(doc->id),
              bind(version), now;
        session_ << "UPDATE documents SET classification = ?, last_leaf = ?, updated = ? WHERE id = ?",
            bind(doc->classification), bind(rec.leaf), bind(time), bind(doc->id), now;
      }
      ++next_seq;
    }
    return IssueCheckpoint(static_cast<uint64_t>(next_seq), key);
  }

  // Stores the nodes leaf `n` completes (inside the caller's transaction).
  Status AppendLeaf(uint64_t n, const Digest& leaf) {
    auto nodes = NodesForAppend(n, leaf, Nodes());
    if (!nodes.ok()) return nodes.status();
    for (const storage::TreeNode& node : *nodes) {
      int level = node.level;
      Poco::Int64 idx = static_cast<Poco::Int64>(node.index);
      Poco::Data::BLOB hash(node.hash.data(), node.hash.size());
      session_ << "INSERT INTO tree(level, idx, hash) VALUES(?, ?, ?)", bind(level), bind(idx), bind(hash), now;
    }
    return Status::OK();
  }

  // Signs and stores the checkpoint for tree size `size` (inside the transaction).
  Status IssueCheckpoint(uint64_t size, const SigningKey& key) {
    auto root = RootHash(size, Nodes());
    if (!root.ok()) return root.status();
    const std::string text = SignCheckpoint(Checkpoint{origin_, size, *root}, key);
    Poco::Int64 sz = static_cast<Poco::Int64>(size);
    const std::string time = Rfc3339(env_->Now());
    session_ << "INSERT OR REPLACE INTO checkpoints(size, text, created) VALUES(?, ?, ?)", bind(sz), bind(text),
        bind(time), now;
    return Status::OK();
  }

  Session session_;
  Env* env_;
  std::string origin_;
  StatementCache statements_;  // after session_: finalized before the connection closes
};

}  // namespace

Result<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path, Env* env,
                                                   const std::string& origin) {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Data::SQLite::Connector::registerConnector(); });
  try {
    auto catalog = std::make_unique<SqliteCatalog>(path, env, origin);
    if (Status s = catalog->Init(); !s.ok()) return s;
    return std::unique_ptr<Catalog>(std::move(catalog));
  } catch (const Poco::Exception& e) {
    return Status::IOError("open catalog " + path + ": " + e.displayText());
  }
}

}  // namespace gongkai::storage
