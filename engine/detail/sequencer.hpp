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

#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace sessionring::detail {

class SessionCore;

class Sequencer {
 public:
  explicit Sequencer(SessionCore& core);

  /// Rebuilds the dedupe index from the log; called before the thread starts.
  Status load();
  /// The thread body: returns after stop() once every accepted event is published.
  void run();

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
  void answer_waiters();
  bool all_taken() const;
  void idle_wait();
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
  IdIndex ids_;
  Sequence written_ = 0;    // last sequence handed to the store
  Sequence published_ = 0;  // last sequence published to the ring
  std::vector<IngestItem> items_;  // pop buffer; items [0, retry_) wait to be stored again
  std::size_t retry_ = 0;
  std::vector<bool> taken_;        // per items_ slot: an append_wait item kept by refuse(), taken (C4) already
  std::vector<std::size_t> batch_dups_;  // index in items_ of each copy of an event of the batch being built
  std::vector<EventView> views_;
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
};

}  // namespace sessionring::detail
