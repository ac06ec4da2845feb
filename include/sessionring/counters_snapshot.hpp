// CountersSnapshot: what one SessionServer published in its counters file at one instant
// (docs/telemetry.md "Counters file"), as CountersReader::read() returns it to another process
// (`sessionring stat`). Every value of one snapshot comes from the same publish round.
#pragma once
#include <sessionring/config.hpp>
#include <sessionring/subscription_stats.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sessionring {

/// Whether the process that writes a counters file is still publishing.
enum class CountersLiveness : std::uint8_t {
  live,    ///< heartbeat within 3 publish intervals (at least 1 s)
  stale,   ///< the writer process exists but has not published for longer (stopped, or stuck)
  dead,    ///< the writer process no longer exists (crashed or killed): the values are its last
  closed,  ///< the server stopped cleanly; the values are its final ones
};

std::string_view to_string(CountersLiveness l) noexcept;

struct CountersSnapshot {
  // ---- the header (fixed when the writer created the file) ----
  std::uint32_t format_version = 0;
  std::string session_id;
  std::uint64_t writer_pid = 0;
  std::int64_t writer_start_ns = 0;  ///< Unix time ns when the writer created the file
  std::int64_t interval_ns = 0;      ///< the writer's publish interval
  // ---- the publish round ----
  std::int64_t heartbeat_ns = 0;                       ///< Unix time ns of this round
  std::uint64_t publish_count = 0;                     ///< rounds published so far (this one included)
  CountersLiveness liveness = CountersLiveness::live;  ///< judged by the reader (CountersReader::read)
  // ---- the session (SessionStats, ServerStatus) ----
  Sequence latest_sequence = 0;    ///< ring cursor: last published to subscribers
  Sequence stored_sequence = 0;    ///< the store's latest secured sequence (head of the log)
  std::uint64_t ingest_depth = 0;  ///< events in the ingest queue (approximate)
  std::uint64_t events_sequenced = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t batches = 0;
  std::uint64_t oversize_events = 0;
  std::uint64_t store_failures = 0;
  bool store_failing = false;
  std::uint64_t abandoned_waits = 0;
  std::uint64_t runs_active = 0;  ///< runs holding a run slot
  std::uint64_t runs_queued = 0;  ///< runs waiting in the run queue
  std::uint64_t max_concurrent_runs = 0;
  std::uint64_t max_queued_runs = 0;
  std::uint64_t ring_capacity = 0;
  std::uint64_t ring_slot_bytes = 0;
  std::uint64_t subscriber_count = 0;  ///< may exceed subscribers.size() (the file holds at most 256)
  bool stopped = false;
  /// Per subscriber: id, cursor, lag, lead, lapped_count, store_reads (store fallbacks and
  /// backfill reads), delivered, state, reading_store.
  std::vector<SubscriptionStats> subscribers;
};

}  // namespace sessionring
