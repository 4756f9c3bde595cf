#include "gongkai/memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace gongkai {

void ReturnFreedMemoryPromptly() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
#endif
}

void ReleaseFreeMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);  // since glibc 2.8 also the free pages inside each arena (madvise)
#endif
}

}  // namespace gongkai
