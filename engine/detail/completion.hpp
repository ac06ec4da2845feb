// Completion: how the sequencer answers a producer waiting in append_wait(). One per
// ProducerSlot (a producer has at most one append_wait in flight); slots live as long as the
// session core, so a late notify from the sequencer can never touch freed memory.
//
// Each append_wait arms a new generation; its IngestItem carries the generation. Exactly one of
// two parties decides what happens to the item (docs/design.md §11 "Store faults"):
//   the sequencer, when it pops the item: take (C4) pending → taken; it then answers (C1);
//   the producer, while the sequencer is stalled on a failing store: abandon (C3) pending →
//     abandoned; it returns storage_error and the sequencer drops the item when it pops it.
// The generation keeps an abandoned item still in the queue from being confused with a later
// append_wait of the same producer (at most ingest_capacity items of one producer are queued,
// far below 2^32 generations).
#pragma once
#include <sessionring/config.hpp>
#include <sessionring/errc.hpp>

#include "detail/wait_gate.hpp"

#include <atomic>
#include <cstdint>

namespace sessionring::detail {

struct Completion {
  enum State : std::uint64_t { kPending = 0, kTaken = 1, kDone = 2, kAbandoned = 3 };
  static constexpr std::uint64_t word(std::uint32_t gen, State s) noexcept { return (std::uint64_t{gen} << 2) | s; }
  static constexpr State state_of(std::uint64_t w) noexcept { return static_cast<State>(w & 3); }

  Sequence sequence = 0;    // written by the sequencer before (C1)
  Errc error = Errc::ok;    // written by the sequencer before (C1)
  bool duplicate = false;   // written by the sequencer before (C1)
  std::uint32_t generation = 0;  // the owning producer only: the generation it armed last
  // word(generation, state). Writers: the owning producer (arm, relaxed: the queue push that
  // follows carries it to the sequencer; abandon C3), the sequencer (take C4; answer C1,
  // seq_cst: the release half publishes the fields above and pairs with (C2), the seq_cst
  // half is the WaitGate publication). Reader: the waiting producer (C2).
  std::atomic<std::uint64_t> ticket{0};
  WaitGate gate;

  /// Producer: a new append_wait; returns the generation its item must carry. The previous
  /// generation is done or abandoned, so the sequencer no longer writes the ticket for it
  /// (its take would fail on the generation): a plain store is enough.
  std::uint32_t arm() noexcept {
    ++generation;
    ticket.store(word(generation, kPending), std::memory_order_relaxed);  // relaxed: see above
    return generation;
  }
  /// Sequencer, when it pops an item of generation `gen`: false if the producer abandoned it.
  bool take(std::uint32_t gen) noexcept {
    std::uint64_t expected = word(gen, kPending);
    // (C4) relaxed: only the atomicity of the read-modify-write matters (exactly one of take
    // and abandon (C3) succeeds); no data travels with it (the item came through the queue,
    // the answer goes through (C1)).
    return ticket.compare_exchange_strong(expected, word(gen, kTaken), std::memory_order_relaxed);
  }
  /// Sequencer: the answer for generation `gen` (taken before).
  void complete(std::uint32_t gen, Sequence seq, Errc err, bool dup) noexcept {
    sequence = seq;
    error = err;
    duplicate = dup;
    ticket.store(word(gen, kDone), std::memory_order_seq_cst);  // (C1)
    gate.notify_all();
  }
  /// Producer: gives up on its pending item (the sequencer has not taken it). True on success.
  bool abandon() noexcept {
    std::uint64_t expected = word(generation, kPending);
    // (C3) relaxed: as (C4), only the exclusivity of the two read-modify-writes matters.
    return ticket.compare_exchange_strong(expected, word(generation, kAbandoned), std::memory_order_relaxed);
  }
  /// Producer: the state of its current generation. (C2) seq_cst: pairs with (C1) (acquire
  /// half: the answer fields) and is a WaitGate predicate load.
  State state() const noexcept { return state_of(ticket.load(std::memory_order_seq_cst)); }
};

}  // namespace sessionring::detail
