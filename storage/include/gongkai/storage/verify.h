// `gongkai verify`: checks the archive end to end and names every problem.
//
// Checked here: the catalog's integrity (Catalog::IntegrityCheck); every
// key's id; every record's seq (no gaps), leaf hash, signature and `prev`
// chain; the stored Merkle nodes against a recomputation from the records;
// every stored checkpoint's signature and root (which makes consecutive
// checkpoints consistent: they are all prefixes of one recomputed tree);
// every document's versions against their records; every blob re-hashed
// against its name and the catalog; blobs nobody references; and optionally
// a checkpoint kept elsewhere (a rollback to an old backup or a rewritten log
// fails it).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gongkai/status.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"

namespace gongkai::storage {

struct VerifyProblem {
  std::string where;  // "record 12", "document abc v2", "blob ab12...", "checkpoint 40", ...
  std::string what;
};

struct VerifyOptions {
  std::string origin;               // the log's name in checkpoints
  std::string external_checkpoint;  // text of a checkpoint kept elsewhere, or ""
  // Called now and then: stage name, units done, units total (0 = unknown).
  std::function<void(const std::string&, uint64_t, uint64_t)> progress;
};

struct VerifyReport {
  std::vector<VerifyProblem> problems;  // tampering or inconsistency: exit 1
  std::vector<VerifyProblem> warnings;  // worth knowing, not a failure
  uint64_t records = 0, documents = 0, versions = 0, blobs = 0, blob_bytes = 0, checkpoints = 0,
           requests = 0;
};

// Reads the catalog in one snapshot. Returns non-OK only when the check
// itself could not run (I/O); findings go into the report.
Result<VerifyReport> VerifyArchive(Catalog* catalog, const BlobStore& blobs,
                                   const std::string& blobs_root, const VerifyOptions& options);

}  // namespace gongkai::storage
