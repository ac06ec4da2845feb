// WaitGate: lets threads sleep until some published state changes, with no cost to the
// publisher while nobody sleeps (one seq_cst load). Linux futex on a 32-bit epoch.
//
// Protocol (a Dekker handshake; docs/design.md "Waiting"):
//   publisher: publish state with a seq_cst store                                   (P1)
//              notify_all(): waiters_.load(seq_cst) (G1); if > 0: epoch++ and futex wake
//   waiter:    wait_until(ready): waiters_.fetch_add(seq_cst) (G2);
//              e = epoch; if ready() → done; else futex_wait(epoch, e)
// ready() reads the published state with seq_cst loads. In the single total order S, either G1
// sees G2 (the publisher wakes us), or P1 precedes G2 and ready() observes the published state.
// A wake between `e = epoch` and futex_wait changes the epoch, so futex_wait returns at once:
// no lost wake-up.
// A state that is not itself read with seq_cst loads (the ingest queue's internals, for the
// sequencer's doorbell) is published through a seq_cst counter next to it instead (the
// producers' `pushed`, read by the doorbell's ready()): no standalone fence, so every user of
// the gate stays fully visible to ThreadSanitizer.
#pragma once
#include <sessionring/session_options.hpp>

#include "detail/spin.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace sessionring::detail {

class WaitGate {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  /// Publisher side, after a seq_cst store that made the state visible.
  void notify_all() noexcept {
    // (G1) pairs with (G2): see the class comment.
    if (waiters_.load(std::memory_order_seq_cst) == 0) return;
    // Release: pairs with the acquire load of epoch_ in wait_until (not needed for the
    // handshake itself, which G1/G2 carry, but makes the wake-up a synchronisation point).
    epoch_.fetch_add(1, std::memory_order_release);
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAKE_PRIVATE, INT32_MAX,
            nullptr, nullptr, 0);
  }

  /// Sleeps until ready() is true (returns true) or the deadline passes (returns false).
  /// ready() must read the published state itself, with seq_cst loads; it is called after G2.
  template <class Ready>
  bool wait_until(Ready&& ready, Deadline deadline) {
    waiters_.fetch_add(1, std::memory_order_seq_cst);  // (G2) pairs with (G1)
    bool ok = false;
    for (;;) {
      const std::uint32_t e = epoch_.load(std::memory_order_acquire);  // pairs with notify_all's release
      if (ready()) { ok = true; break; }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      timespec ts{};
      const bool forever = deadline == Deadline::max();
      if (!forever) {
        const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now).count();
        ts.tv_sec = static_cast<time_t>(left / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(left % 1'000'000'000);
      }
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&epoch_), FUTEX_WAIT_PRIVATE, e,
              forever ? nullptr : &ts, nullptr, 0);
    }
    waiters_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: only makes a later notify cheaper
    return ok;
  }

  /// The one wait of the engine, with the session's WaitStrategy (docs/design.md §8): `spin`
  /// spins (pause), `yield` yields, `block` spins briefly, yields a few times, then parks on this
  /// gate. True when ready() holds, false at the deadline. Used by the sequencer (doorbell),
  /// subscribers (ring cursor), producers (credit, append_wait answer).
  template <class Ready>
  bool wait(WaitStrategy strategy, Ready&& ready, Deadline deadline) {
    switch (strategy) {
      case WaitStrategy::spin:
        for (unsigned i = 1;; ++i) {
          if (ready()) return true;
          cpu_relax();
          if ((i & 1023) == 0 && std::chrono::steady_clock::now() >= deadline) return ready();
        }
      case WaitStrategy::yield:
        for (unsigned i = 1;; ++i) {
          if (ready()) return true;
          std::this_thread::yield();
          if ((i & 63) == 0 && std::chrono::steady_clock::now() >= deadline) return ready();
        }
      case WaitStrategy::block:
        break;
    }
    if (spin_then_yield(ready)) return true;
    return wait_until(ready, deadline);
  }

  std::uint32_t waiters_approx() const noexcept { return waiters_.load(std::memory_order_relaxed); }

  // A waiter that sleeps somewhere else than on the futex: a session parked by its
  // SequencerPool (docs/design.md §13). enter() is its (G2), has_waiters() the publisher's
  // (G1): the same Dekker handshake as wait_until()/notify_all(), with the wake-up done by
  // the caller (it queues the session) instead of the futex.
  void enter() noexcept { waiters_.fetch_add(1, std::memory_order_seq_cst); }  // (G2) pairs with (G1)
  void leave() noexcept { waiters_.fetch_sub(1, std::memory_order_relaxed); }  // relaxed: as in wait_until
  bool has_waiters() const noexcept { return waiters_.load(std::memory_order_seq_cst) != 0; }  // (G1) pairs with (G2)

 private:
  static_assert(sizeof(std::atomic<std::uint32_t>) == 4, "futex needs a 32-bit word");
  std::atomic<std::uint32_t> epoch_{0};    // writer: notifiers (fetch_add); readers: waiters; the futex word
  std::atomic<std::uint32_t> waiters_{0};  // writers: waiters (G2 +1, -1); reader: notifiers (G1)
};

}  // namespace sessionring::detail
