// Short spin, then yields for a bounded window, before a thread parks (WaitStrategy::block). On
// a 2-core host a long spin steals the core the awaited thread needs, so the spin is brief;
// yielding gives the core away while staying awake for the next event.
#pragma once
#include <sched.h>

#include <chrono>
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
/// How long a `block` waiter keeps yielding before it parks. Events arriving closer together
/// than this (100 k/s is 10 µs apart) never find their waiter parked, so they cost no futex
/// wake-up and no wait for a core to run the woken thread; an idle waiter parks after this
/// long and then costs nothing (docs/design.md §8, docs/performance.md "Issue 14").
inline constexpr std::chrono::microseconds kYieldWindow{50};

/// The calling thread runs SCHED_FIFO or SCHED_RR (a host may give its own threads, or the
/// pool's through SequencerPool::Options::on_thread_start, a real-time priority). One syscall.
inline bool is_realtime_thread() noexcept {
  const int policy = ::sched_getscheduler(0);
  return policy == SCHED_FIFO || policy == SCHED_RR;
}

/// True as soon as ready() holds; false once the spin and the yield window are over. A
/// real-time thread skips the yield window: its sched_yield gives the core only to threads of
/// its own priority, so the window would be a 50 µs busy spin keeping every normal-priority
/// thread (the producers, the subscribers) off that core (docs/design.md §8).
template <class Ready>
bool spin_then_yield(Ready&& ready) {
  for (int i = 0; i < kSpinIterations; ++i) {
    if (ready()) return true;
    cpu_relax();
  }
  if (is_realtime_thread()) return ready();
  const auto until = std::chrono::steady_clock::now() + kYieldWindow;
  do {
    if (ready()) return true;
    std::this_thread::yield();
  } while (std::chrono::steady_clock::now() < until);
  return ready();
}

}  // namespace sessionring::detail
