// How the daemon's heap gives freed memory back to the system.
//
// glibc keeps what a thread frees for its arena to hand out again, and by
// default lets an arena keep up to twice the largest block it ever freed
// (up to 64 MiB) unreturned at its top. The daemon's bursts (an index commit
// frees the batch a shard held; an extraction frees a large text) so left
// 45-55 MB free but resident in each busy arena: at 100,000 pages, 317 MB of
// heap for 119 MB in use (docs/performance.md, memory at 100,000 pages).
#pragma once

namespace gongkai {

// Call once, first thing in main(): blocks of 1 MiB and more are mapped on
// their own and unmapped when freed, and an arena returns its top once more
// than 4 MiB of it is free. Fixed, so a large freed block no longer raises
// them. Does nothing where the C library has no such settings.
void ReturnFreedMemoryPromptly();

// Gives the whole free pages inside every arena back to the system, not only
// its top. Costs a walk of the free lists and a page fault when a page is used
// again, so call it after a burst (an index commit), not per allocation.
// Does nothing where the C library has no such call. Thread-safe.
void ReleaseFreeMemory();

}  // namespace gongkai
