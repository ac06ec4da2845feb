// WaitGate: lets threads sleep until some published state changes, with no cost to the
// publisher while nobody sleeps (one seq_cst load). Linux futex on a 32-bit epoch.
//
// Protocol (a Dekker handshake; docs/design.md "Waiting"):
//   publisher: publish state with a seq_cst store (or publish, then a seq_cst fence)   (P1)
//              notify_all(): waiters_.load(seq_cst) (G1); if > 0: epoch++ and futex wake
//   waiter:    wait_until(ready): waiters_.fetch_add(seq_cst) (G2); seq_cst fence (G3);
//              e = epoch; if ready() → done; else futex_wait(epoch, e)
// In the single total order S, either G1 sees G2 (the publisher wakes us), or P1 precedes
// G3 and ready() observes the published state. A wake between `e = epoch` and futex_wait
// changes the epoch, so futex_wait returns at once: no lost wake-up.
#pragma once
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

  /// Publisher side, after a seq_cst store (or a seq_cst fence) that made the state visible.
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
  /// ready() must read the published state itself; it is called after G3.
  template <class Ready>
  bool wait_until(Ready&& ready, Deadline deadline) {
    waiters_.fetch_add(1, std::memory_order_seq_cst);  // (G2) pairs with (G1)
    // (G3) Needed when the publisher's state lives in a third-party structure whose loads
    // are not seq_cst (the ingest queue): orders G2 before ready()'s loads. Tested by
    // SequencerTest.noLostWakeupUnderParkAndPush.
    std::atomic_thread_fence(std::memory_order_seq_cst);
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

  std::uint32_t waiters_approx() const noexcept { return waiters_.load(std::memory_order_relaxed); }

 private:
  static_assert(sizeof(std::atomic<std::uint32_t>) == 4, "futex needs a 32-bit word");
  std::atomic<std::uint32_t> epoch_{0};    // writer: notifiers (fetch_add); readers: waiters; the futex word
  std::atomic<std::uint32_t> waiters_{0};  // writers: waiters (G2 +1, -1); reader: notifiers (G1)
};

}  // namespace sessionring::detail
