// The wall clock (CLOCK_REALTIME) in nanoseconds since the Unix epoch: event timestamps,
// retention by age, heartbeats, telemetry. One definition for the engine.
#pragma once
#include <chrono>
#include <cstdint>

namespace sessionring::detail {

inline std::int64_t wall_clock_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sessionring::detail
