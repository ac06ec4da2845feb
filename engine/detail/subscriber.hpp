// Subscriber: one subscription's cursor and delivery logic (INV-3, INV-4). Reads the ring
// while its cursor is inside the ring's window; otherwise reads the store from its cursor
// (backfill, or after being lapped) and rejoins the ring once it is back within half a ring
// of the head (hysteresis, so it does not flap between the two). In its live part a
// skip_to_live or disconnect_after policy (LagPolicy) may instead skip to the head with a
// GapNotice, or end the subscription with subscriber_too_slow (docs/design.md §7).
// Threads: poll() by one thread at a time (the owner); unsubscribe() and the observers by any.
#pragma once
#include <sessionring/subscribe_options.hpp>
#include <sessionring/subscription_stats.hpp>

#include "detail/durable_cursor.hpp"
#include "detail/lag_policy.hpp"
#include "detail/one_user_check.hpp"
#include "detail/session_core.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace sessionring::detail {

class Subscriber {
 public:
  Subscriber(std::shared_ptr<SessionCore> core, SubscribeOptions options);
  ~Subscriber();

  /// The options' checks that belong to the subscriber (the slow-subscriber policy and on_gap).
  static Status validate(const SubscribeOptions& options) { return LagPolicy::validate(options); }

  /// `report_store_health`: answer storage_error when nothing is left to deliver and the
  /// session's store is failing (docs/design.md §11); false: wait quietly instead.
  /// With an auto-committing durable cursor, each handler return records its event as the
  /// position to commit, and the poll ends by recording cursor() − 1 and writing it when due (a
  /// failed write stays pending, reported by flush_commit(); the poll's answer is unaffected).
  Result<std::size_t> poll(FunctionRef<void(const EventView&)> handler, std::size_t max, Deadline deadline,
                           bool report_store_health = true);
  /// Unsubscribes; a durable cursor's pending position is written first (best effort).
  Status unsubscribe();
  /// The durable cursor (SubscribeOptions::durable_name), or null. Set once, right after
  /// construction, before the subscriber is shared.
  DurableCursor* durable() const noexcept { return durable_.get(); }
  void attach_durable(std::unique_ptr<DurableCursor> d) noexcept { durable_ = std::move(d); }
  /// Sleeps until `deadline`, unsubscribe(), the session closes, or its store health changes
  /// (a push subscription's back-off after an error).
  void pause(Deadline deadline);

  Sequence cursor() const noexcept { return cursor_.load(std::memory_order_relaxed); }  // relaxed: observer
  /// `closed` once unsubscribed, whatever the poll thread last stored (a poll running during
  /// unsubscribe() may still switch ring <-> store after it and store live/fell_behind).
  SubscriptionState state() const noexcept {
    if (unsubscribed_.load(std::memory_order_relaxed)) return SubscriptionState::closed;  // relaxed: observer only
    return state_.load(std::memory_order_relaxed);  // relaxed: observer only
  }
  bool caught_up() const noexcept { return caught_up_flag_.load(std::memory_order_relaxed); }
  std::uint64_t lapped_count() const noexcept { return lapped_.load(std::memory_order_relaxed); }
  std::uint64_t lag() const noexcept;
  std::uint64_t lead() const noexcept;
  SubscriptionStats stats() const noexcept;
  bool is_closed() const noexcept { return unsubscribed_.load(std::memory_order_seq_cst); }  // pairs with (U1)
  OneUserCheck one_poller;  // poll() (debug and sanitizer builds): never two threads at once

 private:
  /// Poll thread, before each delivery: unsubscribe() was called (from another thread, or from
  /// the handler that just returned), so no further handler call may start. (U2) seq_cst load,
  /// pairs with (U1): an unsubscribe() that returned before this load is seen by it.
  bool stopping() const noexcept { return unsubscribed_.load(std::memory_order_seq_cst); }

 public:

 private:
  enum class Mode : std::uint8_t { ring, store };
  Result<std::size_t> poll_events(FunctionRef<void(const EventView&)> handler, std::size_t max, Deadline deadline,
                                  bool report_store_health);
  Status read_ring(FunctionRef<void(const EventView&)>& handler, std::size_t max, Sequence head, std::size_t& delivered);
  Status read_store(FunctionRef<void(const EventView&)>& handler, std::size_t max, std::size_t& delivered);
  void deliver(FunctionRef<void(const EventView&)>& handler, const EventView& v, std::size_t& delivered);
  /// True: delivered; false: filtered out; an error: the store could not be read (cursor unchanged).
  Result<bool> deliver_from_store(FunctionRef<void(const EventView&)>& handler, Sequence seq, std::size_t& delivered);
  void maybe_rejoin(Sequence head);
  /// The policy's verdict before delivering `next` (loads the head, (R0)); deliver when inactive.
  LagPolicy::Verdict judge(Sequence next);
  /// Acts on the policy at the top of the poll loop: true: skipped to the head (on_gap called);
  /// false: deliver as usual; subscriber_too_slow: the subscription ended (ended_).
  Result<bool> enforce(Sequence head);
  void enter_store(SubscriptionState why);
  /// `health`: the store health seen before deciding to wait; a change wakes the wait.
  void wait(Deadline deadline, std::uint64_t health);
  Error store_failing_error() const;
  void set_cursor(Sequence next) noexcept {
    next_ = next;
    cursor_.store(next, std::memory_order_relaxed);  // relaxed: observers only
  }

  const std::shared_ptr<SessionCore> core_;
  const EventFilter filter_;
  const bool filter_all_;
  std::function<void(Sequence)> on_caught_up_;
  std::function<void(const GapNotice&)> on_gap_;
  const std::uint64_t id_;
  Mode mode_ = Mode::ring;
  Sequence next_ = 1;               // poll thread only: next sequence to consider
  std::vector<std::uint64_t> buf_;  // poll thread only: copy of one ring slot
  LagPolicy policy_;                // poll thread only (constructed after next_ is set: see the constructor)
  std::optional<Error> ended_;      // poll thread only: subscriber_too_slow, answered by every later poll
  std::unique_ptr<DurableCursor> durable_;  // null without durable_name; set before sharing

  std::atomic<Sequence> cursor_{1};  // writer: poll thread (relaxed); readers: observers; mirrors next_
  std::atomic<SubscriptionState> state_{SubscriptionState::backfilling};  // writer: poll thread; readers: observers (relaxed)
  std::atomic<bool> caught_up_flag_{false};   // writer: poll thread; readers: observers (relaxed)
  std::atomic<std::uint64_t> lapped_{0};      // writer: poll thread; readers: observers (relaxed)
  std::atomic<std::uint64_t> store_reads_{0}; // writer: poll thread; readers: observers (relaxed)
  std::atomic<std::uint64_t> delivered_{0};   // writer: poll thread; readers: observers (relaxed)
  std::atomic<std::uint64_t> gaps_{0};        // writer: poll thread (each skip); readers: observers (relaxed); publishes a count only
  std::atomic<std::uint64_t> skipped_{0};     // writer: poll thread (each skip); readers: observers (relaxed); publishes a count only
  // Writer: unsubscribe() (U1, seq_cst: WaitGate publication so a sleeping poll wakes);
  // readers: poll() and its wait predicate, and state() (relaxed, an observer).
  std::atomic<bool> unsubscribed_{false};
};

}  // namespace sessionring::detail
