#pragma once
#include <sessionring/session_options.hpp>
#include <sessionring/subscription_stats.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sessionring {

/// A snapshot of a session's engine; counters are read without stopping it.
struct SessionStats {
  std::string session_id;
  Sequence latest_sequence = 0;          ///< last published to the ring
  std::uint64_t events_sequenced = 0;    ///< new events stored by this engine
  std::uint64_t duplicates = 0;          ///< appends answered from the dedupe index (INV-6)
  std::uint64_t batches = 0;             ///< sequencer batches stored
  std::uint64_t oversize_events = 0;     ///< events larger than a ring slot (readers take them from the store)
  std::uint64_t store_failures = 0;      ///< store appends that failed (retried)
  /// The store refused the last append (or cannot secure what it accepted) and has not stored
  /// one since: subscribers that delivered everything get storage_error (docs/design.md §11).
  bool store_failing = false;
  /// append_wait calls that gave up on their queued event while the sequencer was stalled on a
  /// failing store (each answered storage_error; the sequencer dropped the event unstored).
  std::uint64_t abandoned_waits = 0;
  std::uint64_t ingest_depth_approx = 0; ///< events in the ingest queue (approximate)
  /// Live Producer handles from Session::producer() (a SessionServer holds one per run slot;
  /// Session::append's shared producer is not counted).
  std::uint32_t producers = 0;
  std::uint32_t ring_capacity = 0;
  std::uint32_t ring_slot_bytes = 0;
  QueueBackend queue = QueueBackend::moodycamel;
  WaitStrategy wait = WaitStrategy::block;
  bool stopped = false;
  std::vector<SubscriptionStats> subscribers;
};

}  // namespace sessionring
