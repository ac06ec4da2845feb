// PushSubscription: a Subscription driven by a thread the library starts, which calls the
// handler for every delivered event. unsubscribe() (or destruction) stops and joins that thread.
// If the handler throws, the thread stops, the exception message is kept (last_error()) and the
// subscription's cursor stays on the event that threw. A store read error stops it the same way
// (last_error() describes it; the cursor stays on the event it could not read).
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

  PushSubscription(PushSubscription&&) noexcept;
  PushSubscription& operator=(PushSubscription&&) noexcept;
  ~PushSubscription();

  /// Stops the thread (after the handler call in progress) and detaches. Second call: Errc::closed.
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
  /// otherwise. Valid once finished().
  std::string last_error() const;

 private:
  friend class Session;
  struct State;
  explicit PushSubscription(std::unique_ptr<State> state);
  static PushSubscription start(std::shared_ptr<detail::Subscriber> sub, Handler handler);
  std::unique_ptr<State> state_;
};

}  // namespace sessionring
