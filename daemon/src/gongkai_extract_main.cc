// gongkai-extract: the text extraction worker gongkaid and gongkai start
// (see gongkai/indexer/extract_worker.h). Not meant to be run by hand: it
// reads requests on stdin and answers on stdout until stdin closes.
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
  return gongkai::indexer::RunExtractWorker(0, 1);
}
