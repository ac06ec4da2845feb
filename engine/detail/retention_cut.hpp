// retention_cut: how many whole units (MemoryStore chunks, LogStore segments) a RetentionPolicy
// removes from the front of a session. Shared by the stores that prune by units, so that they
// answer the same policy the same way (docs/store.md "Retention").
#pragma once
#include <sessionring/config.hpp>
#include <sessionring/retention_policy.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace sessionring::detail {

/// One unit of a session, oldest first; the last one may be the unit being written.
struct RetentionUnit {
  Sequence first = 1;             ///< its first sequence
  Sequence last = 0;              ///< its last sequence (first - 1: empty)
  std::uint64_t bytes = 0;        ///< what it counts against max_bytes
  std::int64_t max_timestamp_ns = 0;  ///< the newest event timestamp in it (max_age)

  std::uint64_t events() const noexcept { return last + 1 - first; }
};

/// The number of leading units of `units` (a random-access container of RetentionUnit or of
/// types derived from it) the policy removes: the most that any of its limits removes.
///  * max_events: the longest prefix whose removal keeps at least max_events, taken only when
///    it holds at least prune_unit events (so each prune amortises; the newest unit stays).
///  * max_bytes: units go while the bytes stored exceed max_bytes; never the newest unit.
///  * max_age (only when `check_age`): the prefix whose newest timestamp is before `now_ns -
///    max_age`, the newest unit included (a session whose events are all old keeps none).
template <class Units>
std::size_t retention_cut(const Units& units, const RetentionPolicy& policy, bool check_age, std::int64_t now_ns) {
  const std::size_t n = units.size();
  if (n == 0) return 0;
  std::size_t cut = 0;
  if (policy.max_events > 0) {
    // Units are contiguous: the total is O(1), and the walk below stops at the first unit that
    // must stay, so a policy with many small units costs O(units pruned) per call.
    const std::uint64_t total = static_cast<const RetentionUnit&>(units[n - 1]).last + 1 -
                                static_cast<const RetentionUnit&>(units[0]).first;
    std::uint64_t removed = 0;
    std::size_t k = 0;
    while (k < n) {
      const std::uint64_t e = static_cast<const RetentionUnit&>(units[k]).events();
      if (total - removed - e < policy.max_events) break;
      removed += e;
      ++k;
    }
    if (removed >= policy.prune_unit) cut = std::max(cut, k);
  }
  if (policy.max_bytes > 0) {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < n; ++i) total += static_cast<const RetentionUnit&>(units[i]).bytes;
    std::size_t k = 0;
    while (k + 1 < n && total > policy.max_bytes) total -= static_cast<const RetentionUnit&>(units[k++]).bytes;
    cut = std::max(cut, k);
  }
  if (check_age && policy.max_age.count() > 0) {
    const std::int64_t cutoff = now_ns - std::chrono::duration_cast<std::chrono::nanoseconds>(policy.max_age).count();
    std::size_t k = 0;
    while (k < n && static_cast<const RetentionUnit&>(units[k]).max_timestamp_ns < cutoff) ++k;
    cut = std::max(cut, k);
  }
  return cut;
}

/// Lowers `cut` so that no removed unit holds a sequence above `keep_after` (the lowest
/// durable cursor position: RetentionPolicy::keep_cursor_positions).
template <class Units>
std::size_t cap_cut_at_cursor(const Units& units, std::size_t cut, Sequence keep_after) {
  while (cut > 0 && static_cast<const RetentionUnit&>(units[cut - 1]).last > keep_after) --cut;
  return cut;
}

}  // namespace sessionring::detail
