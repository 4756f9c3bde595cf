// Extraction in worker processes (extract_worker.h) and the legacy Office
// formats through catdoc (extract_legacy.cc). The worker tests provoke a
// crash, a hang, runaway memory and an exit through the worker's test hooks
// (GONGKAI_EXTRACT_TEST_HOOKS=1, set here before any worker starts) and check
// that the caller gets a note and the next document still works.
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "gongkai/indexer/extract.h"
#include "gongkai/indexer/extract_worker.h"
#include "support/temp_dir.h"

#ifndef GONGKAI_EXTRACT_PATH
#error "GONGKAI_EXTRACT_PATH must name the gongkai-extract binary"
#endif

using gongkai::indexer::Extract;
using gongkai::indexer::Extracted;
using gongkai::indexer::ExtractWorkerOptions;
using gongkai::indexer::ExtractWorkers;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kHtml =
    "<html><head><title>政務公開目錄</title></head><body><p>鄉政府辦公室公告事項</p></body></html>";

ExtractWorkerOptions TestOptions() {
  ::setenv("GONGKAI_EXTRACT_TEST_HOOKS", "1", 1);  // inherited by the workers started below
  ExtractWorkerOptions o = gongkai::indexer::DefaultExtractWorkerOptions();
  o.program = GONGKAI_EXTRACT_PATH;
  o.timeout = std::chrono::seconds(2);
  return o;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void CheckStillWorks(ExtractWorkers& workers) {
  Extracted ok = workers.Extract(kHtml, "next.html");
  CHECK(ok.has_text);
  CHECK_FALSE(ok.parser_failed);
  CHECK(ok.title == "政務公開目錄");
  CHECK(ok.text.find("鄉政府辦公室公告事項") != std::string::npos);
}

const std::string kCorpus = std::string(GONGKAI_SHARED_DIR) + "/corpus/docs/";
const std::string kTestData = std::string(GONGKAI_SOURCE_DIR) + "/tests/data/";

}  // namespace

TEST_CASE("worker: extracts documents given as bytes or as a file, reusing one worker",
          "[indexer][worker]") {
  ExtractWorkers workers(TestOptions());
  Extracted e = workers.Extract(kHtml, "a.html");
  CHECK(e.has_text);
  CHECK(e.type == "html");
  CHECK(e.title == "政務公開目錄");
  CHECK(e.encoding == Extract(kHtml, "a.html").encoding);

  gongkai::test::TempDir dir;
  const std::string path = dir / "blob";
  std::ofstream(path, std::ios::binary) << "第一行標題\n正文";
  Extracted f = workers.ExtractFile(path, "notice.txt");
  CHECK(f.has_text);
  CHECK(f.title == "第一行標題");

  Extracted missing = workers.ExtractFile(dir / "absent", "x.txt");
  CHECK_FALSE(missing.has_text);
  CHECK_FALSE(missing.parser_failed);
  CHECK(missing.note.find("cannot open the archived file") != std::string::npos);
  CHECK(workers.workers_started() == 1);
}

TEST_CASE("worker: runs under its resource limits", "[indexer][worker]") {
  ExtractWorkerOptions o = TestOptions();
  // Sanitizer builds default to no address-space limit: their shadow memory
  // needs terabytes of address space, so a worker could not even start.
  const bool memory_limited = o.memory_bytes != 0;
  if (memory_limited) o.memory_bytes = 768ull << 20;
  o.cpu_seconds = 30;
  ExtractWorkers workers(o);
  Extracted e = workers.Extract("GONGKAI-EXTRACT-TEST:limits", "limits.txt");
  INFO(e.text);
  if (memory_limited) CHECK(e.text.find("as=" + std::to_string(768ull << 20)) != std::string::npos);
  if (memory_limited)
    CHECK(e.text.find("fsize=0 ") != std::string::npos);  // no writes, outside sanitizer builds
  CHECK(e.text.find("nofile=64 ") != std::string::npos);
  CHECK(e.text.find("core=0") != std::string::npos);
  // The CPU limit is moved on for each document: a little above 30 s.
  CHECK(e.text.find("cpu=3") != std::string::npos);
}

TEST_CASE(
    "worker: a crash, a hang, an exit or runaway memory is a note, and the next document works",
    "[indexer][worker]") {
  ExtractWorkerOptions o = TestOptions();
  const bool memory_limited = o.memory_bytes != 0;
  if (memory_limited) o.memory_bytes = 512ull << 20;
  ExtractWorkers workers(o);
  CheckStillWorks(workers);

  SECTION("abort") {
    Extracted e = workers.Extract("GONGKAI-EXTRACT-TEST:abort", "crash.pdf");
    CHECK_FALSE(e.has_text);
    CHECK(e.parser_failed);
    CHECK(e.type == "pdf");
    CHECK(e.note.rfind("extraction crashed (signal 6", 0) == 0);
  }
  SECTION("hang") {
    const auto start = std::chrono::steady_clock::now();
    Extracted e = workers.Extract("GONGKAI-EXTRACT-TEST:hang", "hang.txt");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(e.parser_failed);
    CHECK(e.note == "extraction timed out after 2 s");
  }
  SECTION("exit") {
    Extracted e = workers.Extract("GONGKAI-EXTRACT-TEST:exit", "exit.txt");
    CHECK(e.parser_failed);
    CHECK(e.note == "extraction worker failed (exit status 3)");
  }
  SECTION("runaway memory") {
    if (!memory_limited) {
      WARN("skipped: no address-space limit in a sanitizer build");
      return;
    }
    // Workers of their own with a clock far beyond the time it takes to fill
    // 512 MiB, even on a loaded machine: the limit, not the clock, decides.
    ExtractWorkerOptions slow = o;
    slow.timeout = std::chrono::seconds(120);
    ExtractWorkers patient(slow);
    Extracted e = patient.Extract("GONGKAI-EXTRACT-TEST:oom", "big.html");
    CHECK(e.parser_failed);
    CHECK(e.note == "extraction ran out of memory (limit 512 MiB)");
    CheckStillWorks(patient);
    CHECK(patient.workers_started() == 2);  // one replacement, then reused
    return;
  }
  CheckStillWorks(workers);
  CheckStillWorks(workers);
  CHECK(workers.workers_started() == 2);  // one replacement, then reused
}

TEST_CASE("worker: several callers at once share a bounded set of workers", "[indexer][worker]") {
  ExtractWorkerOptions o = TestOptions();
  o.max_workers = 2;
  ExtractWorkers workers(o);
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i)
        if (workers.Extract(kHtml, "a.html").has_text) ++good;
    });
  for (auto& t : threads) t.join();
  CHECK(good == 40);
  CHECK(workers.workers_started() <= 2);
}

TEST_CASE("worker: the test hooks are off unless the environment asks for them",
          "[indexer][worker]") {
  ExtractWorkerOptions o = TestOptions();
  ::unsetenv("GONGKAI_EXTRACT_TEST_HOOKS");
  ExtractWorkers workers(o);
  Extracted e = workers.Extract("GONGKAI-EXTRACT-TEST:abort", "crash.txt");
  ::setenv("GONGKAI_EXTRACT_TEST_HOOKS", "1", 1);
  CHECK_FALSE(e.parser_failed);
  CHECK(e.has_text);  // just text
}

TEST_CASE("worker: a missing worker program is a note, not a crash", "[indexer][worker]") {
  ExtractWorkerOptions o = TestOptions();
  o.program = "/nonexistent/gongkai-extract";
  ExtractWorkers workers(o);
  Extracted e = workers.Extract(kHtml, "a.html");
  CHECK_FALSE(e.has_text);
  CHECK(e.parser_failed);
  CHECK(e.note.rfind(
            "extraction worker /nonexistent/gongkai-extract could not start: cannot execute it",
            0) == 0);
  CHECK(workers.workers_started() == 0);
}

// ------------------------------------------------------------ legacy Office

TEST_CASE("legacy: OLE compound files are recognised by their magic bytes", "[indexer][legacy]") {
  const std::string ole("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
  // An OLE header with nothing a converter knows: named .doc, catdoc fails on it.
  Extracted doc = Extract(ole + std::string(600, '\0'), "broken.doc");
  CHECK_FALSE(doc.has_text);
  CHECK(doc.type == "doc");
  CHECK(doc.note.find("legacy Word/WPS document: catdoc") != std::string::npos);
  // Unnamed, with no stream name a converter knows.
  Extracted unknown = Extract(ole + std::string(600, 'x'), "scan");
  CHECK(unknown.note ==
        "OLE compound file of an unknown kind (not Word, WPS, Excel or PowerPoint)");
  // An encrypted OOXML file is an OLE container too: not sent to catdoc.
  Extracted docx = Extract(ole + std::string(600, '\0'), "locked.docx");
  CHECK(docx.note.rfind("password-protected", 0) == 0);
}

TEST_CASE("legacy: .xls through xls2csv, in process and in a worker", "[indexer][legacy]") {
  // budget-gongkai.xls: made for this test with python3-xlwt (BIFF8, Unicode strings).
  const std::string xls = Slurp(kTestData + "budget-gongkai.xls");
  REQUIRE(!xls.empty());
  Extracted in_process = Extract(xls, "budget-gongkai.xls");
  INFO(in_process.note);
  CHECK(in_process.has_text);
  CHECK(in_process.type == "xls");
  CHECK(in_process.text.find("科目") != std::string::npos);
  CHECK(in_process.text.find("12.5") != std::string::npos);
  ExtractWorkers workers(TestOptions());
  CHECK(workers.Extract(xls, "budget-gongkai.xls").text ==
        in_process.text);  // through a temporary file
  CHECK(
      workers.ExtractFile(kTestData + "budget-gongkai.xls", "blob-name-does-not-matter.et").text ==
      in_process.text);
  // No name: the Workbook stream says what it is.
  CHECK(Extract(xls, "budget").type == "xls");
}

TEST_CASE("legacy: the corpus's Word 97 files, also named .wps or unnamed", "[indexer][legacy]") {
  if (!fs::exists(kCorpus)) {
    WARN("skipped: the shared corpus is not at " << kCorpus);
    return;
  }
  struct Case {
    std::string file, phrase;
  };
  const std::vector<Case> cases = {
      {"formats/office-edge/sample.doc", "saved in the older .doc format"},
      {"generated/doc/hans-law-01.doc",
       "以下简称专门委员会"},  // catdoc wraps lines; the folding joins them
      {"generated/doc/hant-gazette-01.doc", "工程企字第09500154101號"},
  };
  ExtractWorkers workers(TestOptions());
  for (const Case& c : cases) {
    INFO(c.file);
    const std::string bytes = Slurp(kCorpus + c.file);
    Extracted e = Extract(bytes, c.file);
    INFO(e.note);
    CHECK(e.has_text);
    CHECK(e.type == "doc");
    CHECK(e.text.find(c.phrase) != std::string::npos);
    CHECK(Extract(bytes, "通知.wps").text == e.text);  // Kingsoft WPS files are the same kind
    Extracted unnamed = Extract(bytes, "upload");
    CHECK(unnamed.type == "doc");
    CHECK(unnamed.text == e.text);
    CHECK(workers.ExtractFile(kCorpus + c.file, c.file).text == e.text);
  }
  CHECK(Extract(Slurp(kCorpus + cases[1].file), "x.doc").title ==
        "上海市人民代表大会专门委员会工作条例");
}
