// PushSubscription: a Subscription driven by a thread the library starts, which calls the
// handler for every delivered event. unsubscribe() (or destruction) stops and joins that thread.
// If the handler throws, the thread stops, the exception message is kept (last_error()) and the
// subscription's cursor stays on the event that threw. Store errors (docs/design.md §11):
//  * without an ErrorHandler, a failed store read stops the thread the same way (last_error()
//    describes it; the cursor stays on the event it could not read), and while the session's
//    store is failing the thread just waits for new events;
//  * with an ErrorHandler (Session::subscribe_push's third argument), every Errc::storage_error
//    — a failed store read, or "the store is failing" once everything published was delivered —
//    is passed to it on the push thread and the thread goes on: it backs off (10 ms doubling to
//    1 s, or until the store's health changes) and polls again from the same cursor, so after
//    the store recovers delivery continues with no gap and no duplicate (INV-3). Other errors
//    (damaged_store) still stop it. If the ErrorHandler throws, the thread stops as for the handler.
// Slow-subscriber policies (SubscribeOptions::slow, docs/design.md §7): a skip_to_live skip calls
// SubscribeOptions::on_gap on the push thread, between two handler calls. A disconnect_after
// subscription that falls too far behind ends: the ErrorHandler (if any) gets the
// Errc::subscriber_too_slow error on the push thread, then the thread ends; last_error_code() is
// subscriber_too_slow and cursor() is where to subscribe again (from_sequence) for no gap.
#pragma once
#include <sessionring/subscription.hpp>

#include <functional>
#include <memory>
#include <string>

namespace sessionring {

namespace detail {
class Subscriber;
}

class PushSubscription {
 public:
  using Handler = std::function<void(const EventView&)>;
  /// Called on the push thread with each storage_error it recovers from, and with the
  /// subscriber_too_slow that ends it (see above).
  using ErrorHandler = std::function<void(const Error&)>;

  PushSubscription(PushSubscription&&) noexcept;
  PushSubscription& operator=(PushSubscription&&) noexcept;
  ~PushSubscription();

  /// Stops delivery: at most the handler call in progress completes; no later call starts.
  /// From another thread it returns once the push thread has ended (within one handler call);
  /// from inside the handler it returns at once and the thread ends when the handler returns.
  /// Second call: Errc::closed. Destroying or move-assigning over a PushSubscription does the
  /// same, also from inside its own handler (the thread's state lives until the thread ends).
  Status unsubscribe();

  /// Observers, from any thread.
  Sequence cursor() const noexcept;
  SubscriptionState state() const noexcept;
  SubscriptionStats stats() const noexcept;
  std::uint64_t delivered() const noexcept;
  /// True once the thread has ended (unsubscribed, session stopped, the handler threw, or a
  /// store read failed).
  bool finished() const noexcept;
  /// The handler's exception message if it threw, the store error if a read failed; empty
  /// otherwise. Final once finished(); with an ErrorHandler, also the last storage_error the
  /// running thread went past (described as "storage_error: ...").
  std::string last_error() const;
  /// The code of last_error(): Errc::ok if none; Errc::subscriber_too_slow when a
  /// disconnect_after policy ended it (resubscribe from cursor()); the store's code when a read
  /// failed. An exception (handler, on_gap, ErrorHandler) has no code: last_error() holds its
  /// message and the code is ok.
  Errc last_error_code() const;

 private:
  friend class Session;
  struct State;
  explicit PushSubscription(std::shared_ptr<State> state);
  static PushSubscription start(std::shared_ptr<detail::Subscriber> sub, Handler handler, ErrorHandler on_error);
  /// unsubscribe(), then joins the thread, or detaches it when called on the thread itself.
  void release() noexcept;
  std::shared_ptr<State> state_;  // shared with the push thread, which keeps it alive until it ends
};

}  // namespace sessionring
