// End-to-end: GET /api/v1/suggest through the real gongkaid. Restricted,
// pending and withdrawn titles are never offered to anonymous callers, but
// are to inspectors; a restriction counts at once, before the index has it.
#include <catch2/catch.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/URI.h>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::HttpResult;
using gongkai::test::WriteFile;

namespace {

HttpResult SuggestCall(DaemonProcess& d, const std::string& q, const std::string& token = "",
                       const std::string& extra = "") {
  std::string enc;
  Poco::URI::encode(q, "&=+?#/\"()[]", enc);
  return d.Get("/api/v1/suggest?q=" + enc + extra, token);
}

// The texts suggested for q (kind:text), or {"HTTP <status>"}.
std::set<std::string> Texts(DaemonProcess& d, const std::string& q, const std::string& token = "") {
  HttpResult r = SuggestCall(d, q, token);
  if (r.status != 200) return {"HTTP " + std::to_string(r.status)};
  std::set<std::string> out;
  auto list = r.json()->getArray("suggestions");
  for (size_t i = 0; i < list->size(); ++i) {
    auto s = list->getObject(static_cast<unsigned>(i));
    out.insert(s->getValue<std::string>("kind") + ":" + s->getValue<std::string>("text"));
  }
  return out;
}

// Stops the daemon's extraction workers (SIGSTOP) until destroyed: the
// index then falls behind the catalog, since each change is indexed with its
// text extracted again.
class StoppedExtraction {
 public:
  explicit StoppedExtraction(pid_t daemon) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::ifstream in(entry.path() / "stat");
      std::string pid, comm, state;
      pid_t parent = 0;
      if (!(in >> pid >> comm >> state >> parent) || parent != daemon ||
          comm != "(gongkai-extract)")
        continue;
      workers_.push_back(static_cast<pid_t>(std::stol(pid)));
      ::kill(workers_.back(), SIGSTOP);
    }
  }
  ~StoppedExtraction() {
    for (pid_t w : workers_) ::kill(w, SIGCONT);
  }
  size_t size() const { return workers_.size(); }

 private:
  std::vector<pid_t> workers_;
};

void Document(DaemonProcess& d, const std::string& share, const std::string& name,
              const std::string& title, const std::string& doc_number = "") {
  WriteFile(d.FilePath(share, name + ".meta.json"),
            R"({"title":")" + title + R"(","doc_number":")" + doc_number + "\"}");
  WriteFile(d.FilePath(share, name), title + " 全文。\n");
}

}  // namespace

TEST_CASE("e2e: suggestions hide restricted, pending and withdrawn titles from anonymous callers",
          "[e2e][suggest]") {
  DaemonProcess d({{"pub", ""},
                   {"review", "review = required\n"},
                   {"secret", "classification = restricted\n"}});
  Document(d, "pub", "road.txt", "关于公开道路养护经费的通知", "某政发〔2026〕7号");
  Document(d, "pub", "audit.txt", "关于公开内部审计经费的通知");
  Document(d, "pub", "gone.txt", "关于公开已撤回经费的通知");
  Document(d, "review", "wait.txt", "關於公開待審經費的通知");
  Document(d, "secret", "inner.txt", "关于公开机密经费的通知");
  d.Start();
  d.WaitIdle(5);

  const std::set<std::string> everything = {
      "title:关于公开道路养护经费的通知", "title:关于公开内部审计经费的通知",
      "title:关于公开已撤回经费的通知", "title:關於公開待審經費的通知",
      "title:关于公开机密经费的通知"};
  REQUIRE(d.Eventually([&] { return Texts(d, "关于公开", d.inspector()) == everything; }));
  CHECK(Texts(d, "關於公開") == std::set<std::string>{"title:关于公开道路养护经费的通知",
                                                      "title:关于公开内部审计经费的通知",
                                                      "title:关于公开已撤回经费的通知"});
  CHECK(Texts(d, "关于公开待审").empty());
  CHECK(Texts(d, "关于公开待审", d.inspector()) ==
        std::set<std::string>{"title:關於公開待審經費的通知"});
  CHECK(Texts(d, "关于公开机密").empty());
  CHECK(Texts(d, "关于公开机密", d.inspector()).size() == 1);

  // The 文号, typed with other brackets.
  auto r = SuggestCall(d, "某政发(2026");
  REQUIRE(r.status == 200);
  CHECK(r.headers["cache-control"] == "no-store");
  auto json = r.json();
  CHECK(json->getValue<std::string>("q") == "某政发(2026");
  auto list = json->getArray("suggestions");
  REQUIRE(list->size() == 1);
  CHECK(list->getObject(0)->getValue<std::string>("text") == "某政发〔2026〕7号");
  CHECK(list->getObject(0)->getValue<std::string>("kind") == "doc_number");
  const std::string road_id = list->getObject(0)->getValue<std::string>("id");
  CHECK(road_id == d.FirstId("道路养护"));

  // Restricted: at once, by the catalog check, while the index still has
  // the document as public (its extraction stopped, the change unindexed).
  const std::string audit_id = d.FirstId("内部审计");
  {
    StoppedExtraction stopped(d.pid());
    REQUIRE(stopped.size() > 0);
    REQUIRE(d.Request("POST", "/api/v1/documents/" + audit_id + "/classification", d.admin(), {},
                      R"({"classification":"restricted"})")
                .status == 200);
    CHECK(d.Get("/api/v1/status", d.inspector()).json()->getValue<int64_t>("index_backlog") > 0);
    CHECK(Texts(d, "关于公开内部").empty());
    CHECK(Texts(d, "关于公开内部", d.inspector()).size() == 1);
    CHECK(d.Get("/api/v1/status", d.inspector()).json()->getValue<int64_t>("index_backlog") > 0);
  }
  CHECK(d.Eventually([&] {
    return d.Get("/api/v1/status", d.inspector()).json()->getValue<int64_t>("index_backlog") == 0;
  }));
  CHECK(Texts(d, "关于公开内部").empty());
  // Withdrawn: gone for everyone once the deletion is seen.
  std::filesystem::remove(d.FilePath("pub", "gone.txt"));
  CHECK(d.Eventually([&] { return Texts(d, "关于公开已撤回", d.inspector()).empty(); }));
  CHECK(Texts(d, "关于公开已撤回").empty());
  // Approved: offered to everyone.
  const std::string wait_id = d.FirstId("待審經費", d.inspector());
  REQUIRE(d.Request("POST", "/api/v1/documents/" + wait_id + "/approve", d.admin()).status == 200);
  CHECK(d.Eventually([&] { return Texts(d, "关于公开待审").size() == 1; }));
  CHECK(Texts(d, "关于公开") ==
        std::set<std::string>{"title:关于公开道路养护经费的通知", "title:關於公開待審經費的通知"});

  // Limits and bad parameters.
  CHECK(Texts(d, "关于公开", d.inspector()).size() == 4);
  CHECK(SuggestCall(d, "关于", d.inspector(), "&limit=2").json()->getArray("suggestions")->size() ==
        2);
  CHECK(SuggestCall(d, "关于", "", "&share=review").json()->getArray("suggestions")->size() == 1);
  CHECK(d.Get("/api/v1/suggest").status == 400);
  CHECK(d.Get("/api/v1/suggest?q=").status == 400);
  CHECK(SuggestCall(d, std::string(201, 'a')).status == 400);
  CHECK(SuggestCall(d, std::string(200, 'a')).status == 200);
  for (const char* limit : {"0", "21", "-1", "x", "1000000000000000000000"}) {
    const HttpResult bad = SuggestCall(d, "关于", "", std::string("&limit=") + limit);
    CHECK(bad.status == 400);
    CHECK(bad.body.find("\"bad_request\"") != std::string::npos);
  }
  CHECK(d.Request("POST", "/api/v1/suggest?q=a").status == 405);
}

TEST_CASE("e2e: anonymous suggestions count against the search rate limit", "[e2e][suggest]") {
  DaemonProcess d({{"pub", ""}}, "anonymous_search_rate = 1\n");
  Document(d, "pub", "a.txt", "关于限流的通知");
  d.Start();
  d.WaitIdle(1);
  int limited = 0;
  for (int i = 0; i < 10; ++i) {
    HttpResult r = SuggestCall(d, "关于");
    if (r.status == 429) {
      ++limited;
      CHECK(r.headers["retry-after"] == "1");
    }
  }
  CHECK(limited > 0);
  for (int i = 0; i < 10; ++i) CHECK(SuggestCall(d, "关于", d.inspector()).status == 200);
}
