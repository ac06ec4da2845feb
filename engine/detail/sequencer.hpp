// Sequencer: the single thread per session that drains the ingest queue in batches, dedupes by
// event id (INV-6), stamps contiguous sequence numbers continuing the log (INV-1), appends the
// batch to the store, writes the ring slots and publishes the cursor (INV-2), then answers
// producers waiting in append_wait(). It never waits for a subscriber (INV-4).
#pragma once
#include <sessionring/append_batch.hpp>

#include "detail/id_index.hpp"
#include "detail/ingest_item.hpp"

#include <cstdint>
#include <span>
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
  bool store_batch();
  void publish_secured();
  void release_credits(std::size_t n);
  void answer_waiters();
  bool all_taken() const;
  void idle_wait();
  bool same_id_stored(Sequence s, std::string_view id) const;
  Sequence duplicate_of(const std::byte* rec, std::uint64_t h) const;

  struct Waiter {
    Completion* completion;
    Sequence sequence;
    bool duplicate;
  };

  SessionCore& core_;
  IdIndex ids_;
  Sequence written_ = 0;    // last sequence handed to the store
  Sequence published_ = 0;  // last sequence published to the ring
  std::vector<IngestItem> items_;  // pop buffer; items [0, retry_) wait to be stored again
  std::size_t retry_ = 0;
  std::vector<EventView> views_;
  std::vector<std::span<const std::byte>> records_;
  std::vector<std::uint64_t> batch_hashes_;  // hash of every popped item's id
  std::vector<std::uint64_t> hashes_;        // hash of every stored event of the batch
  std::vector<std::size_t> stored_items_;  // index in items_ of each event of the batch
  std::vector<Waiter> waiters_;            // answered once published_ >= sequence
  std::uint32_t failures_in_a_row_ = 0;
};

}  // namespace sessionring::detail
