// Malformed, hostile and idle HTTP clients against the real daemon, over raw
// sockets (a well-behaved client library would refuse to send these).
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "support/daemon_process.h"
#include "support/raw_http.h"

using gongkai::test::DaemonProcess;
using gongkai::test::RawConnection;
using gongkai::test::RawStatus;
using gongkai::test::WriteFile;

TEST_CASE("http: malformed requests get clear 4xx answers and the daemon keeps going",
          "[e2e][http]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "a.txt"), "公開文件。\n");
  d.Start();
  d.WaitIdle(1);
  const uint16_t port = d.port();
  CHECK(RawStatus(port, "BREW /api/v1/search HTTP/1.1\r\nHost: x\r\n\r\n") == 405);
  CHECK(RawStatus(port, "GET /api/v1/search?q=%zz HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
  CHECK(RawStatus(port, "GET /api/v1/search?q=%FF%FE HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
  CHECK(RawStatus(port, "GET /api/v1/search?q=a HTTP/1.1\r\nHost: x\r\nX-Big: " +
                            std::string(100000, 'a') + "\r\n\r\n") /
            100 ==
        4);
  CHECK(RawStatus(port,
                  "POST /api/v1/documents/x/approve HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 400);
  CHECK(RawStatus(port, "garbage\r\n\r\n") / 100 == 4);
  CHECK(RawStatus(port, "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n") / 100 ==
        4);
  // Query limits.
  CHECK(d.Get("/api/v1/search?q=" + std::string(1001, 'a')).status == 400);
  CHECK(d.Get("/api/v1/search?q=" + std::string(20, '(') + "a" + std::string(20, ')')).status ==
        400);
  CHECK(d.Get("/api/v1/search?q=a*").status == 200);  // no wildcard expansion
  CHECK(d.Get("/api/v1/search?limit=-1").status == 400);
  CHECK(d.Get("/api/v1/search?offset=abc").status == 400);
  auto err = d.Get("/api/v1/search?q=%zz");
  CHECK(err.json()->getObject("error")->getValue<std::string>("code") == "bad_request");
  // Still serving.
  CHECK(d.SearchPaths("公開文件") == std::vector<std::string>{"pub:a.txt"});
  CHECK(d.Stop() == 0);
}

TEST_CASE("http: 300 half-open connections from one client do not starve another's searches",
          "[e2e][http]") {
  DaemonProcess d;  // the defaults: 32 request threads, 16 connections per client
  WriteFile(d.FilePath("pub", "a.txt"), "公開文件。\n");
  d.Start();
  d.WaitIdle(1);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 300; ++i) {
    held.push_back(std::make_unique<RawConnection>(d.port(), "127.0.0.2"));
    held.back()->Send("GET /api/v1/search?q=a HTTP/1.1\r\nHost: x\r\n");  // never finished
  }
  // The other client (127.0.0.1) is answered at once, every time.
  for (int i = 0; i < 10; ++i) {
    const auto started = std::chrono::steady_clock::now();
    CHECK(d.SearchPaths("公開文件") == std::vector<std::string>{"pub:a.txt"});
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
  }
  // All but the cap's 16 were refused (closed at once), and that was logged once.
  int open = 0;
  for (const auto& c : held) open += c->Closed() ? 0 : 1;
  CHECK(open <= 16);
  const std::string log = d.log();
  size_t lines = 0;
  for (size_t at = 0;
       (at = log.find("refused a connection from 127.0.0.2", at)) != std::string::npos; ++at)
    ++lines;
  CHECK(lines == 1);
  CHECK(d.Stop() == 0);
}

TEST_CASE("http: a request's line and headers must arrive within request_header_timeout",
          "[e2e][http]") {
  DaemonProcess d({{"pub", ""}}, "anonymous_search_rate = 0\nrequest_header_timeout = 1s\n");
  d.Start();
  d.WaitIdle(0);
  using Clock = std::chrono::steady_clock;
  // Silent, and trickling a header byte every 100 ms: both dropped after about a second.
  RawConnection silent(d.port());
  RawConnection trickle(d.port());
  const auto started = Clock::now();
  trickle.Send("GET /healthz HTTP/1.1\r\nX-Slow: ");
  while (!trickle.Closed() && Clock::now() - started < std::chrono::seconds(8)) {
    trickle.Send("x");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto took = Clock::now() - started;
  CHECK(took > std::chrono::milliseconds(900));
  CHECK(took < std::chrono::seconds(4));
  CHECK(DaemonProcess::Eventually([&] { return silent.Closed(); }, 2));

  // The deadline is per request: a kept-alive connection may idle longer
  // between requests, and a request's body is not under it.
  RawConnection kept(d.port());
  kept.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(kept.Status() == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  kept.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(kept.Status() == 200);
  const std::string body = R"({"classification": "public"})";
  RawConnection slow_body(d.port());
  slow_body.Send(
      "POST /api/v1/documents/nope/classification HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
      d.admin() + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  slow_body.Send(body);
  CHECK(slow_body.Status() == 404);  // read in full, then: no such document
  CHECK(d.Stop() == 0);
}

TEST_CASE(
    "http: max_connections_per_client = 0 lifts the cap – idle connections still do not starve "
    "searches",
    "[e2e][http]") {
  DaemonProcess d({{"pub", ""}}, "anonymous_search_rate = 0\nmax_connections_per_client = 0\n");
  WriteFile(d.FilePath("pub", "a.txt"), "公開文件。\n");
  d.Start();
  d.WaitIdle(1);
  {
    std::vector<std::unique_ptr<RawConnection>> idle;
    for (int i = 0; i < 48;
         ++i) {  // more than the 32 request threads, from the searching client's own address
      idle.push_back(std::make_unique<RawConnection>(d.port()));
      if (i % 2)
        idle.back()->Send("GET /api/v1/search?q=a HTTP/1.1\r\n");  // a request never finished
    }
    // Searches still succeed (the client waits generously; idle clients are
    // dropped after the 5 s header deadline at the latest).
    for (int i = 0; i < 5; ++i)
      CHECK(d.SearchPaths("公開文件") == std::vector<std::string>{"pub:a.txt"});
  }
  CHECK(d.log().find("refused a connection") == std::string::npos);
  CHECK(d.Get("/healthz").status == 200);
  CHECK(d.Stop() == 0);
}

TEST_CASE("http: anonymous searches are rate limited per client, inspectors are not",
          "[e2e][http]") {
  DaemonProcess d({{"pub", ""}}, "anonymous_search_rate = 2\n");
  d.Start();
  d.WaitIdle(0);
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 12; ++i) {
    auto r = d.Get("/api/v1/search?q=x");
    if (r.status == 429) {
      ++limited;
      retry_after = r.headers["retry-after"];
    }
  }
  CHECK(limited >= 4);  // a burst of 4, then 2 per second
  CHECK(retry_after == "1");
  for (int i = 0; i < 12; ++i) CHECK(d.Get("/api/v1/search?q=x", d.inspector()).status == 200);
  CHECK(d.Get("/api/v1/documents/nope").status == 404);  // only search is limited
  CHECK(d.Stop() == 0);
}
