// RetentionPolicy: how much of a session a store keeps (docs/store.md "Retention"). Pruning
// removes whole units from the front of the session (SqliteStore: DELETE of a sequence range;
// MemoryStore: arena chunks; LogStore: segment files), never a partial record; sequences never restart (INV-1). A read or subscriber asking for a
// pruned sequence gets Errc::pruned naming the first available one.
#pragma once
#include <sessionring/result.hpp>

#include <chrono>
#include <cstdint>

namespace sessionring {

struct RetentionPolicy {
  /// Keep at least the newest max_events events; prune when max_events + prune_unit are
  /// stored (0: no limit). [0, 2^62]
  std::uint64_t max_events = 0;
  /// Keep events whose timestamp is younger than this; the oldest prefix older than it is
  /// pruned (checked at most once per second per session). 0: no limit. [0, 100 years]
  std::chrono::seconds max_age{0};
  /// Keep at most about this many bytes of records: whole units go from the front while the
  /// session's stored bytes exceed it, never the unit being written (MemoryStore: the record
  /// bytes of its chunks; LogStore: the sizes of its segment files). 0: no limit. [0, 2^62].
  /// SqliteStore has no byte accounting and refuses a policy with max_bytes (validation_error).
  std::uint64_t max_bytes = 0;
  /// Prune in units of at least this many events (amortises the DELETE); applies to
  /// max_events. [1, 2^24]
  std::uint32_t prune_unit = 1024;
  /// Keep what durable cursors need: pruning never removes an event after the lowest committed
  /// cursor position of the session (SubscribeOptions::durable_name; docs/store.md "Durable
  /// named cursors"), whatever the limits above say; a session without cursors is pruned by
  /// the limits alone. A cursor that never advances then holds the session's size: delete it
  /// (Session::delete_cursor) to let retention go on.
  bool keep_cursor_positions = false;

  bool keeps_everything() const noexcept {
    return max_events == 0 && max_age.count() == 0 && max_bytes == 0;
  }
};

/// Checks every field; Errc::validation_error naming `what` and the field.
Status validate(const RetentionPolicy& policy, std::string_view what = "RetentionPolicy");

}  // namespace sessionring
