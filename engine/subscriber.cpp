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

// from_sequence 0: the first available (above what retention pruned, docs/store.md "Retention")
Sequence start_cursor(const SessionCore& core, Sequence from) {
  return from == 0 ? std::max<Sequence>(core.log->first_sequence(), 1) : from;
}
// The live part starts after the head at subscribe time (or at the cursor, if later): the
// slow-subscriber policy never cuts the history the host asked for (docs/design.md §7).
Sequence live_from(const SessionCore& core, Sequence from) {
  return std::max(core.ring.cursor() + 1, start_cursor(core, from));  // (R0) acquire, pairs with (P1)
}
}  // namespace

Subscriber::Subscriber(std::shared_ptr<SessionCore> core, SubscribeOptions options)
    : core_(std::move(core)),
      filter_(std::move(options.filter)),
      filter_all_(filter_.matches_everything()),
      on_caught_up_(std::move(options.on_caught_up)),
      on_gap_(std::move(options.on_gap)),
      id_(core_->next_subscriber_id()),
      buf_((core_->ring.payload_bytes() + 7) / 8 + 1),
      policy_(options.slow, live_from(*core_, options.from_sequence)) {
  set_cursor(start_cursor(*core_, options.from_sequence));
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

Result<std::size_t> Subscriber::poll(FunctionRef<void(const EventView&)> handler, std::size_t max, Deadline deadline,
                                     bool report_store_health) {
  if (!durable_ || !durable_->auto_commit()) return poll_events(handler, max, deadline, report_store_health);
  DurableCursor& d = *durable_;
  auto noting = [&](const EventView& v) {
    handler(v);
    d.note(v.sequence_number);  // after the handler returned: processed
  };
  auto r = poll_events(noting, max, deadline, report_store_health);
  if (r) {
    d.note(cursor() - 1);    // filtered-out events up to the cursor count as processed
    (void)d.flush_if_due();  // a failure stays pending: flush_commit() reports it
  }
  return r;
}

Status Subscriber::unsubscribe() {
  if (durable_ && !unsubscribed_.load(std::memory_order_seq_cst)) (void)durable_->flush();  // pairs with (U1)
  if (unsubscribed_.exchange(true, std::memory_order_seq_cst))  // (U1)
    return Status(Errc::closed, "subscription " + std::to_string(id_) + " of session '" + core_->id() +
                                    "' is already unsubscribed");
  core_->remove_subscriber(this);
  state_.store(SubscriptionState::closed, std::memory_order_relaxed);
  core_->ring.gate().notify_all();  // a poll_wait on another thread returns
  return {};
}

Result<std::size_t> Subscriber::poll_events(FunctionRef<void(const EventView&)> handler, std::size_t max,
                                            Deadline deadline, bool report_store_health) {
  if (unsubscribed_.load(std::memory_order_seq_cst))  // pairs with (U1)
    return Error(Errc::closed, "subscription " + std::to_string(id_) + " of session '" + core_->id() +
                                   "' is unsubscribed");
  if (ended_) return *ended_;  // disconnect_after ended it: nothing more is delivered
  std::size_t delivered = 0;
  for (;;) {
    // (2) deliver until nothing is available or max is reached; each step makes progress
    // (delivers, advances the cursor past filtered events, switches ring <-> store, or skips).
    while (delivered < max && !stopping()) {
      const Sequence head = core_->ring.cursor();  // (R0) acquire, pairs with publish (P1)
      if (policy_.active()) {  // (7) slow-subscriber policy: skip to the head, or end
        auto skipped = enforce(head);
        if (!skipped) return skipped.error();
        if (*skipped) continue;  // look again with a fresh head
      }
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
    if (stopping()) return {};  // the call in progress (if any) was the last one
    if (policy_.active() && judge(s) != LagPolicy::Verdict::deliver) return {};  // the poll loop acts (7)
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
    // A record the sequencer encoded (validated by the ring's copy-then-check), so never nullopt.
    const std::optional<EventView> v =
        EventRecord::view({reinterpret_cast<const std::byte*>(buf_.data()), size}, core_->id());
    if (v && (filter_all_ || filter_.matches(*v))) {
      deliver(handler, *v, delivered);
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
  bool stopped = false;
  Status st = core_->log->read(q, [&](const EventView& v) {
    if (stopping()) {  // the cursor stays on v: nothing past it was scanned
      stopped = true;
      return false;
    }
    if (policy_.active() && judge(v.sequence_number) != LagPolicy::Verdict::deliver) {
      set_cursor(v.sequence_number);  // the scan found nothing matching below v; the poll loop acts (7)
      stopped = true;
      return false;
    }
    deliver(handler, v, delivered);
    set_cursor(v.sequence_number + 1);
    ++n;
    return true;
  });
  store_reads_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  if (!st) return st;
  if (stopped) return {};
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
  // One writer (the polling thread): a plain load and store, not a locked RMW per event.
  delivered_.store(delivered_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // relaxed: statistics
}

void Subscriber::maybe_rejoin(Sequence head) {
  if (mode_ == Mode::ring) return;
  const std::uint64_t behind = head >= next_ ? head + 1 - next_ : 0;
  if (next_ > core_->ring.start() && behind <= core_->ring.capacity() / 2) {
    mode_ = Mode::ring;
    state_.store(SubscriptionState::live, std::memory_order_relaxed);
  }
}

LagPolicy::Verdict Subscriber::judge(Sequence next) {
  const Sequence head = core_->ring.cursor();  // (R0) acquire, pairs with (P1); here only a lag measure
  return policy_.judge(next, head, core_->ring.first_held(head));
}

Result<bool> Subscriber::enforce(Sequence head) {
  const LagPolicy::Verdict v = policy_.judge(next_, head, core_->ring.first_held(head));
  if (v == LagPolicy::Verdict::deliver) return false;
  if (v == LagPolicy::Verdict::disconnect) {
    ended_ = policy_.too_slow(core_->id(), id_, next_, head);
    state_.store(SubscriptionState::closed, std::memory_order_relaxed);  // relaxed: observers only
    return *ended_;
  }
  // skip_to_live: jump to the newest published event (the head), after one explicit notice of
  // next_..head-1 (a verdict to skip implies at least two undelivered, so the range is not empty).
  if (stopping()) return false;  // no call starts after unsubscribe() (U2)
  GapNotice notice;
  notice.session_id = core_->id();
  notice.first = next_;
  notice.last = head - 1;
  notice.reason = LagPolicy::reason(v);
  on_gap_(notice);  // may throw: the cursor stays on `first`; the next poll offers the gap again
  if (v == LagPolicy::Verdict::skip_lapped) lapped_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  set_cursor(head);
  mode_ = Mode::ring;  // head > ring.start(): the live part starts after it (live_from)
  state_.store(SubscriptionState::live, std::memory_order_relaxed);  // relaxed: observers only
  gaps_.fetch_add(1, std::memory_order_relaxed);                      // relaxed: statistics
  skipped_.fetch_add(notice.count(), std::memory_order_relaxed);      // relaxed: statistics
  return true;
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
  // WaitGate protocol with publish (P1) / (X1) / (U1) / (H1)
  (void)core_->ring.gate().wait(core_->options.wait, ready, deadline);
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
  s.gaps = gaps_.load(std::memory_order_relaxed);        // relaxed: statistics
  s.skipped = skipped_.load(std::memory_order_relaxed);  // relaxed: statistics
  s.state = state();
  s.reading_store = s.state == SubscriptionState::backfilling || s.state == SubscriptionState::fell_behind;
  return s;
}

}  // namespace sessionring::detail
