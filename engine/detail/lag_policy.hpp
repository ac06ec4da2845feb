// LagPolicy: one subscription's SlowSubscriberPolicy, judged before each delivery of its live
// part (docs/design.md §7 "Slow subscribers"). It only decides; the Subscriber acts (skips with a
// GapNotice, or ends with subscriber_too_slow). Poll thread only, no atomics.
#pragma once
#include <sessionring/error.hpp>
#include <sessionring/gap_notice.hpp>
#include <sessionring/result.hpp>
#include <sessionring/subscribe_options.hpp>

#include <chrono>
#include <cstdint>
#include <string_view>

namespace sessionring::detail {

class LagPolicy {
 public:
  enum class Verdict : std::uint8_t { deliver, skip_lapped, skip_lag, disconnect };

  /// `live_from`: the first sequence of the live part (history below it is always delivered).
  LagPolicy(const SlowSubscriberPolicy& policy, Sequence live_from) noexcept;

  /// Session::subscribe / subscribe_push: validation_error naming the option, or ok.
  static Status validate(const SubscribeOptions& options);

  bool active() const noexcept { return policy_.mode != SlowSubscriberPolicy::Mode::catch_up; }
  bool skips() const noexcept { return policy_.mode == SlowSubscriberPolicy::Mode::skip_to_live; }

  /// Before delivering sequence `next` (the cursor, or the next stored match above it), with the
  /// published head `head` just loaded and `first_held` = ring.first_held(head).
  Verdict judge(Sequence next, Sequence head, Sequence first_held) noexcept;

  /// The error of a disconnect verdict for cursor `next`, naming the lag that caused it.
  Error too_slow(std::string_view session_id, std::uint64_t subscription_id, Sequence next, Sequence head) const;

  static GapNotice::Reason reason(Verdict v) noexcept {
    return v == Verdict::skip_lag ? GapNotice::Reason::lag_too_high : GapNotice::Reason::lapped;
  }

 private:
  using Clock = std::chrono::steady_clock;

  SlowSubscriberPolicy policy_;
  Sequence live_from_;
  // Since when the subscriber has been behind without once being level with the head (first
  // judge() that found next <= head after one that found next > head); max() while level.
  Clock::time_point behind_since_ = Clock::time_point::max();
  std::chrono::nanoseconds behind_for_{0};  // measured by the last judge() (for too_slow)
};

}  // namespace sessionring::detail
