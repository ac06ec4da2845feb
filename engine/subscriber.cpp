// Subscriber delivery. Step numbers match docs/design.md "Read steps".
#include "detail/subscriber.hpp"

#include <sessionring/event_record.hpp>

#include "detail/spin.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace sessionring::detail {
namespace {
constexpr Sequence kStoreChunk = 4096;  // sequences scanned per store read (bounds a poll's pause)
}

Subscriber::Subscriber(std::shared_ptr<SessionCore> core, SubscribeOptions options)
    : core_(std::move(core)),
      filter_(std::move(options.filter)),
      filter_all_(filter_.matches_everything()),
      on_caught_up_(std::move(options.on_caught_up)),
      id_(core_->next_subscriber_id()),
      buf_((core_->ring.payload_bytes() + 7) / 8 + 1) {
  // from_sequence 0: the first available (above what retention pruned, docs/store.md "Retention")
  set_cursor(options.from_sequence == 0 ? std::max<Sequence>(core_->log->first_sequence(), 1) : options.from_sequence);
  // (1) start in the ring if the ring can hold the cursor with half a ring to spare, else
  // backfill from the store.
  mode_ = Mode::store;
  state_.store(SubscriptionState::backfilling, std::memory_order_relaxed);
  maybe_rejoin(core_->ring.cursor());
  core_->add_subscriber(this);
}

Subscriber::~Subscriber() {
  if (!unsubscribed_.load(std::memory_order_relaxed)) (void)unsubscribe();  // relaxed: last owner
}

Status Subscriber::unsubscribe() {
  if (unsubscribed_.exchange(true, std::memory_order_seq_cst))  // (U1)
    return Status(Errc::closed, "subscription " + std::to_string(id_) + " of session '" + core_->id() +
                                    "' is already unsubscribed");
  core_->remove_subscriber(this);
  state_.store(SubscriptionState::closed, std::memory_order_relaxed);
  core_->ring.gate().notify_all();  // a poll_wait on another thread returns
  return {};
}

Result<std::size_t> Subscriber::poll(FunctionRef<void(const EventView&)> handler, std::size_t max, Deadline deadline,
                                     bool report_store_health) {
  if (unsubscribed_.load(std::memory_order_seq_cst))  // pairs with (U1)
    return Error(Errc::closed, "subscription " + std::to_string(id_) + " of session '" + core_->id() +
                                   "' is unsubscribed");
  std::size_t delivered = 0;
  for (;;) {
    // (2) deliver until nothing is available or max is reached; each step makes progress
    // (delivers, advances the cursor past filtered events, or switches ring <-> store).
    while (delivered < max) {
      const Sequence head = core_->ring.cursor();  // (R0) acquire, pairs with publish (P1)
      if (mode_ == Mode::ring) {
        if (next_ > head) break;
        Status st = read_ring(handler, max - delivered, head, delivered);
        if (!st) return st.error();
      } else {
        Status st = read_store(handler, max - delivered, delivered);
        if (!st) return st.error();
      }
    }
    const Sequence head = core_->ring.cursor();
    if (mode_ == Mode::ring && next_ > head) {
      if (!caught_up_flag_.load(std::memory_order_relaxed)) {
        caught_up_flag_.store(true, std::memory_order_relaxed);  // relaxed: observers only
        if (on_caught_up_) on_caught_up_(head);
      }
      // (3) closed: the sequencer has exited and everything it published was delivered
      if (core_->closed() && next_ > core_->final_sequence()) {
        state_.store(SubscriptionState::closed, std::memory_order_relaxed);
        return delivered;
      }
    }
    if (delivered > 0 || delivered >= max || unsubscribed_.load(std::memory_order_seq_cst)) return delivered;
    // (6) Nothing to deliver: everything published was delivered (ring mode, next_ > head).
    // (H2) relaxed: only a subscriber about to block pays this load; a stale value delays a
    // report to the next poll, and the wait below wakes on any change (seq_cst predicate).
    const std::uint64_t health = core_->store_health.load(std::memory_order_relaxed);
    if (report_store_health && SessionCore::failing(health) && mode_ == Mode::ring && next_ > core_->ring.cursor())
      return store_failing_error();  // the cursor stays; the next poll delivers once the store recovers
    if (std::chrono::steady_clock::now() >= deadline) return delivered;
    wait(deadline, health);
  }
}

Error Subscriber::store_failing_error() const {
  return Error(Errc::storage_error, "session '" + core_->id() + "': the store is failing; every published event up to " +
                                        std::to_string(next_ - 1) + " was delivered and the subscription resumes at " +
                                        std::to_string(next_) + " once the store stores events again" +
                                        core_->store_error_text());
}

void Subscriber::pause(Deadline deadline) {
  const std::uint64_t h = core_->store_health.load(std::memory_order_seq_cst);  // (H2) read before the wait below
  core_->ring.gate().wait_until(
      [&] {
        return unsubscribed_.load(std::memory_order_seq_cst) || core_->closed() ||
               core_->store_health.load(std::memory_order_seq_cst) != h;  // (H2) pairs with (H1)
      },
      deadline);
}

Status Subscriber::read_ring(FunctionRef<void(const EventView&)>& handler, std::size_t max, Sequence head,
                             std::size_t& delivered) {
  RingBuffer& ring = core_->ring;
  if (next_ < ring.first_held(head)) {  // overwritten before we got to it
    enter_store(SubscriptionState::fell_behind);
    return {};
  }
  std::size_t n = 0;
  for (Sequence s = next_; s <= head && n < max; ++s) {
    std::size_t size = 0;
    const RingBuffer::Read r = ring.read(s, buf_.data(), size);  // (R1..R3) copy, then validate
    if (r == RingBuffer::Read::lapped) {
      enter_store(SubscriptionState::fell_behind);
      return {};
    }
    if (r == RingBuffer::Read::in_store) {  // larger than a slot: take it from the store
      auto hit = deliver_from_store(handler, s, delivered);
      if (!hit) return hit.error();  // INV-3: the cursor stays on s; the next poll retries it
      n += *hit ? 1 : 0;
      set_cursor(s + 1);
      continue;
    }
    EventView v;
    EventRecord::decode({reinterpret_cast<const std::byte*>(buf_.data()), size}, core_->id(), v);
    if (filter_all_ || filter_.matches(v)) {
      deliver(handler, v, delivered);
      ++n;
    }
    set_cursor(s + 1);
  }
  return {};
}

Status Subscriber::read_store(FunctionRef<void(const EventView&)>& handler, std::size_t max, std::size_t& delivered) {
  const Sequence latest = core_->log->latest_sequence();
  if (next_ > latest) {  // the store has nothing newer: the ring takes over
    mode_ = Mode::ring;
    state_.store(SubscriptionState::live, std::memory_order_relaxed);
    return {};
  }
  // (4) one bounded chunk from the store, filtered by the store
  const Sequence hi = std::min(latest, next_ + kStoreChunk - 1);
  EventQuery q;
  q.after = next_ - 1;
  q.before = hi + 1;
  if (!filter_all_) q.filter = filter_;
  q.limit = max;
  std::size_t n = 0;
  Status st = core_->log->read(q, [&](const EventView& v) {
    deliver(handler, v, delivered);
    set_cursor(v.sequence_number + 1);
    ++n;
    return true;
  });
  store_reads_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  if (!st) return st;
  if (n < max) set_cursor(hi + 1);  // everything up to hi was scanned
  maybe_rejoin(core_->ring.cursor());  // (5) back inside the ring's window?
  return {};
}

Result<bool> Subscriber::deliver_from_store(FunctionRef<void(const EventView&)>& handler, Sequence seq,
                                            std::size_t& delivered) {
  EventQuery q;
  q.after = seq - 1;
  q.before = seq + 1;
  bool found = false;
  bool hit = false;
  Status st = core_->log->read(q, [&](const EventView& v) {
    found = true;
    if (filter_all_ || filter_.matches(v)) {
      deliver(handler, v, delivered);
      hit = true;
    }
    return false;
  });
  store_reads_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  if (!st) return st.error();
  if (!found)  // published (INV-2), so the store must hold it: never skip it silently (INV-3)
    return Error(Errc::damaged_store, "session '" + core_->id() + "': published sequence " + std::to_string(seq) +
                                          " is missing from the store");
  return hit;
}

void Subscriber::deliver(FunctionRef<void(const EventView&)>& handler, const EventView& v, std::size_t& delivered) {
  handler(v);  // may throw: the cursor has not moved past v yet, so v is offered again
  ++delivered;
  delivered_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
}

void Subscriber::maybe_rejoin(Sequence head) {
  if (mode_ == Mode::ring) return;
  const std::uint64_t behind = head >= next_ ? head + 1 - next_ : 0;
  if (next_ > core_->ring.start() && behind <= core_->ring.capacity() / 2) {
    mode_ = Mode::ring;
    state_.store(SubscriptionState::live, std::memory_order_relaxed);
  }
}

void Subscriber::enter_store(SubscriptionState why) {
  mode_ = Mode::store;
  if (why == SubscriptionState::fell_behind) lapped_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  state_.store(why, std::memory_order_relaxed);
}

void Subscriber::wait(Deadline deadline, std::uint64_t health) {
  auto ready = [&] {
    return core_->ring.cursor_seq_cst() >= next_ || unsubscribed_.load(std::memory_order_seq_cst) || core_->closed() ||
           core_->store_health.load(std::memory_order_seq_cst) != health;  // (H2) pairs with (H1)
  };
  switch (core_->options.wait) {
    case WaitStrategy::spin:
      for (unsigned i = 0; !ready(); ++i) {
        cpu_relax();
        if ((i & 1023) == 0 && std::chrono::steady_clock::now() >= deadline) return;
      }
      return;
    case WaitStrategy::yield:
      for (unsigned i = 0; !ready(); ++i) {
        std::this_thread::yield();
        if ((i & 63) == 0 && std::chrono::steady_clock::now() >= deadline) return;
      }
      return;
    case WaitStrategy::block:
      if (spin_then_yield(ready)) return;
      core_->ring.gate().wait_until(ready, deadline);  // WaitGate protocol with publish (P1) / (X1) / (U1) / (H1)
      return;
  }
}

std::uint64_t Subscriber::lag() const noexcept {
  const Sequence head = core_->ring.cursor();
  const Sequence c = cursor();
  return head + 1 > c ? head + 1 - c : 0;
}

std::uint64_t Subscriber::lead() const noexcept {
  const SubscriptionState s = state();
  if (s != SubscriptionState::live) return 0;
  const std::uint64_t l = lag();
  return l >= core_->ring.capacity() ? 0 : core_->ring.capacity() - l;
}

SubscriptionStats Subscriber::stats() const noexcept {
  SubscriptionStats s;
  s.id = id_;
  s.cursor = cursor();
  s.lag = lag();
  s.lead = lead();
  s.lapped_count = lapped_count();
  s.store_reads = store_reads_.load(std::memory_order_relaxed);
  s.delivered = delivered_.load(std::memory_order_relaxed);
  s.state = state();
  s.reading_store = s.state == SubscriptionState::backfilling || s.state == SubscriptionState::fell_behind;
  return s;
}

}  // namespace sessionring::detail
