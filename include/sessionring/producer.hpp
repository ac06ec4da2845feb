// Producer: one thread's handle for appending to a session. Events appended through one
// Producer are sequenced in the order they were appended (INV-5). Not thread-safe: use one
// Producer per thread (Session::producer()). Movable; destroying it is always safe.
#pragma once
#include <sessionring/append_options.hpp>
#include <sessionring/event_input.hpp>
#include <sessionring/result.hpp>

#include <memory>

namespace sessionring {

namespace detail {
class ProducerImpl;
}

class Producer {
 public:
  Producer(Producer&&) noexcept;
  Producer& operator=(Producer&&) noexcept;
  ~Producer();

  /// Fire-and-forget: Ok once the event is in the ingest queue; it will be sequenced, stored
  /// and published (if the store refuses it, it is kept and retried: never dropped).
  /// Errors: validation_error, event_too_large, queue_full, stopped; storage_error when there is
  /// no queue space while the sequencer is stalled on a failing store (the event was not
  /// appended; docs/design.md §11).
  Status append(const EventInput& event, const AppendOptions& options = {});

  /// Appends and waits until the sequencer has stored and published the event. `deadline`
  /// bounds only the wait for queue space; once accepted the call returns when the event is
  /// sequenced, or with storage_error if the store refused its batch or the sequencer is
  /// stalled on a failing store while the event is still queued (docs/design.md §11).
  /// storage_error always means the event is not stored: appending it again is safe.
  Result<AppendResult> append_wait(const EventInput& event, const AppendOptions& options = {});

  /// Events this producer appended that the sequencer has not taken yet (approximate).
  std::uint64_t in_flight_approx() const noexcept;

 private:
  friend class Session;
  explicit Producer(std::unique_ptr<detail::ProducerImpl> impl);
  std::unique_ptr<detail::ProducerImpl> impl_;
};

}  // namespace sessionring
