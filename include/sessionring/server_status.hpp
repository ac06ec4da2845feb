// A snapshot of one SessionServer (SessionServer::status()). The run lists are consistent with
// each other; the engine numbers are read without stopping it and may be slightly stale.
#pragma once
#include <sessionring/config.hpp>
#include <sessionring/subscription_stats.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sessionring {

struct ServerStatus {
  std::string session_id;
  std::vector<std::string> in_flight_runs;  ///< runs holding a slot, in the order they started
  std::size_t in_flight_count = 0;
  std::vector<std::string> queued_runs;     ///< waiting runs, head first (the order they will start)
  std::size_t queued_count = 0;
  std::uint32_t max_concurrent_runs = 0;
  std::uint32_t max_queued_runs = 0;
  std::size_t subscriber_count = 0;
  Sequence latest_sequence = 0;             ///< last published to subscribers
  std::uint64_t ingest_depth_approx = 0;    ///< events in the ingest queue (approximate)
  std::uint32_t producers = 0;              ///< live Producer handles: one per run slot, plus the host's own (SessionStats::producers)
  std::uint32_t ring_capacity = 0;
  std::uint32_t ring_slot_bytes = 0;
  /// Per subscriber: cursor, lag, lapped_count, reading_store (ring or store), state, ...
  std::vector<SubscriptionStats> subscribers;
  bool stopped = false;                     ///< as SessionServer::stopped()
};

}  // namespace sessionring
