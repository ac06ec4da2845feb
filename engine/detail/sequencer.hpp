// Sequencer: the single thread per session that drains the ingest queue in batches, dedupes by
// event id (INV-6), stamps contiguous sequence numbers continuing the log (INV-1), appends the
// batch to the store, writes the ring slots and publishes the cursor (INV-2), then answers
// producers waiting in append_wait(). It never waits for a subscriber (INV-4). When the store
// fails it publishes the session's store health (docs/design.md §11 "Store faults").
#pragma once
#include <sessionring/append_batch.hpp>

#include "detail/id_index.hpp"
#include "detail/ingest_item.hpp"

#include <sessionring/result.hpp>

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace sessionring::detail {

class SessionCore;

class Sequencer {
 public:
  using Clock = std::chrono::steady_clock;

  /// `pooled`: run by a SequencerPool thread (step() never sleeps); else by a thread of its own.
  Sequencer(SessionCore& core, bool pooled);

  /// Rebuilds the dedupe index from the log; called before the first step.
  Status load();
  /// The dedicated thread's body: step() until closed, waiting on the doorbell when idle and
  /// sleeping through back-offs. Returns after stop() once every accepted event is published.
  void run();

  /// What one step left to do (docs/design.md §13).
  enum class Step : std::uint8_t {
    busy,    ///< it did some work (a batch, a publish, a give-up): step again
    idle,    ///< nothing to do until a producer rings the doorbell (or stop())
    later,   ///< pooled only: step again at wake_at() (store back-off, group commit in flight)
    closed,  ///< stopped: every accepted event is published; dedicated: mark_closed() was called,
             ///< pooled: the caller calls it once it holds no reference to the session
  };
  /// One pass of the loop: the publish steps 1-7 for at most one batch (max_batch events), or a
  /// retry of the batch the store refused, or a publish of what the store secured since. Pooled,
  /// it never sleeps: a back-off is returned as Step::later. Called by one thread at a time.
  Step step();
  Clock::time_point wake_at() const noexcept { return wake_at_; }
  /// Cheap hint that step() has work (the queue is not empty, or stop() was called); not
  /// seq_cst for the queue: the park predicate adds all_taken() (design §8).
  bool work_hint() const;
  /// No producer has an event pushed or being pushed that was not taken (A3/A4, seq_cst).
  bool all_taken() const;
  /// The session sequenced enough events to be worth preparing the store's next appends for in
  /// idle time (design §8: pooled sessions that stay small never pre-fault store memory).
  bool hot() const noexcept;
  /// Idle: frees the pop buffer (it is grown again by the next pops).
  void shrink() noexcept;

 private:
  void process(std::size_t n);
  bool store_batch(std::size_t n);
  /// The batch items_[0, n) was not stored (`e`): append_wait items get storage_error,
  /// fire-and-forget items are kept, in order, for a retry after a back-off.
  void refuse(std::size_t n, const Error& e);
  /// The ids of the fire-and-forget items of items_[0, n) (refuse() of a batch with copies).
  std::unordered_set<std::string_view> fire_and_forget_ids(std::size_t n) const;
  void publish_secured();
  /// Stopping while the store never secured what it accepted: answer and report instead of hanging.
  void give_up_unsecured();
  void set_health(bool failing, bool stalled);
  void release_credits(std::size_t n);
  /// The item's record is no longer needed: its spill block goes back to its producer's pool.
  static void give_back_spill(IngestItem& item) noexcept;
  void answer_waiters();
  void idle_wait();
  /// The pop buffer: grown on demand from kFirstPop items up to max_batch (idle sessions hold
  /// a small one); never below retry_ items.
  std::size_t pop_room();
  /// Whether sequence `s` holds event id `id`; an error when the store cannot tell.
  Result<bool> same_id_stored(Sequence s, std::string_view id) const;
  /// The sequence already holding the record's id, 0 if none; an error when the store cannot tell.
  Result<Sequence> duplicate_of(const std::byte* rec, std::uint64_t h) const;

  struct Waiter {
    Completion* completion;
    Sequence sequence;
    bool duplicate;
    std::uint32_t generation;
  };

  SessionCore& core_;
  const bool pooled_;
  IdIndex ids_;
  Sequence written_ = 0;    // last sequence handed to the store
  Sequence published_ = 0;  // last sequence published to the ring
  std::vector<IngestItem> items_;  // pop buffer; items [0, retry_) wait to be stored again
  std::size_t retry_ = 0;
  std::vector<bool> taken_;        // per items_ slot: an append_wait item kept by refuse(), taken (C4) already
  std::vector<std::size_t> batch_dups_;  // index in items_ of each copy of an event of the batch being built
  std::vector<EventView> views_;  // [0, nviews_): the batch being built; grows only (reused across batches)
  std::size_t nviews_ = 0;
  std::vector<std::span<const std::byte>> records_;
  std::vector<std::uint64_t> batch_hashes_;  // hash of every popped item's id
  std::vector<std::uint64_t> hashes_;        // hash of every stored event of the batch
  std::vector<std::size_t> stored_items_;  // index in items_ of each event of the batch
  std::vector<Waiter> waiters_;            // answered once published_ >= sequence
  std::uint32_t failures_in_a_row_ = 0;    // refused appends since the last stored one
  std::uint32_t secure_failures_ = 0;      // wait_for errors since the store last secured something
  bool append_failing_ = false;            // the last append was refused
  bool stalled_ = false;                   // retry_ holds refused events; nothing new is popped
  std::uint64_t health_ = 0;               // the sequencer's copy of SessionCore::store_health
  Clock::time_point retry_at_{};           // when refused events are offered again
  Clock::time_point secure_retry_at_{};    // when a store that failed to secure is asked again
  Clock::time_point wake_at_{};            // Step::later: when to step again
  std::uint64_t sequenced_ = 0;            // events this sequencer stamped (for hot())
};

}  // namespace sessionring::detail
