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

}  // namespace gongkai::daemon
