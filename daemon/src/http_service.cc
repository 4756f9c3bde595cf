#include "http_service.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

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

Status HttpService::Start() {
  try {
    Poco::Net::SocketAddress addr(ctx_.config->listen_host, ctx_.config->listen_port);
    Poco::Net::ServerSocket socket(addr, 128);
    port_ = socket.address().port();
    // One thread serves one connection at a time, so clients that hold
    // connections are bounded: a cap per client address, a deadline for each
    // request's headers, 10 s per read of a body, 5 s idle between kept-alive
    // requests, at most 100 requests per connection. Connections beyond the
    // threads wait in a bounded queue.
    const int threads = ctx_.config->http_threads;
    pool_ = std::make_unique<Poco::ThreadPool>(std::min(threads, 4), threads, 60);
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(threads);
    params->setMaxQueued(512);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(5, 0));
    params->setMaxKeepAliveRequests(100);
    params->setTimeout(Poco::Timespan(10, 0));
    params->setServerName("gongkai");
    const GuardedHttpServer::Limits limits{ctx_.config->max_connections_per_client,
                                           ctx_.config->request_header_timeout};
    server_ = std::make_unique<GuardedHttpServer>(NewApiHandlerFactory(ctx_), *pool_, socket,
                                                  params, limits);
    server_->Start();
    return Status::OK();
  } catch (const Poco::Exception& e) {
    return Status::IOError("[daemon] listen: cannot listen on " + ctx_.config->listen_host + ":" +
                           std::to_string(ctx_.config->listen_port) + ": " + e.displayText());
  }
}

void HttpService::Stop() {
  if (server_) {
    server_->Stop();
    server_.reset();
  }
  if (pool_) {
    pool_->joinAll();
    pool_.reset();
  }
}

}  // namespace gongkai::daemon
