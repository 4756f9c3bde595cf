// gongkai-extract: the text extraction worker gongkaid and gongkai start
// (see gongkai/indexer/extract_worker.h). Not meant to be run by hand: it
// reads requests on stdin and answers on stdout until stdin closes.
#include <malloc.h>
#include <unistd.h>

#include <cstring>
#include <iostream>

#include "gongkai/indexer/extract_worker.h"

#ifndef GONGKAI_VERSION
#define GONGKAI_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::cout << "gongkai-extract " GONGKAI_VERSION "\n";
    return 0;
  }
  if (argc > 1 || ::isatty(0)) {
    std::cerr << "usage: gongkai-extract (started by gongkaid and gongkai, speaking a binary\n"
                 "protocol on stdin and stdout; see extract_worker.h)\n";
    return 2;
  }
  // A parser allocates and frees many small blocks per document (libxml2's
  // nodes, for one). With glibc's fastbins, each free of a large block (a
  // file's bytes, its text) first merges every small free block
  // (malloc_consolidate): over a third of the worker's time on the gazette
  // pages. Without fastbins, small blocks go through the per-thread cache
  // and the ordinary bins, and extraction is about a tenth faster
  // (bench/README.md, "The extraction worker's allocator").
#ifdef M_MXFAST
  mallopt(M_MXFAST, 0);
#endif
  return gongkai::indexer::RunExtractWorker(0, 1);
}
