#include "gongkai/daemon/daemon.h"

#include <Poco/Exception.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <thread>

#include "admin_socket.h"
#include "archiver.h"
#include "auth.h"
#include "gongkai/daemon/layout.h"
#include "gongkai/indexer/index.h"
#include "gongkai/log.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/keys.h"
#include "http_service.h"
#include "index_feeder.h"
#include "json_writer.h"
#include "metrics.h"
#include "notify.h"
#include "reload.h"
#include "settle_queue.h"
#include "watcher.h"

namespace gongkai::daemon {
namespace {

std::string Fail(const Status& s) {
  log::Error("cannot start: " + s.ToString());
  return s.ToString();
}

// What run/status.json, /api/v1/status and the service manager's STATUS= show.
struct Snapshot {
  storage::CatalogCounts counts;
  int64_t queued = 0;         // seen but not yet archived and indexed
  int64_t index_backlog = 0;  // records not yet applied to the index
  std::vector<FailedFile> failures;
  std::string storage_problem;  // why ingest is paused, "" when it is not
};

// One line for `systemctl status`.
std::string StatusLine(const Snapshot& s) {
  return std::to_string(s.counts.documents) + " documents, " + std::to_string(s.counts.versions) +
         " versions, " + std::to_string(s.queued) + " queued, " +
         std::to_string(s.failures.size()) + " failed" +
         (s.storage_problem.empty() ? "" : "; INGEST PAUSED: " + s.storage_problem);
}

// SIGHUP found a changed configuration file, which takes a restart in place
// to apply. Whatever of the new configuration can be tried without stopping is
// tried first, so that a daemon whose new configuration could not start keeps
// serving on its old one: the new port is bound (with SO_REUSEADDR, as the
// HTTP service does; when it is the port held now it is free for the new
// process), the tokens file loaded, a new data folder created and found
// unlocked, a new catalog opened. `port` is the port listened on now.
Status CheckCanStart(const Config& running, uint16_t port, const Config& next) {
  if (next.listen_port != 0 && next.listen_port != port) {
    try {
      Poco::Net::ServerSocket socket;
      socket.bind(Poco::Net::SocketAddress(next.listen_host, next.listen_port), true);
    } catch (const Poco::Exception& e) {
      return Status::Busy("cannot listen on " + next.listen_host + ":" +
                          std::to_string(next.listen_port) + ": " + e.displayText());
    }
  }
  if (next.tokens_file != running.tokens_file) {
    TokenStore tokens;
    if (Status s = tokens.Load(next.tokens_file); !s.ok()) return s;
  }
  if (next.data_dir != running.data_dir) {
    storage::Env* env = storage::Env::Default();
    if (Status s = env->CreateDirs(next.data_dir); !s.ok()) return s;
    if (::access(next.data_dir.c_str(), W_OK | X_OK) != 0)
      return Status::FromErrno(errno, "data folder " + next.data_dir + " is not writable");
    if (DataDirLocked(DataLayout(next.data_dir).lock_file()))
      return Status::Busy("data folder " + next.data_dir + " is in use by another gongkaid");
  }
  if (next.catalog_postgres != running.catalog_postgres) {
    auto catalog = storage::OpenCatalog(next.catalog_postgres, DataLayout(next.data_dir).catalog(),
                                        storage::Env::Default());
    if (!catalog.ok()) return catalog.status();
  }
  return Status::OK();
}

}  // namespace

int RunDaemon(const Config& config) {
  // Signals are taken synchronously by the main thread (sigtimedwait below);
  // every other thread inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  storage::Env* env = storage::Env::Default();
  const DataLayout layout(config.data_dir);
  if (Status s = env->CreateDirs(config.data_dir); !s.ok()) return Fail(s), 1;
  std::string lock_error;
  int lock_fd = LockDataDir(layout.lock_file(), &lock_error);
  if (lock_fd < 0) return Fail(Status::Busy(lock_error)), 1;
  for (const std::string& dir : {layout.run(), layout.tmp()})
    if (Status s = env->CreateDirs(dir); !s.ok()) return Fail(s), 1;
  // `gongkai` waits in the admin socket's backlog until it is served, below.
  AdminSocket admin_socket(layout.admin_socket());
  if (Status s = admin_socket.Listen(); !s.ok()) return Fail(s), 1;
  // Temp files left by a crash were never referenced by the catalog.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(layout.tmp(), ec))
    std::filesystem::remove(e.path(), ec);

  for (const ShareConfig& share : config.shares) {
    if (!std::filesystem::is_directory(share.path, ec))
      log::Warning("share " + share.name + ": folder " + share.path +
                   " does not exist (yet); it is watched once it appears after a restart");
  }

  auto catalog = storage::OpenCatalog(config.catalog_postgres, layout.catalog(), env);
  if (!catalog.ok()) return Fail(catalog.status()), 1;
  auto blobs = storage::BlobStore::Open(env, layout.blobs(), layout.tmp());
  if (!blobs.ok()) return Fail(blobs.status()), 1;
  auto key = storage::LoadOrCreateSigningKey(env, layout.keys(), catalog->get());
  if (!key.ok()) return Fail(key.status()), 1;
  log::Info("signing with key " + (*key)->KeyId() + ", log origin " + config.origin);
  auto index_writer = indexer::IndexWriter::Open(layout.index());
  if (!index_writer.ok()) return Fail(index_writer.status()), 1;
  auto feeder_catalog = storage::OpenCatalog(config.catalog_postgres, layout.catalog(), env);
  if (!feeder_catalog.ok()) return Fail(feeder_catalog.status()), 1;
  // Documents are extracted and prepared for the index on every core.
  const size_t index_threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<storage::Catalog>> index_readers;
  for (size_t i = 0; i < index_threads; ++i) {
    auto reader = storage::OpenCatalog(config.catalog_postgres, layout.catalog(), env);
    if (!reader.ok()) return Fail(reader.status()), 1;
    index_readers.push_back(std::move(*reader));
  }

  TokenStore tokens;
  if (Status s = tokens.Load(config.tokens_file); !s.ok()) return Fail(s), 1;

  indexer::Searcher searcher(layout.index());
  CatalogPool catalogs(config.catalog_postgres, layout.catalog(), env);
  // Bounded: in a burst beyond its capacity a share is rescanned once the
  // queue has drained instead of holding every path in memory.
  SettleQueue queue(config.queue_capacity, [&](size_t share) {
    log::Warning("queue full (" + std::to_string(config.queue_capacity) +
                 " files): new files in share " + config.shares[share].name +
                 " are picked up by a rescan once it has drained");
  });
  indexer::ExtractWorkerOptions extract_options = indexer::DefaultExtractWorkerOptions();
  extract_options.max_workers = index_threads;
  indexer::ExtractWorkers extractor(
      extract_options);  // parsers run in these child processes, never in gongkaid
  IndexFeeder feeder(config, feeder_catalog->get(), std::move(index_readers), blobs->get(),
                     index_writer->get(), &extractor, [&] { searcher.Invalidate(); });
  ledger::Ledger ledger(catalog->get(), env, config.origin);
  Archiver archiver(config, &ledger, blobs->get(),
                    std::shared_ptr<const storage::SigningKey>(std::move(*key)), &queue,
                    [&](int64_t last_seq) {
                      feeder.NoteCommitted(last_seq);
                      feeder.Wake();
                    });
  if (auto counts = (*catalog)->Counts(); counts.ok()) feeder.NoteCommitted(counts->records - 1);

  const auto started = std::chrono::system_clock::now();
  auto take_snapshot = [&]() -> Snapshot {
    Snapshot snap;
    if (auto lease = catalogs.Borrow(); lease.ok())
      if (auto c = (*lease)->Counts(); c.ok()) snap.counts = *c;
    snap.index_backlog = feeder.backlog();
    snap.queued = static_cast<int64_t>(queue.size() + archiver.in_flight()) + snap.index_backlog;
    snap.failures = archiver.failures();
    snap.storage_problem = archiver.storage_problem();
    return snap;
  };
  auto render_status = [&](const Snapshot& snap) -> std::string {
    const storage::CatalogCounts& counts = snap.counts;
    JsonWriter w;
    w.BeginObject()
        .Field("documents", counts.documents)
        .Field("active", counts.active)
        .Field("versions", counts.versions)
        .Field("records", counts.records)
        .Field("queued", snap.queued)
        .Field("index_backlog", snap.index_backlog)
        .Field("failed", static_cast<int64_t>(snap.failures.size()))
        .Field("storage_problem", snap.storage_problem)  // "" unless ingest is paused
        .Field("started", storage::Rfc3339(started))
        .Field("pid", static_cast<int64_t>(::getpid()));
    w.Key("failures").BeginArray();
    for (const FailedFile& f : snap.failures)
      w.BeginObject()
          .Field("share", f.share)
          .Field("path", f.path)
          .Field("error", f.error)
          .EndObject();
    w.EndArray();
    w.Key("shares").BeginArray();
    for (const ShareConfig& s : config.shares)
      w.BeginObject()
          .Field("name", s.name)
          .Field("path", s.path)
          .Field("office", s.office)
          .EndObject();
    w.EndArray().EndObject();
    return w.str();
  };
  auto status_json = [&] { return render_status(take_snapshot()); };

  // Watch first, then scan, so nothing slips between the two.
  const auto settle = config.settle;
  InotifyWatcher watcher(config.shares, [&](size_t share, const std::string& rel, WatchEvent ev,
                                            const std::string& from) {
    const auto now = Clock::now();
    switch (ev) {
      case WatchEvent::kClosed:
      case WatchEvent::kGone:
        queue.Touch(share, rel, now + settle);
        break;
      case WatchEvent::kActivity:
        // Still being written: postpones a queued file. A file with no
        // close-write at all (hard link, O_TMPFILE) is looked at only after
        // a long quiet period, so a writer that pauses is not cut short.
        queue.Postpone(
            share, rel, now + settle,
            now + std::max<std::chrono::milliseconds>(30 * settle, std::chrono::seconds(30)));
        break;
      case WatchEvent::kRescan:
        archiver.RequestRescan(share);
        break;
      case WatchEvent::kMoved:
      case WatchEvent::kDirMoved:
        archiver.RequestMove(share, from, rel, ev == WatchEvent::kDirMoved);
        break;
    }
  });
  if (Status s = watcher.Start(); !s.ok()) return Fail(s), 1;

  HttpMetrics http_metrics;
  RateLimiter search_limit(config.anonymous_search_rate, 2 * config.anonymous_search_rate);
  auto archive_metrics = [&]() -> std::string {
    std::string out;
    storage::CatalogCounts counts;
    if (auto lease = catalogs.Borrow(); lease.ok())
      if (auto c = (*lease)->Counts(); c.ok()) counts = *c;
    const auto gauge = [&](const char* name, const char* help, double v) {
      MetricHeader(out, name, "gauge", help);
      MetricLine(out, name, "", v);
    };
    gauge("gongkai_documents", "Documents in the catalog (active and withdrawn).",
          static_cast<double>(counts.documents));
    gauge("gongkai_documents_active", "Active documents.", static_cast<double>(counts.active));
    gauge("gongkai_versions", "Archived versions.", static_cast<double>(counts.versions));
    gauge("gongkai_log_records", "Records in the signed log (its tree size).",
          static_cast<double>(counts.records));
    gauge("gongkai_queue_depth", "Files seen but not yet archived.",
          static_cast<double>(queue.size() + archiver.in_flight()));
    gauge("gongkai_index_backlog", "Log records not yet applied to the index.",
          static_cast<double>(feeder.backlog()));
    gauge("gongkai_failed_files", "Files that could not be archived (retried when they change).",
          static_cast<double>(archiver.failures().size()));
    gauge("gongkai_last_commit_timestamp_seconds",
          "Unix time of the last catalog commit since start.",
          static_cast<double>(archiver.last_commit_unix()));
    return out;
  };
  HttpService http(ServiceContext{
      &config, &tokens, &searcher, &catalogs, blobs->get(), status_json,
      [&](ledger::Change c) { return archiver.Submit(std::move(c)); },
      [&](int64_t seq) { return feeder.WaitApplied(seq, std::chrono::seconds(10)); }, &http_metrics,
      &search_limit, archive_metrics, [&] { return archiver.storage_problem(); }});
  if (Status s = http.Start(); !s.ok()) return Fail(s), 1;
  log::Info("listening on http://" + config.listen_host + ":" + std::to_string(http.port()) + " (" +
            std::to_string(config.shares.size()) + " shares, data " + config.data_dir + ", " +
            std::to_string(tokens.size()) + " tokens)");

  // The archiver's thread owns the writer catalog; the start-up scan, queued
  // here, runs there too.
  for (size_t i = 0; i < config.shares.size(); ++i) archiver.RequestRescan(i);
  std::atomic<bool> stopping{false};
  std::thread archiver_thread([&] {
    while (!stopping) archiver.RunOnce(std::chrono::milliseconds(500));
  });
  std::thread feeder_thread([&] { feeder.Run(); });
  const AdminTarget admin = DaemonAdminTarget(config, env, &archiver, &catalogs, &feeder, &tokens);
  admin_socket.Serve([&](const AdminRequest& request) { return RunAdmin(request, admin); });

  // The port answers and the start-up scan is queued: we are ready.
  ServiceNotifier notifier;
  notifier.Ready(StatusLine(take_snapshot()));
  notifier.KeepAlive(Clock::now());
  // Started by a restart in place for `gongkaid --reload`: the reload is done.
  AnswerReloadRequests(ReloadOutcome::kApplied);

  auto last_rescan = Clock::now();
  auto last_poll = Clock::now();
  std::string last_status;
  bool restart = false;
  for (;;) {
    const auto wait = notifier.MaxWait(Clock::now(), std::chrono::seconds(1));
    struct timespec tick {
      static_cast<time_t>(wait.count() / 1000), static_cast<long>(wait.count() % 1000) * 1000000
    };
    siginfo_t info{};
    int sig = sigtimedwait(&signals, &info, &tick);
    notifier.KeepAlive(Clock::now());
    if (sig == SIGTERM || sig == SIGINT) {
      notifier.Stopping();
      log::Info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                ", shutting down");
      break;
    }
    if (sig == SIGHUP) {
      NoteReloadRequest(info);  // `gongkaid --reload PID` waits for the answer
      notifier.Reloading();
      // Shares cannot be swapped under a running watcher and archiver: a
      // changed file restarts the daemon in place (after this batch), once
      // what can be checked beforehand passed. A file that does not parse,
      // or could not start, changes nothing.
      bool applied = true;
      if (auto reread = LoadConfig(config.file); !reread.ok()) {
        log::Error("SIGHUP: kept the running configuration: " + reread.status().message());
        applied = false;
      } else if (!(*reread == config)) {
        if (Status s = CheckCanStart(config, http.port(), *reread); !s.ok()) {
          log::Error("SIGHUP: kept the running configuration: " + config.file +
                     " changed, but the daemon could not start with it: " + s.ToString());
          applied = false;
        } else {
          log::Info("SIGHUP: " + config.file + " changed; restarting in place to apply it");
          restart = true;
          break;
        }
      }
      if (Status s = tokens.Load(config.tokens_file); s.ok()) {
        log::Info("SIGHUP: reloaded " + std::to_string(tokens.size()) + " tokens");
      } else {
        log::Error("SIGHUP: kept the old tokens: " + s.ToString());
        applied = false;
      }
      // The active signing key may have been rotated (`gongkai keys rotate`).
      auto active = storage::LoadActiveSigningKey(layout.keys());
      if (active.ok()) {
        log::Info("SIGHUP: signing with key " + (*active)->KeyId());
        archiver.SetKey(std::shared_ptr<const storage::SigningKey>(std::move(*active)));
      } else {
        log::Error("SIGHUP: kept the old signing key: " + active.status().ToString());
        applied = false;
      }
      notifier.Ready(StatusLine(take_snapshot()));
      AnswerReloadRequests(applied ? ReloadOutcome::kApplied : ReloadOutcome::kKeptOld);
    }
    if (Clock::now() - last_poll >= config.poll_interval) {
      last_poll = Clock::now();
      for (size_t i = 0; i < config.shares.size(); ++i)
        if (watcher.polled(i)) archiver.RequestRescan(i);
    }
    if (Clock::now() - last_rescan >= config.rescan_interval) {
      last_rescan = Clock::now();
      // The safety net for events the kernel never delivered (network
      // filesystems, exhausted watches): re-watch and rescan everything.
      for (size_t i = 0; i < config.shares.size(); ++i) {
        watcher.WatchTree(i, "");
        archiver.RequestRescan(i);
      }
    }
    const Snapshot snap = take_snapshot();
    notifier.Status(StatusLine(snap));
    std::string status = render_status(snap);
    if (status != last_status) {
      if (Status s = storage::WriteFileAtomically(env, layout.status_file(), status + "\n");
          !s.ok())
        log::Warning("cannot write " + layout.status_file() + ": " + s.ToString());
      last_status = status;
    }
  }

  admin_socket.Stop();
  http.Stop();
  watcher.Stop();
  stopping = true;
  queue.Stop();
  archiver_thread.join();  // finishes and commits its current batch
  feeder.Stop();
  feeder_thread.join();
  env->RemoveFile(layout.status_file());
  log::Info(restart ? "stopped for the restart" : "stopped");
  ::close(lock_fd);
  return restart ? kRestartToReload : 0;
}

}  // namespace gongkai::daemon
