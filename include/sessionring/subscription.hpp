// Subscription: a pull cursor over one session, owned by the caller (INV-3, INV-4).
// poll()/poll_wait() from one thread at a time; unsubscribe() and the observers from any thread.
// The handler is called as handler(session_id, event) or handler(event); the EventView is
// valid only during the call (EventView::to_event() copies it). If the handler throws, the
// exception propagates and that event is not counted as delivered: the next poll offers it again.
#pragma once
#include <sessionring/event_view.hpp>
#include <sessionring/function_ref.hpp>
#include <sessionring/result.hpp>
#include <sessionring/session_log.hpp>
#include <sessionring/subscription_stats.hpp>

#include <cstddef>
#include <limits>
#include <memory>
#include <type_traits>

namespace sessionring {

namespace detail {
class Subscriber;
}

class Subscription {
 public:
  Subscription(Subscription&&) noexcept;
  Subscription& operator=(Subscription&&) noexcept;
  ~Subscription();  ///< unsubscribes

  /// Delivers what is available now, without blocking; returns how many events it delivered.
  /// Errc::closed after unsubscribe(); the store's error (storage_error, damaged_store) when a
  /// store read failed, with the cursor on the event it could not read (the next poll retries it);
  /// storage_error when everything published was delivered and the session's store is failing
  /// (the cursor stays; once the store recovers polling delivers from it: docs/design.md §11);
  /// subscriber_too_slow once a disconnect_after policy ended the subscription (then on every
  /// poll, delivering nothing: subscribe again from cursor()). A skip_to_live skip calls
  /// SubscribeOptions::on_gap from inside poll, between two handler calls (docs/design.md §7).
  template <class Handler>
  Result<std::size_t> poll(Handler&& handler, std::size_t max_events = kAll) {
    auto adapt = adapter(handler);
    return poll_impl(adapt, max_events, Deadline::min());
  }

  /// As poll(), but when nothing is available waits until something is or `deadline` passes
  /// (then returns 0). Returns 0 at once when the subscription is closed by a session stop, and
  /// storage_error at once (not waiting) while the session's store is failing.
  template <class Handler>
  Result<std::size_t> poll_wait(Handler&& handler, Deadline deadline, std::size_t max_events = kAll) {
    auto adapt = adapter(handler);
    return poll_impl(adapt, max_events, deadline);
  }

  /// Detaches from the session (a durable cursor's pending position is written first). A
  /// second call answers Errc::closed.
  Status unsubscribe();

  /// Durable subscriptions (SubscribeOptions::durable_name; docs/design.md §7): stores
  /// cursor() − 1 — everything delivered so far, and filtered-out events before it — as the
  /// cursor's position. Coalesced: written at once when commit_interval has passed since the
  /// last write, else recorded and written by a later commit/poll, flush_commit() or
  /// unsubscribe(). Any thread (inside a handler use commit(event.sequence_number): cursor()
  /// moves past an event only after its handler returns). validation_error without a
  /// durable_name; the store's error when the write failed (the position stays pending).
  Status commit();
  /// As commit(), storing `position` (0..latest; it may move back).
  Status commit(Sequence position);
  /// Writes the pending position now. Any thread.
  Status flush_commit();
  /// The position last written to the store (0 without a durable_name). Any thread; may be stale.
  Sequence committed() const noexcept;
  /// Store writes of commits so far (coalescing makes this ≤ the commits asked for).
  std::uint64_t commit_writes() const noexcept;

  Sequence cursor() const noexcept;
  std::uint64_t lag() const noexcept;
  std::uint64_t lead() const noexcept;
  std::uint64_t lapped_count() const noexcept;
  SubscriptionState state() const noexcept;
  bool caught_up() const noexcept;  ///< it has reached the head at least once
  SubscriptionStats stats() const noexcept;

  static constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

 private:
  friend class Session;
  explicit Subscription(std::shared_ptr<detail::Subscriber> impl);

  template <class Handler>
  static auto adapter(Handler& h) {
    return [&h](const EventView& e) {
      if constexpr (std::is_invocable_v<Handler&, std::string_view, const EventView&>)
        h(e.session_id, e);
      else
        h(e);
    };
  }
  Result<std::size_t> poll_impl(FunctionRef<void(const EventView&)> handler, std::size_t max_events,
                                Deadline deadline);

  std::shared_ptr<detail::Subscriber> impl_;
};

}  // namespace sessionring
