#include "http_client.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>

#include <algorithm>
#include <istream>

namespace gongkai::daemon {

namespace {

std::string TooSlow(int64_t ms) {
  return "no complete answer within " + std::to_string(ms) + " ms";
}

}  // namespace

Result<HttpAnswer> Fetch(const HttpRequest& request) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + request.timeout;
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(request.timeout).count();
  try {
    Poco::URI uri(request.url);
    if (uri.getScheme() != "http") return Status::Invalid("not an http:// URL: " + request.url);
    Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
    const Poco::Timespan each(static_cast<Poco::Timespan::TimeDiff>(ms) * 1000);
    session.setTimeout(each, each, each);
    Poco::Net::HTTPRequest req(request.method, uri.getPathEtc(), Poco::Net::HTTPMessage::HTTP_1_1);
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
    if (resp.hasContentLength() && resp.getContentLength64() > 0 &&
        static_cast<uint64_t>(resp.getContentLength64()) > request.max_body)
      return Status::IOError("answer of " + std::to_string(resp.getContentLength64()) +
                             " bytes, more than the " + std::to_string(request.max_body) +
                             " expected");
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
      if (a.body.size() > request.max_body)
        return Status::IOError("answer longer than " + std::to_string(request.max_body) + " bytes");
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
