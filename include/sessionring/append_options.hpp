// Per-call choice when the ingest queue is full (INV-7): wait up to a deadline, or fail at once.
#pragma once
#include <chrono>
#include <sessionring/config.hpp>

#include <cstdint>

namespace sessionring {

enum class FullPolicy : std::uint8_t {
  wait,  ///< wait for space until `deadline`, then Errc::queue_full (Errc::storage_error at once
         ///< while the sequencer is stalled on a failing store: docs/design.md §11)
  fail,  ///< Errc::queue_full at once
};

struct AppendOptions {
  FullPolicy on_full = FullPolicy::wait;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();

  static AppendOptions fail_fast() { return {FullPolicy::fail, {}}; }
  static AppendOptions wait_for(std::chrono::nanoseconds d) {
    return {FullPolicy::wait, std::chrono::steady_clock::now() + d};
  }
};

struct AppendResult {
  Sequence sequence = 0;   ///< the sequence the event holds in the session
  bool duplicate = false;  ///< true: its id was already stored; nothing new was stored (INV-6)
};

}  // namespace sessionring
