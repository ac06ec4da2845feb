#include <sessionring/session.hpp>

#include "detail/producer_impl.hpp"
#include "detail/session_core.hpp"
#include "detail/subscriber.hpp"

namespace sessionring {

Result<Session> Session::open(SessionOptions options) {
  if (Status st = validate(options); !st) return st.error();
  auto log = options.store->open(options.session_id, OpenMode::write);
  if (!log) return log.error();
  auto core = std::make_shared<detail::SessionCore>(std::move(options), std::move(*log));
  if (Status st = core->start(); !st) return st.error();
  return Session(std::move(core));
}

Session::Session(std::shared_ptr<detail::SessionCore> core) : core_(std::move(core)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&& other) noexcept {
  if (this != &other) {
    if (core_) (void)core_->stop();
    core_ = std::move(other.core_);
  }
  return *this;
}
Session::~Session() {
  if (core_) (void)core_->stop();
}

const std::string& Session::id() const noexcept { return core_->id(); }
const SessionOptions& Session::options() const noexcept { return core_->options; }

Result<Producer> Session::producer() {
  auto slot = core_->acquire_producer();
  if (!slot) return slot.error();
  return Producer(std::make_unique<detail::ProducerImpl>(*core_, *slot, core_));
}

namespace {
Result<detail::ProducerImpl*> shared_producer(detail::SessionCore& core) {
  if (!core.shared_producer) {
    auto slot = core.acquire_producer();
    if (!slot) return slot.error();
    core.shared_producer = std::make_unique<detail::ProducerImpl>(core, *slot, nullptr);
  }
  return core.shared_producer.get();
}
}  // namespace

Status Session::append(const EventInput& event, const AppendOptions& options) {
  std::lock_guard lock(core_->shared_producer_mutex);
  auto p = shared_producer(*core_);
  if (!p) return p.error();
  return (*p)->push(event, options, nullptr, 0);
}

Result<AppendResult> Session::append_wait(const EventInput& event, const AppendOptions& options) {
  std::lock_guard lock(core_->shared_producer_mutex);
  auto p = shared_producer(*core_);
  if (!p) return p.error();
  return (*p)->push_wait(event, options);
}

namespace {
Status check_subscribe(const detail::SessionCore& core, const SubscribeOptions& options) {
  if (options.from_sequence > kMaxSequence)
    return Status(Errc::validation_error, "from_sequence = " + std::to_string(options.from_sequence) +
                                              " is above the largest sequence a cursor can hold (2^62)");
  if (options.filter.has_invalid_type())
    return Status(Errc::validation_error, "filter: a type given to EventFilter::type() is not one of the 28 EventType "
                                          "values (type_mask = " + std::to_string(options.filter.type_mask()) + ")");
  if (core.closed() || !core.accepting.load(std::memory_order_acquire))  // pairs with (S1)
    return Status(Errc::stopped, "session '" + core.id() + "' is stopped");
  return {};
}
}  // namespace

Result<Subscription> Session::subscribe(SubscribeOptions options) {
  if (Status st = check_subscribe(*core_, options); !st) return st.error();
  return Subscription(std::make_shared<detail::Subscriber>(core_, std::move(options)));
}

Result<PushSubscription> Session::subscribe_push(SubscribeOptions options, PushSubscription::Handler handler,
                                                 PushSubscription::ErrorHandler on_error) {
  if (!handler) return Error(Errc::validation_error, "subscribe_push needs a handler");
  if (Status st = check_subscribe(*core_, options); !st) return st.error();
  return PushSubscription::start(std::make_shared<detail::Subscriber>(core_, std::move(options)), std::move(handler),
                                 std::move(on_error));
}

Sequence Session::latest_sequence() const noexcept { return core_->ring.cursor(); }
const SessionLog& Session::log() const noexcept { return *core_->log; }
SessionStats Session::stats() const { return core_->stats(); }
Status Session::stop() { return core_->stop(); }
bool Session::stopped() const noexcept { return core_->closed(); }

}  // namespace sessionring
