// Progress of one long CLI job (reindex, verify, export, backup, verify-bag)
// on a stream, usually stderr. The one place that decides how progress looks.
//
// Guarantees:
// - On a terminal: a single line, redrawn in place ("\r" ... erase to end of
//   line), at most once per `redraw_every` (default 100 ms, ~10 times a
//   second) however often Update() is called.
// - Elsewhere (a log, a pipe): plain lines, one when `line_every_items` more
//   items are done than at the last line, or `line_every` (default 5 s) has
//   passed since it, whichever comes first; never two for the same count.
// - Finish() always writes one summary line (count, time, average rate),
//   ending the redrawn line on a terminal; it is written once, and
//   Update() writes nothing after it.
// - Message() lines never share a line with the progress.
// - Destroyed without Finish() (an error path), it only ends a redrawn line
//   with "\n", so that an error message starts on a line of its own.
// - A line reads "export: 120/400 files, 12.0/40.0 MB, 3.1 MB/s, ETA 0:09":
//   done/total per count given; the rate is the average since construction
//   in MB/s when bytes are counted, otherwise in items/s; the ETA is the
//   remaining amount at that rate, left out when unknown.
// Not thread-safe: callers serialise Update(). `out` and the clock must
// outlive the reporter.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace gongkai::daemon {

class ProgressReporter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  struct Options {
    bool terminal = false;  // redraw one line (true) or write plain lines
    std::chrono::milliseconds redraw_every{100};
    std::chrono::milliseconds line_every{5000};
    uint64_t line_every_items = 1000;
    Clock clock = [] { return std::chrono::steady_clock::now(); };
  };

  // `job` starts each line ("reindex", "verify blobs"); `items` names what
  // is counted ("documents", "files"), or is "" when only bytes are.
  ProgressReporter(std::ostream& out, std::string job, std::string items, Options options);
  // Options for `fd`: terminal when isatty(fd), the default cadence.
  static Options For(int fd);
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // Counts so far and their totals (a total of 0 = unknown).
  void Update(uint64_t items, uint64_t items_total, uint64_t bytes = 0, uint64_t bytes_total = 0);
  // Writes `line` on a line of its own (an error about one item), ending a
  // redrawn line first; the next Update() draws the progress again.
  void Message(const std::string& line);
  // The summary line, e.g. "export: 400 files, 40.0 MB in 12.9 s (3.1 MB/s)".
  void Finish();

  // The progress line for the current counts (what Update() would show now).
  std::string Line() const;

 private:
  double Seconds() const;
  std::string Counts(bool with_totals) const;  // "export: 120/400 files, 12.0/40.0 MB"
  double Rate(double secs) const;              // bytes or items per second
  std::string RateText(double rate) const;     // "3.1 MB/s", "250.0 documents/s"
  // A redrawn line on a terminal (`last` ends it), a plain line elsewhere.
  void Write(const std::string& line, bool last);

  std::ostream& out_;
  const std::string job_, items_name_;
  const Options options_;
  const std::chrono::steady_clock::time_point start_;
  uint64_t items_ = 0, items_total_ = 0, bytes_ = 0, bytes_total_ = 0;
  bool counts_bytes_ = false;  // bytes were ever given: rate in MB/s
  bool line_open_ = false;     // a redrawn line awaits its "\n"
  bool finished_ = false;
  bool shown_ = false;  // something was written since construction
  std::chrono::steady_clock::time_point last_shown_;
  uint64_t last_shown_items_ = 0, last_shown_bytes_ = 0;
};

// "0:09", "12:34", "1:02:03" for a number of seconds.
std::string FormatDuration(uint64_t seconds);

}  // namespace gongkai::daemon
