// SessionCore: everything one session's engine shares between its threads: options, the log,
// the ingest queue, the ring, producer slots, the subscriber registry, counters. The public
// Session, Producer and Subscription handles each hold a shared_ptr to it.
#pragma once
#include <sessionring/sequencer_pool.hpp>
#include <sessionring/session_options.hpp>
#include <sessionring/session_stats.hpp>

#include "detail/ingest_queue.hpp"
#include "detail/producer_slot.hpp"
#include "detail/ring_buffer.hpp"
#include "detail/wait_gate.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sessionring::detail {

class Subscriber;
class ProducerImpl;
class Sequencer;
class Follower;

class SessionCore : public std::enable_shared_from_this<SessionCore> {
 public:
  SessionCore(SessionOptions options, std::shared_ptr<SessionLog> log);
  ~SessionCore();

  /// Rebuilds the dedupe index from the log, then starts the sequencer: parked on its pool
  /// (no thread is created or scheduled) or, with dedicated_sequencer, on a thread of its own.
  Status start();
  /// Session::stop(): see session.hpp. Idempotent; waits until the sequencer has published
  /// everything accepted (joins a dedicated one).
  Status stop();

  /// Producers after a push, stop() after (S2): wakes the sequencer if it sleeps (dedicated:
  /// the doorbell's futex; pooled: a parked session is queued on its pool, design §13).
  void ring_doorbell();
  /// Pool thread that owns the session, with nothing to do: parks it on the doorbell. False
  /// when work arrived meanwhile and the caller still owns the session.
  bool park();
  /// A pool's idle-release timer: takes a parked session (true: the caller owns it now and must
  /// step or park it), or false when it is not parked.
  bool claim_parked();
  /// Gives a claimed session back without a check (only for stop_unowned(), which claims it next).
  void unclaim() noexcept;
  /// Pooled, owned and idle: gives back the ring's pages, the sequencer's pop buffer and what
  /// the store log holds for appending (SessionLog::release_idle_resources).
  void release_idle_memory();
  Sequencer& sequencer() noexcept { return *sequencer_obj_; }
  bool pooled() const noexcept { return pool_ != nullptr; }

  /// What a pool's idle-release timer holds instead of the session: stop() detaches it (under
  /// its mutex, waiting for a check in progress), so after stop() the pool neither touches
  /// the session nor keeps it alive (its store handle is released when its owners drop it).
  struct PoolHandle {
    std::mutex mutex;
    SessionCore* core = nullptr;  // guarded by mutex; null once the session stopped
    // References to the session the pool holds (ready queue, step timers, a pool thread's
    // turn). Writers: the pool (+1 relaxed when it takes one: the session is alive then;
    // -1 release after dropping it, pairs with stop()'s acquire load). Reader: stop(), which
    // returns only once it is 0, so the pool never holds a stopped session's last reference.
    std::atomic<std::uint32_t> holds{0};
    // True while the session's turn is saturated (most of its recent steps had work:
    // SequencerPool's kSaturatedOn / kSaturatedOff, design §13 "Idle threads help"). Writer: the
    // pool thread whose turn it is (relaxed stores; false again before the turn ends). Readers:
    // idle pool threads choosing a session to help (relaxed: a hint; a stale value costs one
    // bounded prefault step, or one poll of kHelpPoll).
    std::atomic<bool> saturated{false};
  };
  const std::shared_ptr<PoolHandle>& pool_handle() const noexcept { return pool_handle_; }
  // Pool bookkeeping, read and written only by the thread that owns the session (sched_).
  bool idle_timer_pending = false;  // an idle-release timer of the pool refers to this session
  std::uint64_t released_at = 0;    // events_sequenced when its memory was last given back

  /// `handle`: for a Producer handed out by Session::producer() (counted in stats().producers);
  /// false for Session::append's shared producer.
  Result<ProducerSlot*> acquire_producer(bool handle = true);
  void release_producer(ProducerSlot* slot);

  void add_subscriber(Subscriber* s);
  void remove_subscriber(Subscriber* s);
  std::uint64_t next_subscriber_id() noexcept { return next_sub_id_.fetch_add(1, std::memory_order_relaxed); }  // relaxed: unique ids only

  SessionStats stats() const;

  /// True once the sequencer has published its final sequence and exited.
  bool closed() const noexcept { return closed_.load(std::memory_order_seq_cst); }  // pairs with (X1)
  Sequence final_sequence() const noexcept { return ring.cursor(); }

  const SessionOptions options;
  const std::string& id() const noexcept { return options.session_id; }
  const std::shared_ptr<SessionLog> log;
  RingBuffer ring;
  const std::unique_ptr<IngestQueue> queue;
  WaitGate doorbell;  // the sequencer parks here; producers ring it after a push
  WaitGate space;     // producers out of credit park here; the sequencer rings it after a pop
  // Batches popped off the ingest queue. Writer: the sequencer, (A5) seq_cst after each pop
  // (before ringing `space`): the WaitGate publication for a producer that found the Boost
  // queue full (its fill level is not seq_cst). Reader: that producer's wait predicate (A5, seq_cst).
  std::atomic<std::uint64_t> pops{0};
  // The back-pressure refusals, built once: answering queue_full allocates nothing (issue 12;
  // Aeron's BACK_PRESSURED). Immutable after construction; read by producers.
  const std::shared_ptr<const std::string> credit_full_message;  // no credit left (FullPolicy::fail or deadline)
  const std::shared_ptr<const std::string> queue_full_message;   // Boost backend: the shared queue is full

  // Writer: stop() (seq_cst, S1). Readers: producers before each push ((A1) handshake, seq_cst).
  std::atomic<bool> accepting{true};
  // Writer: stop() (seq_cst, S2). Reader: the sequencer (doorbell ready() and its loop).
  std::atomic<bool> stop_requested{false};

  // Counters: written by the sequencer (relaxed: statistics only), read by stats().
  std::atomic<std::uint64_t> events_sequenced{0};  // events stamped with a sequence
  std::atomic<std::uint64_t> duplicates{0};        // appends answered with an earlier sequence (INV-6)
  std::atomic<std::uint64_t> batches{0};           // batches appended to the store
  std::atomic<std::uint64_t> oversize_events{0};   // events published as kInStore markers
  std::atomic<std::uint64_t> store_failures{0};    // store appends that failed
  std::atomic<std::uint64_t> unstored_at_stop{0};  // accepted events the store refused until stop gave up
  std::atomic<std::uint64_t> abandoned_waits{0};   // append_wait items dropped after their producer gave up (C3)

  // Store health (docs/design.md §11 "Store faults"): kFailing = the store refused the last
  // append or cannot secure what it accepted; kStalled = the sequencer holds refused events and
  // takes nothing new from the queue until they are stored; the bits above count changes, so a
  // waiter can sleep until any change. Writer: the sequencer (H1, seq_cst: the WaitGate
  // publication for the ring gate, the `space` gate and every completion gate, which it then
  // notifies). Readers: subscribers (H2: relaxed when they find nothing to deliver, seq_cst in
  // their wait predicate), producers waiting for credit or for an answer (H3, seq_cst in their
  // wait predicates).
  std::atomic<std::uint64_t> store_health{0};
  static constexpr std::uint64_t kFailing = 1;
  static constexpr std::uint64_t kStalled = 2;
  static constexpr std::uint64_t kHealthStep = 4;
  static bool failing(std::uint64_t h) noexcept { return (h & kFailing) != 0; }
  static bool stalled(std::uint64_t h) noexcept { return (h & kStalled) != 0; }

  void set_last_store_error(const Error& e);
  std::optional<Error> last_store_error() const;
  /// The message tail naming the store's last error ("" if none).
  std::string store_error_text() const;
  void mark_closed() noexcept;

 private:
  friend class Sequencer;
  friend class Follower;
  /// Pooled: a parked session's doorbell rang; exactly one caller queues it (D1).
  void wake_parked();

  /// ~SessionCore of a pooled session nobody stopped: runs the remaining steps on this thread.
  void stop_unowned();

  const std::shared_ptr<SequencerPool> pool_;  // null: dedicated sequencer thread
  const std::shared_ptr<PoolHandle> pool_handle_;  // pooled only
  std::unique_ptr<Sequencer> sequencer_obj_;   // set by start(); null for a follower
  std::unique_ptr<Follower> follower_;         // set by start() when options.follow
  // Pooled sessions: kParked (on the doorbell: the next ring_doorbell() queues it) or kOwned
  // (queued, running on a pool thread, or waiting for a pool timer). Writers: the owning pool
  // thread (D2 release store of kParked; D3 reclaim CAS, acquire) and the waker (D1 CAS
  // kParked → kOwned, acq_rel: takes over the sequencer state the last owner left, and hands
  // it on through the pool's queue). design §13.
  static constexpr std::uint32_t kParked = 0;
  static constexpr std::uint32_t kOwned = 1;
  std::atomic<std::uint32_t> sched_{kOwned};
  std::thread sequencer_;
  std::mutex stop_mutex_;
  bool stopped_ = false;  // guarded by stop_mutex_
  // Writer: sequencer when it exits (X1, seq_cst: publishes the final cursor and is the ring
  // WaitGate publication). Readers: subscribers deciding they are closed.
  std::atomic<bool> closed_{false};

  mutable std::mutex producers_mutex_;
  std::vector<std::unique_ptr<ProducerSlot>> slots_;  // guarded; elements never freed before ~SessionCore
  std::uint32_t producers_alive_ = 0;                 // guarded
  std::uint32_t producer_handles_ = 0;                // guarded: the alive ones with slot->handle

  mutable std::mutex subscribers_mutex_;
  std::vector<Subscriber*> subscribers_;  // guarded
  std::atomic<std::uint64_t> next_sub_id_{1};  // writer/reader: subscribe() (relaxed fetch_add: ids only)

  mutable std::mutex error_mutex_;
  std::optional<Error> last_store_error_;  // guarded

 public:
  // Session::append's shared producer (created on first use). Its pushes are serialised by
  // shared_producer_mutex, held only while pushing; Session::append_wait callers are serialised
  // by shared_wait_mutex for their whole wait (one completion per producer), so a waiting call
  // never blocks Session::append. Order: shared_wait_mutex, then shared_producer_mutex.
  std::mutex shared_wait_mutex;
  std::mutex shared_producer_mutex;
  std::unique_ptr<ProducerImpl> shared_producer;  // guarded by shared_producer_mutex
};

}  // namespace sessionring::detail
