#include "detail/session_core.hpp"

#include "detail/follower.hpp"
#include "detail/producer_impl.hpp"
#include "detail/sequencer.hpp"
#include "detail/subscriber.hpp"

#include <algorithm>
#include <thread>

namespace sessionring::detail {

SessionCore::SessionCore(SessionOptions opts, std::shared_ptr<SessionLog> session_log)
    : options(std::move(opts)),
      log(std::move(session_log)),
      ring(options.ring_capacity, options.ring_slot_bytes, log->latest_sequence()),
      queue(IngestQueue::create(options.queue, options.ingest_capacity)),
      credit_full_message(std::make_shared<const std::string>(
          "ingest queue of session '" + options.session_id + "' is full (" + std::to_string(options.ingest_capacity) +
          " events in flight for this producer)")),
      queue_full_message(std::make_shared<const std::string>(
          "ingest queue of session '" + options.session_id + "' is full (the Boost backend holds at most " +
          std::to_string(options.ingest_capacity) + " events in total)")),
      pool_(options.dedicated_sequencer || options.follow ? nullptr
                                        : (options.pool ? options.pool : SequencerPool::default_pool())),
      pool_handle_(pool_ ? std::make_shared<PoolHandle>() : nullptr) {
  if (pool_handle_) pool_handle_->core = this;  // before the session is shared with anyone
}

SessionCore::~SessionCore() {
  if (pooled() && sequencer_obj_) stop_unowned();
  (void)stop();
  shared_producer.reset();  // releases its slot while the producer registry still exists
}

void SessionCore::stop_unowned() {
  {
    std::lock_guard lock(stop_mutex_);
    if (stopped_) return;
  }
  // Nobody holds the session, so no pool queue or step timer does either: it is parked (or an
  // idle-release check holds it for a moment). Claim it and run its last steps here.
  accepting.store(false, std::memory_order_seq_cst);      // (S1)
  stop_requested.store(true, std::memory_order_seq_cst);  // (S2)
  space.notify_all();
  while (!claim_parked()) std::this_thread::yield();
  for (;;) {
    const Sequencer::Step st = sequencer_obj_->step();
    if (st == Sequencer::Step::closed) break;
    if (st == Sequencer::Step::later) std::this_thread::sleep_until(sequencer_obj_->wake_at());
    if (st == Sequencer::Step::idle) std::this_thread::yield();  // a producer mid-push
  }
  mark_closed();
  {
    std::lock_guard lock(pool_handle_->mutex);
    pool_handle_->core = nullptr;
  }
  std::lock_guard lock(stop_mutex_);
  stopped_ = true;
}

Status SessionCore::start() {
  if (options.follow) {  // a thread of its own, never the pool (docs/design.md §15)
    follower_ = std::make_unique<Follower>(*this);
    sequencer_ = std::thread([f = follower_.get()] { f->run(); });
    return {};
  }
  auto sequencer = std::make_unique<Sequencer>(*this, pooled());
  if (Status st = sequencer->load(); !st) return st;
  sequencer_obj_ = std::move(sequencer);
  if (!pooled()) {
    sequencer_ = std::thread([s = sequencer_obj_.get()] { s->run(); });
    return {};
  }
  // Parked from the start: the first push (or stop) queues it. No thread is created or waited for.
  sched_.store(kParked, std::memory_order_relaxed);  // relaxed: published with the session itself
  doorbell.enter();
  return {};
}

void SessionCore::ring_doorbell() {
  if (!pooled()) {
    doorbell.notify_all();
    return;
  }
  if (!doorbell.has_waiters()) return;  // (G1) pairs with (G2) in park(): not parked, nothing to do
  wake_parked();
}

void SessionCore::wake_parked() {
  std::uint32_t expected = kParked;
  // (D1) acq_rel, pairs with (D2): exactly one waker (or the owner's reclaim D3) takes it.
  if (!sched_.compare_exchange_strong(expected, kOwned, std::memory_order_acq_rel)) return;
  doorbell.leave();
  pool_->schedule(shared_from_this());
}

bool SessionCore::park() {
  sched_.store(kParked, std::memory_order_release);  // (D2) pairs with (D1)/(D3)
  doorbell.enter();                                   // (G2) pairs with the producers' (G1)
  // After (G2), seq_cst loads of every `pushed` (A4) and of stop_requested: either they see a
  // push or stop() that came first, or that producer's (G1) sees us parked (design §8, §13).
  if (!sequencer_obj_->work_hint() && sequencer_obj_->all_taken()) return true;
  std::uint32_t expected = kParked;
  if (!sched_.compare_exchange_strong(expected, kOwned, std::memory_order_acquire))  // (D3) pairs with (D2)
    return true;  // a producer's (D1) won: the session is queued
  doorbell.leave();
  return false;
}

bool SessionCore::claim_parked() {
  std::uint32_t expected = kParked;
  if (!sched_.compare_exchange_strong(expected, kOwned, std::memory_order_acq_rel)) return false;  // (D1)
  doorbell.leave();
  return true;
}

void SessionCore::unclaim() noexcept {
  sched_.store(kParked, std::memory_order_release);  // (D2)
  doorbell.enter();
}

void SessionCore::release_idle_memory() {
  sequencer_obj_->shrink();
  ring.release_pages();
  log->release_idle_resources();  // this thread owns the session: no append is in flight
}

Status SessionCore::stop() {
  std::lock_guard lock(stop_mutex_);
  if (!stopped_) {
    stopped_ = true;
    accepting.store(false, std::memory_order_seq_cst);       // (S1) pairs with (A1)
    stop_requested.store(true, std::memory_order_seq_cst);   // (S2) WaitGate publication for the doorbell
    space.notify_all();  // producers waiting for credit give up with `stopped`
    if (!pooled()) {
      doorbell.notify_all();
      if (sequencer_.joinable()) sequencer_.join();
    } else if (sequencer_obj_) {
      ring_doorbell();  // queues a parked session: a pool thread finishes it
      ring.gate().wait_until([&] { return closed(); }, WaitGate::Deadline::max());  // pairs with (X1)
      {
        std::lock_guard handle(pool_handle_->mutex);  // waits for an idle-release check in progress
        pool_handle_->core = nullptr;
      }
      // A pool thread may still be dropping its reference (closed sessions are never queued
      // again): wait for that, so the session's last owner is one of its own handles.
      while (pool_handle_->holds.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    }
  }
  if (unstored_at_stop.load(std::memory_order_relaxed) != 0)  // relaxed: the sequencer was joined
    if (auto e = last_store_error()) return *e;
  return {};
}

void SessionCore::mark_closed() noexcept {
  closed_.store(true, std::memory_order_seq_cst);  // (X1) WaitGate publication for the ring gate
  ring.gate().notify_all();
}

Result<ProducerSlot*> SessionCore::acquire_producer(bool handle) {
  if (options.follow)
    return Error(Errc::unsupported, "session '" + id() +
                                        "' is open as a follower (SessionOptions::follow): it is read-only; append "
                                        "through the session's writer");
  if (!accepting.load(std::memory_order_acquire))  // pairs with (S1); a racing stop is caught at push
    return Error(Errc::stopped, "session '" + id() + "' is stopped");
  std::lock_guard lock(producers_mutex_);
  if (producers_alive_ >= options.max_producers)
    return Error(Errc::validation_error, "max_producers = " + std::to_string(options.max_producers) +
                                             " producers are alive in session '" + id() + "'");
  for (auto& slot : slots_)
    if (!slot->in_use) {
      slot->in_use = true;
      slot->handle = handle;
      ++producers_alive_;
      producer_handles_ += handle ? 1 : 0;
      return slot.get();
    }
  auto slot = std::make_unique<ProducerSlot>();
  slot->token = queue->make_token();
  // Blocks in use by one producer: its credit window plus the batch the sequencer is on.
  slot->spill.set_keep_blocks(std::size_t{options.ingest_capacity} + options.max_batch);
  slot->in_use = true;
  slot->handle = handle;
  slots_.push_back(std::move(slot));
  ++producers_alive_;
  producer_handles_ += handle ? 1 : 0;
  return slots_.back().get();
}

void SessionCore::release_producer(ProducerSlot* slot) {
  slot->spill.trim();  // still the owner: its idle spill blocks go with it
  std::lock_guard lock(producers_mutex_);
  slot->in_use = false;
  --producers_alive_;
  producer_handles_ -= slot->handle ? 1 : 0;
}

void SessionCore::add_subscriber(Subscriber* s) {
  std::lock_guard lock(subscribers_mutex_);
  subscribers_.push_back(s);
}

void SessionCore::remove_subscriber(Subscriber* s) {
  std::lock_guard lock(subscribers_mutex_);
  std::erase(subscribers_, s);
}

void SessionCore::set_last_store_error(const Error& e) {
  std::lock_guard lock(error_mutex_);
  last_store_error_ = e;
}

std::optional<Error> SessionCore::last_store_error() const {
  std::lock_guard lock(error_mutex_);
  return last_store_error_;
}

std::string SessionCore::store_error_text() const {
  std::lock_guard lock(error_mutex_);
  return last_store_error_ ? ": " + last_store_error_->message() : std::string();
}

SessionStats SessionCore::stats() const {
  SessionStats s;
  s.session_id = id();
  s.latest_sequence = ring.cursor();
  // relaxed loads below: statistics only.
  s.events_sequenced = events_sequenced.load(std::memory_order_relaxed);
  s.duplicates = duplicates.load(std::memory_order_relaxed);
  s.batches = batches.load(std::memory_order_relaxed);
  s.oversize_events = oversize_events.load(std::memory_order_relaxed);
  s.store_failures = store_failures.load(std::memory_order_relaxed);
  s.abandoned_waits = abandoned_waits.load(std::memory_order_relaxed);
  s.store_failing = failing(store_health.load(std::memory_order_relaxed));  // relaxed: a snapshot
  {
    std::lock_guard lock(producers_mutex_);
    s.producers = producer_handles_;
    for (const auto& slot : slots_) {
      const auto pushed = slot->pushed.load(std::memory_order_relaxed);
      const auto consumed = slot->consumed.load(std::memory_order_relaxed);
      if (pushed > consumed) s.ingest_depth_approx += pushed - consumed;
    }
  }
  s.ring_capacity = options.ring_capacity;
  s.ring_slot_bytes = options.ring_slot_bytes;
  s.queue = options.queue;
  s.wait = options.wait;
  s.stopped = closed();
  std::lock_guard lock(subscribers_mutex_);
  for (const Subscriber* sub : subscribers_) s.subscribers.push_back(sub->stats());
  return s;
}

}  // namespace sessionring::detail
