// daemon/src/http_client.h against small loopback servers that misbehave.
#include "http_client.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

using gongkai::daemon::Fetch;

namespace {

// Accepts one connection, reads the request head, then sends `head` and
// `body` in pieces of `piece` bytes `pause` apart. Asserts nothing itself:
// Catch2 is not thread-safe.
class OneShotServer {
 public:
  OneShotServer(std::string head, std::string body, size_t piece, std::chrono::milliseconds pause)
      : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)) {
    thread_ = std::thread([this, head = std::move(head), body = std::move(body), piece, pause] {
      try {
        Poco::Net::StreamSocket s = socket_.acceptConnection();
        char buf[4096];
        std::string got;
        while (got.find("\r\n\r\n") == std::string::npos) {
          const int n = s.receiveBytes(buf, sizeof buf);
          if (n <= 0) return;
          got.append(buf, static_cast<size_t>(n));
        }
        s.sendBytes(head.data(), static_cast<int>(head.size()));
        for (size_t at = 0; at < body.size(); at += piece) {
          const std::string part = body.substr(at, piece);
          s.sendBytes(part.data(), static_cast<int>(part.size()));
          std::this_thread::sleep_for(pause);
        }
      } catch (const std::exception&) {  // the client hung up: what some cases want
      }
    });
  }
  ~OneShotServer() { thread_.join(); }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(socket_.address().port()) + "/x";
  }

 private:
  Poco::Net::ServerSocket socket_;
  std::thread thread_;
};

std::string Head(size_t length) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(length) +
         "\r\nConnection: close\r\n\r\n";
}

}  // namespace

TEST_CASE("http client: an answer is whole, or too big, or too slow: never cut short",
          "[daemon][http]") {
  using std::chrono::milliseconds;
  {
    OneShotServer server(Head(5), "hello", 5, milliseconds(0));
    auto a = Fetch({.url = server.url()});
    REQUIRE(a.ok());
    CHECK(a->status == 200);
    CHECK(a->body == "hello");
  }
  {  // A declared length above the limit is refused before the body is read.
    OneShotServer server(Head(size_t{2} * 1024 * 1024), "", 1, milliseconds(0));
    auto a = Fetch({.url = server.url(), .max_body = 1024});
    REQUIRE_FALSE(a.ok());
    CHECK(a.status().message().find("more than the 1024 expected") != std::string::npos);
  }
  {  // Without a length (read to the end), the limit still holds.
    OneShotServer server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", std::string(5000, 'x'),
                         5000, milliseconds(0));
    auto a = Fetch({.url = server.url(), .max_body = 1024});
    REQUIRE_FALSE(a.ok());
    CHECK(a.status().message().find("longer than 1024 bytes") != std::string::npos);
  }
  {  // A trickle, each piece well within the socket timeout, is cut off by the deadline.
    OneShotServer server(Head(200), std::string(200, 'y'), 1, milliseconds(50));
    const auto start = std::chrono::steady_clock::now();
    auto a = Fetch({.url = server.url(), .timeout = milliseconds(600)});
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(a.ok());
    INFO(a.status().message());
    CHECK(a.status().message() == "no complete answer within 600 ms");
    CHECK(took < std::chrono::seconds(5));  // generous: 0.6 s plus one read
  }
  CHECK(Fetch({.url = "https://127.0.0.1:1/"}).status().code() == gongkai::Status::Code::kInvalid);
  CHECK(Fetch({.url = "http://127.0.0.1:1/"}).status().code() == gongkai::Status::Code::kIOError);
}
