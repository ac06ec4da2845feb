// Completion: how the sequencer answers a producer waiting in append_wait(). One per
// ProducerSlot (a producer has at most one append_wait in flight); slots live as long as the
// session core, so a late notify from the sequencer can never touch freed memory.
#pragma once
#include <sessionring/config.hpp>
#include <sessionring/errc.hpp>

#include "detail/wait_gate.hpp"

#include <atomic>
#include <cstdint>

namespace sessionring::detail {

struct Completion {
  Sequence sequence = 0;    // written by the sequencer before (C1)
  Errc error = Errc::ok;    // written by the sequencer before (C1)
  bool duplicate = false;   // written by the sequencer before (C1)
  // Writer: sequencer (C1, seq_cst: the release half publishes the fields above and pairs with
  // (C2); the seq_cst half is the WaitGate publication). Reader: the waiting producer (C2).
  std::atomic<std::uint32_t> done{0};
  WaitGate gate;

  void reset() noexcept { done.store(0, std::memory_order_relaxed); }  // relaxed: owner only, no answer pending
  void complete(Sequence seq, Errc err, bool dup) noexcept {
    sequence = seq;
    error = err;
    duplicate = dup;
    done.store(1, std::memory_order_seq_cst);  // (C1)
    gate.notify_all();
  }
  bool is_done() const noexcept { return done.load(std::memory_order_seq_cst) != 0; }  // (C2) pairs with (C1)
};

}  // namespace sessionring::detail
