// The CLI's progress reporter (daemon/src/progress.h) with a fake clock and
// a string stream: line format, rate and ETA, and how often it writes.
#include <catch2/catch.hpp>

#include <sstream>

#include "progress.h"

using gongkai::daemon::FormatDuration;
using gongkai::daemon::ProgressReporter;
using namespace std::chrono_literals;

namespace {

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  ProgressReporter::Options Options(bool terminal) {
    ProgressReporter::Options o;
    o.terminal = terminal;
    o.clock = [this] { return now; };
    return o;
  }
};

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("progress: durations", "[daemon][progress]") {
  CHECK(FormatDuration(0) == "0:00");
  CHECK(FormatDuration(9) == "0:09");
  CHECK(FormatDuration(754) == "12:34");
  CHECK(FormatDuration(3723) == "1:02:03");
}

TEST_CASE("progress: items, rate and ETA", "[daemon][progress]") {
  FakeClock clock;
  std::ostringstream out;
  ProgressReporter p(out, "reindex", "documents", clock.Options(false));
  clock.now += 4s;
  p.Update(100, 500);
  // 100 in 4 s = 25/s; 400 left = 16 s.
  CHECK(p.Line() == "reindex: 100/500 documents, 25.0 documents/s, ETA 0:16");
  p.Update(500, 500);
  CHECK(p.Line() == "reindex: 500/500 documents, 125.0 documents/s");  // done: no ETA
  p.Update(600, 0);
  CHECK(p.Line() == "reindex: 600 documents, 150.0 documents/s");  // unknown total: no ETA
}

TEST_CASE("progress: bytes set the rate in MB/s and the ETA", "[daemon][progress]") {
  FakeClock clock;
  std::ostringstream out;
  ProgressReporter p(out, "export", "files", clock.Options(false));
  clock.now += 10s;
  p.Update(120, 400, 30'000'000, 90'000'000);
  // 3 MB/s; 60 MB left = 20 s.
  CHECK(p.Line() == "export: 120/400 files, 30.0/90.0 MB, 3.0 MB/s, ETA 0:20");
  clock.now += 20s;
  p.Update(400, 400, 90'000'000, 90'000'000);
  p.Finish();
  CHECK(out.str().substr(out.str().rfind("export:")) ==
        "export: 400 files, 90.0 MB in 30.0 s (3.0 MB/s)\n");

  ProgressReporter blobs(out, "verify blobs", "", clock.Options(false));
  clock.now += 2s;
  blobs.Update(0, 0, 1'000'000, 5'000'000);
  CHECK(blobs.Line() == "verify blobs: 1.0/5.0 MB, 0.5 MB/s, ETA 0:08");
  clock.now += 2h;
  blobs.Update(0, 0, 1'000'001, 5'000'000);
  CHECK(blobs.Line().find("ETA 8:00:0") != std::string::npos);
}

TEST_CASE("progress: plain lines every N items or every few seconds, then one summary",
          "[daemon][progress]") {
  FakeClock clock;
  std::ostringstream out;
  ProgressReporter::Options o = clock.Options(false);
  o.line_every_items = 100;
  o.line_every = 5s;
  {
    ProgressReporter p(out, "reindex", "documents", o);
    for (uint64_t i = 1; i <= 350; ++i) {
      clock.now += 1ms;
      p.Update(i, 1000);
    }
    // At 100, 200 and 300: every 100 items.
    CHECK(Count(out.str(), "\n") == 3);
    CHECK(out.str().find("reindex: 100/1000 documents") == 0);
    CHECK(out.str().find('\r') == std::string::npos);
    // Slow now: a line after 5 s even with fewer than 100 more items.
    clock.now += 4s;
    p.Update(351, 1000);
    CHECK(Count(out.str(), "\n") == 3);
    clock.now += 1s;
    p.Update(352, 1000);
    CHECK(Count(out.str(), "\n") == 4);
    // Nothing moved: no line, however long it takes.
    clock.now += 60s;
    p.Update(352, 1000);
    CHECK(Count(out.str(), "\n") == 4);
    p.Finish();
    p.Finish();
    p.Update(1000, 1000);
    CHECK(Count(out.str(), "\n") == 5);
    CHECK(Count(out.str(), " in ") == 1);
  }
  CHECK(Count(out.str(), "\n") == 5);  // the destructor adds nothing after Finish()
}

TEST_CASE("progress: a terminal gets one redrawn line, at most ten times a second",
          "[daemon][progress]") {
  FakeClock clock;
  std::ostringstream out;
  {
    ProgressReporter p(out, "verify documents", "documents", clock.Options(true));
    // 2 s of updates every millisecond: about 20 redraws, not 2,000.
    for (uint64_t i = 1; i <= 2000; ++i) {
      clock.now += 1ms;
      p.Update(i, 2000);
    }
    const size_t redraws = Count(out.str(), "\r");
    CHECK(redraws >= 19);
    CHECK(redraws <= 21);
    CHECK(out.str().find('\n') == std::string::npos);
    CHECK(Count(out.str(), "\x1b[K") == redraws);
    p.Finish();
    const std::string text = out.str();
    CHECK(text.substr(text.rfind('\r')) ==
          "\rverify documents: 2000 documents in 2.0 s (1000.0 documents/s)\x1b[K\n");
  }
  // An error path: the destructor only ends the open line.
  std::ostringstream err;
  {
    ProgressReporter p(err, "backup", "files", clock.Options(true));
    p.Update(1, 10, 100, 1000);
  }
  CHECK(err.str().back() == '\n');
  CHECK(err.str().find(" in ") == std::string::npos);
}
