// Slow-subscriber policies: validation and the per-delivery verdict (docs/design.md §7 "Slow
// subscribers"). The Subscriber (engine/subscriber.cpp) acts on the verdict.
#include "detail/lag_policy.hpp"

#include <sessionring/config.hpp>

#include <string>

namespace sessionring::detail {
namespace {

using Mode = SlowSubscriberPolicy::Mode;

std::string_view mode_name(Mode m) noexcept {
  switch (m) {
    case Mode::catch_up: return "catch_up";
    case Mode::skip_to_live: return "skip_to_live";
    case Mode::disconnect_after: return "disconnect_after";
  }
  return "invalid";
}

/// "2500 ms" / "17 us" / "3 ns": the largest unit that keeps the number whole above 10.
std::string duration_text(std::chrono::nanoseconds d) {
  const auto ns = d.count();
  if (ns >= 10'000'000 || ns <= -10'000'000) return std::to_string(ns / 1'000'000).append(" ms");
  if (ns >= 10'000 || ns <= -10'000) return std::to_string(ns / 1'000).append(" us");
  return std::to_string(ns).append(" ns");
}

Status invalid(std::string message) { return Status(Errc::validation_error, std::move(message)); }

}  // namespace

LagPolicy::LagPolicy(const SlowSubscriberPolicy& policy, Sequence live_from) noexcept
    : policy_(policy), live_from_(live_from) {}

Status LagPolicy::validate(const SubscribeOptions& o) {
  const SlowSubscriberPolicy& p = o.slow;
  const std::string_view mode = mode_name(p.mode);
  if (mode == "invalid")
    return invalid(std::string("slow.mode = ")
                       .append(std::to_string(static_cast<unsigned>(p.mode)))
                       .append(" is not a SlowSubscriberPolicy::Mode (catch_up, skip_to_live, disconnect_after)"));
  if (p.max_lag_time.count() < 0)
    return invalid(std::string("slow.max_lag_time = ")
                       .append(duration_text(p.max_lag_time))
                       .append(" is negative; it is a duration (0: no time limit)"));
  if (p.max_lag_events > kMaxSequence)
    return invalid(std::string("slow.max_lag_events = ")
                       .append(std::to_string(p.max_lag_events))
                       .append(" is above the largest lag a cursor can have (2^62)"));
  switch (p.mode) {
    case Mode::catch_up:
      if (p.max_lag_events != 0 || p.max_lag_time.count() != 0)
        return invalid(std::string("slow.max_lag_events = ")
                           .append(std::to_string(p.max_lag_events))
                           .append(" / slow.max_lag_time = ")
                           .append(duration_text(p.max_lag_time))
                           .append(" are set but slow.mode is catch_up, which never skips or disconnects; "
                                   "choose skip_to_live or disconnect_after, or leave them 0"));
      break;
    case Mode::skip_to_live:
      if (p.max_lag_time.count() != 0)
        return invalid(std::string("slow.max_lag_time = ")
                           .append(duration_text(p.max_lag_time))
                           .append(" is only for disconnect_after; skip_to_live skips when lapped or above "
                                   "slow.max_lag_events"));
      if (!o.on_gap)
        return invalid(
            "slow.mode = skip_to_live needs SubscribeOptions::on_gap: every skip is reported "
            "there with the skipped range, never silently");
      break;
    case Mode::disconnect_after:
      if (p.max_lag_events == 0 && p.max_lag_time.count() == 0)
        return invalid(
            "slow.mode = disconnect_after needs a limit: slow.max_lag_events > 0 and/or "
            "slow.max_lag_time > 0 (both are 0)");
      break;
  }
  if (o.on_gap && p.mode != Mode::skip_to_live)
    return invalid(std::string("on_gap is set but slow.mode is ")
                       .append(mode)
                       .append(": only skip_to_live skips; set slow = SlowSubscriberPolicy::skip_to_live() or "
                               "drop on_gap"));
  return {};
}

LagPolicy::Verdict LagPolicy::judge(Sequence next, Sequence head, Sequence first_held) noexcept {
  if (next < live_from_ || next > head) {  // history, or level with the head: nothing to judge
    behind_since_ = Clock::time_point::max();
    return Verdict::deliver;
  }
  const std::uint64_t behind = head + 1 - next;  // published and undelivered, next..head
  if (policy_.mode == Mode::skip_to_live) {
    if (next < first_held) return Verdict::skip_lapped;
    if (policy_.max_lag_events != 0 && behind > policy_.max_lag_events) return Verdict::skip_lag;
    return Verdict::deliver;
  }
  if (policy_.mode != Mode::disconnect_after) return Verdict::deliver;
  if (policy_.max_lag_events != 0 && behind > policy_.max_lag_events) return Verdict::disconnect;
  if (policy_.max_lag_time.count() > 0) {
    const auto now = Clock::now();
    if (behind_since_ == Clock::time_point::max()) behind_since_ = now;  // it fell behind just now
    behind_for_ = std::chrono::duration_cast<std::chrono::nanoseconds>(now - behind_since_);
    if (behind_for_ >= policy_.max_lag_time) return Verdict::disconnect;
  }
  return Verdict::deliver;
}

Error LagPolicy::too_slow(std::string_view session_id, std::uint64_t subscription_id, Sequence next,
                          Sequence head) const {
  const std::uint64_t behind = head >= next ? head + 1 - next : 0;
  std::string m("session '");
  m.append(session_id).append("': subscription ").append(std::to_string(subscription_id)).append(" is too slow: ");
  if (policy_.max_lag_events != 0 && behind > policy_.max_lag_events) {
    m.append(std::to_string(behind))
        .append(" events undelivered (")
        .append(std::to_string(next))
        .append("..")
        .append(std::to_string(head))
        .append("), more than slow.max_lag_events = ")
        .append(std::to_string(policy_.max_lag_events));
  } else {
    m.append("it has been behind the head for ")
        .append(duration_text(behind_for_))
        .append(" without once delivering everything published, at least slow.max_lag_time = ")
        .append(duration_text(policy_.max_lag_time))
        .append(" (")
        .append(std::to_string(behind))
        .append(" events undelivered now, ")
        .append(std::to_string(next))
        .append("..")
        .append(std::to_string(head))
        .append(")");
  }
  m.append("; it delivered everything up to ")
      .append(std::to_string(next - 1))
      .append(" and delivers nothing more: subscribe again with from_sequence = ")
      .append(std::to_string(next))
      .append(" to resume with no gap");
  return Error(Errc::subscriber_too_slow, std::move(m));
}

}  // namespace sessionring::detail
