// Bad input of Subscription and PushSubscription (engine/subscription.cpp,
// engine/push_subscription.cpp, engine/subscriber.cpp), docs/errors.md "Bad-input table": poll
// after unsubscribe or on a moved-from handle, a second unsubscribe. Each test stores known
// events first, checks the exact Errc and message, that nothing stored changed, and that a new
// subscription still gets every event. Runs on a MemoryStore and on a LogStore.
#include "oracle.hpp"
#include "store_snapshot.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

using namespace sessionring;
using namespace sessionring::test;
using namespace std::chrono_literals;

namespace {

constexpr int kSeeded = 3;

class SubscriptionBadInput : public ::testing::TestWithParam<StoreKind> {
 protected:
  SubscriptionBadInput() : st_(GetParam()) {}

  void SetUp() override {
    auto s = Session::open(options(st_.store(), "s1"));
    ASSERT_TRUE(s.ok()) << s.error();
    session_ = std::make_unique<Session>(std::move(*s));
    seed(*session_, kSeeded);
    before_ = take_snapshot(session_->log());
  }

  /// Nothing stored changed, a new subscription from the start gets every event, and the
  /// session still appends.
  void expect_store_and_session_intact() {
    EXPECT_TRUE(same_contents(before_, take_snapshot(session_->log())));
    auto sub = session_->subscribe();
    ASSERT_TRUE(sub.ok()) << sub.error();
    const auto got = drain(*sub, before_.events.size());
    ASSERT_EQ(got.size(), before_.events.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], before_.events[i]);
    expect_still_appends(*session_, before_);
  }

  StoreUnderTest st_;
  std::unique_ptr<Session> session_;
  StoreSnapshot before_;
};

/// Counts the events a push handler got; wait_for(n) blocks until n arrived (watchdog).
class Arrivals {
 public:
  void arrive() {
    std::lock_guard lock(m_);
    ++n_;
    cv_.notify_all();
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, patience(), [&] { return n_ >= n; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::size_t n_ = 0;
};

}  // namespace

TEST_P(SubscriptionBadInput, pollAndPollWaitAfterUnsubscribeAreClosedAndStoreUnchanged) {
  auto sub = session_->subscribe();
  ASSERT_TRUE(sub.ok());
  ASSERT_EQ(drain(*sub, kSeeded).size(), static_cast<std::size_t>(kSeeded));
  ASSERT_TRUE(sub->unsubscribe().ok());
  std::size_t delivered = 0;
  auto r = sub->poll([&](const EventView&) { ++delivered; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::closed);
  EXPECT_TRUE(names(r.error(), {"subscription", "of session 's1' is unsubscribed"}));
  auto w = sub->poll_wait([&](const EventView&) { ++delivered; }, std::chrono::steady_clock::now() + 1s);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.code(), Errc::closed);
  EXPECT_TRUE(names(w.error(), {"of session 's1' is unsubscribed"}));
  EXPECT_EQ(delivered, 0u);
  EXPECT_EQ(sub->state(), SubscriptionState::closed);
  EXPECT_EQ(sub->cursor(), static_cast<Sequence>(kSeeded + 1)) << "a refused poll moved the cursor";
  expect_store_and_session_intact();
}

TEST_P(SubscriptionBadInput, pollOfAMovedFromSubscriptionIsClosedAndTheMovedToOneDeliversEverything) {
  auto a = session_->subscribe();
  ASSERT_TRUE(a.ok());
  Subscription b = std::move(*a);
  auto r = a->poll([](const EventView&) {});  // NOLINT(bugprone-use-after-move): the case under test
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::closed);
  EXPECT_TRUE(names(r.error(), {"Subscription was moved from"}));
  auto w = a->poll_wait([](const EventView&) {}, std::chrono::steady_clock::now());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(w.code(), Errc::closed);
  EXPECT_EQ(a->state(), SubscriptionState::closed);  // NOLINT(bugprone-use-after-move)
  const auto got = drain(b, kSeeded);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kSeeded));
  EXPECT_EQ(got.front().sequence_number, 1u);
  expect_store_and_session_intact();
}

TEST_P(SubscriptionBadInput, secondUnsubscribeOrUnsubscribeOfAMovedFromSubscriptionIsClosed) {
  auto sub = session_->subscribe();
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(sub->unsubscribe().ok());
  for (int attempt = 0; attempt < 2; ++attempt) {
    Status st = sub->unsubscribe();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Errc::closed);
    EXPECT_TRUE(names(st.error(), {"subscription", "of session 's1' is already unsubscribed"}));
  }
  auto a = session_->subscribe();
  ASSERT_TRUE(a.ok());
  Subscription b = std::move(*a);
  Status moved = a->unsubscribe();  // NOLINT(bugprone-use-after-move): the case under test
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.code(), Errc::closed);
  EXPECT_TRUE(names(moved.error(), {"Subscription was moved from"}));
  EXPECT_EQ(session_->stats().subscribers.size(), 1u) << "only b is still attached";
  EXPECT_TRUE(b.unsubscribe().ok());
  EXPECT_EQ(session_->stats().subscribers.size(), 0u);
  expect_store_and_session_intact();
}

TEST_P(SubscriptionBadInput, secondUnsubscribeOrUnsubscribeOfAMovedFromPushSubscriptionIsClosed) {
  Arrivals arrivals;
  auto push = session_->subscribe_push({}, [&](const EventView&) { arrivals.arrive(); });
  ASSERT_TRUE(push.ok()) << push.error();
  ASSERT_TRUE(arrivals.wait_for(kSeeded));
  ASSERT_TRUE(push->unsubscribe().ok());
  EXPECT_TRUE(push->finished());
  for (int attempt = 0; attempt < 2; ++attempt) {
    Status st = push->unsubscribe();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Errc::closed);
    EXPECT_TRUE(names(st.error(), {"of session 's1' is already unsubscribed"}));
  }
  EXPECT_EQ(push->delivered(), static_cast<std::uint64_t>(kSeeded));
  EXPECT_TRUE(push->last_error().empty()) << push->last_error();

  Arrivals second;
  auto a = session_->subscribe_push({}, [&](const EventView&) { second.arrive(); });
  ASSERT_TRUE(a.ok());
  PushSubscription b = std::move(*a);
  Status moved = a->unsubscribe();  // NOLINT(bugprone-use-after-move): the case under test
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.code(), Errc::closed);
  EXPECT_TRUE(names(moved.error(), {"PushSubscription was moved from"}));
  EXPECT_TRUE(a->finished());  // NOLINT(bugprone-use-after-move): a moved-from handle has no thread
  ASSERT_TRUE(second.wait_for(kSeeded));  // b keeps delivering
  EXPECT_TRUE(b.unsubscribe().ok());
  EXPECT_EQ(b.unsubscribe().code(), Errc::closed);
  expect_store_and_session_intact();
}


// ---------------------------------------------------------------------------------------------
// SubscribeOptions::slow and on_gap (docs/design.md §7 "Slow subscribers"): refused by both
// subscribe calls with validation_error naming the option; nothing is attached.

namespace {

/// Both subscribe calls refuse `o` with validation_error whose message names every one of `words`.
void expect_refused_by_both_subscribe_calls(Session& session, const SubscribeOptions& o,
                                            std::initializer_list<std::string_view> words) {
  auto pull = session.subscribe(o);
  ASSERT_FALSE(pull.ok());
  EXPECT_EQ(pull.code(), Errc::validation_error);
  EXPECT_TRUE(names(pull.error(), words)) << pull.error();
  auto push = session.subscribe_push(o, [](const EventView&) {});
  ASSERT_FALSE(push.ok());
  EXPECT_EQ(push.code(), Errc::validation_error);
  EXPECT_TRUE(names(push.error(), words)) << push.error();
  EXPECT_EQ(session.stats().subscribers.size(), 0u) << "a refused subscribe attached nothing";
}

}  // namespace

TEST_P(SubscriptionBadInput, slowModeOutsideTheEnumerationIsValidationErrorInBothSubscribeCalls) {
  SubscribeOptions o;
  o.slow.mode = static_cast<SlowSubscriberPolicy::Mode>(7);
  expect_refused_by_both_subscribe_calls(*session_, o, {"slow.mode = 7", "is not a SlowSubscriberPolicy::Mode"});
  expect_store_and_session_intact();
}

TEST_P(SubscriptionBadInput, negativeMaxLagTimeOrMaxLagEventsAboveMaxSequenceIsValidationErrorNamingIt) {
  SubscribeOptions o;
  o.slow = SlowSubscriberPolicy::disconnect_after(0, std::chrono::milliseconds(-50));
  expect_refused_by_both_subscribe_calls(*session_, o, {"slow.max_lag_time = -50 ms", "is negative"});
  o.slow = SlowSubscriberPolicy::disconnect_after(kMaxSequence + 1);
  const std::string too_many = std::string("slow.max_lag_events = ").append(std::to_string(kMaxSequence + 1));
  expect_refused_by_both_subscribe_calls(*session_, o, {too_many, "2^62"});
  expect_store_and_session_intact();
}

TEST_P(SubscriptionBadInput, disconnectAfterWithNeitherLimitIsValidationErrorSayingBothAreZero) {
  SubscribeOptions o;
  o.slow = SlowSubscriberPolicy::disconnect_after(0, std::chrono::nanoseconds(0));
  expect_refused_by_both_subscribe_calls(*session_, o, {"disconnect_after needs a limit", "both are 0"});
  expect_store_and_session_intact();
}

TEST_P(SubscriptionBadInput, skipToLiveWithoutOnGapIsValidationErrorNamingOnGap) {
  SubscribeOptions o;
  o.slow = SlowSubscriberPolicy::skip_to_live();
  expect_refused_by_both_subscribe_calls(*session_, o, {"skip_to_live needs SubscribeOptions::on_gap"});
  expect_store_and_session_intact();
}

TEST_P(SubscriptionBadInput, limitsOrOnGapThatTheModeNeverUsesAreValidationErrorNamingTheMode) {
  SubscribeOptions o;
  o.slow.max_lag_events = 10;  // catch_up with a limit
  expect_refused_by_both_subscribe_calls(*session_, o, {"slow.max_lag_events = 10", "slow.mode is catch_up"});
  o.slow = SlowSubscriberPolicy::skip_to_live();
  o.slow.max_lag_time = std::chrono::seconds(1);
  o.on_gap = [](const GapNotice&) {};
  expect_refused_by_both_subscribe_calls(*session_, o, {"slow.max_lag_time = 1000 ms", "only for disconnect_after"});
  o.slow = SlowSubscriberPolicy::disconnect_after(5);
  expect_refused_by_both_subscribe_calls(*session_, o, {"on_gap is set but slow.mode is disconnect_after"});
  o.slow = SlowSubscriberPolicy::catch_up();
  expect_refused_by_both_subscribe_calls(*session_, o, {"on_gap is set but slow.mode is catch_up"});
  expect_store_and_session_intact();
}

INSTANTIATE_TEST_SUITE_P(Stores, SubscriptionBadInput, ::testing::Values(StoreKind::memory, StoreKind::log),
                         kind_name);
