// Session: the core engine of one session (docs/design.md §2):
//   producers → bounded MPSC ingest queue → sequencer (dedupe, stamp, store.append,
//   ring write, publish) → ring → subscriptions (each with its own cursor, store fallback).
// Movable handle; destroying it stops the session (as stop()). Producers and subscriptions may
// outlive it: their calls then answer Errc::stopped / deliver what was published and close.
// All member functions may be called from any thread. A moved-from Session answers every call
// with Errc::closed ("this Session was moved from"); its observers return empty values (id ""
// , latest_sequence 0, stopped() true, a log() whose reads answer Errc::closed).
#pragma once
#include <sessionring/append_options.hpp>
#include <sessionring/event_input.hpp>
#include <sessionring/producer.hpp>
#include <sessionring/push_subscription.hpp>
#include <sessionring/result.hpp>
#include <sessionring/session_options.hpp>
#include <sessionring/session_stats.hpp>
#include <sessionring/cursor_position.hpp>
#include <sessionring/subscribe_options.hpp>
#include <sessionring/subscription.hpp>

#include <memory>
#include <string>
#include <vector>

namespace sessionring {

namespace detail {
class SessionCore;
}

class Session {
 public:
  /// Validates the options, opens the session's log for writing (creating it if missing,
  /// continuing its sequence otherwise: INV-1), rebuilds the dedupe index from it, and starts
  /// the sequencer: parked on its SequencerPool (no thread is created or waited for) or, with
  /// SessionOptions::dedicated_sequencer, on a thread of its own.
  static Result<Session> open(SessionOptions options);

  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();

  const std::string& id() const noexcept;
  const SessionOptions& options() const noexcept;

  /// A new producer handle for the calling thread. Errc::validation_error when max_producers
  /// are alive, Errc::stopped after stop().
  Result<Producer> producer();

  /// Convenience appends through a shared producer (serialised by a mutex): fine for control
  /// events, use producer() per thread on hot paths.
  Status append(const EventInput& event, const AppendOptions& options = {});
  Result<AppendResult> append_wait(const EventInput& event, const AppendOptions& options = {});

  /// A pull subscription. Errc::validation_error for from_sequence > kMaxSequence, a filter
  /// given a type outside the 28 (EventFilter::has_invalid_type()), or a slow-subscriber policy
  /// out of range or without what it needs (slow_subscriber_policy.hpp; docs/errors.md);
  /// Errc::stopped after stop().
  Result<Subscription> subscribe(SubscribeOptions options = {});

  /// A push subscription: `handler` runs on a thread the library starts. `on_error` (optional)
  /// is told about each storage_error on that thread, which then goes on after a back-off
  /// instead of stopping (push_subscription.hpp, docs/design.md §11), and about the
  /// subscriber_too_slow that ends a disconnect_after subscription (docs/design.md §7).
  Result<PushSubscription> subscribe_push(SubscribeOptions options, PushSubscription::Handler handler,
                                          PushSubscription::ErrorHandler on_error = {});

  /// Latest sequence published to subscribers.
  Sequence latest_sequence() const noexcept;

  /// The session's durable named cursors (SubscribeOptions::durable_name), sorted by name, each
  /// with lag = latest_sequence() − position. Any thread. Errc::unsupported from a store
  /// without cursors; the store's error otherwise.
  Result<std::vector<CursorPosition>> cursors() const;
  /// Removes a durable cursor from the store (a live subscription with that name goes on, and
  /// its next commit stores the name again). not_found when there is none. Any thread.
  Status delete_cursor(std::string_view name);

  /// The session's log (the store's handle), for reads by query and find_by_id.
  const SessionLog& log() const noexcept;

  SessionStats stats() const;

  /// Stops accepting appends, sequences and publishes everything already accepted, stops the
  /// sequencer and closes every subscription once it has delivered everything (observable as
  /// SubscriptionState::closed). Idempotent. Returns the store error if the final batches
  /// could not be stored.
  Status stop();
  bool stopped() const noexcept;

 private:
  friend class SessionServer;  // its moved-from session() is a moved-from Session
  explicit Session(std::shared_ptr<detail::SessionCore> core);
  std::shared_ptr<detail::SessionCore> core_;
};

}  // namespace sessionring
