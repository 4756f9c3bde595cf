// index_bench [--commit-every N] [--window W] FILE...: where the time of indexing goes,
// stage by stage, on one thread. Each file (read into memory first) is
// extracted in process, prepared (script folding, term generation:
// indexer::Prepare) and stored (IndexWriter::Replace) into a fresh index in a
// temporary folder, committed every N documents (default 512, the feeder's
// round) and at the end. Prints the seconds and µs per document of each stage,
// so that what can run in parallel (extract, prepare) and what the single
// writer must do (store, commit) can be compared. With --window W it also
// prints the writer's µs per document over each W documents, to show how
// its cost grows with the index.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gongkai/indexer/extract.h"
#include "gongkai/indexer/index.h"

namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  size_t commit_every = 512, window = 0;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--commit-every" && i + 1 < argc)
      commit_every = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--window" && i + 1 < argc)
      window = static_cast<size_t>(std::max(0, std::atoi(argv[++i])));
    else
      paths.push_back(arg);
  }
  if (paths.empty()) {
    std::fprintf(stderr, "usage: index_bench [--commit-every N] [--window W] FILE...\n");
    return 2;
  }
  std::vector<std::string> files;
  size_t total_bytes = 0;
  for (const std::string& p : paths) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    files.push_back(ss.str());
    total_bytes += files.back().size();
  }
  char tmpl[] = "/tmp/index_bench-XXXXXX";
  if (!::mkdtemp(tmpl)) return 1;
  const std::string dir = tmpl;
  auto writer = gongkai::indexer::IndexWriter::Open(dir + "/index");
  if (!writer.ok()) {
    std::fprintf(stderr, "index_bench: %s\n", writer.status().ToString().c_str());
    return 1;
  }
  double extract = 0, prepare = 0, store = 0, commit = 0, window_start = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    auto t = Clock::now();
    gongkai::indexer::Extracted e = gongkai::indexer::Extract(files[i], paths[i]);
    extract += Since(t);
    gongkai::indexer::IndexDoc d;
    d.id = "doc" + std::to_string(i);
    d.share = d.office = "bench";
    d.path = paths[i];
    d.title = e.title;
    d.type = e.type;
    d.status = "active";
    d.classification = "public";
    d.for_public = true;
    d.text = std::move(e.text);
    t = Clock::now();
    auto prepared = gongkai::indexer::Prepare(d);
    prepare += Since(t);
    if (!prepared.ok()) return 1;
    t = Clock::now();
    if (!(*writer)->Replace(std::move(*prepared)).ok()) return 1;
    store += Since(t);
    if ((i + 1) % commit_every == 0 || i + 1 == files.size()) {
      t = Clock::now();
      if (!(*writer)->Commit(static_cast<int64_t>(i)).ok()) return 1;
      commit += Since(t);
    }
    if (window > 0 && (i + 1) % window == 0) {
      std::printf("documents %zu-%zu: store + commit %.0f µs/doc\n", i + 2 - window, i + 1,
                  (store + commit - window_start) / static_cast<double>(window) * 1e6);
      std::fflush(stdout);
      window_start = store + commit;
    }
  }
  writer->reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  const double n = static_cast<double>(files.size());
  std::printf("%zu documents, %.1f MB, commit every %zu\n", files.size(), total_bytes / 1e6,
              commit_every);
  std::printf("%-8s %9s %12s\n", "stage", "seconds", "µs/doc");
  for (auto [name, s] :
       {std::pair{"extract", extract}, {"prepare", prepare}, {"store", store}, {"commit", commit}})
    std::printf("%-8s %9.2f %12.0f\n", name, s, s / n * 1e6);
  return 0;
}
