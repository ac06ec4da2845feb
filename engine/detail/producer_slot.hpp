// ProducerSlot: the per-producer state shared with the sequencer. Owned by the SessionCore
// for its whole life (slots are reused by later producers, never freed early), so the
// sequencer may touch a slot after its producer went away.
#pragma once
#include <sessionring/config.hpp>

#include "detail/completion.hpp"
#include "detail/ingest_queue.hpp"
#include "detail/spill_pool.hpp"

#include <atomic>
#include <cstdint>
#include <memory>

namespace sessionring::detail {

struct ProducerSlot {
  // Events the owning producer pushed (or is about to push). Writer: the owning producer
  // ((A1) seq_cst before it checks `accepting`, and a relaxed roll-back if it then gives up).
  // Readers: the sequencer at stop (A3), to wait until every accepted event is taken, and
  // before it sleeps on the doorbell (A4): (A1) is the doorbell's publication (design §8).
  alignas(kCacheLine) std::atomic<std::uint64_t> pushed{0};
  // Events of this producer the sequencer has taken off the queue. Writer: sequencer (A2,
  // seq_cst: release for the credit check, seq_cst as the `space` WaitGate publication).
  // Reader: the owning producer's credit check (acquire, pairs with A2; once its cached limit,
  // ProducerImpl::credit_limit_, is used up) and stats.
  alignas(kCacheLine) std::atomic<std::uint64_t> consumed{0};
  alignas(kCacheLine) Completion completion;
  // Blocks for the owning producer's records larger than an IngestItem's inline bytes; the
  // sequencer gives them back (SP1/SP2 inside). Its atomic and its free lists on their own lines.
  SpillPool spill;
  std::unique_ptr<IngestQueue::Token> token;  // the owning producer's queue token
  bool in_use = false;  // guarded by SessionCore::producers_mutex_
  bool handle = false;  // a Producer handed to the host (not the shared one); guarded likewise
};

// The producer's counter, the sequencer's counter and the completion ticket each have their own
// cache line(s): the producer writes `pushed` on every append while the sequencer writes
// `consumed` once per batch and the ticket per append_wait; sharing a line would bounce it
// between their cores on each of those writes.
static_assert(alignof(ProducerSlot) == kCacheLine, "ProducerSlot starts on a cache line");
static_assert(sizeof(ProducerSlot) >= 3 * kCacheLine, "pushed, consumed and completion on separate cache lines");

}  // namespace sessionring::detail
