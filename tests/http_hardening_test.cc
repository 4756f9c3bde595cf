// Malformed, hostile and idle HTTP clients against the real daemon, over raw
// sockets (a well-behaved client library would refuse to send these).
#include <catch2/catch.hpp>

#include "support/daemon_process.h"
#include "support/raw_http.h"

using gongkai::test::DaemonProcess;
using gongkai::test::RawConnection;
using gongkai::test::RawStatus;
using gongkai::test::WriteFile;

TEST_CASE("http: malformed requests get clear 4xx answers and the daemon keeps going", "[e2e][http]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "a.txt"), "公開文件。\n");
  d.Start();
  d.WaitIdle(1);
  const uint16_t port = d.port();
  CHECK(RawStatus(port, "BREW /api/v1/search HTTP/1.1\r\nHost: x\r\n\r\n") == 405);
  CHECK(RawStatus(port, "GET /api/v1/search?q=%zz HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
  CHECK(RawStatus(port, "GET /api/v1/search?q=%FF%FE HTTP/1.1\r\nHost: x\r\n\r\n") == 400);
  CHECK(RawStatus(port, "GET /api/v1/search?q=a HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100000, 'a') +
                            "\r\n\r\n") / 100 == 4);
  CHECK(RawStatus(port, "POST /api/v1/documents/x/approve HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 400);
  CHECK(RawStatus(port, "garbage\r\n\r\n") / 100 == 4);
  CHECK(RawStatus(port, "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n") / 100 == 4);
  // Query limits.
  CHECK(d.Get("/api/v1/search?q=" + std::string(1001, 'a')).status == 400);
  CHECK(d.Get("/api/v1/search?q=" + std::string(20, '(') + "a" + std::string(20, ')')).status == 400);
  CHECK(d.Get("/api/v1/search?q=a*").status == 200);  // no wildcard expansion
  CHECK(d.Get("/api/v1/search?limit=-1").status == 400);
  CHECK(d.Get("/api/v1/search?offset=abc").status == 400);
  auto err = d.Get("/api/v1/search?q=%zz");
  CHECK(err.json()->getObject("error")->getValue<std::string>("code") == "bad_request");
  // Still serving.
  CHECK(d.SearchPaths("公開文件") == std::vector<std::string>{"pub:a.txt"});
  CHECK(d.Stop() == 0);
}

TEST_CASE("http: idle connections do not starve searches", "[e2e][http]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "a.txt"), "公開文件。\n");
  d.Start();
  d.WaitIdle(1);
  {
    std::vector<std::unique_ptr<RawConnection>> idle;
    for (int i = 0; i < 48; ++i) {  // more than the 32 request threads
      idle.push_back(std::make_unique<RawConnection>(d.port()));
      if (i % 2) idle.back()->Send("GET /api/v1/search?q=a HTTP/1.1\r\n");  // a request never finished
    }
    // Searches still succeed (the client waits generously; idle clients are
    // dropped after the daemon's 10 s request timeout at the latest).
    for (int i = 0; i < 5; ++i) CHECK(d.SearchPaths("公開文件") == std::vector<std::string>{"pub:a.txt"});
  }
  CHECK(d.Get("/healthz").status == 200);
  CHECK(d.Stop() == 0);
}

TEST_CASE("http: anonymous searches are rate limited per client, inspectors are not", "[e2e][http]") {
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
