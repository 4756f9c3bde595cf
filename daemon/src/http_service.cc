#include "http_service.h"

#include "http_router.h"
#include "http_server.h"

namespace gongkai::daemon {

Result<CatalogPool::Lease> CatalogPool::Borrow() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
      auto c = std::move(free_.back());
      free_.pop_back();
      return Lease(this, std::move(c));
    }
  }
  auto c = storage::OpenCatalog(postgres_, path_, env_);
  if (!c.ok()) return c.status();
  return Lease(this, std::move(*c));
}

void CatalogPool::Return(std::unique_ptr<storage::Catalog> c) {
  std::lock_guard<std::mutex> lock(mutex_);
  free_.push_back(std::move(c));
}

HttpService::HttpService(ServiceContext ctx) : ctx_(ctx) {}
HttpService::~HttpService() { Stop(); }

// One thread serves one connection at a time, so clients that hold
// connections are bounded: a cap per client address and a deadline for each
// request's headers (GuardedHttpServer), and HttpListener's timeouts.
Status HttpService::Start() {
  const GuardedHttpServer::Limits limits{ctx_.config->max_connections_per_client,
                                         ctx_.config->request_header_timeout};
  return listener_.Start(ctx_.config->listen_host, ctx_.config->listen_port,
                         ctx_.config->http_threads, NewApiHandlerFactory(ctx_), limits, "gongkai",
                         "[daemon] listen");
}

void HttpService::Stop() { listener_.Stop(); }

}  // namespace gongkai::daemon
