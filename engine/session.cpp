#include <sessionring/session.hpp>

#include "detail/producer_impl.hpp"
#include "detail/session_core.hpp"
#include "detail/durable_subscribe.hpp"
#include "detail/subscriber.hpp"

namespace sessionring {

namespace {
constexpr const char* kMovedFrom = "this Session was moved from";

/// The log() of a moved-from Session: every read answers Errc::closed.
class MovedFromLog final : public SessionLog {
 public:
  std::string_view session_id() const noexcept override { return {}; }
  Status append(const AppendBatch&) override { return Status(Errc::closed, kMovedFrom); }
  Sequence latest_sequence() const noexcept override { return 0; }
  Status read(const EventQuery&, FunctionRef<bool(const EventView&)>) const override {
    return Status(Errc::closed, kMovedFrom);
  }
  Result<Event> find_by_id(std::string_view) const override { return Error(Errc::closed, kMovedFrom); }
  Result<Sequence> wait_for(Sequence, Deadline) const override { return Error(Errc::closed, kMovedFrom); }
};
}  // namespace

Result<Session> Session::open(SessionOptions options) {
  if (Status st = validate(options); !st) return st.error();
  auto log = options.store->open(options.session_id, options.follow ? OpenMode::read : OpenMode::write);
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

const std::string& Session::id() const noexcept {
  static const std::string none;
  return core_ ? core_->id() : none;
}
const SessionOptions& Session::options() const noexcept {
  static const SessionOptions none;
  return core_ ? core_->options : none;
}

Result<Producer> Session::producer() {
  if (!core_) return Error(Errc::closed, kMovedFrom);
  auto slot = core_->acquire_producer();
  if (!slot) return slot.error();
  return Producer(std::make_unique<detail::ProducerImpl>(*core_, *slot, core_));
}

namespace {
Result<detail::ProducerImpl*> shared_producer(detail::SessionCore& core) {
  if (!core.shared_producer) {
    auto slot = core.acquire_producer(/*handle=*/false);
    if (!slot) return slot.error();
    core.shared_producer = std::make_unique<detail::ProducerImpl>(core, *slot, nullptr);
  }
  return core.shared_producer.get();
}
}  // namespace

Status Session::append(const EventInput& event, const AppendOptions& options) {
  if (!core_) return Status(Errc::closed, kMovedFrom);
  std::lock_guard lock(core_->shared_producer_mutex);
  auto p = shared_producer(*core_);
  if (!p) return p.error();
  return (*p)->push(event, options, nullptr, 0);
}

Result<AppendResult> Session::append_wait(const EventInput& event, const AppendOptions& options) {
  if (!core_) return Error(Errc::closed, kMovedFrom);
  std::lock_guard waiting(core_->shared_wait_mutex);  // the shared producer's one completion
  detail::ProducerImpl* producer = nullptr;
  {
    std::lock_guard pushing(core_->shared_producer_mutex);  // the push only: append() never waits for an answer
    auto p = shared_producer(*core_);
    if (!p) return p.error();
    producer = *p;
    if (auto gen = producer->push_armed(event, options); !gen) return gen.error();
  }
  return producer->await_answer();  // the shared producer lives as long as the core
}

namespace {
Status check_subscribe(const detail::SessionCore& core, const SubscribeOptions& options) {
  if (options.from_sequence > kMaxSequence)
    return Status(Errc::validation_error, "from_sequence = " + std::to_string(options.from_sequence) +
                                              " is above the largest sequence a cursor can hold (2^62)");
  if (options.filter.has_invalid_type())
    return Status(Errc::validation_error, "filter: a type given to EventFilter::type() is not one of the 28 EventType "
                                          "values (type_mask = " + std::to_string(options.filter.type_mask()) + ")");
  if (Status st = detail::Subscriber::validate(options); !st) return st;  // slow-subscriber policy, on_gap
  if (core.closed() || !core.accepting.load(std::memory_order_acquire))  // pairs with (S1)
    return Status(Errc::stopped, "session '" + core.id() + "' is stopped");
  return {};
}
}  // namespace

Result<Subscription> Session::subscribe(SubscribeOptions options) {
  if (!core_) return Error(Errc::closed, kMovedFrom);
  if (Status st = check_subscribe(*core_, options); !st) return st.error();
  auto durable = detail::resolve_durable(*core_, options);  // may move options.from_sequence
  if (!durable) return durable.error();
  auto sub = std::make_shared<detail::Subscriber>(core_, std::move(options));
  sub->attach_durable(std::move(*durable));
  return Subscription(std::move(sub));
}

Result<PushSubscription> Session::subscribe_push(SubscribeOptions options, PushSubscription::Handler handler,
                                                 PushSubscription::ErrorHandler on_error) {
  if (!core_) return Error(Errc::closed, kMovedFrom);
  if (!handler) return Error(Errc::validation_error, "subscribe_push needs a handler");
  if (Status st = check_subscribe(*core_, options); !st) return st.error();
  auto durable = detail::resolve_durable(*core_, options);  // may move options.from_sequence
  if (!durable) return durable.error();
  auto sub = std::make_shared<detail::Subscriber>(core_, std::move(options));
  sub->attach_durable(std::move(*durable));
  return PushSubscription::start(std::move(sub), std::move(handler), std::move(on_error));
}

Result<std::vector<CursorPosition>> Session::cursors() const {
  if (!core_) return Error(Errc::closed, kMovedFrom);
  auto list = core_->log->list_cursors();
  if (!list) return list.error();
  const Sequence latest = core_->ring.cursor();  // (R0) acquire, pairs with publish (P1)
  for (auto& c : *list) c.lag = latest > c.position ? latest - c.position : 0;
  return list;
}

Status Session::delete_cursor(std::string_view name) {
  if (!core_) return Status(Errc::closed, kMovedFrom);
  return core_->log->delete_cursor(name);
}

Sequence Session::latest_sequence() const noexcept { return core_ ? core_->ring.cursor() : 0; }
const SessionLog& Session::log() const noexcept {
  static MovedFromLog none;
  return core_ ? *core_->log : none;
}
SessionStats Session::stats() const { return core_ ? core_->stats() : SessionStats{}; }
Status Session::stop() { return core_ ? core_->stop() : Status(Errc::closed, kMovedFrom); }
bool Session::stopped() const noexcept { return !core_ || core_->closed(); }

}  // namespace sessionring
