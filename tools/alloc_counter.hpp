// Heap allocations made by this process so far (every operator new of any form), counted by
// the replaced global operator new in alloc_counter.cpp. Any thread; exact once the threads
// that allocated have been joined.
#pragma once
#include <cstdint>

namespace sessionring::tools {

std::uint64_t allocation_count() noexcept;

}  // namespace sessionring::tools
