#include "archiver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>

#include "gongkai/indexer/extract.h"
#include "gongkai/log.h"
#include "gongkai/storage/keys.h"
#include "gongkai/utf8.h"
#include "safe_path.h"
#include "sidecar.h"
#include "watcher.h"

namespace gongkai::daemon {
namespace {

constexpr size_t kBatchMax = 256;
constexpr size_t kCopyBuffer = size_t{256} * 1024;

int64_t Nanos(const struct timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}
int64_t MtimeNs(const struct stat& st) { return Nanos(st.st_mtim); }

storage::FileState StateOf(const struct stat& st) {
  return {static_cast<int64_t>(st.st_size), MtimeNs(st), static_cast<int64_t>(st.st_ino),
          Nanos(st.st_ctim)};
}

// The sidecar's times count as the document's (the later of each).
storage::FileState WithSidecarTimes(storage::FileState state, const struct stat& sc) {
  state.mtime_ns = std::max(state.mtime_ns, MtimeNs(sc));
  state.ctime_ns = std::max(state.ctime_ns, Nanos(sc.st_ctim));
  return state;
}

// A document's state includes its sidecar: editing only NAME.meta.json must
// also count as a change (at start-up scans too).
storage::FileState WithSidecar(storage::FileState state, const std::string& abs) {
  struct stat sc {};
  if (::lstat((abs + kSidecarSuffix).c_str(), &sc) == 0 && S_ISREG(sc.st_mode))
    return WithSidecarTimes(state, sc);
  return state;
}

// The same, for a file opened beneath its share (see safe_path.h).
storage::FileState WithSidecar(storage::FileState state, int parent, const std::string& leaf) {
  struct stat sc {};
  if (::fstatat(parent, (leaf + kSidecarSuffix).c_str(), &sc, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISREG(sc.st_mode))
    return WithSidecarTimes(state, sc);
  return state;
}

// The sidecar's metadata, or nullopt when there is none. A sidecar that
// exists but cannot be used fails closed: the document is archived as
// restricted until the sidecar is fixed (it might have said "restricted").
std::optional<Sidecar> ReadSidecarFile(const ShareConfig& share, const std::string& rel, int parent,
                                       const std::string& leaf) {
  const std::string where = share.name + ":" + rel + kSidecarSuffix;
  UniqueFd fd(::openat(parent, (leaf + kSidecarSuffix).c_str(),
                       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  std::string text, error;
  if (!fd.ok()) {
    // NAME.meta.json cannot exist when NAME is within 10 bytes of NAME_MAX.
    if (errno == ENOENT || errno == ENAMETOOLONG) return std::nullopt;
    error = std::strerror(errno);
  } else {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      error = "not a regular file";
    } else if (static_cast<size_t>(st.st_size) > kSidecarMaxBytes) {
      error = "larger than 64 KiB";
    } else {
      text.resize(static_cast<size_t>(st.st_size));
      ssize_t n = ::read(fd.get(), text.data(), text.size());
      text.resize(n > 0 ? static_cast<size_t>(n) : 0);
    }
  }
  if (error.empty()) {
    auto parsed = ParseSidecar(text);
    if (parsed.ok()) {
      for (const auto& note : parsed->notes) log::Warning("sidecar " + where + ": " + note);
      return *parsed;
    }
    error = parsed.status().message();
  }
  log::Error("bad sidecar " + where + ": " + error +
             " (the document is kept restricted until it is fixed)");
  auto closed = ParseSidecar(R"({"classification":"restricted"})");
  return *closed;
}

// The metadata a version is archived with: its sidecar's, with the share's
// default category ([share.*] category) where the sidecar names none.
std::optional<Sidecar> ReadSidecar(const ShareConfig& share, const std::string& rel, int parent,
                                   const std::string& leaf) {
  std::optional<Sidecar> sidecar = ReadSidecarFile(share, rel, parent, leaf);
  if (share.category.empty()) return sidecar;
  return WithDefaultCategory(sidecar ? std::move(*sidecar) : Sidecar{}, share.category);
}

}  // namespace

Archiver::Archiver(const Config& config, ledger::Ledger* ledger, storage::BlobStore* blobs,
                   std::shared_ptr<const storage::SigningKey> key, SettleQueue* queue,
                   std::function<void(int64_t)> on_commit)
    : config_(config),
      ledger_(ledger),
      catalog_(ledger->catalog()),
      blobs_(blobs),
      key_(std::move(key)),
      queue_(queue),
      on_commit_(std::move(on_commit)) {}

void Archiver::Committed(const std::vector<ledger::Change>& changes) {
  Committed(changes.back().record.seq);
}

void Archiver::Committed(int64_t last_seq) {
  last_commit_unix_ = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  on_commit_(last_seq);
}

void Archiver::SetKey(std::shared_ptr<const storage::SigningKey> key) {
  std::lock_guard<std::mutex> lock(key_mutex_);
  key_ = std::move(key);
}

std::shared_ptr<const storage::SigningKey> Archiver::Key() const {
  std::lock_guard<std::mutex> lock(key_mutex_);
  return key_;
}

std::vector<FailedFile> Archiver::failures() const {
  std::lock_guard<std::mutex> lock(failures_mutex_);
  std::vector<FailedFile> out;
  for (const auto& [k, f] : failures_) out.push_back(f);
  return out;
}

void Archiver::Fail(const PendingFile& f, const storage::FileState& state,
                    const std::string& error) {
  const ShareConfig& share = config_.shares[f.share];
  log::Error("cannot archive " + share.name + ":" + f.rel + ": " + error +
             " (retried when the file changes)");
  std::lock_guard<std::mutex> lock(failures_mutex_);
  failures_[{f.share, f.rel}] = {share.name, f.rel,          error,
                                 state.size, state.mtime_ns, state.ctime_ns};
}

std::string Archiver::storage_problem() const {
  std::lock_guard<std::mutex> lock(failures_mutex_);
  return storage_problem_;
}

void Archiver::RetryLater(const PendingFile& f, const std::string& what, const Status& s) {
  queue_->Requeue(f, Clock::now() + config_.retry_interval);
  StorageFailed(what + " " + config_.shares[f.share].name + ":" + f.rel, s);
}

void Archiver::StorageFailed(const std::string& what, const Status& s) {
  ++storage_failures_in_batch_;
  std::lock_guard<std::mutex> lock(failures_mutex_);
  if (!storage_problem_.empty()) {
    log::Debug(what + ": " + s.ToString());
    return;
  }
  storage_problem_ = what + ": " + s.ToString();
  paused_since_ = Clock::now();
  log::Error("ingest paused: " + storage_problem_ + " (data folder " + config_.data_dir +
             "); retrying every " + std::to_string(config_.retry_interval.count()) +
             " ms, searches and downloads keep working");
}

void Archiver::StorageRecovered() {
  std::lock_guard<std::mutex> lock(failures_mutex_);
  if (storage_problem_.empty()) return;
  const auto paused =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - paused_since_);
  log::Info("ingest resumed after " + std::to_string(paused.count()) +
            " s (was: " + storage_problem_ + ")");
  storage_problem_.clear();
}

Status Archiver::ScanShare(size_t i) {
  const ShareConfig& share = config_.shares[i];
  const auto started = Clock::now();
  // What the walk finds is taken out of `archived`; what is left was not found.
  auto archived = catalog_->ArchivedFiles(share.name);
  if (!archived.ok()) return archived.status();
  const auto now = Clock::now();
  const bool first = !scanned_once_.count(i);
  scanned_once_.insert(i);
  size_t queued = 0, refused = 0, seen = 0;
  // A file refused by a full queue marks the share for another scan once the
  // queue has drained (SettleQueue::TakeRescans), so none is stranded.
  const auto check = [&](const std::string& rel) {
    ++(queue_->Touch(i, rel, now) ? queued : refused);
  };
  WalkShare(share, "", [&](const std::string& rel, const struct stat& st) {
    ++seen;
    const auto known = archived->extract(rel);
    if (known && known.mapped().Matches(WithSidecar(StateOf(st), share.path + "/" + rel)))
      return;  // unchanged: not re-read
    check(rel);
  });
  for (const auto& gone : *archived) check(gone.first);  // the archiver withdraws it
  // Periodic scans that find nothing would flood the log: those are debug
  // (the start-up scan is always reported, with its time).
  char took[32];
  std::snprintf(took, sizeof took, " in %.2f s",
                std::chrono::duration<double>(Clock::now() - started).count());
  log::Write(
      first || queued || refused ? log::Level::kInfo : log::Level::kDebug,
      "scanned share " + share.name + ": " + std::to_string(seen) + " files, " +
          std::to_string(queued) + " to check" +
          (refused ? ", " + std::to_string(refused) + " left for a rescan once the queue drains"
                   : "") +
          took);
  return Status::OK();
}

void Archiver::Process(PendingFile& f, std::vector<ledger::Change>& changes) {
  const ShareConfig& share = config_.shares[f.share];
  auto found = catalog_->FindByPath(share.name, f.rel);
  if (!found.ok()) {
    log::Error(found.status().ToString());
    return;
  }
  const std::optional<storage::DocumentRow>& doc = *found;
  // Every lookup below goes through `file.parent`, opened without following
  // symlinks, so a folder swapped for a symlink cannot lead out of the share.
  SharedFile file;
  file.parent = OpenParentBeneath(share.path, f.rel, &file.leaf);
  struct stat st {};
  if (!file.parent.ok() ||
      ::fstatat(file.parent.get(), file.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    Gone(f, doc, errno, changes);
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    log::Info("skipping " + share.name + ":" + f.rel + ": not a regular file");
    return;
  }
  const storage::FileState state = WithSidecar(StateOf(st), file.parent.get(), file.leaf);
  if (doc && doc->status == DocumentStatus::kActive && doc->file.Matches(state)) return;
  if (FailedBefore(f, state)) return;
  // Records, the API and exports are UTF-8: a name that is not (a GBK name
  // from an old tool) cannot be signed as it is, and a silently repaired one
  // would no longer name the file. It waits in the failure registry.
  if (!IsValidUtf8(f.rel))
    return Fail(f, state, "the file name is not valid UTF-8; rename the file to archive it");
  if (!Settled(f, state)) return;
  std::optional<Copy> copy = CopyToBlob(f, file, state);
  if (!copy) return;
  const std::optional<Sidecar> sidecar = ReadSidecar(share, f.rel, file.parent.get(), file.leaf);
  const std::string meta = sidecar ? sidecar->json : "{}";
  const storage::FileState archived =
      WithSidecar(StateOf(copy->stat), file.parent.get(), file.leaf);
  if (doc && SameAsLatest(*doc, copy->sha256, meta, archived)) return;
  if (Status s = copy->writer->Commit(); !s.ok()) return RetryLater(f, "cannot store blob for", s);
  AddVersion(f, doc, *copy, sidecar, archived, changes);
}

void Archiver::Gone(const PendingFile& f, const std::optional<storage::DocumentRow>& doc, int err,
                    std::vector<ledger::Change>& changes) {
  if (err != ENOENT && err != ENOTDIR && err != ELOOP)
    return Fail(f, storage::FileState{}, std::string("stat: ") + std::strerror(err));
  if (!doc || doc->status != DocumentStatus::kActive) return;
  ledger::Change c;
  c.kind = ledger::Change::Kind::kWithdraw;
  c.doc_id = doc->id;
  changes.push_back(std::move(c));
}

bool Archiver::FailedBefore(const PendingFile& f, const storage::FileState& state) {
  std::lock_guard<std::mutex> lock(failures_mutex_);
  auto it = failures_.find({f.share, f.rel});
  if (it == failures_.end()) return false;
  const FailedFile& was = it->second;
  if (was.size == state.size && was.mtime_ns == state.mtime_ns &&
      (was.ctime_ns == 0 || was.ctime_ns == state.ctime_ns))
    return true;
  failures_.erase(it);  // it changed: try again
  return false;
}

bool Archiver::Settled(PendingFile& f, const storage::FileState& state) {
  const auto settle_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(config_.settle).count();
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const bool old_enough = now_ns - state.mtime_ns >= settle_ns;
  const bool unchanged_since_last_look =
      f.seen && f.size == state.size && f.mtime_ns == state.mtime_ns;
  if (old_enough || unchanged_since_last_look) return true;
  f.seen = true;
  f.size = state.size;
  f.mtime_ns = state.mtime_ns;
  queue_->Requeue(f, Clock::now() + config_.settle);
  return false;
}

std::optional<Archiver::Copy> Archiver::CopyToBlob(const PendingFile& f, const SharedFile& file,
                                                   const storage::FileState& state) {
  UniqueFd fd(::openat(file.parent.get(), file.leaf.c_str(),
                       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd.ok()) {
    if (errno == ENOENT)
      queue_->Touch(f.share, f.rel, Clock::now() + config_.settle);  // vanished: look again soon
    else
      Fail(f, state, std::string("open: ") + std::strerror(errno));
    return std::nullopt;
  }
  Copy copy;
  if (::fstat(fd.get(), &copy.stat) != 0) {
    Fail(f, state, std::string("fstat: ") + std::strerror(errno));
    return std::nullopt;
  }
  if (!S_ISREG(copy.stat.st_mode)) return std::nullopt;
  auto writer = blobs_->NewWriter();
  if (!writer.ok()) {
    RetryLater(f, "cannot archive", writer.status());
    return std::nullopt;
  }
  copy.writer = std::move(*writer);
  if (!ReadInto(f, fd.get(), copy, state) || !HeldStill(f, file, fd.get(), copy))
    return std::nullopt;
  auto sha = copy.writer->Finish();
  if (!sha.ok()) {
    RetryLater(f, "cannot archive", sha.status());
    return std::nullopt;
  }
  copy.sha256 = *sha;
  return copy;
}

bool Archiver::ReadInto(const PendingFile& f, int fd, Copy& copy, const storage::FileState& state) {
  std::string buf(kCopyBuffer, '\0');
  // At most the size seen at open, and one byte more to notice growth: a
  // file that grows as fast as it is read (a log that never stops) must not
  // keep the archiver here or fill the data folder; it is tried again later.
  off_t left = copy.stat.st_size + 1;
  while (left > 0) {
    ssize_t n = ::read(fd, buf.data(),
                       static_cast<size_t>(std::min<off_t>(left, static_cast<off_t>(buf.size()))));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Fail(f, state, std::string("read: ") + std::strerror(errno));
      return false;
    }
    if (n == 0) break;
    left -= n;
    if (Status s = copy.writer->Append(buf.data(), static_cast<size_t>(n)); !s.ok()) {
      RetryLater(f, "cannot archive", s);
      return false;
    }
  }
  return true;
}

bool Archiver::HeldStill(const PendingFile& f, const SharedFile& file, int fd, const Copy& copy) {
  struct stat after {
  }, now{};
  const bool same =
      ::fstat(fd, &after) == 0 && StateOf(copy.stat) == StateOf(after) &&
      ::fstatat(file.parent.get(), file.leaf.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 &&
      StateOf(now) == StateOf(copy.stat) &&
      static_cast<int64_t>(copy.writer->size()) == static_cast<int64_t>(after.st_size);
  if (same) return true;
  log::Info("file changed while being copied, will retry: " + config_.shares[f.share].name + ":" +
            f.rel);
  queue_->Touch(f.share, f.rel, Clock::now() + config_.settle);
  return false;
}

bool Archiver::SameAsLatest(const storage::DocumentRow& doc, const std::string& sha256,
                            const std::string& meta, const storage::FileState& archived) {
  if (doc.status != DocumentStatus::kActive) return false;
  auto versions = catalog_->Versions(doc.id);
  if (!versions.ok() || versions->empty()) return false;
  if (versions->back().sha256 != sha256 || versions->back().meta != meta) return false;
  // Touched, or copied over unchanged: no version, only the file's new state.
  if (Status s = catalog_->UpdateFileState(doc.id, archived); !s.ok()) log::Error(s.ToString());
  return true;
}

Classification Archiver::WantedClassification(const PendingFile& f,
                                              const std::optional<storage::DocumentRow>& doc,
                                              const std::string& sha256,
                                              const std::optional<Sidecar>& sidecar,
                                              bool* copy_of_restricted) {
  const ShareConfig& share = config_.shares[f.share];
  const Classification wanted =
      sidecar && sidecar->classification ? *sidecar->classification : share.classification;
  *copy_of_restricted = false;
  if ((doc ? doc->classification : wanted) != Classification::kPublic) return wanted;
  // Fail closed: the bytes of a restricted document (a copy, or a hard link
  // into a public share) stay restricted here too until an admin decides.
  auto restricted = catalog_->RestrictedAmong({sha256}, doc ? doc->id : "");
  *copy_of_restricted = !restricted.ok() || !restricted->empty();
  if (!*copy_of_restricted) return wanted;
  log::Warning(share.name + ":" + f.rel +
               " has the content of a restricted document: archived as restricted" +
               " until an admin classifies it public" +
               (restricted.ok() ? "" : " (" + restricted.status().ToString() + ")"));
  return Classification::kRestricted;
}

void Archiver::AddVersion(const PendingFile& f, const std::optional<storage::DocumentRow>& doc,
                          const Copy& copy, const std::optional<Sidecar>& sidecar,
                          const storage::FileState& archived,
                          std::vector<ledger::Change>& changes) {
  const ShareConfig& share = config_.shares[f.share];
  bool copy_of_restricted = false;
  ledger::Change c;
  c.kind = ledger::Change::Kind::kVersion;
  c.doc_id = doc ? doc->id : "";
  c.share = share.name;
  c.path = f.rel;
  c.sha256 = copy.sha256;
  c.size = static_cast<int64_t>(copy.stat.st_size);
  c.file = archived;
  c.modified_ns = MtimeNs(copy.stat);
  c.meta = sidecar ? sidecar->json : "{}";
  c.classification = WantedClassification(f, doc, copy.sha256, sidecar, &copy_of_restricted);
  c.review_required = share.review == Review::kRequired;
  changes.push_back(std::move(c));
  if (!doc) return;
  // A sidecar that changes its classification re-classifies the document (a
  // signed classify record), as does restricted content. Otherwise an
  // admin's choice stands.
  std::optional<Classification> reclassify;
  if (copy_of_restricted) {
    reclassify = Classification::kRestricted;
  } else if (sidecar && sidecar->classification) {
    auto versions = catalog_->Versions(doc->id);
    const std::optional<Classification> previous =  // what the previous version's sidecar said
        versions.ok() && !versions->empty()
            ? SidecarFromStored(versions->back().meta).classification
            : std::nullopt;
    if (sidecar->classification != previous) reclassify = sidecar->classification;
  }
  if (!reclassify || *reclassify == doc->classification) return;
  ledger::Change k;
  k.kind = ledger::Change::Kind::kClassify;
  k.doc_id = doc->id;
  k.classification = *reclassify;
  changes.push_back(std::move(k));
}

void Archiver::KeepRestrictedContentRestricted(std::vector<ledger::Change>& changes) {
  // Process() asked the catalog; within one batch the catalog does not know
  // the batch yet (a hard link and its original found by the same scan).
  std::set<std::string> restricted;
  for (const auto& c : changes)
    if (c.kind == ledger::Change::Kind::kVersion && c.classification == Classification::kRestricted)
      restricted.insert(c.sha256);
  if (restricted.empty()) return;
  std::vector<ledger::Change> reclassify;
  for (auto& c : changes) {
    if (c.kind != ledger::Change::Kind::kVersion || c.classification != Classification::kPublic ||
        !restricted.count(c.sha256))
      continue;
    log::Warning(c.share + ":" + c.path +
                 " has the content of a restricted document: archived as restricted" +
                 " until an admin classifies it public");
    c.classification = Classification::kRestricted;
    if (!c.doc_id.empty()) {  // an existing document keeps its own classification unless told
      ledger::Change k;
      k.kind = ledger::Change::Kind::kClassify;
      k.doc_id = c.doc_id;
      k.classification = Classification::kRestricted;
      reclassify.push_back(std::move(k));
    }
  }
  for (auto& k : reclassify) changes.push_back(std::move(k));
}

void Archiver::RequestRescan(size_t i) {
  std::lock_guard<std::mutex> lock(rescan_mutex_);
  rescans_.insert(i);
}

void Archiver::RequestMove(size_t i, const std::string& from, const std::string& to, bool is_dir) {
  {
    std::lock_guard<std::mutex> lock(rescan_mutex_);
    moves_.push_back({i, from, to, is_dir});
  }
  queue_->Wake();
}

void Archiver::ApplyMove(const Move& m) {
  const ShareConfig& share = config_.shares[m.share];
  const auto now = Clock::now();
  std::vector<std::pair<storage::DocumentRow, std::string>> moving;  // doc, new path
  if (m.is_dir) {
    auto inside = catalog_->ActiveDocumentsIn(share.name, m.from);
    if (!inside.ok()) {
      log::Error(inside.status().ToString());
      RequestRescan(m.share);
      return;
    }
    for (storage::DocumentRow& doc : *inside) {
      std::string to = m.to + "/" + doc.path.substr(m.from.size() + 1);
      moving.emplace_back(std::move(doc), std::move(to));
    }
  } else {
    auto doc = catalog_->FindByPath(share.name, m.from);
    if (doc.ok() && doc->has_value() && (*doc)->status == DocumentStatus::kActive)
      moving.emplace_back(std::move(**doc), m.to);
  }
  std::vector<ledger::Change> changes;
  for (const auto& [doc, to] : moving) {
    auto dest = catalog_->FindByPath(share.name, to);
    if (!dest.ok() || dest->has_value()) {
      // The new name already belongs to a document (perhaps withdrawn): the
      // old one is gone and the new name gets a version, as without a move.
      queue_->Touch(m.share, doc.path, now);
      queue_->Touch(m.share, to, now + config_.settle);
      continue;
    }
    ledger::Change c;
    c.kind = ledger::Change::Kind::kMove;
    c.doc_id = doc.id;
    c.path = to;
    changes.push_back(std::move(c));
  }
  if (!changes.empty()) {
    if (Status s = ledger_->Apply(changes, *Key()); !s.ok()) {
      log::Error("cannot record move of " + share.name + ":" + m.from + ": " + s.ToString() +
                 "; rescanning");
      RequestRescan(m.share);
      return;
    }
    for (const auto& c : changes)
      log::Info("moved " + share.name + ":" + c.path + " doc " + c.doc_id + " log " +
                std::to_string(c.record.seq));
    Committed(changes);
  }
  // The content may have changed with the rename (editors save that way).
  for (const auto& c : changes) queue_->Touch(m.share, c.path, now + config_.settle);
  if (!m.is_dir)
    queue_->Touch(m.share, m.to, now + config_.settle);
  else
    RequestRescan(m.share);  // files the catalog did not know yet
}

Status Archiver::RunOnThread(std::function<Status()> run) {
  std::future<Status> result;
  std::shared_ptr<std::atomic<int>> state;
  {
    std::lock_guard<std::mutex> lock(commands_mutex_);
    commands_.push_back(Command{std::move(run), {}});
    result = commands_.back().done.get_future();
    state = commands_.back().state;
  }
  queue_->Wake();
  if (result.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    int pending = 0;
    if (state->compare_exchange_strong(pending, 2))  // withdrawn: it will not happen later
      return Status::Busy("the archiver is busy; nothing was changed, try again");
    // It started meanwhile: its commit is moments away, report its outcome.
  }
  return result.get();
}

Result<ledger::Change> Archiver::Submit(ledger::Change change) {
  std::vector<ledger::Change> one{std::move(change)};
  // `one` outlives the call: RunOnThread() returns only once it ran or never will.
  if (Status s = RunOnThread([&] { return ApplyAdminChange(one); }); !s.ok()) return s;
  return std::move(one[0]);
}

Status Archiver::ApplyAdminChange(std::vector<ledger::Change>& one) {
  if (Status s = ledger_->Apply(one, *Key()); !s.ok()) return s;
  log::Info(std::string("admin: ") +
            (one[0].kind == ledger::Change::Kind::kApprove ? "approved " : "classified ") +
            one[0].share + ":" + one[0].path + " v" + std::to_string(one[0].version) + " log " +
            std::to_string(one[0].record.seq));
  Committed(one);
  return Status::OK();
}

Status Archiver::WithLedger(
    const std::function<Status(ledger::Ledger&, const storage::SigningKey&)>& fn) {
  return RunOnThread([&]() -> Status {
    if (Status s = fn(*ledger_, *Key()); !s.ok()) return s;
    if (auto next = catalog_->NextRecordSeq(); next.ok()) Committed(*next - 1);
    return Status::OK();
  });
}

Result<std::string> Archiver::RotateKey(storage::Env* env, const std::string& keys_dir) {
  std::string key_id;
  Status s = RunOnThread([&]() -> Status {
    auto key = storage::RotateSigningKey(env, keys_dir, catalog_);
    if (!key.ok()) return key.status();
    key_id = (*key)->KeyId();
    SetKey(std::shared_ptr<const storage::SigningKey>(std::move(*key)));
    return Status::OK();
  });
  if (!s.ok()) return s;
  return key_id;
}

void Archiver::RunOnce(std::chrono::milliseconds wait) {
  std::deque<Command> commands;
  {
    std::lock_guard<std::mutex> lock(commands_mutex_);
    commands.swap(commands_);
  }
  for (Command& cmd : commands) {  // each alone: one failing must not fail others
    int pending = 0;
    if (!cmd.state->compare_exchange_strong(pending, 1)) continue;  // the caller gave up
    cmd.done.set_value(cmd.run());
  }
  std::set<size_t> rescans;
  std::vector<Move> moves;
  {
    std::lock_guard<std::mutex> lock(rescan_mutex_);
    rescans.swap(rescans_);
    moves.swap(moves_);
  }
  rescans.merge(queue_->TakeRescans());  // shares whose files a full queue refused
  for (const Move& m : moves) ApplyMove(m);
  for (size_t i : rescans)
    if (Status s = ScanShare(i); !s.ok())
      log::Error("scan of share " + config_.shares[i].name + ": " + s.ToString());
  std::vector<PendingFile> due = queue_->TakeDue(kBatchMax, wait);
  if (due.empty()) return;
  in_flight_ = due.size();
  std::vector<ledger::Change> changes;
  std::vector<PendingFile> sources;  // the file behind each change, for retries
  storage_failures_in_batch_ = 0;
  for (PendingFile& f : due) {
    if (storage_failures_in_batch_ > 0) {  // paused: the rest of the batch waits too
      queue_->Requeue(f, Clock::now() + config_.retry_interval);
      continue;
    }
    size_t before = changes.size();
    try {
      Process(f, changes);
    } catch (const std::exception& e) {
      Fail(f, storage::FileState{f.size, f.mtime_ns}, std::string("unexpected error: ") + e.what());
    }
    if (changes.size() > before) sources.push_back(f);
  }
  KeepRestrictedContentRestricted(changes);
  if (!changes.empty()) {
    Status s = ledger_->Apply(changes, *Key());
    if (!s.ok()) {
      StorageFailed("catalog commit of " + std::to_string(changes.size()) + " changes", s);
      for (PendingFile& f : sources)
        queue_->Requeue(PendingFile{f.share, f.rel}, Clock::now() + config_.retry_interval);
    } else {
      for (const ledger::Change& c : changes) {
        const char* what = c.kind == ledger::Change::Kind::kVersion    ? "archived "
                           : c.kind == ledger::Change::Kind::kWithdraw ? "withdrew "
                                                                       : "classified (sidecar) ";
        log::Info(std::string(what) + c.share + ":" + c.path + " v" + std::to_string(c.version) +
                  " doc " + c.doc_id + " sha256 " + c.sha256.substr(0, 12) + " log " +
                  std::to_string(c.record.seq));
      }
      Committed(changes);
    }
  }
  if (storage_failures_in_batch_ == 0) StorageRecovered();
  in_flight_ = 0;
}

}  // namespace gongkai::daemon
