// extract_formats [--json OUT] [--rounds N] DIR...: text extraction speed per
// format (issue 5), over every file below DIR (e.g. ../shared/corpus/docs).
//
// Files are read into memory first (the disk is out of it) and grouped by
// the type Extract() recognises (html, pdf, docx, txt, ...). For each format
// and round (default 3; the best is reported), every file of the format is
// extracted in this process with Extract(), and by path through one
// gongkai-extract worker process (what gongkaid does). Printed per format:
// files, MB in, MB/s in process and in the worker, the text out as a share of
// the bytes in (an archive's: its members'), and how many files gave no
// text. MB = 10^6 bytes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gongkai/indexer/extract.h"
#include "gongkai/indexer/extract_worker.h"

namespace {

struct File {
  std::string path, bytes;
};

struct Format {
  std::vector<File> files;
  size_t bytes = 0, text_bytes = 0, no_text = 0;
  double best_in_process = 1e300, best_worker = 1e300;
};

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string json_out;
  int rounds = 3;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json") && i + 1 < argc)
      json_out = argv[++i];
    else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = std::max(1, std::atoi(argv[++i]));
    else
      dirs.push_back(argv[i]);
  }
  if (dirs.empty()) {
    std::fprintf(stderr, "usage: extract_formats [--json OUT] [--rounds N] DIR...\n");
    return 2;
  }
  std::map<std::string, Format> formats;
  for (const std::string& dir : dirs)
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      File f{e.path().string(), ss.str()};
      const auto x = gongkai::indexer::Extract(f.bytes, f.path);  // also warms every parser up
      Format& fmt = formats[x.type];
      fmt.bytes += f.bytes.size();
      size_t text = x.text.size();  // an archive's text is its members'
      for (const auto& m : x.members) text += m.extracted.text.size();
      fmt.text_bytes += text;
      fmt.no_text += text == 0;
      fmt.files.push_back(std::move(f));
    }
  gongkai::indexer::ExtractWorkers workers;
  for (int r = 0; r < rounds; ++r)
    for (auto& [name, fmt] : formats) {
      double t = Now();
      for (const File& f : fmt.files) gongkai::indexer::Extract(f.bytes, f.path);
      fmt.best_in_process = std::min(fmt.best_in_process, Now() - t);
      t = Now();
      for (const File& f : fmt.files) workers.ExtractFile(f.path, f.path);
      fmt.best_worker = std::min(fmt.best_worker, Now() - t);
    }

  std::printf("%-8s %6s %8s %14s %12s %10s %8s\n", "format", "files", "MB in", "in process MB/s",
              "worker MB/s", "text/in", "no text");
  std::string json =
      "{\"benchmark\": \"extract\", \"rounds\": " + std::to_string(rounds) + ", \"formats\": [";
  bool first = true;
  for (const auto& [name, fmt] : formats) {
    const double mb = fmt.bytes / 1e6;
    const double in_process = mb / fmt.best_in_process, worker = mb / fmt.best_worker;
    const double yield = fmt.bytes ? static_cast<double>(fmt.text_bytes) / fmt.bytes : 0;
    std::printf("%-8s %6zu %8.2f %14.1f %12.1f %9.0f%% %8zu\n", name.c_str(), fmt.files.size(), mb,
                in_process, worker, yield * 100, fmt.no_text);
    char row[512];
    std::snprintf(
        row, sizeof row,
        "%s{\"format\": \"%s\", \"files\": %zu, \"mb\": %.3f, \"in_process_mb_per_s\": %.1f, "
        "\"worker_mb_per_s\": %.1f, \"text_share\": %.3f, \"no_text\": %zu}",
        first ? "" : ", ", name.c_str(), fmt.files.size(), mb, in_process, worker, yield,
        fmt.no_text);
    json += row;
    first = false;
  }
  json += "]}\n";
  if (!json_out.empty()) {
    std::ofstream(json_out) << json;
    std::printf("written: %s\n", json_out.c_str());
  }
  return 0;
}
