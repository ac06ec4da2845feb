// ProducerImpl: encodes an EventInput into an IngestItem and hands it to the sequencer under
// the credit bound (INV-7) and the stop handshake. See producer.cpp for the push protocol.
#pragma once
#include <sessionring/append_options.hpp>
#include <sessionring/event_input.hpp>

#include "detail/one_user_check.hpp"
#include "detail/session_core.hpp"

#include <memory>

namespace sessionring::detail {

class ProducerImpl {
 public:
  /// `keep_alive` may be null when the owner keeps the core alive (the session's own producer).
  ProducerImpl(SessionCore& core, ProducerSlot* slot, std::shared_ptr<SessionCore> keep_alive)
      : core_(core), slot_(slot), keep_alive_(std::move(keep_alive)) {}
  ~ProducerImpl() { core_.release_producer(slot_); }
  ProducerImpl(const ProducerImpl&) = delete;
  ProducerImpl& operator=(const ProducerImpl&) = delete;

  /// `completion` (append_wait) with the `generation` it armed, or nullptr and 0.
  Status push(const EventInput& in, const AppendOptions& options, Completion* completion, std::uint32_t generation = 0);
  Result<AppendResult> push_wait(const EventInput& in, const AppendOptions& options);
  /// push_wait in two steps, so a caller can serialise the push and the wait differently
  /// (Session::append_wait): arm the slot's completion and push; then wait for the answer of
  /// that generation. At most one armed append_wait per producer at a time.
  Result<std::uint32_t> push_armed(const EventInput& in, const AppendOptions& options);
  Result<AppendResult> await_answer();
  std::uint64_t in_flight() const noexcept {
    // relaxed: an estimate for observers
    return slot_->pushed.load(std::memory_order_relaxed) - slot_->consumed.load(std::memory_order_relaxed);
  }

 private:
  Status wait_for_credit(std::uint64_t pushed, const AppendOptions& options);
  /// storage_error for an append given up on because the sequencer is stalled on a failing
  /// store; `accepted`: the event was queued (append_wait abandoned it) or not.
  Error stalled_error(bool accepted) const;

  SessionCore& core_;
  ProducerSlot* const slot_;
  const std::shared_ptr<SessionCore> keep_alive_;
  // `pushed` may reach this without another credit check: `consumed` + ingest_capacity as last
  // loaded (consumed only grows, so it is never too high). Most pushes then read no line the
  // sequencer writes: the Disruptor's cached gating sequence. This producer's calls only.
  std::uint64_t credit_limit_ = 0;

 public:
  OneUserCheck one_user;  // Producer's calls (debug and sanitizer builds): never two threads at once
};

}  // namespace sessionring::detail
