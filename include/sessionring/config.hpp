// Project-wide constants. Cache-line size is a constant, not
// std::hardware_destructive_interference_size, whose value depends on compiler flags (ABI hazard).
#pragma once
#include <cstddef>
#include <cstdint>

namespace sessionring {

inline constexpr std::size_t kCacheLine = 64;

/// Per-session sequence number: 1, 2, 3, ... (INV-1). 0 means "none" / "before the first event".
using Sequence = std::uint64_t;

/// Largest sequence the engine accepts as a cursor: leaves headroom so `cursor + capacity` never wraps.
inline constexpr Sequence kMaxSequence = (Sequence{1} << 62);
/// The largest ring, ring_capacity x ring_slot_bytes (validate(SessionOptions)): 1 GiB.
inline constexpr std::uint64_t kMaxRingBytes = std::uint64_t{1} << 30;

inline constexpr int kVersionMajor = 0;
inline constexpr int kVersionMinor = 1;
inline constexpr int kVersionPatch = 0;

}  // namespace sessionring
