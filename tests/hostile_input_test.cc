// Hostile input from the list, against the real daemon: HTTP that no
// client library would send, and file names no office should produce.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "support/daemon_process.h"
#include "support/raw_http.h"

using gongkai::test::DaemonProcess;
using gongkai::test::RawConnection;
using gongkai::test::RawStatus;
using gongkai::test::WriteFile;

TEST_CASE(
    "http: too many headers, bad lengths, endless bodies and encoded-word headers are refused",
    "[e2e][http]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "a.txt"), "公開文件。\n");
  d.Start();
  d.WaitIdle(1);
  const uint16_t port = d.port();
  const std::string admin = "Authorization: Bearer " + d.admin() + "\r\n";
  const std::string approve = "POST /api/v1/documents/x/approve HTTP/1.1\r\nHost: x\r\n";

  std::string many = "GET /api/v1/search?q=a HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 101; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  CHECK(RawStatus(port, many + "\r\n") / 100 == 4);
  // A space in the target: Poco takes `budget"` for the version; the answer
  // is a plain HTTP/1.1 400, not a status line echoing it (found by fuzz_http).
  CHECK(RawStatus(port, "GET /api/v1/search?q=\"public budget\" HTTP/1.1\r\nHost: x\r\n\r\n") ==
        400);
  CHECK(RawStatus(port, approve + admin + "Content-Length: -5\r\n\r\n{}") / 100 == 4);
  // A length beyond 64 bits: Poco's request parser gives up on the
  // connection without an answer (0 here); either way nothing is read.
  for (const char* length : {"99999999999999999999999", "18446744073709551616"}) {
    const int status =
        RawStatus(port, approve + admin + "Content-Length: " + length + "\r\n\r\n{}");
    CHECK((status == 0 || status / 100 == 4));
  }

  // An endless chunked body, anonymous and as admin: answered (401, 413)
  // without reading it all, and the connection is closed on the sender.
  for (const std::string& who : {std::string(), admin}) {
    RawConnection c(port);
    REQUIRE(c.Send(approve + who + "Transfer-Encoding: chunked\r\n\r\n"));
    const std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
    const auto start = std::chrono::steady_clock::now();
    size_t sent = 0;
    while (sent < size_t{256} * 1024 * 1024 && c.Send(chunk) &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(30))
      sent += chunk.size();
    INFO("sent " << sent << " bytes of body");
    CHECK(sent < size_t{256} * 1024 * 1024);  // the daemon stopped reading
  }

  // RFC 2047 encoded words (which some HTTP stacks decode) stay opaque text.
  CHECK(RawStatus(port,
                  "GET /api/v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: "
                  "=?UTF-32?B?AAAAQQAAAEI=?=\r\n\r\n") == 401);
  CHECK(RawStatus(port,
                  "GET /api/v1/search?q=a HTTP/1.1\r\nHost: x\r\nX-Name: =?UTF-32?B?////////?=\r\n"
                  "Accept-Language: =?UTF-32?Q?=00=00=D8=00?=\r\n\r\n") == 200);

  // Still serving, with the same threads.
  CHECK(d.SearchPaths("公開文件") == std::vector<std::string>{"pub:a.txt"});
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: file names with bad UTF-8, newlines, terminal escapes and RTL overrides", "[e2e]") {
  DaemonProcess d;
  const std::vector<std::string> names = {
      "bad\xff\xfe.txt",          // not UTF-8
      "line\nbreak.txt",          // a newline in the name
      "esc\x1b]0;owned\x07.txt",  // a terminal escape
      // U+202E RIGHT-TO-LEFT OVERRIDE: shows as "rtltxt.pdf"
      std::string("rtl\xe2\x80\xae") + "fdp.txt",
      "good.txt",
  };
  for (size_t i = 0; i < names.size(); ++i)
    WriteFile(d.FilePath("pub", names[i]), "檔名測試第" + std::to_string(i) + "號。\n");
  d.Start();
  auto status = d.WaitIdle(1);
  // Give every name its chance, then look at what became of each.
  REQUIRE(DaemonProcess::Eventually([&] {
    auto s = d.Get("/api/v1/status", d.inspector()).json();
    return s->getValue<int64_t>("queued") == 0 &&
           s->getValue<int64_t>("documents") + s->getValue<int64_t>("failed") >=
               static_cast<int64_t>(names.size());
  }));
  status = d.Get("/api/v1/status", d.inspector()).json();
  INFO(d.log());
  // Names that are valid UTF-8 are archived as they are; the one that is not
  // is reported as a failure (a record must be UTF-8) instead of crashing
  // anything or being silently renamed.
  CHECK(status->getValue<int64_t>("documents") == 4);
  CHECK(status->getValue<int64_t>("failed") == 1);
  std::set<std::string> found;
  for (size_t i = 0; i < names.size(); ++i)
    for (const auto& p : d.SearchPaths("檔名測試第" + std::to_string(i) + "號")) found.insert(p);
  CHECK(found.count("pub:line\nbreak.txt") == 1);
  CHECK(found.count("pub:rtl\xe2\x80\xae"
                    "fdp.txt") == 1);
  CHECK(found.count("pub:good.txt") == 1);
  auto failures = status->getArray("failures");
  REQUIRE(failures->size() == 1);
  CHECK(failures->getObject(0)->getValue<std::string>("error").find("not valid UTF-8") !=
        std::string::npos);
  // The log stays one line per event: no raw newline or escape from a name.
  const std::string log = d.log();
  CHECK(log.find("line\nbreak") == std::string::npos);
  CHECK(log.find('\x1b') == std::string::npos);
  // The CLI, too, prints the names without raw control characters.
  auto cli = d.Cli("search 檔名測試");
  CHECK(cli.out.find('\x1b') == std::string::npos);
  CHECK(d.Cli("verify").exit_code == 0);
  CHECK(d.Stop() == 0);
}

TEST_CASE(
    "e2e: a hard link or copy of a restricted document in a public share stays out of public view",
    "[e2e]") {
  DaemonProcess d({{"secret", "classification = restricted"}, {"pub", ""}});
  const std::string text = "機密預算草案：內部討論，不得公開。\n";
  // Found by the same start-up scan: one batch.
  WriteFile(d.FilePath("secret", "plan.txt"), text);
  WriteFile(d.FilePath("pub", "twin.txt"), text);
  d.Start();
  d.WaitIdle(2);
  // Later: a hard link, and a copy, into the public share.
  REQUIRE(::link(d.FilePath("secret", "plan.txt").c_str(), d.FilePath("pub", "leak.txt").c_str()) ==
          0);
  WriteFile(d.FilePath("pub", "copy.txt"), text);
  d.WaitIdle(4);

  CHECK(d.SearchPaths("機密預算草案").empty());  // anonymous: nothing
  CHECK(d.Search("", "", "").json()->getValue<int64_t>("total") == 0);
  for (const char* path : {"pub:twin.txt", "pub:leak.txt", "pub:copy.txt"}) {
    auto show = d.Cli(std::string("show ") + path + " --json");
    REQUIRE(show.exit_code == 0);
    CHECK(Poco::JSON::Parser()
              .parse(show.out)
              .extract<Poco::JSON::Object::Ptr>()
              ->getValue<std::string>("classification") == "restricted");
  }
  CHECK(d.log().find("pub:leak.txt has the content of a restricted document") != std::string::npos);
  CHECK(d.log().find("pub:twin.txt has the content of a restricted document") != std::string::npos);

  // An admin's explicit decision makes one public; the original stays restricted.
  auto show = d.Cli("show pub:copy.txt --json");
  const std::string id = Poco::JSON::Parser()
                             .parse(show.out)
                             .extract<Poco::JSON::Object::Ptr>()
                             ->getValue<std::string>("id");
  REQUIRE(d.Cli("classify " + id + " public").exit_code == 0);
  REQUIRE(DaemonProcess::Eventually([&] { return d.SearchPaths("機密預算草案").size() == 1; }));
  CHECK(d.SearchPaths("機密預算草案") == std::vector<std::string>{"pub:copy.txt"});
  CHECK(d.Stop() == 0);
}

TEST_CASE("e2e: an unreadable file is reported and archived once it becomes readable", "[e2e]") {
  DaemonProcess d;
  // Root reads everything: as root, the daemon runs as nobody here, as a
  // packaged gongkaid runs as its own user.
  if (::geteuid() == 0) {
    const struct passwd* nobody = ::getpwnam("nobody");
    REQUIRE(nobody != nullptr);
    d.RunAs(nobody->pw_uid, nobody->pw_gid);
  }
  const std::string locked = d.FilePath("pub", "locked.txt");
  WriteFile(locked, "暫時不可讀的公告。\n");
  REQUIRE(::chmod(locked.c_str(), 0) == 0);
  WriteFile(d.FilePath("pub", "open.txt"), "可讀的公告。\n");
  d.Start();
  REQUIRE(DaemonProcess::Eventually([&] {
    auto s = d.Get("/api/v1/status", d.inspector()).json();
    return s->getValue<int64_t>("documents") == 1 && s->getValue<int64_t>("failed") == 1;
  }));
  auto failure = d.Get("/api/v1/status", d.inspector()).json()->getArray("failures")->getObject(0);
  CHECK(failure->getValue<std::string>("path") == "locked.txt");
  CHECK(failure->getValue<std::string>("error").find("Permission denied") != std::string::npos);
  CHECK(d.log().find("cannot archive pub:locked.txt: open: Permission denied") !=
        std::string::npos);

  // Made readable (a chmod moves only its ctime): tried again and archived.
  REQUIRE(::chmod(locked.c_str(), 0644) == 0);
  REQUIRE(DaemonProcess::Eventually([&] { return d.SearchPaths("暫時不可讀").size() == 1; }, 120));
  auto s = d.WaitIdle(2);
  CHECK(s->getValue<int64_t>("failed") == 0);
  CHECK(s->getValue<int64_t>("versions") == 2);
  CHECK(d.Stop() == 0);
  CHECK(d.Cli("verify").exit_code == 0);
}

TEST_CASE("e2e: a file that keeps growing holds nothing up and is archived whole once it stops",
          "[e2e]") {
  DaemonProcess d;
  d.Start();
  const std::string grow = d.FilePath("pub", "grow.txt");
  std::atomic<bool> stop{false};
  std::thread writer(
      [&] {  // one open descriptor, appending 4 KB every 2 ms: no close-write until the end
        std::ofstream out(grow, std::ios::binary | std::ios::app);
        const std::string line = "不斷增長的紀錄 " + std::string(4000, 'x') + "\n";
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
        while (!stop && std::chrono::steady_clock::now() < deadline) {
          out << line << std::flush;
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      });
  // Files dropped meanwhile are archived and found while it still grows.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  for (int i = 0; i < 20; ++i)
    WriteFile(d.FilePath("pub", "other" + std::to_string(i) + ".txt"),
              "同時送達的公告 " + std::to_string(i));
  const bool others_archived =
      DaemonProcess::Eventually([&] { return d.SearchPaths("同時送達的公告").size() == 20; }, 120);
  stop = true;
  writer.join();
  REQUIRE(others_archived);

  // Once it stops, the last version is the whole file.
  const std::string whole = gongkai::test::Slurp(grow);
  const std::string sha = gongkai::storage::Hex(gongkai::storage::Sha256Of(whole));
  std::string id;
  REQUIRE(DaemonProcess::Eventually(
      [&] {
        auto r = d.Get("/api/v1/search?q=" + std::string("%E4%B8%8D%E6%96%B7%E5%A2%9E%E9%95%B7"),
                       d.inspector());  // 不斷增長
        auto results = r.json()->getArray("results");
        if (results->size() != 1) return false;
        auto hit = results->getObject(0);
        id = hit->getValue<std::string>("id");
        return hit->getValue<std::string>("sha256") == sha;
      },
      120));
  auto doc = d.Get("/api/v1/documents/" + id, d.inspector()).json();
  auto versions = doc->getArray("versions");
  INFO("versions archived while it grew: " << versions->size() - 1);
  // Any earlier version is a snapshot the file really had: a prefix of it.
  for (size_t i = 0; i < versions->size(); ++i) {
    const int n = versions->getObject(static_cast<unsigned>(i))->getValue<int>("version");
    auto content = d.Get("/api/v1/documents/" + id + "/versions/" + std::to_string(n) + "/content",
                         d.inspector());
    REQUIRE(content.status == 200);
    CHECK(whole.compare(0, content.body.size(), content.body) == 0);
  }
  CHECK(d.Stop() == 0);
  CHECK(d.Cli("verify").exit_code == 0);
}

TEST_CASE("e2e: a 253-byte file name and a path longer than PATH_MAX are archived like any other",
          "[e2e]") {
  DaemonProcess d;
  std::string longest;  // 83 CJK characters (249 bytes) + ".txt": near NAME_MAX (255)
  for (int i = 0; i < 83; ++i) longest += "長";
  longest += ".txt";
  WriteFile(d.FilePath("pub", longest), "長名稱測試的公告。\n");
  // 30 folders of about 160 bytes: the file's path is over 4,800 bytes,
  // more than PATH_MAX, so it can only be reached relative to a folder.
  int dir = ::open(d.SharePath("pub").c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(dir >= 0);
  std::string rel;
  for (int level = 0; level < 30; ++level) {
    std::string name = std::to_string(level) + "_";
    for (int i = 0; i < 52; ++i) name += "層";
    REQUIRE(::mkdirat(dir, name.c_str(), 0755) == 0);
    int sub = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY);
    REQUIRE(sub >= 0);
    ::close(dir);
    dir = sub;
    rel += name + "/";
  }
  const std::string text = "深層路徑測試的公告。\n";
  int fd = ::openat(dir, "deep.txt", O_WRONLY | O_CREAT | O_EXCL, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
  ::close(dir);
  rel += "deep.txt";
  REQUIRE(rel.size() > 4096);

  d.Start();
  d.WaitIdle(2);
  CHECK(d.SearchPaths("長名稱測試") == std::vector<std::string>{"pub:" + longest});
  CHECK(d.SearchPaths("深層路徑測試") == std::vector<std::string>{"pub:" + rel});
  CHECK(d.Get("/api/v1/status", d.inspector()).json()->getValue<int64_t>("failed") == 0);
  CHECK(d.Stop() == 0);
  CHECK(d.Cli("verify").exit_code == 0);
}
