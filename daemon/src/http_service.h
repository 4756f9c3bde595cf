// The inquiry service: the HTTP API of docs/api.md on Poco's server.
//
// Routes, role checks and handlers are in http_router.h and http_*.cc;
// handlers never let an exception escape: every failure becomes a JSON error
// body. Visibility is decided on the catalog for every document an anonymous
// caller gets to see (the index filter is the first line, this the second).
#pragma once

#include <memory>
#include <string>

#include "admin.h"
#include "auth.h"
#include "catalogue.h"
#include "gongkai/config.h"
#include "gongkai/disclosure/calendar.h"
#include "gongkai/indexer/index.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"
#include "http_server.h"
#include "metrics.h"
#include "rate_limiter.h"

namespace gongkai::daemon {

class WitnessClient;

// Lends catalog read handles to request threads (one Catalog per thread at a time).
class CatalogPool {
 public:
  // The catalog storage::OpenCatalog(postgres, path, env) opens.
  CatalogPool(std::string postgres, std::string path, storage::Env* env)
      : postgres_(std::move(postgres)), path_(std::move(path)), env_(env) {}
  class Lease {
   public:
    Lease(CatalogPool* pool, std::unique_ptr<storage::Catalog> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (c_) pool_->Return(std::move(c_));
    }
    storage::Catalog* operator->() { return c_.get(); }
    storage::Catalog* get() { return c_.get(); }

   private:
    CatalogPool* pool_;
    std::unique_ptr<storage::Catalog> c_;
  };
  Result<Lease> Borrow();

 private:
  void Return(std::unique_ptr<storage::Catalog> c);
  std::string postgres_;
  std::string path_;
  storage::Env* env_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<storage::Catalog>> free_;
};

// What the HTTP service asks of the daemon that runs it, beyond its stores.
// Called from request threads: implementations are thread-safe.
class LiveStatus {
 public:
  virtual ~LiveStatus() = default;
  // The object served by /api/v1/status and `gongkai status --json`.
  virtual std::string StatusJson() = 0;
  // Archive gauges for /metrics (Prometheus text); only inspectors and
  // admins get them, since counts include documents the public may not see.
  virtual std::string ArchiveGauges() = 0;
  // Why ingest is paused, "" when it is not (Archiver::storage_problem).
  virtual std::string StorageProblem() = 0;
};

// Everything the handlers use; all of it outlives the service.
struct ServiceContext {
  const Config* config = nullptr;
  TokenStore* tokens = nullptr;
  indexer::Searcher* searcher = nullptr;
  CatalogPool* catalogs = nullptr;
  const storage::BlobStore* blobs = nullptr;
  // Where approve and classify are made: RunAdmin() (admin.h) at this
  // target, the same code and the same writer as `gongkai approve`.
  const AdminTarget* admin = nullptr;
  // China's working days, for the deadlines of disclosure on application.
  const disclosure::WorkCalendar* calendar = nullptr;
  LiveStatus* live = nullptr;
  HttpMetrics* metrics = nullptr;
  RateLimiter* anonymous_search_limit = nullptr;
  // Anonymous disclosure requests submitted, and tracking codes looked up,
  // per client address.
  RateLimiter* request_form_limit = nullptr;
  RateLimiter* tracking_limit = nullptr;
  // The public catalogue, kept between requests (nullptr: read every time).
  CatalogueCache* catalogue = nullptr;
  // The witnesses' cosignatures, added to the checkpoints served (nullptr: none).
  const WitnessClient* witnesses = nullptr;
};

class HttpService {
 public:
  explicit HttpService(ServiceContext ctx);
  ~HttpService();
  // Binds config.listen and starts serving. The bound port is port().
  Status Start();
  void Stop();
  uint16_t port() const { return listener_.port(); }

 private:
  ServiceContext ctx_;
  HttpListener listener_;
};

}  // namespace gongkai::daemon
