#pragma once
#include <cstdint>
#include <string_view>

namespace sessionring {

enum class SubscriptionState : std::uint8_t {
  backfilling,  ///< reading stored history from the store, before reaching the ring
  live,         ///< reading the ring
  fell_behind,  ///< was lapped by the ring; reading the store from its cursor until it rejoins
  closed,       ///< unsubscribed, the session stopped and everything was delivered, or a
                ///< disconnect_after policy ended it (Errc::subscriber_too_slow)
};

std::string_view to_string(SubscriptionState s) noexcept;

}  // namespace sessionring
