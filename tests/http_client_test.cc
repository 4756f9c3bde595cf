// daemon/src/http_client.h against small loopback servers that misbehave.
#include "http_client.h"

#include <Poco/DeflatingStream.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>

#include "support/temp_dir.h"
#include "support/tls.h"

using gongkai::daemon::Fetch;
using gongkai::test::MakeCertificate;
using gongkai::test::TlsSocket;

namespace {

// Accepts one connection, reads the request head, then sends `head` and
// `body` in pieces of `piece` bytes `pause` apart. Asserts nothing itself:
// Catch2 is not thread-safe.
class OneShotServer {
 public:
  OneShotServer(std::string head, std::string body, size_t piece, std::chrono::milliseconds pause,
                const Poco::Net::ServerSocket& socket =
                    Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0)))
      : socket_(socket) {
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
  std::string url(const std::string& scheme = "http", const std::string& host = "127.0.0.1") const {
    return scheme + "://" + host + ":" + std::to_string(socket_.address().port()) + "/x";
  }

 private:
  Poco::Net::ServerSocket socket_;
  std::thread thread_;
};

std::string Head(size_t length, const std::string& extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(length) + "\r\n" + extra +
         "Connection: close\r\n\r\n";
}

std::string Gzip(const std::string& plain) {
  std::ostringstream out;
  Poco::DeflatingOutputStream deflate(out, Poco::DeflatingStreamBuf::STREAM_GZIP);
  deflate << plain;
  deflate.close();
  return out.str();
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
  CHECK(Fetch({.url = "ftp://127.0.0.1:1/"}).status().code() == gongkai::Status::Code::kInvalid);
  CHECK(Fetch({.url = "http://127.0.0.1:1/"}).status().code() == gongkai::Status::Code::kIOError);
}

TEST_CASE("http client: gzip is undone, and bounded after unpacking", "[daemon][http]") {
  using std::chrono::milliseconds;
  const std::string plain(100000, 'z');
  const std::string packed = Gzip(plain);
  REQUIRE(packed.size() < 1000);
  {
    OneShotServer server(Head(packed.size(), "Content-Encoding: gzip\r\n"), packed, packed.size(),
                         milliseconds(0));
    auto a = Fetch({.url = server.url(), .max_body = plain.size()});
    REQUIRE(a.ok());
    CHECK(a->body == plain);
  }
  {  // A bomb: small on the wire, too big unpacked.
    OneShotServer server(Head(packed.size(), "Content-Encoding: gzip\r\n"), packed, packed.size(),
                         milliseconds(0));
    auto a = Fetch({.url = server.url(), .max_body = 4096});
    REQUIRE_FALSE(a.ok());
    CHECK(a.status().message() == "answer unpacks to more than 4096 bytes");
  }
  // Damaged or cut short: an error, never the part that unpacked.
  std::string bad_header = packed;
  bad_header[0] = 'X';
  for (const std::string& broken : {bad_header, packed.substr(0, packed.size() / 2)}) {
    OneShotServer server(Head(broken.size(), "Content-Encoding: gzip\r\n"), broken, broken.size(),
                         milliseconds(0));
    auto a = Fetch({.url = server.url(), .max_body = plain.size()});
    REQUIRE_FALSE(a.ok());
    INFO(a.status().message());
    CHECK(a.status().message().find("gzip is damaged") != std::string::npos);
  }
}

TEST_CASE("http client: https needs a trusted certificate for the host", "[daemon][http]") {
  using std::chrono::milliseconds;
  gongkai::test::TempDir dir;
  if (!MakeCertificate(dir, "good", "localhost", "DNS:localhost") ||
      !MakeCertificate(dir, "other", "127.0.0.2", "IP:127.0.0.2")) {
    WARN("skipped: the openssl program cannot make test certificates");
    return;
  }
  {  // Trusted through ca_file, for the host asked for.
    OneShotServer server(Head(5), "hello", 5, milliseconds(0), TlsSocket(dir, "good"));
    auto a = Fetch({.url = server.url("https", "localhost"), .ca_file = dir / "good.pem"});
    INFO((a.ok() ? "" : a.status().message()));
    REQUIRE(a.ok());
    CHECK(a->status == 200);
    CHECK(a->body == "hello");
  }
  {  // Not chained to the system's CAs.
    OneShotServer server(Head(5), "hello", 5, milliseconds(0), TlsSocket(dir, "good"));
    auto a = Fetch({.url = server.url("https", "localhost")});
    REQUIRE_FALSE(a.ok());
    INFO(a.status().message());
    CHECK(a.status().code() == gongkai::Status::Code::kIOError);
    CHECK(a.status().message().find("certificate verify failed") != std::string::npos);
  }
  {  // Trusted, but for another host.
    OneShotServer server(Head(5), "hello", 5, milliseconds(0), TlsSocket(dir, "other"));
    auto a = Fetch({.url = server.url("https", "127.0.0.1"), .ca_file = dir / "other.pem"});
    REQUIRE_FALSE(a.ok());
    INFO(a.status().message());
    CHECK(a.status().message().find("Unacceptable certificate") != std::string::npos);
  }
}
