// Stopping delivery (engine/push_subscription.cpp, engine/subscriber.cpp): unsubscribe() ends
// delivery after the handler call in progress and returns within one handler call, from
// another thread or from inside the handler, for push subscriptions and for a pull poll() with
// no max_events; a PushSubscription may be destroyed or reassigned from inside its own handler.
// Regression tests for issue 12, defects 1 and 2 (each failed on the code before the fix).
#include "oracle.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>

using namespace sessionring;
using namespace sessionring::test;
using namespace std::chrono_literals;

namespace {

/// One unpaced producer appending until told to stop (the head keeps moving, so a subscriber
/// that ignored unsubscribe would never run out of events to deliver).
class Flood {
 public:
  explicit Flood(Session& s) : thread_([this, &s] {
    auto p = s.producer();
    ASSERT_TRUE(p.ok());
    while (!stop_.load()) {
      const Status st = p->append(ev(EventType::message_streamed, "r", "flood"));
      if (!st && st.code() != Errc::queue_full) break;  // stopped session
    }
  }) {}
  ~Flood() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

SessionOptions flood_options() {
  SessionOptions o = options(MemoryStore::create(), "s1", 16, 256);
  o.ingest_capacity = 64;
  return o;
}

void slow_handler_call() { std::this_thread::sleep_for(200us); }

}  // namespace

TEST(PushSubscriptionStop, unsubscribeFromAnotherThreadLetsAtMostTheCallInProgressComplete) {
  Watchdog dog("unsubscribe under a flood", 60s);
  auto s = Session::open(flood_options());
  ASSERT_TRUE(s.ok()) << s.error();
  Flood flood(*s);
  std::atomic<std::uint64_t> calls{0};
  std::atomic<bool> returned{false};
  std::atomic<std::uint64_t> calls_after_return{0};
  auto push = s->subscribe_push({}, [&](const EventView&) {
    if (returned.load()) calls_after_return.fetch_add(1);
    calls.fetch_add(1);
    slow_handler_call();
  });
  ASSERT_TRUE(push.ok()) << push.error();
  ASSERT_TRUE(eventually([&] { return calls.load() > 20; }));
  const std::uint64_t before = calls.load();
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(push->unsubscribe().ok());
  const auto took = std::chrono::steady_clock::now() - t0;
  returned = true;
  const std::uint64_t at_return = calls.load();
  EXPECT_LE(at_return, before + 1) << "handler calls started after unsubscribe() was called";
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(calls_after_return.load(), 0u) << "handler called after unsubscribe() returned";
  EXPECT_TRUE(push->finished());
  // Returns within one handler call (200 us) plus scheduling: 5 s is only a hang detector.
  EXPECT_LT(took, 5s);
}

TEST(PushSubscriptionStop, unsubscribeFromInsideTheHandlerEndsDeliveryAfterThatCall) {
  Watchdog dog("unsubscribe from the handler", 60s);
  auto s = Session::open(flood_options());
  ASSERT_TRUE(s.ok()) << s.error();
  Flood flood(*s);
  std::optional<PushSubscription> push;
  std::atomic<std::uint64_t> calls{0};
  std::atomic<bool> ready{false};
  std::atomic<int> unsubscribe_code{-1};
  auto r = s->subscribe_push({}, [&](const EventView& v) {
    calls.fetch_add(1);
    while (!ready.load()) std::this_thread::yield();
    if (v.sequence_number == 10) unsubscribe_code = static_cast<int>(push->unsubscribe().code());
  });
  ASSERT_TRUE(r.ok()) << r.error();
  push.emplace(std::move(*r));
  ready = true;
  ASSERT_TRUE(eventually([&] { return push->finished(); }));
  EXPECT_EQ(unsubscribe_code.load(), static_cast<int>(Errc::ok));
  EXPECT_EQ(calls.load(), 10u) << "delivery went on after unsubscribe() from the handler at sequence 10";
  EXPECT_EQ(push->state(), SubscriptionState::closed);
}

TEST(PushSubscriptionStop, destroyingItInsideItsOwnHandlerNeitherAbortsNorDeliversMore) {
  Watchdog dog("destroy from the handler", 60s);
  auto s = Session::open(flood_options());
  ASSERT_TRUE(s.ok()) << s.error();
  Flood flood(*s);
  auto push = std::make_unique<std::optional<PushSubscription>>();
  std::atomic<std::uint64_t> calls{0};
  std::atomic<bool> ready{false};
  std::atomic<bool> destroyed{false};
  auto r = s->subscribe_push({}, [&](const EventView& v) {
    calls.fetch_add(1);
    while (!ready.load()) std::this_thread::yield();
    if (v.sequence_number == 5) {  // "stop when I see run_completed": drop the subscription object
      push->reset();
      destroyed = true;
    }
  });
  ASSERT_TRUE(r.ok()) << r.error();
  push->emplace(std::move(*r));
  ready = true;
  ASSERT_TRUE(eventually([&] { return destroyed.load(); }));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(calls.load(), 5u);
}

TEST(PushSubscriptionStop, moveAssigningOverItInsideItsOwnHandlerNeitherAbortsNorDeliversMore) {
  Watchdog dog("move-assign from the handler", 60s);
  auto s = Session::open(flood_options());
  ASSERT_TRUE(s.ok()) << s.error();
  Flood flood(*s);
  std::optional<PushSubscription> push;
  std::optional<PushSubscription> other;
  std::atomic<std::uint64_t> calls{0};
  std::atomic<bool> ready{false};
  std::atomic<bool> replaced{false};
  auto r = s->subscribe_push({}, [&](const EventView& v) {
    calls.fetch_add(1);
    while (!ready.load()) std::this_thread::yield();
    if (v.sequence_number == 5) {
      *push = std::move(*other);  // replaces (and stops) the subscription running this handler
      replaced = true;
    }
  });
  ASSERT_TRUE(r.ok()) << r.error();
  push.emplace(std::move(*r));
  std::atomic<std::uint64_t> other_calls{0};
  SubscribeOptions late;
  late.from_sequence = 1;
  auto r2 = s->subscribe_push(late, [&](const EventView&) { other_calls.fetch_add(1); });
  ASSERT_TRUE(r2.ok()) << r2.error();
  other.emplace(std::move(*r2));
  ready = true;
  ASSERT_TRUE(eventually([&] { return replaced.load(); }));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(calls.load(), 5u);
  EXPECT_FALSE(push->finished()) << "the subscription moved in keeps running";
  ASSERT_TRUE(eventually([&] { return other_calls.load() > 5; }));
  ASSERT_TRUE(push->unsubscribe().ok());
}

TEST(SubscriptionStop, unsubscribeFromAnotherThreadEndsAnUnboundedPollAfterTheCallInProgress) {
  Watchdog dog("unbounded poll under a flood", 60s);
  auto s = Session::open(flood_options());
  ASSERT_TRUE(s.ok()) << s.error();
  auto sub = s->subscribe({});
  ASSERT_TRUE(sub.ok()) << sub.error();
  {
    auto p = s->producer();
    ASSERT_TRUE(p.ok());
    for (int i = 0; i < 5000; ++i) {  // a deep backlog: the poll reads the store for a long time
      Status st = p->append(ev(EventType::message_streamed, "r", "x"));
      if (!st) {
        ASSERT_EQ(st.code(), Errc::queue_full);
        std::this_thread::yield();
        --i;
      }
    }
  }
  Flood flood(*s);
  std::atomic<std::uint64_t> calls{0};
  std::atomic<bool> returned{false};
  std::atomic<std::uint64_t> after_return{0};
  std::thread other([&] {
    while (calls.load() < 20) std::this_thread::yield();
    ASSERT_TRUE(sub->unsubscribe().ok());
    returned = true;
  });
  auto n = sub->poll([&](const EventView&) {
    if (returned.load()) after_return.fetch_add(1);
    calls.fetch_add(1);
    slow_handler_call();
  });
  other.join();
  ASSERT_TRUE(n.ok()) << n.error();
  EXPECT_LE(after_return.load(), 1u) << "poll() went on delivering after unsubscribe() returned";
  EXPECT_LT(calls.load(), 1000u);
  EXPECT_EQ(sub->poll([](const EventView&) {}).code(), Errc::closed);
}
