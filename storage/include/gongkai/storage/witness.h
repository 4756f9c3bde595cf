// A C2SP tlog-witness (https://c2sp.org/tlog-witness): the add-checkpoint
// call for the logs it knows, cosigning with Ed25519 (cosignature/v1).
//
// Guarantees:
// - A checkpoint is cosigned only when it is signed by its log's key and
//   consistent with the last one cosigned for that origin (a consistency
//   proof from it, or the same root at the same size).
// - The new checkpoint is persisted before the cosignature is returned, and
//   the check of the old size and the update are one atomic step in the
//   store: the held size never goes back (the spec's rollback race).
// - A validly signed checkpoint that is not consistent with the held one is
//   a split view: refused with 422, never cosigned, and recorded in the store
//   with both checkpoints as evidence.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gongkai/status.h"
#include "gongkai/storage/crypto.h"

namespace gongkai::storage {

// The body of a POST add-checkpoint request.
struct AddCheckpointRequest {
  uint64_t old_size = 0;
  std::vector<Digest> proof;  // at most 63
  std::string checkpoint;     // a signed note
};
// Invalid when `body` is not "old N\n", base64 hash lines, "\n", checkpoint.
Result<AddCheckpointRequest> ParseAddCheckpoint(std::string_view body);
// The request body for `r` (what a log sends).
std::string FormatAddCheckpoint(const AddCheckpointRequest& r);

// The latest checkpoint a witness cosigned for one origin.
struct WitnessedCheckpoint {
  uint64_t size = 0;
  Digest root{};
  std::string note;  // as submitted, with the witness's cosignature added
};

// A split view: evidence that a log signed two inconsistent trees.
struct SplitView {
  std::string origin;
  std::string reason;
  std::string held;       // the note the witness held
  std::string submitted;  // the note that contradicts it
  int64_t at = 0;         // POSIX seconds when the witness saw it
};

// Where a witness keeps its state. Implementations must make Advance atomic
// against every other Advance for the same origin, across processes.
class WitnessStore {
 public:
  virtual ~WitnessStore() = default;
  // The latest cosigned checkpoint for `origin`, or nullopt if none.
  virtual Result<std::optional<WitnessedCheckpoint>> Latest(const std::string& origin) = 0;
  // Stores `next` if the held size is still `old_size` (0 when none is
  // held). Returns the size held before the call: `next` was stored if and
  // only if that is `old_size`.
  virtual Result<uint64_t> Advance(const std::string& origin, uint64_t old_size,
                                   const WitnessedCheckpoint& next) = 0;
  virtual Status RecordSplitView(const SplitView& alarm) = 0;
  virtual Result<std::vector<SplitView>> SplitViews() = 0;
};

// The witness state in PostgreSQL (tables witness_checkpoints and
// witness_split_views, created if missing). `conninfo` as libpq reads it.
// Thread-safe: calls are serialized on one connection.
Result<std::unique_ptr<WitnessStore>> OpenPostgresWitnessStore(const std::string& conninfo);

// A log the witness knows: its origin and its note key.
struct WitnessedLog {
  std::string origin;
  std::string raw_public;  // Ed25519, 32 bytes
};

class Witness {
 public:
  struct Answer {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::string origin;                   // the checkpoint's, once it parsed
    std::optional<SplitView> split_view;  // set when this request proved one
  };

  // `name` and `key` sign the cosignatures; `now` gives POSIX seconds (a seam
  // for tests). `key` and `store` must outlive the witness.
  Witness(std::string name, const SigningKey* key, std::vector<WitnessedLog> logs,
          WitnessStore* store, std::function<int64_t()> now);

  // POST <prefix>/add-checkpoint: the spec's status codes (400, 403, 404,
  // 409 with text/x.tlog.size, 422), or 200 and the cosignature line. A store
  // failure is a 503 and cosigns nothing.
  Answer AddCheckpoint(std::string_view body);

  // GET <prefix>/<origin hash>/checkpoint: the latest cosigned note, or
  // nullopt (404) if none is held for the origin whose SHA-256 is
  // `origin_hash` (lowercase hex).
  Result<std::optional<std::string>> CheckpointFor(const std::string& origin_hash);

  const std::string& name() const { return name_; }
  const std::vector<WitnessedLog>& logs() const { return logs_; }
  std::string VerifierKey() const;  // the cosigner's vkey (type 0x04)

 private:
  Answer Check(std::string_view body, std::string* origin);

  std::string name_;
  const SigningKey* key_;
  std::vector<WitnessedLog> logs_;
  WitnessStore* store_;
  std::function<int64_t()> now_;
};

}  // namespace gongkai::storage
