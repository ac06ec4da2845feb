// SessionInfo: per-session facts of a LogStore for tools (`sessionring sessions`).
#pragma once
#include <sessionring/config.hpp>

#include <cstdint>
#include <string>

namespace sessionring {

struct SessionInfo {
  std::string session_id;
  Sequence first_sequence = 1;     ///< first available sequence (above what retention pruned)
  Sequence latest_sequence = 0;    ///< highest stored sequence (0: empty)
  std::uint64_t event_count = 0;   ///< stored events (sequences first_sequence..latest_sequence, INV-1)
  std::uint64_t bytes = 0;         ///< total size of the segment files
  std::uint32_t segment_count = 0;
};

}  // namespace sessionring
