#include "cli/admin_client.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "admin_socket.h"
#include "gongkai/ledger/ledger.h"
#include "gongkai/storage/env.h"
#include "gongkai/storage/keys.h"

namespace gongkai::cli {
namespace {

using daemon::AsIoError;

// The daemon is stopped: the CLI's own ledger over its own catalog writer,
// opened on first use, and the tokens file, under the data folder's lock.
class HereTarget {
 public:
  explicit HereTarget(const Context& ctx) : ctx_(ctx) {}

  daemon::AdminTarget Target() {
    daemon::AdminTarget t;
    t.find_document = [this](const std::string& id) -> Result<std::optional<storage::DocumentRow>> {
      auto catalog = Catalog();
      if (!catalog.ok()) return catalog.status();
      auto doc = (*catalog)->GetDocument(id);
      return doc.ok() ? doc : Result<std::optional<storage::DocumentRow>>(AsIoError(doc.status()));
    };
    t.apply = [this](ledger::Change change) { return Apply(std::move(change)); };
    t.rotate_key = [this]() -> Result<std::string> {
      auto catalog = Catalog();
      if (!catalog.ok()) return catalog.status();
      auto key = storage::RotateSigningKey(storage::Env::Default(), ctx_.layout.keys(), *catalog);
      if (!key.ok()) return AsIoError(key.status());
      return (*key)->KeyId();
    };
    t.tokens_file = ctx_.config.tokens_file;
    daemon::SetRequestFunctions(
        t, [this](const daemon::LedgerFn& fn) { return WithLedger(fn); }, &calendar_);
    return t;  // no wait_indexed, no reload_tokens: nothing runs to be told
  }

 private:
  Result<storage::Catalog*> Catalog() {
    if (!catalog_) {
      auto opened = storage::OpenCatalog(ctx_.config.catalog_postgres, ctx_.layout.catalog(),
                                         storage::Env::Default());
      if (!opened.ok()) return AsIoError(opened.status());
      catalog_ = std::move(*opened);
    }
    return catalog_.get();
  }

  Result<ledger::Change> Apply(ledger::Change change) {
    std::vector<ledger::Change> one{std::move(change)};
    Status s = WithLedger([&](ledger::Ledger& ledger, const storage::SigningKey& key) {
      return ledger.Apply(one, key);
    });
    if (!s.ok()) return s;
    return std::move(one[0]);
  }

  Status WithLedger(const daemon::LedgerFn& fn) {
    auto catalog = Catalog();
    if (!catalog.ok()) return catalog.status();
    auto key = storage::LoadActiveSigningKey(ctx_.layout.keys());
    if (!key.ok()) return AsIoError(key.status());
    if (!calendar_loaded_) {
      auto calendar =
          disclosure::WorkCalendar::Load(disclosure::CalendarFolders(ctx_.config.calendar_dir));
      if (!calendar.ok()) return AsIoError(calendar.status());
      calendar_ = std::move(*calendar);
      calendar_loaded_ = true;
    }
    ledger::Ledger ledger(*catalog, storage::Env::Default(), ctx_.config.origin,
                          ctx_.config.agency_code);
    return fn(ledger, **key);
  }

  const Context& ctx_;
  std::unique_ptr<storage::Catalog> catalog_;
  disclosure::WorkCalendar calendar_;  // loaded on first use
  bool calendar_loaded_ = false;
};

Result<ChangeMade> MakeHere(const Context& ctx, const daemon::AdminRequest& request) {
  HereTarget here(ctx);
  auto answer = daemon::RunAdmin(request, here.Target());
  if (!answer.ok()) return answer.status();
  return ChangeMade{std::move(*answer), 0};
}

Result<ChangeMade> MakeThere(daemon::UniqueFd connection, const daemon::AdminRequest& request) {
  ChangeMade made;
  // Long enough for the archiver to take it (30 s at most) and the index to show it (30 s).
  auto answer =
      daemon::CallAdmin(std::move(connection), request, std::chrono::seconds(90), &made.daemon_pid);
  if (!answer.ok()) return answer.status();
  made.answer = std::move(*answer);
  return made;
}

Result<std::optional<ChangeMade>> Made(Result<ChangeMade> made) {
  if (!made.ok()) return made.status();
  return std::optional<ChangeMade>(std::move(*made));
}

// One look at the data folder: the change made (through the daemon or
// here), or nullopt when neither could be tried just now.
Result<std::optional<ChangeMade>> TryOnce(const Context& ctx, const daemon::AdminRequest& request) {
  const std::string lock_file = ctx.layout.lock_file();
  if (daemon::DataDirLocked(lock_file)) {
    auto connection = daemon::ConnectAdminSocket(ctx.layout.admin_socket());
    if (connection.ok()) return Made(MakeThere(std::move(*connection), request));
    if (!connection.status().IsNotFound()) return connection.status();
    return std::optional<ChangeMade>();
  }
  std::string error;
  daemon::UniqueFd lock(daemon::LockDataDir(lock_file, &error));
  if (lock.ok()) return Made(MakeHere(ctx, request));
  if (daemon::DataDirLocked(lock_file)) return std::optional<ChangeMade>();  // someone was quicker
  return Status::IOError(error);
}

}  // namespace

Result<ChangeMade> MakeChange(const Context& ctx, const daemon::AdminRequest& request) {
  // Without a data folder no daemon ever ran on it (it makes the folder first).
  std::error_code ec;
  if (!std::filesystem::exists(ctx.config.data_dir, ec)) return MakeHere(ctx, request);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto made = TryOnce(ctx, request);
    if (!made.ok()) return made.status();
    if (made->has_value()) return std::move(**made);
    if (std::chrono::steady_clock::now() > deadline)
      return Status::IOError(
          ctx.config.data_dir + " is locked, but nothing answers on " + ctx.layout.admin_socket() +
          " (a gongkaid older than this gongkai needs a restart: systemctl restart gongkaid; "
          "gongkai reindex holds the lock too)");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace gongkai::cli
