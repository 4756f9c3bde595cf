// What gongkaid wires together around its archiver, in-process: one share
// "pub" at <root>/share, the data folder <root>/data with a SQLite catalog,
// blobs and the signing key. No watcher, index or HTTP: a test drives the
// archiver's thread itself with Run().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "archiver.h"
#include "gongkai/daemon/layout.h"
#include "gongkai/storage/keys.h"

namespace gongkai::test {

struct InProcessArchive {
  Config config;
  daemon::DataLayout layout;
  std::unique_ptr<storage::Catalog> catalog;
  std::unique_ptr<ledger::Ledger> ledger;
  std::unique_ptr<storage::BlobStore> blobs;
  std::unique_ptr<daemon::SettleQueue> queue;
  std::unique_ptr<daemon::Archiver> archiver;
  std::shared_ptr<const storage::SigningKey> key;

  explicit InProcessArchive(const std::string& root) : layout(root + "/data") {
    using namespace std::chrono_literals;
    config.data_dir = layout.root;
    config.settle = 0ms;
    config.retry_interval = 0ms;
    ShareConfig share;
    share.name = "pub";
    share.path = root + "/share";
    share.office = "測試辦公室";
    config.shares.push_back(share);
  }

  // Opens the archive as gongkaid does (a failure here is a failed start);
  // `committed` is called after each commit with the log's last index.
  Status Open(
      storage::Env* env, std::function<void(int64_t)> committed = [](int64_t) {}) {
    if (Status s = env->CreateDirs(layout.root); !s.ok()) return s;
    auto c = storage::OpenSqliteCatalog(layout.catalog(), env);
    if (!c.ok()) return c.status();
    catalog = std::move(*c);
    auto b = storage::BlobStore::Open(env, layout.blobs(), layout.tmp());
    if (!b.ok()) return b.status();
    blobs = std::move(*b);
    auto loaded = storage::LoadOrCreateSigningKey(env, layout.keys(), catalog.get());
    if (!loaded.ok()) return loaded.status();
    queue = std::make_unique<daemon::SettleQueue>();
    ledger = std::make_unique<ledger::Ledger>(catalog.get(), env, config.origin);
    key = std::shared_ptr<const storage::SigningKey>(std::move(*loaded));
    archiver = std::make_unique<daemon::Archiver>(config, ledger.get(), blobs.get(), key,
                                                  queue.get(), std::move(committed));
    return Status::OK();
  }

  // Scans the share and archives until nothing is queued, or `rounds`
  // passes, or `stop()`.
  void Run(
      int rounds, const std::function<bool()>& stop = [] { return false; }) {
    archiver->RequestRescan(0);
    Drain(rounds, stop);
  }

  // Runs the archiver's turns (at least two: a request, then what it
  // queued) until nothing is queued, or `rounds` passes, or `stop()`.
  void Drain(
      int rounds, const std::function<bool()>& stop = [] { return false; }) {
    for (int i = 0; i < rounds && !stop(); ++i) {
      archiver->RunOnce(std::chrono::milliseconds(0));
      if (i > 0 && queue->size() == 0) break;
    }
  }

  void Close() {
    archiver.reset();
    queue.reset();
    blobs.reset();
    catalog.reset();
  }
};

}  // namespace gongkai::test
