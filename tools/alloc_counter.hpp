// Heap allocations made by this process so far (every operator new of any form), counted by
// the replaced global operator new in alloc_counting_new.cpp (the `sessionring` program only;
// elsewhere the count stays 0). Any thread; exact once the threads that allocated have been joined.
#pragma once
#include <cstdint>

namespace sessionring::tools {

std::uint64_t allocation_count() noexcept;

/// Counts one allocation; called by the replaced operator new. Any thread.
void note_allocation() noexcept;

}  // namespace sessionring::tools
