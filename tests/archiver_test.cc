// The archiver in-process on a real share and a real SQLite catalog: what a
// scan does with files that are unchanged, changed or gone, and what a
// folder rename does to the documents inside it. The archiver's thread is
// driven by the test (support/in_process_archive.h); gongkaid adds inotify.
#include <catch2/catch.hpp>
#include <filesystem>

#include "support/in_process_archive.h"
#include "support/temp_dir.h"

using gongkai::DocumentStatus;
using gongkai::test::InProcessArchive;
using gongkai::test::TempDir;
using gongkai::test::WriteFile;

namespace {

struct Share {
  TempDir dir;
  InProcessArchive archive{dir.path()};

  Share() {
    for (const char* name : {"a.txt", "b.txt", "dir/c.txt", "dir/sub/d.txt", "dir2/e.txt"})
      WriteFile(Path(name), std::string("公告 ") + name);
    REQUIRE(archive.Open(gongkai::storage::Env::Default()).ok());
    archive.Run(20);
    REQUIRE(archive.queue->size() == 0);
  }
  std::string Path(const std::string& rel) const {
    return archive.config.shares[0].path + "/" + rel;
  }
  // The document at `rel`; fails the test if there is none.
  gongkai::storage::DocumentRow Doc(const std::string& rel) {
    auto doc = archive.catalog->FindByPath("pub", rel);
    REQUIRE(doc.ok());
    INFO(rel);
    REQUIRE(doc->has_value());
    return **doc;
  }
  size_t Versions(const std::string& id) {
    auto versions = archive.catalog->Versions(id);
    REQUIRE(versions.ok());
    return versions->size();
  }
  int64_t Records() {
    auto counts = archive.catalog->Counts();
    REQUIRE(counts.ok());
    return counts->records;
  }
};

}  // namespace

TEST_CASE("archiver: a rescan versions what changed, withdraws what is gone, leaves the rest",
          "[archiver]") {
  Share s;
  const int64_t before = s.Records();
  CHECK(before == 5);
  const std::string a = s.Doc("a.txt").id, b = s.Doc("b.txt").id, c = s.Doc("dir/c.txt").id;

  WriteFile(s.Path("a.txt"), "公告 a.txt, 修订后的内容");
  std::filesystem::remove(s.Path("b.txt"));
  s.archive.Run(20);
  REQUIRE(s.archive.queue->size() == 0);
  CHECK(s.archive.archiver->failures().empty());

  CHECK(s.Records() == before + 2);  // one version, one withdrawal: nothing else signed
  CHECK(s.Versions(a) == 2);
  CHECK(s.Doc("a.txt").status == DocumentStatus::kActive);
  CHECK(s.Doc("b.txt").id == b);
  CHECK(s.Doc("b.txt").status == DocumentStatus::kWithdrawn);
  CHECK(s.Versions(b) == 1);  // withdrawn, never deleted
  CHECK(s.Versions(c) == 1);
  // Scanned again with nothing changed: nothing is signed.
  s.archive.Run(20);
  CHECK(s.Records() == before + 2);
}

TEST_CASE("archiver: a folder renamed keeps its documents and their ids, and only its own",
          "[archiver]") {
  Share s;
  const int64_t before = s.Records();
  const std::string c = s.Doc("dir/c.txt").id, d = s.Doc("dir/sub/d.txt").id,
                    e = s.Doc("dir2/e.txt").id;

  std::filesystem::rename(s.Path("dir"), s.Path("moved"));
  s.archive.archiver->RequestMove(0, "dir", "moved", true);
  s.archive.Drain(20);
  CHECK(s.archive.archiver->failures().empty());

  CHECK(s.Records() == before + 2);  // two signed moves, no new versions
  CHECK(s.Doc("moved/c.txt").id == c);
  CHECK(s.Doc("moved/sub/d.txt").id == d);
  CHECK(s.Versions(c) == 1);
  CHECK_FALSE(s.archive.catalog->FindByPath("pub", "dir/c.txt")->has_value());
  // "dir2/" only begins like "dir": it stays where it was.
  CHECK(s.Doc("dir2/e.txt").id == e);
  CHECK(s.Doc("dir2/e.txt").status == DocumentStatus::kActive);
}
