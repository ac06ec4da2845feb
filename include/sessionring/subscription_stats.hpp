#pragma once
#include <sessionring/config.hpp>
#include <sessionring/subscription_state.hpp>

#include <cstdint>

namespace sessionring {

/// A snapshot of one subscription; fields are read without stopping it, so they may be stale.
struct SubscriptionStats {
  std::uint64_t id = 0;             ///< unique within the session
  Sequence cursor = 0;              ///< next sequence it will consider
  std::uint64_t lag = 0;            ///< latest published − (cursor − 1)
  std::uint64_t lead = 0;           ///< slots left before the ring laps it (0 when reading the store)
  std::uint64_t lapped_count = 0;   ///< times the ring overwrote a slot it still needed
  std::uint64_t store_reads = 0;    ///< store reads (backfill and lapped fallback)
  std::uint64_t delivered = 0;      ///< events handed to the handler
  std::uint64_t gaps = 0;           ///< skip_to_live: gap notices given (SubscribeOptions::on_gap)
  std::uint64_t skipped = 0;        ///< skip_to_live: sequences skipped, over all its gap notices
  SubscriptionState state = SubscriptionState::backfilling;
  bool reading_store = false;       ///< true while backfilling or fell_behind
};

}  // namespace sessionring
