#include "http_server.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <fcntl.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>

#include "connection_limiter.h"
#include "gongkai/log.h"

namespace gongkai::daemon {

namespace {

using Clock = std::chrono::steady_clock;
using Poco::Net::HTTPRequestHandler;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;
using Poco::Net::StreamSocket;

// A connection's socket whose reads fail with a timeout once the current
// request's line and headers took longer than the limit. The clock starts
// when the connection is served and, on a kept-alive connection, at the next
// request's first byte. Used by the connection's thread only.
class HeaderDeadlineSocket final : public Poco::Net::StreamSocketImpl {
 public:
  HeaderDeadlineSocket(poco_socket_t fd, std::chrono::milliseconds limit)
      : StreamSocketImpl(fd), limit_(limit), deadline_(Clock::now() + limit) {}

  // The headers were read: the body is read under the usual timeout.
  void HeadersRead() { phase_ = Phase::kBody; }
  // The answer was sent: the next request's clock starts at its first byte.
  void AwaitNextRequest() { phase_ = Phase::kIdle; }

  int receiveBytes(void* buffer, int length, int flags) override {
    if (phase_ == Phase::kIdle) {
      phase_ = Phase::kHeaders;
      deadline_ = Clock::now() + limit_;
    }
    if (phase_ == Phase::kHeaders && !WaitReadable())
      throw Poco::TimeoutException("request headers not complete within the deadline");
    return StreamSocketImpl::receiveBytes(buffer, length, flags);
  }

  // Waiting for a request's first bytes ends at its deadline too.
  bool poll(const Poco::Timespan& timeout, int mode) override {
    if (phase_ != Phase::kHeaders || !(mode & SELECT_READ))
      return StreamSocketImpl::poll(timeout, mode);
    const auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline_ - Clock::now());
    return StreamSocketImpl::poll(
        std::min(timeout, Poco::Timespan(std::max<int64_t>(0, left.count()))), mode);
  }

 private:
  enum class Phase { kHeaders, kBody, kIdle };

  // False when the deadline passed before the socket became readable.
  bool WaitReadable() const {
    for (;;) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{sockfd(), POLLIN, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
      if (rc > 0 || (rc < 0 && errno != EINTR)) return true;  // recv reports what happened
    }
  }

  const std::chrono::milliseconds limit_;
  Clock::time_point deadline_;
  Phase phase_ = Phase::kHeaders;
};

HeaderDeadlineSocket* DeadlineSocketOf(HTTPServerRequest& req) {
  auto* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl*>(&req);
  return impl ? dynamic_cast<HeaderDeadlineSocket*>(impl->socket().impl()) : nullptr;
}

// Marks where a request's headers end and where its answer ends.
class DeadlineHandler final : public HTTPRequestHandler {
 public:
  explicit DeadlineHandler(HTTPRequestHandler* inner) : inner_(inner) {}
  void handleRequest(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    HeaderDeadlineSocket* socket = DeadlineSocketOf(req);
    if (socket) socket->HeadersRead();
    inner_->handleRequest(req, resp);
    if (socket) socket->AwaitNextRequest();
  }

 private:
  std::unique_ptr<HTTPRequestHandler> inner_;
};

}  // namespace

// Wraps each handler in a DeadlineHandler; ends open connections on Stop.
class DeadlineHandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit DeadlineHandlerFactory(HTTPRequestHandlerFactory::Ptr inner)
      : inner_(std::move(inner)) {}
  HTTPRequestHandler* createRequestHandler(const HTTPServerRequest& req) override {
    HTTPRequestHandler* handler = inner_->createRequestHandler(req);
    return handler ? new DeadlineHandler(handler) : nullptr;
  }
  // What Poco's HTTPServer::stopAll tells its connections (named in
  // tests/sanitizers/tsan.supp: Poco shares the event's delegates by a
  // reference count TSan cannot see).
  void StopConnections(bool abort) { serverStopped(this, abort); }

 private:
  HTTPRequestHandlerFactory::Ptr inner_;
};

namespace {

// One client connection: holds its slot in the limiter until it ends, and is
// served by Poco's HTTPServerConnection on a HeaderDeadlineSocket.
class GuardedConnection final : public Poco::Net::TCPServerConnection {
 public:
  GuardedConnection(const StreamSocket& socket, std::shared_ptr<ConnectionLimiter> limiter,
                    Poco::Net::HTTPServerParams::Ptr params,
                    Poco::SharedPtr<DeadlineHandlerFactory> handlers,
                    std::chrono::milliseconds header_timeout)
      : TCPServerConnection(socket),
        id_(socket.impl()),
        limiter_(std::move(limiter)),
        params_(std::move(params)),
        handlers_(std::move(handlers)),
        header_timeout_(header_timeout) {}
  // Runs before the accepted socket object is freed, so its id is not reused
  // while still counted.
  ~GuardedConnection() override { limiter_->Release(id_); }

  void run() override {
    try {
      Serve();
    } catch (...) {
      // A timeout or a reset ends this connection only.
    }
  }

 private:
  void Serve() {
    StreamSocket guarded;
    if (!TakeOverSocket(&guarded)) return;
    Poco::Net::HTTPServerConnection(guarded, params_, handlers_).run();
  }

  // Moves the accepted connection onto a HeaderDeadlineSocket: a duplicate
  // of its descriptor, the original closed. False when out of descriptors.
  //
  // The one place this thread touches the socket object Poco accepted. Poco
  // frees it with the last of its reference counts, which Poco's own
  // (uninstrumented) code drops, often on the accept thread: ThreadSanitizer
  // cannot see that ordering and reports these accesses as racing with the
  // free. tests/sanitizers/tsan.supp names this function for that reason.
  [[gnu::noinline]] bool TakeOverSocket(StreamSocket* guarded) {
    const int fd = ::fcntl(socket().impl()->sockfd(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return false;
    *guarded = StreamSocket(new HeaderDeadlineSocket(fd, header_timeout_));
    socket().close();
    return true;
  }

  const void* const id_;
  std::shared_ptr<ConnectionLimiter> limiter_;
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::SharedPtr<DeadlineHandlerFactory> handlers_;
  const std::chrono::milliseconds header_timeout_;
};

class GuardedConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  GuardedConnectionFactory(std::shared_ptr<ConnectionLimiter> limiter,
                           Poco::Net::HTTPServerParams::Ptr params,
                           Poco::SharedPtr<DeadlineHandlerFactory> handlers,
                           std::chrono::milliseconds header_timeout)
      : limiter_(std::move(limiter)),
        params_(std::move(params)),
        handlers_(std::move(handlers)),
        header_timeout_(header_timeout) {}
  Poco::Net::TCPServerConnection* createConnection(const StreamSocket& socket) override {
    return new GuardedConnection(socket, limiter_, params_, handlers_, header_timeout_);
  }

 private:
  std::shared_ptr<ConnectionLimiter> limiter_;
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::SharedPtr<DeadlineHandlerFactory> handlers_;
  const std::chrono::milliseconds header_timeout_;
};

// Counts each accepted connection for its client address and refuses those
// beyond the cap. Also refuses when the dispatcher's queue is full, which
// Poco would otherwise do after this count, leaving the slot taken.
class PerClientFilter final : public Poco::Net::TCPServerConnectionFilter {
 public:
  PerClientFilter(std::shared_ptr<ConnectionLimiter> limiter, const Poco::Net::TCPServer* server)
      : limiter_(std::move(limiter)), server_(server) {}
  bool accept(const StreamSocket& socket) override {
    try {
      if (server_->queuedConnections() >= server_->params().getMaxQueued()) return false;
      std::string report;
      const bool admitted = limiter_->Admit(socket.impl(), socket.peerAddress().host().toString(),
                                            Clock::now(), &report);
      if (!report.empty()) log::Warning(report);
      return admitted;
    } catch (const std::exception&) {
      return false;  // the client is already gone
    }
  }

 private:
  std::shared_ptr<ConnectionLimiter> limiter_;
  const Poco::Net::TCPServer* server_;
};

}  // namespace

GuardedHttpServer::GuardedHttpServer(Poco::Net::HTTPRequestHandlerFactory::Ptr handlers,
                                     Poco::ThreadPool& pool, const Poco::Net::ServerSocket& socket,
                                     const Poco::Net::HTTPServerParams::Ptr& params, Limits limits)
    : limiter_(std::make_shared<ConnectionLimiter>(limits.per_client)),
      handlers_(new DeadlineHandlerFactory(std::move(handlers))) {
  server_ = std::make_unique<Poco::Net::TCPServer>(
      new GuardedConnectionFactory(limiter_, params, handlers_, limits.header_timeout), pool,
      socket, params);
  server_->setConnectionFilter(new PerClientFilter(limiter_, server_.get()));
}

GuardedHttpServer::~GuardedHttpServer() {
  try {
    Stop();
  } catch (...) {  // Poco may throw while closing sockets; a destructor must not
  }
}

void GuardedHttpServer::Start() { server_->start(); }

void GuardedHttpServer::Stop() {
  server_->stop();
  handlers_->StopConnections(true);
}

Status HttpListener::Start(const std::string& host, uint16_t port, int threads,
                           const Poco::Net::HTTPRequestHandlerFactory::Ptr& handlers,
                           GuardedHttpServer::Limits limits, const std::string& server_name,
                           const std::string& what) {
  try {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(host, port), 128);
    port_ = socket.address().port();
    pool_ = std::make_unique<Poco::ThreadPool>(std::min(threads, 4), threads, 60);
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(threads);
    params->setMaxQueued(512);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(5, 0));
    params->setMaxKeepAliveRequests(100);
    params->setTimeout(Poco::Timespan(10, 0));
    params->setServerName(server_name);
    server_ = std::make_unique<GuardedHttpServer>(handlers, *pool_, socket, params, limits);
    server_->Start();
    return Status::OK();
  } catch (const Poco::Exception& e) {
    return Status::IOError(what + ": cannot listen on " + host + ":" + std::to_string(port) + ": " +
                           e.displayText());
  }
}

HttpListener::~HttpListener() {
  try {
    Stop();
  } catch (...) {  // a destructor must not throw; nothing is left to stop
  }
}

void HttpListener::Stop() {
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
