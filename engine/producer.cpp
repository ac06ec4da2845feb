// The push protocol (docs/design.md "Publish steps", step 0):
//   a. validate and encode the event into an IngestItem (inline up to 224 bytes)
//   b. take a credit: pushed − consumed < ingest_capacity, else wait (deadline) or queue_full
//   c. (A1) pushed+1 (seq_cst), then check `accepting` (seq_cst): the stop handshake with (S1);
//      (A1) is also the doorbell's publication: the sequencer parks only after seeing every
//      slot's pushed == consumed (A4)
//   d. push into the queue (the queue's own release/acquire carries the item to the sequencer)
//   e. ring the doorbell if the sequencer sleeps (WaitGate protocol: (A1) → (G1), no fence)
#include <sessionring/event_record.hpp>
#include <sessionring/producer.hpp>

#include "detail/hex_digits.hpp"
#include "detail/producer_impl.hpp"
#include "detail/spin.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <thread>

namespace sessionring {
namespace detail {
namespace {

// 128 random bits as 32 lowercase hex digits; a per-thread splitmix64 stream.
void generate_id(char* out) {
  thread_local std::uint64_t state = [] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd() ^
           static_cast<std::uint64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  }();
  for (int half = 0; half < 2; ++half) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    write_hex16(z, out + half * 16);
  }
}

// Cold path of push(): EventRecord::encoded_size() answered 0; name the field that broke it
// (a short field over 65535 bytes), else the event is over 4 GiB: above any max_event_bytes.
Status unencodable(const EventInput& e, std::uint32_t max_event_bytes, const std::string& session) {
  const std::pair<const char*, std::string_view> fields[] = {
      {"id", e.id}, {"run_id", e.run_id}, {"correlation_id", e.correlation_id}, {"provider", e.provider}};
  for (const auto& [name, value] : fields)
    if (value.size() > EventRecord::kMaxShortField)
      return Status(Errc::validation_error, std::string("EventInput::") + name + " is " + std::to_string(value.size()) +
                                                " bytes long (at most " + std::to_string(EventRecord::kMaxShortField) +
                                                ")");
  return Status(Errc::event_too_large, "event of more than 4 GiB exceeds max_event_bytes = " +
                                           std::to_string(max_event_bytes) + " of session '" + session + "'");
}

}  // namespace

Status ProducerImpl::wait_for_credit(std::uint64_t pushed, const AppendOptions& options) {
  if (pushed < credit_limit_) return {};  // credit left from the last load of `consumed`
  const std::uint64_t cap = core_.options.ingest_capacity;
  auto has_credit = [&] {
    return pushed - slot_->consumed.load(std::memory_order_seq_cst) < cap ||  // pairs with (A2)
           !core_.accepting.load(std::memory_order_seq_cst) ||                // pairs with (S1)
           SessionCore::stalled(core_.store_health.load(std::memory_order_seq_cst));  // (H3) pairs with (H1)
  };
  auto credit_left = [&] {  // reloads the cached limit
    credit_limit_ = slot_->consumed.load(std::memory_order_acquire) + cap;  // pairs with (A2)
    return pushed < credit_limit_;
  };
  if (credit_left()) return {};
  auto full = [&] { return Status(Error(Errc::queue_full, core_.credit_full_message)); };  // allocates nothing
  if (options.on_full == FullPolicy::fail) return full();
  for (;;) {
    (void)core_.space.wait(core_.options.wait, has_credit, options.deadline);  // the session's WaitStrategy
    if (!core_.accepting.load(std::memory_order_acquire)) return {};  // step c reports `stopped`
    if (credit_left()) return {};
    // A stalled sequencer takes nothing until the store recovers: do not wait for it (§11).
    if (SessionCore::stalled(core_.store_health.load(std::memory_order_seq_cst))) return stalled_error(false);  // (H3)
    if (std::chrono::steady_clock::now() >= options.deadline) return full();
    // The predicate saw a stall that has ended since: wait for credit again.
  }
}

Error ProducerImpl::stalled_error(bool accepted) const {
  return Error(Errc::storage_error,
               "session '" + core_.id() + "': the store is failing and the sequencer retries the events it refused " +
                   "before taking new ones; this event was " + (accepted ? "dropped, never stored" : "not appended") +
                   core_.store_error_text());
}

Status ProducerImpl::push(const EventInput& in, const AppendOptions& options, Completion* completion,
                          std::uint32_t generation) {
  // a. validate and encode
  if (!is_valid_event_type(static_cast<std::uint8_t>(in.type)))
    return Status(Errc::validation_error, "event type value " + std::to_string(static_cast<unsigned>(in.type)) +
                                              " is not one of the 28 EventType values");
  char generated[32];
  std::string_view id = in.id;
  if (id.empty()) {
    generate_id(generated);
    id = std::string_view(generated, sizeof generated);
  }
  EventInput e = in;
  e.id = id;
  const std::size_t size = EventRecord::encoded_size(e);
  if (size == 0) return unencodable(e, core_.options.max_event_bytes, core_.id());
  if (size > core_.options.max_event_bytes)
    return Status(Errc::event_too_large, "event of " + std::to_string(size) + " encoded bytes exceeds max_event_bytes = " +
                                             std::to_string(core_.options.max_event_bytes) + " of session '" +
                                             core_.id() + "'");
  // b. credit
  const std::uint64_t pushed = slot_->pushed.load(std::memory_order_relaxed);  // relaxed: our own counter
  if (Status st = wait_for_credit(pushed, options); !st) return st;

  IngestItem item;
  item.producer = slot_;
  item.completion = completion;
  item.size = static_cast<std::uint32_t>(size);
  item.reserved = generation;  // the Completion generation this item answers (append_wait)
  item.spill = size > IngestItem::kInlineBytes ? slot_->spill.take(size) : nullptr;  // recycled blocks (SpillPool)
  // Timestamp 0: the sequencer stamps the event with its batch's clock read (design §6 step 3).
  EventRecord::encode(item.record(), e, id, in.timestamp_ns, 0);
  if (in.id.empty()) EventRecord::set_flags(item.record(), EventRecord::kFlagGeneratedId);

  // c. stop handshake
  slot_->pushed.store(pushed + 1, std::memory_order_seq_cst);  // (A1) pairs with (S1)/(A3)/(A4)
  auto give_back = [&](Status st) {
    slot_->pushed.store(pushed, std::memory_order_relaxed);  // relaxed: the sequencer re-reads until stable
    if (item.spill != nullptr) slot_->spill.put_back(item.spill);
    return st;
  };
  if (!core_.accepting.load(std::memory_order_seq_cst))  // pairs with (S1)
    return give_back(Status(Errc::stopped, "session '" + core_.id() + "' is stopped"));

  // d. push (the Boost backend can be full even with credit: wait or fail like step b)
  for (;;) {
    const std::uint64_t pops = core_.pops.load(std::memory_order_seq_cst);  // (A5) before the attempt
    if (core_.queue->push(*slot_->token, item)) break;
    if (options.on_full == FullPolicy::fail || std::chrono::steady_clock::now() >= options.deadline)
      return give_back(Status(Error(Errc::queue_full, core_.queue_full_message)));  // allocates nothing
    // relaxed: a stalled sequencer empties nothing, so waiting is pointless; a stale value
    // only costs another round
    if (SessionCore::stalled(core_.store_health.load(std::memory_order_relaxed))) return give_back(stalled_error(false));
    // Wait for the sequencer's next pop (it stores `pops` (A5), then rings `space`): the
    // queue's fill level is not a seq_cst publication, `pops` is. A pop after our load above
    // changes it, so the WaitGate handshake cannot lose that wake-up (design §8).
    auto room = [&] {
      return core_.pops.load(std::memory_order_seq_cst) != pops ||                 // (A5)
             !core_.accepting.load(std::memory_order_seq_cst) ||                     // pairs with (S1)
             SessionCore::stalled(core_.store_health.load(std::memory_order_seq_cst));  // (H3) pairs with (H1)
    };
    (void)core_.space.wait(core_.options.wait, room, options.deadline);
  }
  // e. doorbell. The WaitGate publication is (A1), not the queue's internal stores (which are
  // not seq_cst): (A1) precedes the waiter check (G1) in the single total order, and the
  // sequencer's park predicate reads every slot's `pushed` (A4) after registering (G2). Either
  // it sees pushed != consumed and does not sleep, or we see it waiting and wake it after the
  // push. No fence (docs/design.md §8).
  core_.ring_doorbell();  // pooled: the same handshake queues a parked session (design §13)
  return {};
}

Result<AppendResult> ProducerImpl::push_wait(const EventInput& in, const AppendOptions& options) {
  if (auto gen = push_armed(in, options); !gen) return gen.error();
  return await_answer();
}

Result<std::uint32_t> ProducerImpl::push_armed(const EventInput& in, const AppendOptions& options) {
  Completion& c = slot_->completion;
  const std::uint32_t gen = c.arm();
  if (Status st = push(in, options, &c, gen); !st) return st.error();
  return gen;
}

Result<AppendResult> ProducerImpl::await_answer() {
  Completion& c = slot_->completion;
  // Answered, or still queued while the sequencer is stalled on a failing store (it would not
  // take the item before the store recovers: give up on it instead of hanging).
  auto ready = [&] {
    const Completion::State s = c.state();  // (C2)
    return s == Completion::kDone ||
           (s == Completion::kPending && SessionCore::stalled(core_.store_health.load(std::memory_order_seq_cst)));  // (H3)
  };
  for (;;) {
    (void)c.gate.wait(core_.options.wait, ready, WaitGate::Deadline::max());  // the session's WaitStrategy
    if (c.state() == Completion::kDone) break;
    if (c.abandon()) return stalled_error(true);  // (C3) the sequencer will drop the item
    // The sequencer took the item meanwhile: it answers with the batch it is storing.
  }
  if (c.error != Errc::ok)
    return Error(c.error, "session '" + core_.id() + "': the store refused the batch holding this event" +
                              core_.store_error_text());
  return AppendResult{c.sequence, c.duplicate};
}

}  // namespace detail

Producer::Producer(std::unique_ptr<detail::ProducerImpl> impl) : impl_(std::move(impl)) {}
Producer::Producer(Producer&&) noexcept = default;
Producer& Producer::operator=(Producer&&) noexcept = default;
Producer::~Producer() = default;

namespace {
constexpr const char* kProducerFix =
    "a Producer was used by two threads at once; a Producer serves one thread at a time (INV-5): "
    "give each producing thread its own (Session::producer()), or use Session::append";
}

Status Producer::append(const EventInput& event, const AppendOptions& options) {
  if (!impl_) return Status(Errc::closed, "this Producer was moved from");
  detail::OneUserCheck::Scope one(impl_->one_user, kProducerFix);
  return impl_->push(event, options, nullptr, 0);
}

Result<AppendResult> Producer::append_wait(const EventInput& event, const AppendOptions& options) {
  if (!impl_) return Error(Errc::closed, "this Producer was moved from");
  detail::OneUserCheck::Scope one(impl_->one_user, kProducerFix);
  return impl_->push_wait(event, options);
}

std::uint64_t Producer::in_flight_approx() const noexcept { return impl_ ? impl_->in_flight() : 0; }

}  // namespace sessionring
