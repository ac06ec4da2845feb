// The allocation counter of the `sessionring` program: the replaced global operator new in
// alloc_counting_new.cpp (linked into the program only, not into the sessionring_tools library,
// so the fuzz targets keep the sanitizer's own operator new) calls note_allocation() for every
// allocation. `sessionring bench` reads the count before and after its measured phase and
// reports heap allocations per event (docs/performance.md "Allocations").
#include "alloc_counter.hpp"

#include <atomic>

namespace sessionring::tools {
namespace {
// Writers: every thread that allocates (relaxed fetch_add: a counter, it publishes nothing);
// reader: allocation_count() on the bench's control thread, after joining the measured threads
// (the join orders every increment before the read).
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

void note_allocation() noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics only
}

std::uint64_t allocation_count() noexcept { return g_allocations.load(std::memory_order_relaxed); }

}  // namespace sessionring::tools
