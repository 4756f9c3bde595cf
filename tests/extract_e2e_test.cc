// End-to-end: a document whose parser crashes, dropped among normal ones,
// with the real gongkaid. The daemon survives, the others are searchable,
// the bad one is listed with its note (inspectors only), the warning is
// logged once and the document is not retried, not even after a restart.
// The crash comes from the extraction worker's test hook
// (GONGKAI_EXTRACT_TEST_HOOKS=1 in the daemon's environment, see
// extract_worker.h); a legacy Word file from the shared corpus, when present,
// goes through catdoc inside the daemon's workers.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::WriteFile;
namespace fs = std::filesystem;

namespace {

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1))
    ++n;
  return n;
}

std::string IdOf(DaemonProcess& d, const std::string& path) {
  auto r = d.Search("", d.inspector(), "&limit=100");
  REQUIRE(r.status == 200);
  auto results = r.json()->getArray("results");
  for (size_t i = 0; i < results->size(); ++i)
    if (results->getObject(i)->getValue<std::string>("path") == path)
      return results->getObject(i)->getValue<std::string>("id");
  FAIL("not listed: " << path);
  return {};
}

}  // namespace

TEST_CASE(
    "e2e: a parser crash is a note on that document, the daemon and the other documents carry on",
    "[e2e][extract]") {
  DaemonProcess d;
  d.SetEnv("GONGKAI_EXTRACT_TEST_HOOKS", "1");
  WriteFile(d.FilePath("pub", "a.txt"), "鄉政府公告：道路養護經費公開。\n");
  WriteFile(d.FilePath("pub", "crash.pdf"), "GONGKAI-EXTRACT-TEST:abort\n");
  WriteFile(
      d.FilePath("pub", "b.html"),
      "<html><head><title>會議紀錄</title></head><body><p>村民大會決議事項</p></body></html>");
  WriteFile(d.FilePath("pub", "gone.docx"), "GONGKAI-EXTRACT-TEST:exit\n");
  const fs::path doc =
      fs::path(GONGKAI_SHARED_DIR) / "corpus/docs/generated/doc/hant-gazette-01.doc";
  const bool have_doc = fs::exists(doc);
  if (have_doc)
    fs::copy_file(doc, d.FilePath("pub", "公告.doc"));
  else
    WARN("the legacy .doc part is skipped: the shared corpus is not at " << doc.parent_path());
  d.Start();
  d.WaitIdle(have_doc ? 5 : 4);

  CHECK(::kill(d.pid(), 0) == 0);
  CHECK(d.Get("/healthz").status == 200);
  CHECK(d.SearchPaths("道路養護") == std::vector<std::string>{"pub:a.txt"});
  CHECK(d.SearchPaths("村民大會") == std::vector<std::string>{"pub:b.html"});
  if (have_doc)
    CHECK(d.SearchPaths("\"執行土木工程科技師業務\"") == std::vector<std::string>{"pub:公告.doc"});

  // Listed, archived and served, with the reason for inspectors only.
  const std::string crash_id = IdOf(d, "crash.pdf");
  auto shown = d.Get("/api/v1/documents/" + crash_id, d.inspector());
  REQUIRE(shown.status == 200);
  const std::string note = shown.json()->getValue<std::string>("text_note");
  CHECK(note.rfind("extraction crashed (signal 6", 0) == 0);
  auto anonymous = d.Get("/api/v1/documents/" + crash_id);
  REQUIRE(anonymous.status == 200);
  CHECK_FALSE(anonymous.json()->has("text_note"));
  CHECK(d.Get("/api/v1/documents/" + crash_id + "/versions/1/content").body ==
        "GONGKAI-EXTRACT-TEST:abort\n");
  auto gone = d.Get("/api/v1/documents/" + IdOf(d, "gone.docx"), d.inspector()).json();
  CHECK(gone->getValue<std::string>("text_note") == "extraction worker failed (exit status 3)");
  CHECK(d.Get("/api/v1/documents/" + IdOf(d, "a.txt"), d.inspector())
            .json()
            ->getValue<std::string>("text_note") == "");

  // One warning, and the next document after the crash is indexed as usual.
  CHECK(Count(d.log(), "pub:crash.pdf v1: extraction crashed") == 1);
  WriteFile(d.FilePath("pub", "c.txt"), "第三份文件：垃圾清運時間表。\n");
  d.WaitIdle(have_doc ? 6 : 5);
  CHECK(d.SearchPaths("垃圾清運") == std::vector<std::string>{"pub:c.txt"});

  // Not retried: a restart does not extract it again.
  CHECK(d.Stop() == 0);
  d.Start();
  d.WaitIdle(have_doc ? 6 : 5);
  CHECK(Count(d.log(), "pub:crash.pdf v1: extraction crashed") == 1);
  CHECK(d.SearchPaths("道路養護") == std::vector<std::string>{"pub:a.txt"});
  CHECK(d.Stop() == 0);
}
