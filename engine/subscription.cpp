#include <sessionring/subscription.hpp>
#include <sessionring/subscription_state.hpp>

#include "detail/subscriber.hpp"

namespace sessionring {

std::string_view to_string(SubscriptionState s) noexcept {
  switch (s) {
    case SubscriptionState::backfilling: return "backfilling";
    case SubscriptionState::live: return "live";
    case SubscriptionState::fell_behind: return "fell_behind";
    case SubscriptionState::closed: return "closed";
  }
  return "invalid";
}

Subscription::Subscription(std::shared_ptr<detail::Subscriber> impl) : impl_(std::move(impl)) {}
Subscription::Subscription(Subscription&&) noexcept = default;
Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    if (impl_ && !impl_->is_closed()) (void)impl_->unsubscribe();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Subscription::~Subscription() {
  if (impl_ && !impl_->is_closed()) (void)impl_->unsubscribe();
}

Result<std::size_t> Subscription::poll_impl(FunctionRef<void(const EventView&)> handler, std::size_t max_events,
                                            Deadline deadline) {
  if (!impl_) return Error(Errc::closed, "this Subscription was moved from");
  detail::OneUserCheck::Scope one(impl_->one_poller,
                                  "a Subscription was polled by two threads at once; poll it from one thread at a "
                                  "time, or subscribe once per thread (each subscription has its own cursor)");
  return impl_->poll(handler, max_events, deadline);
}

Status Subscription::unsubscribe() {
  if (!impl_) return Status(Errc::closed, "this Subscription was moved from");
  return impl_->unsubscribe();
}

namespace {
Status not_durable() {
  return Status(Errc::validation_error, "commit needs a subscription with SubscribeOptions::durable_name");
}
}  // namespace

Status Subscription::commit() {
  if (!impl_) return Status(Errc::closed, "this Subscription was moved from");
  return commit(impl_->cursor() - 1);
}
Status Subscription::commit(Sequence position) {
  if (!impl_) return Status(Errc::closed, "this Subscription was moved from");
  if (!impl_->durable()) return not_durable();
  return impl_->durable()->request(position);
}
Status Subscription::flush_commit() {
  if (!impl_) return Status(Errc::closed, "this Subscription was moved from");
  if (!impl_->durable()) return not_durable();
  return impl_->durable()->flush();
}
Sequence Subscription::committed() const noexcept {
  return impl_ && impl_->durable() ? impl_->durable()->committed() : 0;
}
std::uint64_t Subscription::commit_writes() const noexcept {
  return impl_ && impl_->durable() ? impl_->durable()->writes() : 0;
}

Sequence Subscription::cursor() const noexcept { return impl_ ? impl_->cursor() : 0; }
std::uint64_t Subscription::lag() const noexcept { return impl_ ? impl_->lag() : 0; }
std::uint64_t Subscription::lead() const noexcept { return impl_ ? impl_->lead() : 0; }
std::uint64_t Subscription::lapped_count() const noexcept { return impl_ ? impl_->lapped_count() : 0; }
SubscriptionState Subscription::state() const noexcept {
  return impl_ ? impl_->state() : SubscriptionState::closed;
}
bool Subscription::caught_up() const noexcept { return impl_ && impl_->caught_up(); }
SubscriptionStats Subscription::stats() const noexcept { return impl_ ? impl_->stats() : SubscriptionStats{}; }

}  // namespace sessionring
