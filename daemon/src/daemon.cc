#include "gongkai/daemon/daemon.h"

#include <Poco/Exception.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "admin_socket.h"
#include "archiver.h"
#include "auth.h"
#include "catalogue.h"
#include "gongkai/daemon/layout.h"
#include "gongkai/disclosure/calendar.h"
#include "gongkai/indexer/index.h"
#include "gongkai/indexer/sharded_index.h"
#include "gongkai/ledger/requests.h"
#include "gongkai/log.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/keys.h"
#include "gongkai/thread_name.h"
#include "http_service.h"
#include "index_feeder.h"
#include "notify.h"
#include "reload.h"
#include "request_view.h"
#include "settle_queue.h"
#include "status_report.h"
#include "timeliness.h"
#include "watcher.h"
#include "witness_client.h"

namespace gongkai::daemon {
namespace {

std::string Fail(const Status& s) {
  log::Error("cannot start: " + s.ToString());
  return s.ToString();
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
  if (next.calendar_dir != running.calendar_dir) {
    auto calendar = disclosure::WorkCalendar::Load(disclosure::CalendarFolders(next.calendar_dir));
    if (!calendar.ok()) return calendar.status();
  }
  if (next.catalog_postgres != running.catalog_postgres) {
    auto catalog = storage::OpenCatalog(next.catalog_postgres, DataLayout(next.data_dir).catalog(),
                                        storage::Env::Default());
    if (!catalog.ok()) return catalog.status();
  }
  return Status::OK();
}

// The running daemon: its parts, built by Open() and Start() in the order
// they depend on each other, and the main thread's loop. Members are declared
// in that order too, so that they are destroyed in reverse; the data folder's
// lock, first, is released last.
class Daemon final : public LiveStatus {
 public:
  explicit Daemon(const Config& config)
      : config_(config), env_(storage::Env::Default()), layout_(config.data_dir) {}

  // Locks the data folder and opens the catalog, blobs, key, index and tokens.
  Status Open();
  // Starts the threads, the watcher, HTTP and the admin socket; tells the
  // service manager it is ready.
  Status Start();
  // Takes signals until SIGTERM/SIGINT (returns 0) or a reload that needs a
  // restart in place (returns kRestartToReload), then stops everything.
  int Run(const sigset_t& signals);

  std::string StatusJson() override {
    return daemon::StatusJson(TakeSnapshot(), config_, started_, ::getpid());
  }
  std::string ArchiveGauges() override { return daemon::ArchiveGauges(TakeSnapshot()); }
  std::string StorageProblem() override { return archiver_->storage_problem(); }
  // After Run() asked for a restart in place: the data folder's lock stays
  // held for the next process (layout.h).
  void KeepLockForRestart() { KeepDataDirLockForRestart(lock_.release()); }

 private:
  Status OpenStores();
  // China's working days; warns when there are none.
  Status LoadCalendar();
  void BuildPipeline();
  void OnWatchEvent(size_t share, const std::string& rel, WatchEvent ev, const std::string& from);
  // SIGHUP: true when the changed configuration needs a restart in place.
  bool Reload(const siginfo_t& info);
  // Each turn of the main loop: periodic scans, and the status published.
  void Tick();
  // Recounts the disclosure requests when the log grew or a minute passed;
  // once a day logs each overdue and due-soon one (its code and dates:
  // nothing personal).
  void WatchRequests(int64_t records);
  // The freshness and timeliness gauges of /metrics, counted on a thread of
  // their own (a pass over the whole catalogue: 8 s at 300,000 documents,
  // longer than the main thread may leave systemd's watchdog waiting): at
  // start and every five minutes until Stop().
  void WatchColumn();
  void CountColumn();
  void Stop();
  Snapshot TakeSnapshot();

  const Config& config_;
  storage::Env* const env_;
  const DataLayout layout_;
  const std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
  UniqueFd lock_;
  std::unique_ptr<AdminSocket> admin_socket_;
  std::unique_ptr<storage::Catalog> catalog_;         // the archiver's writer
  std::unique_ptr<storage::Catalog> feeder_catalog_;  // the index feeder's
  std::vector<std::unique_ptr<storage::Catalog>> index_readers_;
  std::unique_ptr<storage::BlobStore> blobs_;
  std::unique_ptr<storage::SigningKey> key_;
  std::unique_ptr<indexer::ShardedWriter> index_writer_;
  TokenStore tokens_;
  disclosure::WorkCalendar calendar_;
  disclosure::Date calendar_checked_{};  // the day NextYearWarning last ran
  std::mutex requests_mutex_;            // request_counts_ and column_ are read by HTTP threads
  RequestCounts request_counts_;
  ColumnGauges column_;
  CatalogueCache catalogue_cache_;         // the public catalogue, for HTTP threads
  int64_t requests_counted_records_ = -1;  // the log's size at the last count
  Clock::time_point requests_counted_{};
  disclosure::Date requests_logged_{};     // the day requests_warned_ holds
  std::set<std::string> requests_warned_;  // requests logged as overdue or due soon that day
  std::unique_ptr<indexer::Searcher> searcher_;
  std::unique_ptr<CatalogPool> catalogs_;
  std::unique_ptr<SettleQueue> queue_;
  std::unique_ptr<indexer::ExtractWorkers> extractor_;
  std::unique_ptr<IndexFeeder> feeder_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<Archiver> archiver_;
  std::unique_ptr<InotifyWatcher> watcher_;
  HttpMetrics http_metrics_;
  std::unique_ptr<RateLimiter> search_limit_;
  // [disclosure] forms_per_hour and lookups_per_minute, as bursts that refill.
  RateLimiter request_form_limit_{config_.forms_per_hour / 3600.0,
                                  static_cast<double>(config_.forms_per_hour)};
  RateLimiter tracking_limit_{config_.lookups_per_minute / 60.0,
                              static_cast<double>(config_.lookups_per_minute)};
  AdminTarget admin_;
  std::unique_ptr<WitnessClient> witnesses_;  // before http_, which uses it
  std::unique_ptr<HttpService> http_;
  std::atomic<bool> stopping_{false};
  std::mutex stop_mutex_;  // with stop_cv_, wakes the column thread for Stop()
  std::condition_variable stop_cv_;
  std::thread archiver_thread_, feeder_thread_, column_thread_;
  ServiceNotifier notifier_;
  Clock::time_point last_rescan_ = Clock::now(), last_poll_ = Clock::now();
  std::string last_status_;
};

Status Daemon::Open() {
  if (Status s = env_->CreateDirs(config_.data_dir); !s.ok()) return s;
  std::string lock_error;
  // Restarted in place: the lock the old process held, never let go.
  lock_ = UniqueFd(TakeOverDataDirLock(layout_.lock_file()));
  if (!lock_.ok()) lock_ = UniqueFd(LockDataDir(layout_.lock_file(), &lock_error));
  if (!lock_.ok()) return Status::Busy(lock_error);
  for (const std::string& dir : {layout_.run(), layout_.tmp()})
    if (Status s = env_->CreateDirs(dir); !s.ok()) return s;
  // `gongkai` waits in the admin socket's backlog until it is served, in Start().
  admin_socket_ = std::make_unique<AdminSocket>(layout_.admin_socket());
  if (Status s = admin_socket_->Listen(); !s.ok()) return s;
  // Temp files left by a crash were never referenced by the catalog.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(layout_.tmp(), ec))
    std::filesystem::remove(e.path(), ec);
  for (const ShareConfig& share : config_.shares) {
    if (!std::filesystem::is_directory(share.path, ec))
      log::Warning("share " + share.name + ": folder " + share.path +
                   " does not exist (yet); it is watched once it appears after a restart");
  }
  if (Status s = OpenStores(); !s.ok()) return s;
  if (Status s = LoadCalendar(); !s.ok()) return s;
  BuildPipeline();
  return Status::OK();
}

Status Daemon::OpenStores() {
  const auto open_catalog = [&](std::unique_ptr<storage::Catalog>* out) {
    auto c = storage::OpenCatalog(config_.catalog_postgres, layout_.catalog(), env_);
    if (!c.ok()) return c.status();
    *out = std::move(*c);
    return Status::OK();
  };
  if (Status s = open_catalog(&catalog_); !s.ok()) return s;
  auto blobs = storage::BlobStore::Open(env_, layout_.blobs(), layout_.tmp());
  if (!blobs.ok()) return blobs.status();
  blobs_ = std::move(*blobs);
  auto key = storage::LoadOrCreateSigningKey(env_, layout_.keys(), catalog_.get());
  if (!key.ok()) return key.status();
  key_ = std::move(*key);
  log::Info("signing with key " + key_->KeyId() + ", log origin " + config_.origin);
  auto index_writer = indexer::ShardedWriter::Open(layout_.index(), config_.index_shards);
  if (!index_writer.ok()) return index_writer.status();
  index_writer_ = std::move(*index_writer);
  if (!index_writer_->rebuilt().empty())
    log::Warning("index: " + index_writer_->rebuilt() +
                 ": rebuilding it from the catalog (searches find fewer documents until it has "
                 "caught up; GET /api/v1/status shows the backlog)");
  const size_t shards = index_writer_->shards();
  log::Info("index: " + std::to_string(shards) + " shard" + (shards == 1 ? "" : "s") + " in " +
            layout_.index() + ", watermark " + std::to_string(index_writer_->watermark()));
  if (Status s = open_catalog(&feeder_catalog_); !s.ok()) return s;
  // Documents are extracted and prepared for the index on every core, each
  // worker with a catalog reader of its own.
  index_readers_.resize(std::max(1u, std::thread::hardware_concurrency()));
  for (auto& reader : index_readers_)
    if (Status s = open_catalog(&reader); !s.ok()) return s;
  return tokens_.Load(config_.tokens_file);
}

Status Daemon::LoadCalendar() {
  const std::vector<std::string> folders = disclosure::CalendarFolders(config_.calendar_dir);
  auto calendar = disclosure::WorkCalendar::Load(folders);
  if (!calendar.ok()) return calendar.status();
  calendar_ = std::move(*calendar);
  const std::vector<int> years = calendar_.KnownYears();
  if (years.empty()) {
    std::string names;
    for (const std::string& f : folders) names += (names.empty() ? "" : ", ") + f;
    log::Warning("calendar: no holiday data in " + names +
                 ": every working-day deadline is provisional");
  } else {
    log::Info("calendar: holiday data for " + std::to_string(years.front()) + "-" +
              std::to_string(years.back()));
  }
  return Status::OK();
}

void Daemon::BuildPipeline() {
  searcher_ = std::make_unique<indexer::Searcher>(layout_.index());
  // More searches at once than cores would only share them; one more keeps
  // the cores busy while a search's thread checks its hits and writes JSON
  // (docs/performance.md, Search).
  searcher_->LimitConcurrentSearches(config_.concurrent_searches > 0
                                         ? config_.concurrent_searches
                                         : std::max(1u, std::thread::hardware_concurrency()) + 1);
  catalogs_ = std::make_unique<CatalogPool>(config_.catalog_postgres, layout_.catalog(), env_);
  // Bounded: in a burst beyond its capacity a share is rescanned once the
  // queue has drained instead of holding every path in memory.
  queue_ = std::make_unique<SettleQueue>(config_.queue_capacity, [this](size_t share) {
    log::Warning("queue full (" + std::to_string(config_.queue_capacity) +
                 " files): new files in share " + config_.shares[share].name +
                 " are picked up by a rescan once it has drained");
  });
  // Parsers run in these child processes, never in gongkaid.
  indexer::ExtractWorkerOptions extract_options = indexer::DefaultExtractWorkerOptions();
  extract_options.max_workers = index_readers_.size();
  extractor_ = std::make_unique<indexer::ExtractWorkers>(extract_options);
  feeder_ = std::make_unique<IndexFeeder>(config_, feeder_catalog_.get(), std::move(index_readers_),
                                          blobs_.get(), index_writer_.get(), extractor_.get(),
                                          [this] { searcher_->Invalidate(); });
  ledger_ =
      std::make_unique<ledger::Ledger>(catalog_.get(), env_, config_.origin, config_.agency_code);
  if (config_.agency_code.empty())
    log::Warning("[disclosure] agency_code is not set: 索引号 begin with the log's origin '" +
                 config_.origin + "' instead of the agency's 统一社会信用代码");
  archiver_ =
      std::make_unique<Archiver>(config_, ledger_.get(), blobs_.get(),
                                 std::shared_ptr<const storage::SigningKey>(std::move(key_)),
                                 queue_.get(), [this](int64_t last_seq) {
                                   feeder_->NoteCommitted(last_seq);
                                   feeder_->Wake();
                                 });
  if (auto counts = catalog_->Counts(); counts.ok()) feeder_->NoteCommitted(counts->records - 1);
  admin_ = DaemonAdminTarget(config_, env_, archiver_.get(), catalogs_.get(), feeder_.get(),
                             &tokens_, &calendar_);
  search_limit_ = std::make_unique<RateLimiter>(config_.anonymous_search_rate,
                                                2 * config_.anonymous_search_rate);
}

void Daemon::OnWatchEvent(size_t share, const std::string& rel, WatchEvent ev,
                          const std::string& from) {
  const auto now = Clock::now();
  switch (ev) {
    case WatchEvent::kClosed:
    case WatchEvent::kGone:
      queue_->Touch(share, rel, now + config_.settle);
      break;
    case WatchEvent::kActivity:
      // Still being written: postpones a queued file. A file with no
      // close-write at all (hard link, O_TMPFILE) is looked at only after a
      // long quiet period, so a writer that pauses is not cut short.
      queue_->Postpone(
          share, rel, now + config_.settle,
          now + std::max<std::chrono::milliseconds>(30 * config_.settle, std::chrono::seconds(30)));
      break;
    case WatchEvent::kRescan:
      archiver_->RequestRescan(share);
      break;
    case WatchEvent::kMoved:
    case WatchEvent::kDirMoved:
      archiver_->RequestMove(share, from, rel, ev == WatchEvent::kDirMoved);
      break;
  }
}

Status Daemon::Start() {
  // Watch first, then scan, so nothing slips between the two.
  watcher_ = std::make_unique<InotifyWatcher>(
      config_.shares, [this](size_t share, const std::string& rel, WatchEvent ev,
                             const std::string& from) { OnWatchEvent(share, rel, ev, from); });
  if (Status s = watcher_->Start(); !s.ok()) return s;
  std::vector<storage::VerifierKey> witness_keys;
  for (const std::string& k : config_.witness_keys) {
    auto key = storage::ParseVerifierKey(k);
    if (!key.ok() || key->type != storage::kCosignatureV1)
      return Status::Invalid(config_.file + ": [log] witness_keys: " +
                             (key.ok() ? "'" + k + "' is a log key, not a witness's (type 0x04)"
                                       : key.status().message()));
    witness_keys.push_back(*key);
  }
  witnesses_ = std::make_unique<WitnessClient>(config_.witnesses, std::move(witness_keys),
                                               catalogs_.get(), config_.ca_file);
  http_ =
      std::make_unique<HttpService>(ServiceContext{.config = &config_,
                                                   .tokens = &tokens_,
                                                   .searcher = searcher_.get(),
                                                   .catalogs = catalogs_.get(),
                                                   .blobs = blobs_.get(),
                                                   .admin = &admin_,
                                                   .calendar = &calendar_,
                                                   .live = this,
                                                   .metrics = &http_metrics_,
                                                   .anonymous_search_limit = search_limit_.get(),
                                                   .request_form_limit = &request_form_limit_,
                                                   .tracking_limit = &tracking_limit_,
                                                   .catalogue = &catalogue_cache_,
                                                   .witnesses = witnesses_.get()});
  if (Status s = http_->Start(); !s.ok()) return s;
  witnesses_->Start();
  log::Info("listening on http://" + config_.listen_host + ":" + std::to_string(http_->port()) +
            " (" + std::to_string(config_.shares.size()) + " shares, data " + config_.data_dir +
            ", " + std::to_string(tokens_.size()) + " tokens)");
  // The archiver's thread owns the writer catalog; the start-up scan, queued
  // here, runs there too.
  for (size_t i = 0; i < config_.shares.size(); ++i) archiver_->RequestRescan(i);
  archiver_thread_ = NamedThread("archiver", [this] {
    while (!stopping_) archiver_->RunOnce(std::chrono::milliseconds(500));
  });
  feeder_thread_ = NamedThread("index-feeder", [this] { feeder_->Run(); });
  column_thread_ = NamedThread("column", [this] { WatchColumn(); });
  admin_socket_->Serve([this](const AdminRequest& request) { return RunAdmin(request, admin_); });
  // The port answers and the start-up scan is queued: we are ready.
  notifier_.Ready(StatusLine(TakeSnapshot()));
  notifier_.KeepAlive(Clock::now());
  // Started by a restart in place for `gongkaid --reload`: the reload is done.
  AnswerReloadRequests(ReloadOutcome::kApplied);
  return Status::OK();
}

int Daemon::Run(const sigset_t& signals) {
  bool restart = false;
  while (!restart) {
    const auto wait = notifier_.MaxWait(Clock::now(), std::chrono::seconds(1));
    struct timespec tick {
      static_cast<time_t>(wait.count() / 1000), static_cast<long>(wait.count() % 1000) * 1000000
    };
    siginfo_t info{};
    const int sig = sigtimedwait(&signals, &info, &tick);
    notifier_.KeepAlive(Clock::now());
    if (sig == SIGTERM || sig == SIGINT) {
      notifier_.Stopping();
      log::Info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                ", shutting down");
      break;
    }
    if (sig == SIGHUP) restart = Reload(info);
    if (!restart) Tick();
  }
  Stop();
  log::Info(restart ? "stopped for the restart" : "stopped");
  return restart ? kRestartToReload : 0;
}

bool Daemon::Reload(const siginfo_t& info) {
  NoteReloadRequest(info);  // `gongkaid --reload PID` waits for the answer
  notifier_.Reloading();
  // Shares cannot be swapped under a running watcher and archiver: a changed
  // file restarts the daemon in place (after this batch), once what can be
  // checked beforehand passed. A file that does not parse, or could not
  // start, changes nothing.
  bool applied = true;
  if (auto reread = LoadConfig(config_.file); !reread.ok()) {
    log::Error("SIGHUP: kept the running configuration: " + reread.status().message());
    applied = false;
  } else if (!(*reread == config_)) {
    if (Status s = CheckCanStart(config_, http_->port(), *reread); !s.ok()) {
      log::Error("SIGHUP: kept the running configuration: " + config_.file +
                 " changed, but the daemon could not start with it: " + s.ToString());
      applied = false;
    } else {
      log::Info("SIGHUP: " + config_.file + " changed; restarting in place to apply it");
      return true;
    }
  } else if (auto calendar =
                 disclosure::WorkCalendar::Load(disclosure::CalendarFolders(config_.calendar_dir));
             !calendar.ok()) {
    log::Error("SIGHUP: kept the running calendar: " + calendar.status().message());
    applied = false;
  } else if (!(*calendar == calendar_)) {
    // Deadlines are counted on request threads: a new holiday file (next
    // year's notice) is taken up by a restart in place, like a new config.
    log::Info("SIGHUP: the holiday files changed; restarting in place to apply them");
    return true;
  }
  if (Status s = tokens_.Load(config_.tokens_file); s.ok()) {
    log::Info("SIGHUP: reloaded " + std::to_string(tokens_.size()) + " tokens");
  } else {
    log::Error("SIGHUP: kept the old tokens: " + s.ToString());
    applied = false;
  }
  // The active signing key may have been rotated (`gongkai keys rotate`).
  if (auto active = storage::LoadActiveSigningKey(layout_.keys()); active.ok()) {
    log::Info("SIGHUP: signing with key " + (*active)->KeyId());
    archiver_->SetKey(std::shared_ptr<const storage::SigningKey>(std::move(*active)));
  } else {
    log::Error("SIGHUP: kept the old signing key: " + active.status().ToString());
    applied = false;
  }
  notifier_.Ready(StatusLine(TakeSnapshot()));
  AnswerReloadRequests(applied ? ReloadOutcome::kApplied : ReloadOutcome::kKeptOld);
  return false;
}

void Daemon::Tick() {
  const auto now = Clock::now();
  if (now - last_poll_ >= config_.poll_interval) {
    last_poll_ = now;
    for (size_t i = 0; i < config_.shares.size(); ++i)
      if (watcher_->polled(i)) archiver_->RequestRescan(i);
  }
  if (now - last_rescan_ >= config_.rescan_interval) {
    last_rescan_ = now;
    // The safety net for events the kernel never delivered (network
    // filesystems, exhausted watches): re-watch and rescan everything.
    for (size_t i = 0; i < config_.shares.size(); ++i) {
      watcher_->WatchTree(i, "");
      archiver_->RequestRescan(i);
    }
  }
  if (const auto today = disclosure::LocalToday(); today != calendar_checked_) {
    calendar_checked_ = today;  // once a day
    if (std::string warning = disclosure::NextYearWarning(calendar_, today); !warning.empty())
      log::Warning(warning);
  }
  WatchRequests(TakeSnapshot().counts.records);
  const Snapshot snap = TakeSnapshot();
  notifier_.Status(StatusLine(snap));
  std::string status = daemon::StatusJson(snap, config_, started_, ::getpid());
  if (status != last_status_) {
    if (Status s = storage::WriteFileAtomically(env_, layout_.status_file(), status + "\n");
        !s.ok())
      log::Warning("cannot write " + layout_.status_file() + ": " + s.ToString());
    last_status_ = std::move(status);
  }
}

void Daemon::Stop() {
  admin_socket_->Stop();
  http_->Stop();
  witnesses_->Stop();
  watcher_->Stop();
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  queue_->Stop();
  archiver_thread_.join();  // finishes and commits its current batch
  feeder_->Stop();
  feeder_thread_.join();
  column_thread_.join();  // a count under way is finished first
  env_->RemoveFile(layout_.status_file());
}

Snapshot Daemon::TakeSnapshot() {
  Snapshot snap;
  if (auto lease = catalogs_->Borrow(); lease.ok())
    if (auto c = (*lease)->Counts(); c.ok()) snap.counts = *c;
  snap.index_backlog = feeder_->backlog();
  snap.index_shards = static_cast<int64_t>(index_writer_->shards());
  snap.waiting = static_cast<int64_t>(queue_->size() + archiver_->in_flight());
  snap.failures = archiver_->failures();
  snap.storage_problem = archiver_->storage_problem();
  snap.last_commit_unix = archiver_->last_commit_unix();
  std::lock_guard<std::mutex> lock(requests_mutex_);
  snap.requests = request_counts_;
  snap.column = column_;
  if (witnesses_) snap.witnesses = witnesses_->States();
  return snap;
}

void Daemon::WatchRequests(int64_t records) {
  const auto now = Clock::now();
  const disclosure::Date today = disclosure::LocalToday();
  const bool new_day = today != requests_logged_;
  if (!new_day && records == requests_counted_records_ &&
      now - requests_counted_ < std::chrono::minutes(1))
    return;
  requests_counted_records_ = records;
  requests_counted_ = now;
  auto lease = catalogs_->Borrow();
  if (!lease.ok()) return;
  auto all = ledger::LoadRequests(*lease->get(), calendar_);
  if (!all.ok()) {
    log::Error("cannot count disclosure requests: " + all.status().ToString());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(requests_mutex_);
    request_counts_ = CountRequests(*all, calendar_, today);
  }
  // Each overdue or due-soon request is logged once a day: at the day's first count, or at
  // the first count that sees it (a request registered late is logged as it arrives).
  if (new_day) requests_warned_.clear();
  requests_logged_ = today;
  for (const ledger::RequestState& r : *all) {
    if (requests_warned_.count(r.row.code)) continue;
    const bool overdue = r.clock.Overdue(today);
    if (!overdue && !DueSoon(r.clock, calendar_, today)) continue;
    requests_warned_.insert(r.row.code);
    const std::string due = disclosure::FormatDate(r.clock.due) +
                            (r.clock.provisional ? " (provisional)" : "") + ", received " +
                            r.row.received;
    if (overdue)
      log::Warning("request " + r.row.code + " is OVERDUE: due " + due);
    else
      log::Info("request " + r.row.code + " is due within " + std::to_string(kDueSoonWorkdays) +
                " working days: due " + due);
  }
}

void Daemon::WatchColumn() {
  std::unique_lock<std::mutex> lock(stop_mutex_);
  do {
    lock.unlock();
    CountColumn();
    lock.lock();
  } while (!stop_cv_.wait_for(lock, std::chrono::minutes(5), [this] { return stopping_.load(); }));
}

void Daemon::CountColumn() {
  auto lease = catalogs_->Borrow();
  if (!lease.ok()) return;
  storage::Catalog& catalog = *lease->get();
  ColumnGauges g;
  g.counted = true;
  g.year = disclosure::YearOf(disclosure::LocalToday());
  auto freshness = Freshness(config_, &catalog, calendar_, TodayUtc());
  auto timeliness = LoadTimeliness(catalog, config_, calendar_, g.year);
  for (const Status& s : {freshness.status(), timeliness.status()})
    if (!s.ok()) return log::Error("cannot count freshness and timeliness: " + s.ToString());
  const Timeliness& t = *timeliness;
  g.freshness = std::move(*freshness);
  g.published = t.documents;
  g.late_documents = static_cast<int64_t>(t.late_documents.size());
  g.closed_requests = t.requests_closed;
  g.late_requests = static_cast<int64_t>(t.late_requests.size());
  std::lock_guard<std::mutex> lock(requests_mutex_);
  column_ = std::move(g);
}

}  // namespace

int RunDaemon(const Config& config) {
  // Signals are taken synchronously by the main thread (Daemon::Run); every
  // other thread inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  Daemon running(config);
  Status s = running.Open();
  if (s.ok()) s = running.Start();
  if (!s.ok()) return Fail(s), 1;
  const int rc = running.Run(signals);
  if (rc == kRestartToReload) running.KeepLockForRestart();
  return rc;
}

}  // namespace gongkai::daemon
