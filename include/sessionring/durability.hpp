// Durability: what LogStore has secured when append() publishes a batch (docs/store.md).
#pragma once
#include <sessionring/result.hpp>

#include <cstdint>
#include <string_view>

namespace sessionring {

enum class Durability : std::uint8_t {
  none,      ///< buffered in user space, handed to the OS when large, on close or after a short idle time
  buffered,  ///< handed to the OS (write) at every append: survives a process crash
  fsync,     ///< one fdatasync per batch (group commit): survives power loss
};

/// "none", "buffered" or "fsync".
std::string_view to_string(Durability d) noexcept;

/// Parses "none", "buffered" or "fsync"; anything else is Errc::validation_error naming the input.
Result<Durability> parse_durability(std::string_view name);

}  // namespace sessionring
