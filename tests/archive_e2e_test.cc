// End-to-end: archives dropped in a share, with the real gongkaid. Each
// member is searchable as ARCHIVE!/member with the archive's id and exactly
// its visibility; replacing or removing the archive leaves no stale member;
// `gongkai verify` stays clean with member entries in the index.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "support/archives.h"
#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::Entry;
using gongkai::test::RawZip;
using gongkai::test::WriteArchive;
using gongkai::test::WriteFile;
namespace fs = std::filesystem;

namespace {

struct Hit {
  std::string id, path, title, type, snippet;
};

std::vector<Hit> Hits(DaemonProcess& d, const std::string& q, const std::string& token = "") {
  auto r = d.Search(q, token);
  REQUIRE(r.status == 200);
  std::vector<Hit> out;
  auto results = r.json()->getArray("results");
  for (size_t i = 0; i < results->size(); ++i) {
    auto o = results->getObject(static_cast<unsigned>(i));
    out.push_back({o->getValue<std::string>("id"), o->getValue<std::string>("path"),
                   o->getValue<std::string>("title"), o->getValue<std::string>("type"),
                   o->getValue<std::string>("snippet")});
  }
  return out;
}

std::vector<std::string> Paths(const std::vector<Hit>& hits) {
  std::vector<std::string> out;
  out.reserve(hits.size());
  for (const Hit& h : hits) out.push_back(h.path);
  return out;
}

int64_t Total(DaemonProcess& d, const std::string& token = "") {
  auto r = d.Search("", token);
  REQUIRE(r.status == 200);
  return r.json()->getValue<int64_t>("total");
}

const std::string kGbkPath =
    "\xB9\xAB\xCE\xC4/\xD5\xFE\xCE\xF1\xB9\xAB\xBF\xAA\xC4\xBF\xC2\xBC.txt";  // 公文/政务公开目录.txt
const std::string kMemberPath = "pack.zip!/公文/政务公开目录.txt";

}  // namespace

TEST_CASE("e2e: archive members are searchable with the archive's visibility, and never stale",
          "[e2e][archive]") {
  DaemonProcess d;
  WriteFile(d.FilePath("pub", "pack.zip"),
            RawZip({{kGbkPath, "政务公开目录 zebraquark listing of the office\n"},
                    {"other/readme.txt", "hollowmint first edition\n"}}));
  WriteFile(d.FilePath("pub", "secret.tar.gz"),
            WriteArchive("pax", "gzip", {{"機密/名單.txt", "restricted ghostfern roster\n"}}));
  WriteFile(d.FilePath("pub", "secret.tar.gz.meta.json"), R"({"classification":"restricted"})");
  d.Start();
  d.WaitIdle(2);

  // Anonymous users find the member, under the archive's id.
  auto hits = Hits(d, "zebraquark");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].path == kMemberPath);
  CHECK(hits[0].type == "txt");
  CHECK(hits[0].title == "政务公开目录 zebraquark listing of the office");
  CHECK(hits[0].snippet.find("<b>zebraquark</b>") != std::string::npos);
  auto listing = d.Search("", d.inspector());
  REQUIRE(listing.status == 200);
  std::string pack_id;
  auto results = listing.json()->getArray("results");
  for (size_t i = 0; i < results->size(); ++i)
    if (results->getObject(static_cast<unsigned>(i))->getValue<std::string>("path") == "pack.zip")
      pack_id = results->getObject(static_cast<unsigned>(i))->getValue<std::string>("id");
  CHECK(hits[0].id == pack_id);
  CHECK(d.Get("/api/v1/documents/" + hits[0].id).status == 200);
  // Chinese in the member's text and its (GBK-encoded) name; the archive
  // itself lists its members' names as its text.
  auto by_name = Paths(Hits(d, "政务公开目录"));
  std::sort(by_name.begin(), by_name.end());
  CHECK(by_name == std::vector<std::string>{"pack.zip", kMemberPath});

  // Listings count documents, not members.
  CHECK(Total(d) == 1);
  CHECK(Total(d, d.inspector()) == 2);

  // A restricted archive's members: inspectors only.
  CHECK(Hits(d, "ghostfern").empty());
  CHECK(Paths(Hits(d, "ghostfern", d.inspector())) ==
        std::vector<std::string>{"secret.tar.gz!/機密/名單.txt"});
  CHECK(d.Search("ghostfern").json()->getValue<int64_t>("total") == 0);

  // The archive's own note says what became of its members.
  auto shown = d.Cli("show pub:pack.zip");
  INFO(shown.out);
  CHECK(shown.out.find("  text: zip archive: 2 members indexed") != std::string::npos);
  auto verify = d.Cli("verify");
  INFO(verify.out);
  CHECK(verify.exit_code == 0);

  // A new version without that member: its hit goes, the other member's text is the new one.
  WriteFile(d.FilePath("pub", "pack.zip"),
            WriteArchive("zip", "", {{"other/readme.txt", "hollowmint second edition\n"}}));
  CHECK(DaemonProcess::Eventually([&] { return Hits(d, "zebraquark").empty(); }));
  CHECK(DaemonProcess::Eventually([&] { return Hits(d, "second").size() == 1; }));
  CHECK(Paths(Hits(d, "hollowmint")) == std::vector<std::string>{"pack.zip!/other/readme.txt"});
  CHECK(Hits(d, "hollowmint", d.inspector()).size() == 1);

  // Made restricted by an admin: its members leave anonymous search with it.
  auto classify = d.Request("POST", "/api/v1/documents/" + pack_id + "/classification", d.admin(),
                            {}, R"({"classification":"restricted"})");
  CHECK(classify.status == 200);
  CHECK(DaemonProcess::Eventually([&] { return Hits(d, "hollowmint").empty(); }));
  CHECK(Hits(d, "hollowmint", d.inspector()).size() == 1);

  // Removed from the share: withdrawn, and no member is found any more.
  fs::remove(d.FilePath("pub", "pack.zip"));
  CHECK(DaemonProcess::Eventually([&] { return Hits(d, "hollowmint", d.inspector()).empty(); }));

  verify = d.Cli("verify");
  INFO(verify.out);
  CHECK(verify.exit_code == 0);
  CHECK(verify.out.find("verify: OK") != std::string::npos);
  CHECK(d.Stop() == 0);
}
