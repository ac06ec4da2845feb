#include <sessionring/push_subscription.hpp>

#include "detail/subscriber.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

namespace sessionring {

struct PushSubscription::State {
  std::shared_ptr<detail::Subscriber> sub;
  Handler handler;
  ErrorHandler on_error;  // may be empty
  std::thread thread;
  std::atomic<bool> finished{false};  // writer: the push thread on exit (release); readers: finished() (acquire)
  mutable std::mutex error_mutex;
  std::string error;          // guarded by error_mutex
  Errc error_code = Errc::ok; // guarded by error_mutex

  void run() {
    constexpr auto kFirstBackoff = std::chrono::milliseconds(10);
    constexpr auto kMaxBackoff = std::chrono::milliseconds(1000);
    auto backoff = kFirstBackoff;
    for (;;) {
      try {
        auto r = sub->poll(handler, Subscription::kAll,
                           std::chrono::steady_clock::now() + std::chrono::milliseconds(200),
                           /*report_store_health=*/static_cast<bool>(on_error));
        if (!r) {  // closed by unsubscribe(), or the store failed: keep the reason
          if (r.code() != Errc::closed) {
            std::lock_guard lock(error_mutex);
            error = r.error().describe();
            error_code = r.code();
          }
          if (r.code() == Errc::subscriber_too_slow) {  // disconnect_after ended it: tell the host, stop
            if (on_error) on_error(r.error());           // may throw: caught below, same end
            break;
          }
          if (r.code() == Errc::storage_error && on_error) {
            on_error(r.error());  // may throw: caught below, the thread stops
            sub->pause(std::chrono::steady_clock::now() + backoff);
            backoff = std::min(backoff * 2, kMaxBackoff);
            if (sub->is_closed()) break;
            continue;  // same cursor: nothing skipped, nothing repeated (INV-3)
          }
          break;
        }
        if (*r > 0) backoff = kFirstBackoff;
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mutex);
        if (error_code != Errc::subscriber_too_slow) {  // keep the typed end if on_error threw
          error = e.what();
          error_code = Errc::ok;  // an exception has no code
        }
        break;
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (error_code != Errc::subscriber_too_slow) {
          error = "handler threw a non-std::exception";
          error_code = Errc::ok;
        }
        break;
      }
      if (sub->state() == SubscriptionState::closed) break;
    }
    finished.store(true, std::memory_order_release);  // pairs with finished()
  }
};

PushSubscription::PushSubscription(std::shared_ptr<State> state) : state_(std::move(state)) {}

PushSubscription PushSubscription::start(std::shared_ptr<detail::Subscriber> sub, Handler handler,
                                         ErrorHandler on_error) {
  auto state = std::make_shared<State>();
  state->sub = std::move(sub);
  state->handler = std::move(handler);
  state->on_error = std::move(on_error);
  // The thread holds the state too: a handler that destroys its own PushSubscription (release()
  // detaches then) keeps running on state that stays alive until run() returns.
  state->thread = std::thread([s = state] { s->run(); });
  return PushSubscription(std::move(state));
}
PushSubscription::PushSubscription(PushSubscription&&) noexcept = default;
PushSubscription& PushSubscription::operator=(PushSubscription&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
  }
  return *this;
}
PushSubscription::~PushSubscription() { release(); }

void PushSubscription::release() noexcept {
  if (!state_) return;
  (void)state_->sub->unsubscribe();  // Errc::closed if already unsubscribed: nothing to do
  if (state_->thread.joinable()) {
    if (state_->thread.get_id() == std::this_thread::get_id())
      state_->thread.detach();  // inside the handler: the thread ends when it returns
    else
      state_->thread.join();
  }
  state_.reset();
}

Status PushSubscription::unsubscribe() {
  if (!state_) return Status(Errc::closed, "this PushSubscription was moved from");
  Status st = state_->sub->unsubscribe();  // (U1): no handler call starts after this (U2)
  if (state_->thread.joinable() && state_->thread.get_id() != std::this_thread::get_id()) state_->thread.join();
  return st;
}

Sequence PushSubscription::cursor() const noexcept { return state_ ? state_->sub->cursor() : 0; }
SubscriptionState PushSubscription::state() const noexcept {
  return state_ ? state_->sub->state() : SubscriptionState::closed;
}
SubscriptionStats PushSubscription::stats() const noexcept { return state_ ? state_->sub->stats() : SubscriptionStats{}; }
std::uint64_t PushSubscription::delivered() const noexcept { return stats().delivered; }
bool PushSubscription::finished() const noexcept {
  return !state_ || state_->finished.load(std::memory_order_acquire);  // pairs with run()'s release
}
std::string PushSubscription::last_error() const {
  if (!state_) return {};
  std::lock_guard lock(state_->error_mutex);
  return state_->error;
}
Errc PushSubscription::last_error_code() const {
  if (!state_) return Errc::ok;
  std::lock_guard lock(state_->error_mutex);
  return state_->error_code;
}

}  // namespace sessionring
