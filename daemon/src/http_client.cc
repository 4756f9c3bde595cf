#include "http_client.h"

#include <Poco/Exception.h>
#include <Poco/InflatingStream.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/URI.h>

#include <algorithm>
#include <istream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

namespace gongkai::daemon {

namespace {

std::string TooSlow(int64_t ms) {
  return "no complete answer within " + std::to_string(ms) + " ms";
}

// One client context per trusted-CA file, made once: loading the system's
// CAs costs milliseconds. VERIFY_STRICT, because with VERIFY_RELAXED Poco
// skips the host name check for "localhost" and "127.0.0.1".
Poco::Net::Context::Ptr ClientContext(const std::string& ca_file) {
  static std::once_flag ssl_started;
  std::call_once(ssl_started, [] { Poco::Net::initializeSSL(); });
  static std::mutex mu;
  static std::map<std::string, Poco::Net::Context::Ptr> made;
  std::lock_guard lock(mu);
  Poco::Net::Context::Ptr& context = made[ca_file];
  if (context.isNull()) {
    Poco::Net::Context::Params params;
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.caLocation = ca_file;
    params.loadDefaultCAs = ca_file.empty();
    params.cipherList = "HIGH:!aNULL:!MD5";
    context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  }
  return context;
}

// Undoes gzip, refusing to unpack more than `max_body` bytes.
Result<std::string> Gunzip(const std::string& packed, size_t max_body) {
  std::istringstream in(packed);
  Poco::InflatingInputStream inflate(in, Poco::InflatingStreamBuf::STREAM_GZIP);
  inflate.exceptions(std::ios::badbit);  // a damaged stream is an error, not an end
  std::string out;
  char piece[16384];
  try {
    while (inflate.read(piece, sizeof piece) || inflate.gcount() > 0) {
      out.append(piece, static_cast<size_t>(inflate.gcount()));
      if (out.size() > max_body)
        return Status::IOError("answer unpacks to more than " + std::to_string(max_body) +
                               " bytes");
    }
  } catch (const Poco::Exception& e) {
    return Status::IOError("answer's gzip is damaged: " + e.displayText());
  } catch (const std::exception& e) {
    return Status::IOError(std::string("answer's gzip is damaged: ") + e.what());
  }
  return out;
}

}  // namespace

Result<HttpAnswer> Fetch(const HttpRequest& request) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + request.timeout;
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(request.timeout).count();
  try {
    Poco::URI uri(request.url);
    std::unique_ptr<Poco::Net::HTTPClientSession> made;
    if (uri.getScheme() == "http")
      made = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    else if (uri.getScheme() == "https")
      made = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(),
                                                             ClientContext(request.ca_file));
    else
      return Status::Invalid("not an http:// or https:// URL: " + request.url);
    Poco::Net::HTTPClientSession& session = *made;
    const Poco::Timespan each(static_cast<Poco::Timespan::TimeDiff>(ms) * 1000);
    session.setTimeout(each, each, each);
    Poco::Net::HTTPRequest req(request.method, uri.getPathEtc(), Poco::Net::HTTPMessage::HTTP_1_1);
    req.set("Accept-Encoding", "gzip");
    if (!request.bearer.empty()) req.set("Authorization", "Bearer " + request.bearer);
    if (request.method == Poco::Net::HTTPRequest::HTTP_POST) {
      req.setContentType(request.content_type);
      req.setContentLength(static_cast<std::streamsize>(request.body.size()));
    }
    session.sendRequest(req) << request.body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = session.receiveResponse(resp);
    HttpAnswer a;
    a.status = static_cast<int>(resp.getStatus());
    const bool gzipped = resp.get("Content-Encoding", "") == "gzip";
    // A packed answer may be a little longer than its contents (gzip's own
    // bytes, when they do not compress); the limit that matters is checked
    // after unpacking.
    const size_t max_read = gzipped ? request.max_body + 1024 : request.max_body;
    if (resp.hasContentLength() && resp.getContentLength64() > 0 &&
        static_cast<uint64_t>(resp.getContentLength64()) > max_read)
      return Status::IOError("answer of " + std::to_string(resp.getContentLength64()) +
                             " bytes, more than the " + std::to_string(max_read) + " expected");
    // What the stream holds is taken at once; when it holds nothing, one
    // byte is asked for, which is one socket read, waiting at most until the
    // deadline. So a peer that trickles is cut off at `timeout`.
    std::streambuf* buf = in.rdbuf();
    char piece[16384];
    for (;;) {
      const std::streamsize held = buf->in_avail();
      if (held > 0) {
        a.body.append(piece, static_cast<size_t>(
                                 buf->sgetn(piece, std::min<std::streamsize>(held, sizeof piece))));
      } else {
        const auto left =
            std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
        if (left.count() <= 0) return Status::IOError(TooSlow(ms));
        session.socket().setReceiveTimeout(Poco::Timespan(left.count()));
        const int c = buf->sbumpc();
        if (c == std::char_traits<char>::eof()) break;
        a.body.push_back(static_cast<char>(c));
      }
      if (a.body.size() > max_read)
        return Status::IOError("answer longer than " + std::to_string(max_read) + " bytes");
    }
    if (gzipped) {
      auto plain = Gunzip(a.body, request.max_body);
      if (!plain.ok()) return plain.status();
      a.body = std::move(*plain);
    }
    return a;
  } catch (const Poco::TimeoutException&) {
    return Status::IOError(TooSlow(ms));
  } catch (const Poco::Exception& e) {
    return Status::IOError(e.displayText());
  } catch (const std::exception& e) {
    return Status::IOError(e.what());
  }
}

}  // namespace gongkai::daemon
