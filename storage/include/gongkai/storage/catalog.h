// The catalog: documents, versions and signed records.
//
// The catalog is the archive's source of truth (the Xapian index is derived
// from it). Catalog is an interface so a PostgreSQL backend can follow the
// SQLite one; callers never see SQL.
//
// Guarantees of Apply(): all changes of one call commit in one transaction
// (SQLite WAL, synchronous=FULL), each with exactly one signed record whose
// seq is the next log index, or none of them do. Record seqs have no gaps.
//
// Thread-safety: a Catalog object belongs to one thread at a time. Open one
// per thread; SQLite WAL lets many readers run beside the single writer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gongkai/status.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/env.h"

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
  std::string status;  // active | withdrawn
  std::string classification;
  int64_t current_version = 0;
  std::string last_leaf;  // hex leaf hash of the latest record of this document
  FileState file;
  std::string created;
  std::string updated;
};

struct VersionRow {
  std::string doc;
  int64_t version = 0;
  std::string sha256;
  int64_t size = 0;
  std::string modified;  // file mtime, RFC 3339
  std::string archived;  // RFC 3339
  int64_t log_index = 0;
  std::string review;  // approved | pending
  std::string meta;    // JSON object (sidecar metadata), "{}" when none
};

struct RecordRow {
  int64_t seq = 0;
  std::string doc;
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

// One change for Apply(). For kVersion, `doc_id` empty means a new document;
// kApprove approves the latest pending version; kClassify sets
// `classification`; kMove renames the document to `path` (same share). A change that does not apply (approve without a pending
// version, classify to the current value, withdraw twice) fails with Invalid.
struct Change {
  enum class Kind { kVersion, kWithdraw, kApprove, kClassify, kMove };
  Kind kind = Kind::kVersion;
  std::string doc_id;
  std::string share;
  std::string path;
  std::string sha256;
  int64_t size = 0;
  FileState file;
  std::string classification = "public";
  bool review_required = false;
  std::string meta = "{}";  // normalised sidecar metadata; its SHA-256 goes into the record
  int64_t modified_ns = -1;  // the file's own mtime (file.mtime_ns may include the sidecar's)
  // Filled in by Apply():
  int64_t version = 0;
  RecordRow record;
};

struct CatalogCounts {
  int64_t documents = 0;  // all documents, active and withdrawn
  int64_t active = 0;
  int64_t versions = 0;
  int64_t records = 0;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  virtual Result<std::optional<DocumentRow>> FindByPath(const std::string& share,
                                                        const std::string& path) = 0;
  virtual Result<std::optional<DocumentRow>> GetDocument(const std::string& id) = 0;
  virtual Result<std::vector<VersionRow>> Versions(const std::string& doc_id) = 0;
  virtual Result<std::vector<DocumentRow>> DocumentsInShare(const std::string& share) = 0;
  virtual Result<std::vector<DocumentRow>> AllDocuments() = 0;
  // Records with seq >= first, in order, at most `limit`.
  virtual Result<std::vector<RecordRow>> Records(int64_t first, int64_t limit) = 0;
  virtual Result<CatalogCounts> Counts() = 0;
  // For each of `ids` that anonymous users may see (public, with an approved
  // version): its latest approved version number. One query for a page of hits.
  virtual Result<std::map<std::string, int64_t>> PublicVersions(const std::vector<std::string>& ids) = 0;
  // Versions archived at or before `until` (RFC 3339 UTC).
  virtual Result<std::vector<LatestVersionRow>> LatestVersions(const std::string& until) = 0;
  // True when a restricted document has a version with this content (sha256
  // hex), other than `except_doc`: a copy or hard link of it elsewhere must
  // not become public by the back door.
  virtual Result<bool> RestrictedContent(const std::string& sha256, const std::string& except_doc) = 0;

  // Commits `changes` atomically, each signed with `key`; fills in version and
  // record. On error nothing is committed and `changes` is unspecified.
  virtual Status Apply(std::vector<Change>& changes, const SigningKey& key) = 0;
  // Records that the file behind a document changed only in metadata (same bytes).
  virtual Status UpdateFileState(const std::string& doc_id, const FileState& file) = 0;

  virtual Status AddKey(const KeyRow& key) = 0;
  // Marks every key but `active_key_id` retired (now), and registers the active one.
  virtual Status RotateTo(const KeyRow& active) = 0;
  virtual Result<std::vector<KeyRow>> Keys() = 0;

  // The Merkle log (see merkle.h): stored complete-subtree hashes, and every
  // checkpoint ever issued. Apply() extends both in its transaction.
  virtual Result<Digest> TreeNode(int level, uint64_t index) = 0;
  virtual Result<std::optional<CheckpointRow>> LatestCheckpoint() = 0;
  virtual Result<std::vector<CheckpointRow>> Checkpoints() = 0;
  // Holds one read snapshot until EndSnapshot() (SQLite: a read transaction),
  // so a long check sees one consistent state while the daemon appends.
  virtual Status BeginSnapshot() = 0;
  virtual Status EndSnapshot() = 0;
  // SQLite's PRAGMA integrity_check: "ok" or the problems it lists.
  virtual Result<std::string> IntegrityCheck() = 0;

  // A NodeReader over this catalog, for the merkle.h functions.
  std::function<Result<Digest>(int, uint64_t)> Nodes() {
    return [this](int level, uint64_t index) { return TreeNode(level, index); };
  }
};

// Opens (creating if missing) the SQLite catalog at `path`. `env` supplies the
// clock; `origin` names the log in the checkpoints Apply() signs.
Result<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path, Env* env,
                                                   const std::string& origin = "gongkai.localhost");

}  // namespace gongkai::storage
