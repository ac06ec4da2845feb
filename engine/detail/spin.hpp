// Short spin, then a few yields, before a thread parks (WaitStrategy::block). On a 2-core host
// a long spin steals the core the awaited thread needs, so the spin is brief.
#pragma once
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace sessionring::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

inline constexpr int kSpinIterations = 128;
inline constexpr int kYieldIterations = 4;

/// True as soon as ready() holds; false after the spin and yield budget.
template <class Ready>
bool spin_then_yield(Ready&& ready) {
  for (int i = 0; i < kSpinIterations; ++i) {
    if (ready()) return true;
    cpu_relax();
  }
  for (int i = 0; i < kYieldIterations; ++i) {
    if (ready()) return true;
    std::this_thread::yield();
  }
  return ready();
}

}  // namespace sessionring::detail
