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

INSTANTIATE_TEST_SUITE_P(Stores, SubscriptionBadInput, ::testing::Values(StoreKind::memory, StoreKind::log),
                         kind_name);
