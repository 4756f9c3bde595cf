// BagIt (RFC 8493) export of the archive, and its offline check
// (gongkai(1), export and verify-bag; docs/verify.md).
//
// A bag is one tar or zip (chosen by the output's extension) holding one
// top-level folder <bag>/ with:
//
//   bagit.txt
//   data/<share>/<path>/v<N>/<file name>   every archived version in scope
//   manifest-sha256.txt                    payload checksums (RFC 8493 §2.1.3)
//   bag-info.txt                           Source-Organization, Bagging-Date,
//                                          Payload-Oxum, Bag-Software-Agent, ...
//   gongkai/checkpoint                     the latest signed checkpoint, as issued
//   gongkai/keys/<key_id>.pub              every signing key (PEM)
//   gongkai/records.jsonl                  the signed records of the exported
//                                          documents (their whole history), one
//                                          per line, exactly the signed bytes
//   gongkai/signatures.jsonl               {"seq","key_id","signature"} per record
//   gongkai/proofs.jsonl                   {"seq","leaf","tree_size","inclusion"}:
//                                          RFC 9162 path to the checkpoint's root
//   gongkai/versions.jsonl                 {"file","doc","version","seq","sha256","size"}:
//                                          which record vouches for which payload file
//   tagmanifest-sha256.txt                 checksums of all the above tag files
//
// File names are written as UTF-8 exactly as stored (never NFC/NFD-normalised;
// the zip's UTF-8 flag is set). Manifest paths percent-encode CR, LF and %.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gongkai/status.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"

namespace gongkai::storage {

struct BagExportOptions {
  std::string share;     // only this share; "" = every share
  std::string since;     // "YYYY-MM-DD": only versions archived on or after it (UTC); "" = all
  std::string origin;    // the log's origin: Source-Organization and the checkpoint's key name
  std::string software;  // Bag-Software-Agent, e.g. "gongkai 0.1.0"
  // Called after each payload file: files and bytes done, and their totals.
  std::function<void(uint64_t files, uint64_t files_total, uint64_t bytes, uint64_t bytes_total)>
      progress;
};

struct BagExportReport {
  uint64_t documents = 0, files = 0, bytes = 0, records = 0;
  uint64_t log_size = 0;  // the checkpoint the proofs lead to
  std::string bag_name;   // the top-level folder
};

// Writes a bag of the catalog's current state (records, checkpoint, keys and
// the version list are read in one snapshot, ended before the payload) to
// `out_path`, which must end in .tar or .zip. The archive is streamed:
// payload bytes go from the blob files through a 1 MiB buffer into the
// archive, so memory does not grow with the archive's size (it holds one row
// per exported version and document); the JSON-lines tag files are spooled to
// anonymous temporary files in the output's folder. Each blob is re-hashed as
// it is written; a blob that no longer matches its catalog entry fails the
// export (Corruption).
// The bag is written to "<out_path>.partial" and renamed into place only when
// complete; on error nothing is left at `out_path`.
// Returns NotFound when nothing is in scope. Never throws.
Result<BagExportReport> ExportBag(Catalog* catalog, const BlobStore& blobs,
                                  const std::string& out_path, const BagExportOptions& options);

struct BagProblem {
  std::string where;  // "data/pub/a.txt/v1/a.txt", "manifest-sha256.txt line 3", "record 12", ...
  std::string what;
};

struct BagCheckReport {
  std::vector<BagProblem> problems;  // anything wrong: exit 1
  std::string bag_name;
  uint64_t payload_files = 0, payload_bytes = 0, records = 0, proofs = 0, keys = 0;
  uint64_t log_size = 0;
};

// Checks a bag written by ExportBag offline, in one pass over the tar or zip:
// bagit.txt; every payload file's SHA-256 against manifest-sha256.txt, with
// no file missing or extra; tagmanifest-sha256.txt; Payload-Oxum; each key's
// id; the checkpoint's signature; each record's signature, `prev` chain and
// inclusion proof against the checkpoint's root; and each payload file
// against the `version` record that vouches for it. Payload files are hashed
// as they stream by; tag files are held in memory.
// `progress` (optional) is called as the file is read: its bytes read so
// far (compressed, as on disk) and its size.
// Returns non-OK only when the bag cannot be read at all (I/O, not an
// archive); every finding goes into the report. Never throws.
Result<BagCheckReport> CheckBag(
    const std::string& path,
    const std::function<void(uint64_t bytes_read, uint64_t bytes_total)>& progress = {});

// RFC 8493 §2.1.3: a manifest path with CR, LF and % percent-encoded, and back.
std::string EncodeManifestPath(const std::string& path);
std::string DecodeManifestPath(const std::string& path);

}  // namespace gongkai::storage
