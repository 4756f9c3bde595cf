// Poco's HTTP server, guarded against clients that hold connections open: a
// cap on the connections one client address holds (refused at accept, before
// they take a request thread or a queue slot), and a deadline for each
// request's line and headers. One request thread serves one connection.
#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/SharedPtr.h>
#include <Poco/ThreadPool.h>

#include <chrono>
#include <memory>
#include <string>

#include "gongkai/status.h"

namespace gongkai::daemon {

class ConnectionLimiter;
class DeadlineHandlerFactory;

class GuardedHttpServer {
 public:
  struct Limits {
    int per_client = 16;  // connections one client address may hold open; 0 = no cap
    // From the moment a connection is served, or a kept-alive connection's
    // next request sends its first byte, until its headers are complete.
    std::chrono::milliseconds header_timeout{5000};
  };

  // Serves `socket` with `handlers` on `pool` (params as for Poco's
  // HTTPServer) once Start() is called.
  GuardedHttpServer(Poco::Net::HTTPRequestHandlerFactory::Ptr handlers, Poco::ThreadPool& pool,
                    const Poco::Net::ServerSocket& socket,
                    const Poco::Net::HTTPServerParams::Ptr& params, Limits limits);
  ~GuardedHttpServer();
  GuardedHttpServer(const GuardedHttpServer&) = delete;
  GuardedHttpServer& operator=(const GuardedHttpServer&) = delete;

  void Start();
  // Stops accepting and ends the open connections (their sockets are shut
  // down); the pool's threads finish on their own.
  void Stop();

 private:
  std::shared_ptr<ConnectionLimiter> limiter_;
  Poco::SharedPtr<DeadlineHandlerFactory> handlers_;
  std::unique_ptr<Poco::Net::TCPServer> server_;
};

// A GuardedHttpServer on a thread pool of its own, with the settings every
// gongkai service uses: one thread serves one connection (at most `threads`
// at once, more wait in a queue of 512), 5 s idle between kept-alive requests
// and at most 100 of them per connection, 10 s per read of a body.
class HttpListener {
 public:
  HttpListener() = default;
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Binds host:port (port 0 picks a free one: port() tells which) and serves
  // `handlers`. IOError, prefixed with `what` (the config key), when it
  // cannot listen.
  Status Start(const std::string& host, uint16_t port, int threads,
               const Poco::Net::HTTPRequestHandlerFactory::Ptr& handlers,
               GuardedHttpServer::Limits limits, const std::string& server_name,
               const std::string& what);
  // Stops accepting, ends the open connections and joins the threads.
  void Stop();
  uint16_t port() const { return port_; }

 private:
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<GuardedHttpServer> server_;
  uint16_t port_ = 0;
};

}  // namespace gongkai::daemon
