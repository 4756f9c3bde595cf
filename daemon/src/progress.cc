#include "progress.h"

#include <unistd.h>
#include <cmath>

#include <algorithm>
#include <cstdio>

namespace gongkai::daemon {
namespace {

std::string Format(const char* fmt, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, value);
  return buf;
}

std::string Megabytes(uint64_t bytes) { return Format("%.1f", static_cast<double>(bytes) / 1e6); }

}  // namespace

std::string FormatDuration(uint64_t seconds) {
  char buf[64];
  const auto h = static_cast<unsigned long long>(seconds / 3600),
             m = static_cast<unsigned long long>(seconds / 60 % 60),
             s = static_cast<unsigned long long>(seconds % 60);
  if (h > 0)
    std::snprintf(buf, sizeof buf, "%llu:%02llu:%02llu", h, m, s);
  else
    std::snprintf(buf, sizeof buf, "%llu:%02llu", m, s);
  return buf;
}

ProgressReporter::ProgressReporter(std::ostream& out, std::string job, std::string items,
                                   Options options)
    : out_(out),
      job_(std::move(job)),
      items_name_(std::move(items)),
      options_(std::move(options)),
      start_(options_.clock()),
      last_shown_(start_) {}

ProgressReporter::Options ProgressReporter::For(int fd) {
  Options o;
  o.terminal = ::isatty(fd) == 1;
  return o;
}

ProgressReporter::~ProgressReporter() {
  if (line_open_ && !finished_) out_ << "\n" << std::flush;
}

double ProgressReporter::Seconds() const {
  return std::chrono::duration<double>(options_.clock() - start_).count();
}

void ProgressReporter::Update(uint64_t items, uint64_t items_total, uint64_t bytes,
                              uint64_t bytes_total) {
  if (finished_) return;
  items_ = items;
  items_total_ = items_total;
  bytes_ = bytes;
  bytes_total_ = bytes_total;
  counts_bytes_ = counts_bytes_ || bytes > 0 || bytes_total > 0;
  const auto now = options_.clock();
  bool due;
  if (options_.terminal) {
    due = !shown_ || now - last_shown_ >= options_.redraw_every;
  } else {
    const bool moved = items != last_shown_items_ || bytes != last_shown_bytes_;
    due = moved && (items >= last_shown_items_ + options_.line_every_items ||
                    now - last_shown_ >= options_.line_every);
  }
  if (!due) return;
  shown_ = true;
  last_shown_ = now;
  last_shown_items_ = items;
  last_shown_bytes_ = bytes;
  Write(Line(), /*last=*/false);
}

void ProgressReporter::Write(const std::string& line, bool last) {
  if (options_.terminal)
    out_ << "\r" << line << "\x1b[K";
  else
    out_ << line;
  if (last || !options_.terminal) out_ << "\n";
  out_ << std::flush;
  line_open_ = options_.terminal && !last;
}

std::string ProgressReporter::Counts(bool with_totals) const {
  std::string counts;
  auto add = [&](const std::string& part) { counts += (counts.empty() ? " " : ", ") + part; };
  if (!items_name_.empty())
    add(std::to_string(items_) +
        (with_totals && items_total_ ? "/" + std::to_string(items_total_) : "") + " " +
        items_name_);
  if (counts_bytes_)
    add(Megabytes(bytes_) + (with_totals && bytes_total_ ? "/" + Megabytes(bytes_total_) : "") +
        " MB");
  return job_ + ":" + counts;
}

double ProgressReporter::Rate(double secs) const {
  return static_cast<double>(counts_bytes_ ? bytes_ : items_) / secs;
}

std::string ProgressReporter::RateText(double rate) const {
  return counts_bytes_ ? Format("%.1f MB/s", rate / 1e6)
                       : Format("%.1f ", rate) + items_name_ + "/s";
}

std::string ProgressReporter::Line() const {
  const double secs = Seconds();
  std::string line = Counts(/*with_totals=*/true);
  if (secs <= 0) return line;
  const double rate = Rate(secs);
  line += ", " + RateText(rate);
  const double done = static_cast<double>(counts_bytes_ ? bytes_ : items_);
  const auto total = static_cast<double>(counts_bytes_ ? bytes_total_ : items_total_);
  if (rate > 0 && total > done)
    line += ", ETA " + FormatDuration(static_cast<uint64_t>(std::llround((total - done) / rate)));
  return line;
}

void ProgressReporter::Message(const std::string& line) {
  if (line_open_) out_ << "\n";
  out_ << line << "\n" << std::flush;
  line_open_ = false;
  shown_ = false;
}

void ProgressReporter::Finish() {
  if (finished_) return;
  const double secs = Seconds();
  std::string line = Counts(/*with_totals=*/false) + Format(" in %.1f s", secs);
  if (secs > 0) line += " (" + RateText(Rate(secs)) + ")";
  Write(line, /*last=*/true);
  finished_ = true;
}

}  // namespace gongkai::daemon
