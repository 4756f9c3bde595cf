// extract_bench FILE...: what extraction in worker processes costs per
// document. Extracts every file (read into memory first, so the disk is out
// of it) in process with Extract(), through one ExtractWorkers worker by
// path (what gongkaid does) and by bytes (copied through the pipe), in
// rounds alternating the three (ROUNDS, default 5), and prints docs/s and
// µs per document of each, best and median round, with the difference to
// in-process. Needs gongkai-extract beside it or installed (extract_worker.h).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "gongkai/indexer/extract.h"
#include "gongkai/indexer/extract_worker.h"

namespace {

struct File {
  std::string path, bytes;
};

double Seconds(const std::function<void()>& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<File> files;
  size_t total_bytes = 0;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    files.push_back({argv[i], ss.str()});
    total_bytes += files.back().bytes.size();
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: extract_bench FILE...\n");
    return 2;
  }
  gongkai::indexer::ExtractWorkers workers;
  size_t text_bytes = 0;
  auto in_process = [&] {
    for (const File& f : files)
      text_bytes += gongkai::indexer::Extract(f.bytes, f.path).text.size();
  };
  auto by_path = [&] {
    for (const File& f : files) text_bytes += workers.ExtractFile(f.path, f.path).text.size();
  };
  auto by_bytes = [&] {
    for (const File& f : files) text_bytes += workers.Extract(f.bytes, f.path).text.size();
  };
  const char* names[3] = {"in process", "worker, by path", "worker, by bytes"};
  const std::function<void()> runs[3] = {in_process, by_path, by_bytes};
  const char* rounds_env = std::getenv("ROUNDS");
  const int rounds = std::max(1, rounds_env ? std::atoi(rounds_env) : 5);
  std::vector<std::vector<double>> times(3);
  for (int r = 0; r < rounds; ++r)
    for (int k = 0; k < 3; ++k) times[k].push_back(Seconds(runs[k]));
  std::printf("%zu files, %.1f MB; %d rounds each, alternating\n", files.size(), total_bytes / 1e6,
              rounds);
  std::printf("%-18s %22s %22s\n", "", "best: docs/s   vs in", "median: docs/s   vs in");
  auto best = [&](int k) { return *std::min_element(times[k].begin(), times[k].end()); };
  auto median = [&](int k) {
    std::vector<double> t = times[k];
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  };
  for (int k = 0; k < 3; ++k)
    std::printf("%-18s %13.1f %+7.1f%% %14.1f %+7.1f%%\n", names[k], files.size() / best(k),
                (best(k) / best(0) - 1) * 100, files.size() / median(k),
                (median(k) / median(0) - 1) * 100);
  std::printf("workers started: %llu\n",
              static_cast<unsigned long long>(workers.workers_started()));
  return text_bytes == 0;
}
