// The archiver: turns due files from the settle queue into durable versions.
//
// For each file it checks completeness (stable size and mtime for the settle
// time), copies it into the blob store while hashing, re-checks that the file
// did not change during the copy (else it is retried later, never archived as
// a mix of two states), and then commits the batch's versions and
// withdrawals, with their signed records, in one catalog transaction.
//
// The archiver is the ledger's only user in the daemon: every change to the
// archive's history goes through it. It runs on one
// thread; stats() may be read from any thread.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gongkai/config.h"
#include "gongkai/ledger/ledger.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/crypto.h"
#include "safe_path.h"
#include "settle_queue.h"
#include "sidecar.h"

namespace gongkai::daemon {

struct FailedFile {
  std::string share, path, error;
  // The file's state then: it is tried again once any of these changes
  // (ctime too, so a chmod that makes it readable counts).
  int64_t size = -1, mtime_ns = -1, ctime_ns = 0;
};

class Archiver {
 public:
  // `ledger` (and its catalog) is the archiver's own: it must outlive it and
  // be used by no other thread.
  Archiver(const Config& config, ledger::Ledger* ledger, storage::BlobStore* blobs,
           std::shared_ptr<const storage::SigningKey> key, SettleQueue* queue,
           std::function<void(int64_t last_seq)> on_commit);

  // Signs everything from the next batch on with `key` (key rotation). Thread-safe.
  void SetKey(std::shared_ptr<const storage::SigningKey> key);

  // Runs requested rescans (and those of shares whose files a full queue
  // refused, once it has drained), then takes due files (waiting up to `wait`),
  // archives them and commits them in one transaction.
  void RunOnce(std::chrono::milliseconds wait);

  // Asks for a scan of share `i` on the archiver's thread: it queues every
  // file whose size, mtime or inode differs from the catalog, and every
  // active document whose file is gone. Thread-safe.
  void RequestRescan(size_t i);

  // A rename inside share `i` (a file, or a folder with everything in it):
  // the documents keep their ids and get a signed `move` record. Thread-safe.
  void RequestMove(size_t i, const std::string& from, const std::string& to, bool is_dir);

  // Applies one administrative change (approve, classify) on the archiver's
  // thread and waits for its commit. Thread-safe; fails with Busy if the
  // archiver does not get to it within 30 s.
  Result<ledger::Change> Submit(ledger::Change change);

  // Runs `fn` with the archiver's ledger and signing key on its thread and
  // waits for it (disclosure requests: Ledger::Register, AddRequestEvent).
  // Thread-safe; Busy as for Submit().
  Status WithLedger(const std::function<Status(ledger::Ledger&, const storage::SigningKey&)>& fn);

  // Makes a new active signing key (storage::RotateSigningKey, in `keys_dir`)
  // on the archiver's thread, between batches, and signs with it from the
  // next batch on; returns its id. Thread-safe; Busy as for Submit().
  Result<std::string> RotateKey(storage::Env* env, const std::string& keys_dir);

  size_t in_flight() const { return in_flight_.load(); }
  // Unix time of the last catalog commit (0 = none since start).
  int64_t last_commit_unix() const { return last_commit_unix_.load(); }
  std::vector<FailedFile> failures() const;
  // Why ingest is paused ("" when it is not): writing to the data folder
  // failed (a full disk, I/O errors). Set by the first such failure, which
  // pauses the rest of its batch; cleared by the next successful commit.
  // Searches and downloads are unaffected. Thread-safe.
  std::string storage_problem() const;

 private:
  // Archives one due file, appending its changes (if any) to `changes`; a file
  // that is not ready is put back in the queue, one that fails is recorded.
  void Process(PendingFile& f, std::vector<ledger::Change>& changes);
  // The steps of Process().
  struct SharedFile {  // a file in a share, opened beneath it (safe_path.h)
    UniqueFd parent;
    std::string leaf;
  };
  struct Copy {           // a file copied into an unfinished blob
    struct stat stat {};  // at open
    std::unique_ptr<storage::BlobWriter> writer;
    std::string sha256;
  };
  // The file could not be looked at (errno `err`): a withdrawal if it is gone.
  void Gone(const PendingFile& f, const std::optional<storage::DocumentRow>& doc, int err,
            std::vector<ledger::Change>& changes);
  // True when the file failed before in the same state (not retried).
  bool FailedBefore(const PendingFile& f, const storage::FileState& state);
  // True when the file's size and mtime held still for the settle time;
  // else it is looked at again after it.
  bool Settled(PendingFile& f, const storage::FileState& state);
  // Copies the file into a blob while hashing; nullopt (recorded, retried or
  // requeued) on failure or when it changed during the copy.
  std::optional<Copy> CopyToBlob(const PendingFile& f, const SharedFile& file,
                                 const storage::FileState& state);
  bool ReadInto(const PendingFile& f, int fd, Copy& copy, const storage::FileState& state);
  bool HeldStill(const PendingFile& f, const SharedFile& file, int fd, const Copy& copy);
  // True (and the file's new state recorded) when the copy has the latest
  // version's bytes and metadata.
  bool SameAsLatest(const storage::DocumentRow& doc, const std::string& sha256,
                    const std::string& meta, const storage::FileState& archived);
  // The classification a new version asks for: the sidecar's, else the
  // share's; restricted when a restricted document holds the same bytes.
  Classification WantedClassification(const PendingFile& f,
                                      const std::optional<storage::DocumentRow>& doc,
                                      const std::string& sha256,
                                      const std::optional<Sidecar>& sidecar,
                                      bool* copy_of_restricted);
  // Appends the version change, and a classify change when the sidecar or
  // restricted content changes an existing document's classification.
  void AddVersion(const PendingFile& f, const std::optional<storage::DocumentRow>& doc,
                  const Copy& copy, const std::optional<Sidecar>& sidecar,
                  const storage::FileState& archived, std::vector<ledger::Change>& changes);
  // After a commit: the metrics' time stamp and the on_commit callback.
  void Committed(const std::vector<ledger::Change>& changes);
  void Committed(int64_t last_seq);
  Status ScanShare(size_t i);
  struct Move {
    size_t share;
    std::string from, to;
    bool is_dir;
  };
  void ApplyMove(const Move& m);
  void Fail(const PendingFile& f, const storage::FileState& state, const std::string& error);
  // A failure on our side (writing the blob or the catalog): the file is
  // copied again after retry_interval, and ingest is paused (logged once).
  void RetryLater(const PendingFile& f, const std::string& what, const Status& s);
  void StorageFailed(const std::string& what, const Status& s);
  void StorageRecovered();  // a batch went through: logs and clears the pause
  // Within one batch: a public version with the same bytes as a restricted
  // one becomes restricted too (fail closed; see Process()).
  void KeepRestrictedContentRestricted(std::vector<ledger::Change>& changes);
  size_t storage_failures_in_batch_ = 0;  // archiver thread only

  const Config& config_;
  ledger::Ledger* ledger_;
  storage::Catalog* catalog_;  // the ledger's
  storage::BlobStore* blobs_;
  std::shared_ptr<const storage::SigningKey> Key() const;
  mutable std::mutex key_mutex_;
  std::shared_ptr<const storage::SigningKey> key_;
  SettleQueue* queue_;
  std::function<void(int64_t)> on_commit_;
  std::atomic<size_t> in_flight_{0};
  std::atomic<int64_t> last_commit_unix_{0};
  mutable std::mutex failures_mutex_;
  std::map<std::pair<size_t, std::string>, FailedFile> failures_;
  std::string storage_problem_;  // guarded by failures_mutex_
  Clock::time_point paused_since_;
  std::mutex rescan_mutex_;
  std::set<size_t> rescans_;
  std::set<size_t> scanned_once_;  // archiver thread only
  std::vector<Move> moves_;        // guarded by rescan_mutex_
  struct Command {
    std::function<Status()> run;
    std::promise<Status> done;
    // 0 pending, 1 running, 2 cancelled (the caller gave up before it ran).
    std::shared_ptr<std::atomic<int>> state = std::make_shared<std::atomic<int>>(0);
  };
  // Runs `run` on the archiver's thread before its next batch and waits for
  // it; Busy when it has not started within 30 s, and then it never runs.
  Status RunOnThread(std::function<Status()> run);
  // Commits one administrative change (archiver thread).
  Status ApplyAdminChange(std::vector<ledger::Change>& one);
  std::mutex commands_mutex_;
  std::deque<Command> commands_;
};

}  // namespace gongkai::daemon
