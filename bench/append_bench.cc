// How fast the catalog appends signed records: ledger::Ledger::Apply() with batches
// of new-document versions, each change signed (Ed25519), appended to the
// Merkle log (O(log n) stored nodes) and the batch closed by a signed
// checkpoint, in one SQLite transaction (WAL, synchronous=FULL). Also times
// the pieces on their own (signing a typical record, its leaf hash, signing a
// checkpoint, an fsync in the same folder) to show where the time goes.
//
//   append_bench [--records N] [--seconds S] [--batches 1,16,256] [--dir DIR] [--json FILE]
//
// For each batch size it appends N records (default 20000) into a fresh
// catalog in DIR (default: the current folder), or as many as fit in S
// seconds (default 120) if that comes first, and reports records/s.
// See bench/README.md.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "gongkai/ledger/ledger.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/env.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"

namespace {

using gongkai::ledger::Change;
using gongkai::storage::Catalog;
using gongkai::storage::Digest;
using gongkai::storage::Env;
using gongkai::storage::SigningKey;
using Clock = std::chrono::steady_clock;

// CPU seconds this process has used (user + system).
double OwnCpu() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// CPU seconds the whole machine spent busy (not idle, not waiting for I/O);
// minus OwnCpu() it shows other work sharing the machine.
double MachineBusyCpu() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                     steal = 0;
  in >> cpu >> user >> nice >> sys >> idle >> iowait >> irq >> softirq >> steal;
  return static_cast<double>(user + nice + sys + irq + softirq + steal) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "append_bench: " << what << "\n";
  std::exit(1);
}

const char* const kOrigin = "bench.gongkai.example";

// A change like the archiver makes for a new gazette page.
Change NewPage(uint64_t i) {
  Change c;
  c.kind = Change::Kind::kVersion;
  c.doc_id = "";  // a new document
  c.share = "bench";
  char name[64];
  std::snprintf(name, sizeof name, "2019-05-%02u_%06llu.html", static_cast<unsigned>(i % 28 + 1),
                static_cast<unsigned long long>(i));
  c.path = name;
  c.sha256 = gongkai::storage::Hex(gongkai::storage::Sha256Of("page " + std::to_string(i)));
  c.size = 19000 + static_cast<int64_t>(i % 5000);
  c.file = {c.size, 1557000000000000000LL + static_cast<int64_t>(i) * 1000000000LL,
            100000 + static_cast<int64_t>(i)};
  return c;
}

struct BatchResult {
  int batch = 0;
  uint64_t records = 0;
  uint64_t commits = 0;
  double seconds = 0;
  double max_commit_ms = 0;
  double cpu_seconds = 0;                // this process
  double other_cpu_seconds = 0;          // the rest of the machine meanwhile
  std::vector<double> commit_ms;         // per Apply(), for percentiles
  std::vector<uint64_t> commit_records;  // records per Apply()
  uint64_t final_tree_size = 0;
};

BatchResult RunBatches(const std::string& dir, int batch, uint64_t records, double max_seconds) {
  const std::string path = dir + "/append-" + std::to_string(batch) + ".sqlite";
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  auto catalog = gongkai::storage::OpenSqliteCatalog(path, Env::Default());
  if (!catalog.ok()) Die("open " + path + ": " + catalog.status().ToString());
  auto key = SigningKey::Generate();
  if (!key.ok()) Die("key: " + key.status().ToString());
  gongkai::ledger::Ledger ledger(catalog->get(), Env::Default(), kOrigin);

  BatchResult r;
  r.batch = batch;
  uint64_t next = 0;
  const double cpu0 = OwnCpu(), busy0 = MachineBusyCpu();
  const auto t0 = Clock::now();
  std::vector<Change> changes;
  while (next < records && (next == 0 || Since(t0) < max_seconds)) {
    changes.clear();
    const uint64_t n = std::min<uint64_t>(static_cast<uint64_t>(batch), records - next);
    for (uint64_t k = 0; k < n; ++k) changes.push_back(NewPage(next + k));
    const auto c0 = Clock::now();
    gongkai::Status s = ledger.Apply(changes, **key);
    const double ms = Since(c0) * 1e3;
    if (!s.ok())
      Die("Apply (batch " + std::to_string(batch) + ", record " + std::to_string(next) +
          "): " + s.ToString());
    r.commit_ms.push_back(ms);
    r.commit_records.push_back(n);
    r.max_commit_ms = std::max(r.max_commit_ms, ms);
    next += n;
    ++r.commits;
  }
  r.seconds = Since(t0);
  r.records = next;
  r.cpu_seconds = OwnCpu() - cpu0;
  r.other_cpu_seconds = std::max(0.0, MachineBusyCpu() - busy0 - r.cpu_seconds);
  auto cp = (*catalog)->LatestCheckpoint();
  if (!cp.ok() || !cp->has_value()) Die("no checkpoint after the appends");
  r.final_tree_size = static_cast<uint64_t>((*cp)->size);
  if (r.final_tree_size != r.records)
    Die("checkpoint covers " + std::to_string(r.final_tree_size) + " records, appended " +
        std::to_string(r.records));
  return r;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// records/s over each quarter of the run (by commits), to show whether
// appends slow down as the log grows.
std::vector<double> QuarterRates(const BatchResult& r) {
  std::vector<double> out;
  const size_t n = r.commit_ms.size();
  for (size_t q = 0; q < 4; ++q) {
    double ms = 0, recs = 0;
    for (size_t i = q * n / 4; i < (q + 1) * n / 4; ++i) {
      ms += r.commit_ms[i];
      recs += static_cast<double>(r.commit_records[i]);
    }
    out.push_back(ms > 0 ? recs / (ms / 1e3) : 0);
  }
  return out;
}

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

// Runs f `iters` times; returns microseconds per call.
template <typename F>
double MicrosPerCall(uint64_t iters, F&& f) {
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < iters; ++i) f(i);
  return Since(t0) * 1e6 / static_cast<double>(iters);
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t records = 20000;
  double max_seconds = 120;
  std::vector<int> batches = {1, 16, 256};
  std::string dir = ".";
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--records")
      records = std::strtoull(value().c_str(), nullptr, 10);
    else if (a == "--seconds")
      max_seconds = std::atof(value().c_str());
    else if (a == "--dir")
      dir = value();
    else if (a == "--json")
      json_path = value();
    else if (a == "--batches") {
      batches.clear();
      std::stringstream ss(value());
      for (std::string b; std::getline(ss, b, ',');) batches.push_back(std::atoi(b.c_str()));
    } else if (a == "-h" || a == "--help") {
      std::cout << "append_bench [--records N] [--seconds S] [--batches 1,16,256] [--dir DIR] "
                   "[--json FILE]\n";
      return 0;
    } else {
      Die("unknown argument " + a);
    }
  }
  if (records == 0 || batches.empty() ||
      std::any_of(batches.begin(), batches.end(), [](int b) { return b < 1; }))
    Die("--records and --batches must be positive");

  // --- the pieces on their own -------------------------------------------
  auto key = SigningKey::Generate();
  if (!key.ok()) Die("key: " + key.status().ToString());
  gongkai::storage::RecordFields f;
  f.seq = 123456;
  f.event = gongkai::EventKind::kVersion;
  f.doc = "abcdefghijklmnopqrstuvwx";
  f.share = "bench";
  f.path = "2019-05-17_123456.html";
  f.version = 1;
  f.sha256 = gongkai::storage::Hex(gongkai::storage::Sha256Of("x"));
  f.size = 19234;
  f.time = "2026-11-28T22:00:00Z";
  f.key = (*key)->KeyId();
  f.modified = "2019-05-17T08:00:00Z";
  f.classification = gongkai::Classification::kPublic;
  f.review = gongkai::ReviewState::kApproved;
  const std::string record = gongkai::storage::SerializeRecord(f);
  volatile size_t sink = 0;
  const double sign_us =
      MicrosPerCall(20000, [&](uint64_t) { sink = sink + (*key)->Sign(record).size(); });
  const double leaf_us =
      MicrosPerCall(200000, [&](uint64_t) { sink = sink + gongkai::storage::LeafHash(record)[0]; });
  const double serialize_us = MicrosPerCall(200000, [&](uint64_t i) {
    f.seq = i;
    sink = sink + gongkai::storage::SerializeRecord(f).size();
  });
  gongkai::storage::Checkpoint cp{kOrigin, 20000, gongkai::storage::LeafHash(record)};
  const double checkpoint_us = MicrosPerCall(20000, [&](uint64_t i) {
    cp.size = i;
    sink = sink + gongkai::storage::SignCheckpoint(cp, **key).size();
  });
  // The floor of a durable commit: append 4 KB to a file in the same folder and fsync it.
  const std::string fsync_path = dir + "/append-fsync.tmp";
  int fd = ::open(fsync_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) Die("open " + fsync_path + ": " + std::strerror(errno));
  std::string page(4096, 'x');
  const int fsyncs = 300;
  const double fsync_us = MicrosPerCall(fsyncs, [&](uint64_t) {
    if (::write(fd, page.data(), page.size()) != static_cast<ssize_t>(page.size()) ||
        ::fsync(fd) != 0)
      Die("write/fsync " + fsync_path + ": " + std::strerror(errno));
  });
  ::close(fd);
  ::unlink(fsync_path.c_str());

  std::printf("append_bench: one typical record is %zu bytes\n", record.size());
  std::printf("  Ed25519 Sign (one record)     %9.1f us\n", sign_us);
  std::printf("  LeafHash (one record)         %9.2f us\n", leaf_us);
  std::printf("  SerializeRecord               %9.2f us\n", serialize_us);
  std::printf("  SignCheckpoint (per batch)    %9.1f us\n", checkpoint_us);
  std::printf("  4 KB write + fsync (per batch) %8.1f us  (in %s)\n", fsync_us, dir.c_str());
  std::fflush(stdout);

  // --- Apply() --------------------------------------------------------------
  std::vector<BatchResult> results;
  for (int b : batches) {
    BatchResult r = RunBatches(dir, b, records, max_seconds);
    const double us = r.seconds * 1e6 / static_cast<double>(r.records);
    const auto q = QuarterRates(r);
    std::printf(
        "batch %4d: %7llu records in %7.2f s: %9.0f records/s, %8.1f us/record; per Apply() mean "
        "%.2f ms, "
        "p50 %.2f, p90 %.2f, p99 %.2f, max %.2f ms; records/s by quarter %.0f %.0f %.0f %.0f%s\n",
        b, static_cast<unsigned long long>(r.records), r.seconds,
        static_cast<double>(r.records) / r.seconds, us, Mean(r.commit_ms),
        Percentile(r.commit_ms, 0.5), Percentile(r.commit_ms, 0.9), Percentile(r.commit_ms, 0.99),
        r.max_commit_ms, q[0], q[1], q[2], q[3],
        r.records < records ? " (stopped at the time limit)" : "");
    std::fflush(stdout);
    results.push_back(std::move(r));
  }

  std::printf("\n%6s %9s %10s %12s %10s %13s %13s %7s %12s\n", "batch", "records", "seconds",
              "records/s", "us/record", "Apply p50 ms", "Apply p99 ms", "CPU s", "other CPU s");
  for (const auto& r : results)
    std::printf("%6d %9llu %10.2f %12.0f %10.1f %13.2f %13.2f %7.2f %12.2f\n", r.batch,
                static_cast<unsigned long long>(r.records), r.seconds,
                static_cast<double>(r.records) / r.seconds,
                r.seconds * 1e6 / static_cast<double>(r.records), Percentile(r.commit_ms, 0.5),
                Percentile(r.commit_ms, 0.99), r.cpu_seconds, r.other_cpu_seconds);
  std::printf(
      "pieces: Sign %.1f us/record, LeafHash %.2f us (Apply computes it twice), SignCheckpoint "
      "%.1f us/batch, "
      "fsync %.1f us/batch\n",
      sign_us, leaf_us, checkpoint_us, fsync_us);

  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << "{\n \"benchmark\": \"append\",\n \"records_requested\": " << records
        << ",\n \"max_seconds\": " << max_seconds << ",\n \"dir\": " << JsonString(dir)
        << ",\n \"record_bytes\": " << record.size() << ",\n \"pieces_us\": {\"sign\": " << sign_us
        << ", \"leaf_hash\": " << leaf_us << ", \"serialize_record\": " << serialize_us
        << ", \"sign_checkpoint\": " << checkpoint_us << ", \"write_4k_fsync\": " << fsync_us
        << "},\n \"results\": [";
    for (size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      out << (i ? ",\n  " : "\n  ") << "{\"batch\": " << r.batch << ", \"records\": " << r.records
          << ", \"commits\": " << r.commits << ", \"seconds\": " << r.seconds
          << ", \"records_per_s\": " << static_cast<double>(r.records) / r.seconds
          << ", \"us_per_record\": " << r.seconds * 1e6 / static_cast<double>(r.records)
          << ", \"cpu_seconds\": " << r.cpu_seconds
          << ", \"other_cpu_seconds\": " << r.other_cpu_seconds
          << ", \"apply_ms_mean\": " << Mean(r.commit_ms)
          << ", \"apply_ms_p50\": " << Percentile(r.commit_ms, 0.5)
          << ", \"apply_ms_p90\": " << Percentile(r.commit_ms, 0.9)
          << ", \"apply_ms_p99\": " << Percentile(r.commit_ms, 0.99)
          << ", \"apply_ms_max\": " << r.max_commit_ms << ", \"records_per_s_by_quarter\": ["
          << QuarterRates(r)[0] << ", " << QuarterRates(r)[1] << ", " << QuarterRates(r)[2] << ", "
          << QuarterRates(r)[3] << "]"
          << ", \"stopped_at_time_limit\": " << (r.records < records ? "true" : "false") << "}";
    }
    out << "\n ]\n}\n";
    if (!out) Die("cannot write " + json_path);
  }
  return 0;
}
