// Followers (engine/follower.cpp, SessionOptions::follow, docs/design.md §15): a read-only
// session on a session another writer appends to delivers, to every subscriber, the writer's
// events exactly (same sequences, every field), history then live, with no gap or duplicate
// even when its ring laps them thousands of times; it refuses producers with a typed error and
// stops cleanly. (Across hosts on JetStream: tests/jetstream_shipper_test.cpp.)
#include "log_test_util.hpp"
#include "oracle.hpp"
#include "shipper_test_support.hpp"

#include <sessionring/sessionring.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace sessionring::test {
namespace {

SessionOptions follower_of(std::shared_ptr<SessionStore> store, const std::string& id) {
  SessionOptions o = options(std::move(store), id, /*ring_capacity=*/4, /*slot_bytes=*/64);  // laps, oversize
  o.follow = true;
  return o;
}

/// Everything `sub` delivers until it has `n` events; owning copies, session_id cleared.
std::vector<Event> receive(Subscription& sub, std::size_t n) {
  auto got = drain(sub, n);
  for (Event& e : got) e.session_id.clear();
  return got;
}

// Two LogStore instances on one root: the writer's and the follower's (as two processes).
TEST(Follower, deliversAnotherWritersHistoryThenLiveEventsExactlyWithoutGapOrDuplicate) {
  TempDir dir;
  auto writer_store = LogStore::open(options_in(dir)).value();
  Session writer = Session::open(options(writer_store, "s")).value();
  append_messages(writer, 0, 100);  // history

  auto reader_store = LogStore::open(options_in(dir)).value();
  Session follower = Session::open(follower_of(reader_store, "s")).value();
  auto from_start = follower.subscribe().value();
  SubscribeOptions live;
  live.from_sequence = 90;
  auto from_90 = follower.subscribe(live).value();

  const std::size_t more = scaled(900, 9'000, 100);
  std::thread appender([&] { append_messages(writer, 100, more); });
  auto all = receive(from_start, 100 + more);
  auto tail = receive(from_90, 100 + more - 89);
  appender.join();

  auto want = all_of(*writer_store, "s");
  ASSERT_EQ(want.size(), 100 + more);
  EXPECT_EQ(all, want);
  EXPECT_EQ(tail, std::vector<Event>(want.begin() + 89, want.end()));
  // A subscriber behind the ring reads the store up to what it holds, which may be ahead of what
  // the follower's thread has published so far: wait for the follower to publish it all.
  const auto until = std::chrono::steady_clock::now() + patience();
  while (follower.latest_sequence() < 100 + more && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(follower.latest_sequence(), 100 + more);
  ASSERT_TRUE(follower.stop().ok());
  ASSERT_TRUE(writer.stop().ok());
}

// One MemoryStore, a writer's session and a follower on it; a ring of 4 slots laps thousands of
// times while a slow subscriber falls back to the store and rejoins.
TEST(Follower, subscribersOfAFollowerWithATinyRingGetEveryEventOnceInOrder) {
  auto store = MemoryStore::create();
  Session writer = Session::open(options(store, "s")).value();
  Session follower = Session::open(follower_of(store, "s")).value();
  auto fast = follower.subscribe().value();
  auto slow = follower.subscribe().value();
  const std::size_t n = scaled(20'000, 200'000, 2'000);
  std::thread appender([&] {
    Producer p = writer.producer().value();
    AppendOptions ao;
    ao.on_full = FullPolicy::wait;
    for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(p.append(ev(EventType::message_streamed, "r", "x"), ao).ok());
  });
  std::vector<Sequence> got_fast, got_slow;
  Watchdog dog("follower subscribers");
  for (std::uint64_t tick = 0; got_fast.size() < n || got_slow.size() < n; ++tick) {
    if (got_fast.size() < n) {
      ASSERT_TRUE(fast.poll([&](const EventView& v) { got_fast.push_back(v.sequence_number); }).ok());
    }
    if (got_slow.size() < n && (got_fast.size() == n || tick % 64 == 0)) {
      ASSERT_TRUE(slow.poll([&](const EventView& v) { got_slow.push_back(v.sequence_number); }, 3).ok());
    }
  }
  appender.join();
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(got_fast[i], i + 1) << "fast subscriber: gap or duplicate";
    ASSERT_EQ(got_slow[i], i + 1) << "slow subscriber: gap or duplicate";
  }
  EXPECT_GT(slow.stats().store_reads, 0u) << "the slow subscriber never fell behind the ring";
  ASSERT_TRUE(follower.stop().ok());
  ASSERT_TRUE(writer.stop().ok());
}

TEST(Follower, producersAndAppendsAreRefusedWithUnsupportedAndStoreNothing) {
  auto store = MemoryStore::create();
  Session writer = Session::open(options(store, "s")).value();
  append_messages(writer, 0, 3);
  Session follower = Session::open(follower_of(store, "s")).value();
  auto p = follower.producer();
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.code(), Errc::unsupported);
  EXPECT_NE(p.error().message().find("follower"), std::string::npos) << p.error();
  EXPECT_EQ(follower.append(ev(EventType::message_streamed, "r", "x")).code(), Errc::unsupported);
  EXPECT_EQ(follower.append_wait(ev(EventType::message_streamed, "r", "x")).code(), Errc::unsupported);
  EXPECT_EQ(all_of(*store, "s").size(), 3u);
  ASSERT_TRUE(follower.stop().ok());
}

TEST(Follower, durableSubscriptionIsRefusedWithUnsupportedAndStoresNoCursor) {
  auto store = MemoryStore::create();
  Session writer = Session::open(options(store, "s")).value();
  append_messages(writer, 0, 3);
  Session follower = Session::open(follower_of(store, "s")).value();
  SubscribeOptions so;
  so.durable_name = "ui";
  auto sub = follower.subscribe(so);
  ASSERT_FALSE(sub.ok());
  EXPECT_EQ(sub.code(), Errc::unsupported);
  EXPECT_NE(sub.error().message().find("committed by the session's writer"), std::string::npos) << sub.error();
  EXPECT_TRUE(writer.log().list_cursors().value().empty());
  ASSERT_TRUE(follower.stop().ok());
  ASSERT_TRUE(writer.stop().ok());
}

TEST(Follower, followingASessionTheStoreDoesNotHoldIsNotFoundAndCreatesNothing) {
  auto store = MemoryStore::create();
  auto s = Session::open(follower_of(store, "missing"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Errc::not_found);
  EXPECT_TRUE(store->list_sessions().value().empty());
}

TEST(Follower, stopEndsItsSubscriptionsClosedAfterWhatWasPublished) {
  auto store = MemoryStore::create();
  Session writer = Session::open(options(store, "s")).value();
  append_messages(writer, 0, 10);
  Session follower = Session::open(follower_of(store, "s")).value();
  auto sub = follower.subscribe().value();
  ASSERT_TRUE(eventually([&] { return follower.latest_sequence() == 10; }));
  ASSERT_TRUE(follower.stop().ok());
  auto got = receive(sub, 10);
  EXPECT_EQ(got.size(), 10u);
  ASSERT_TRUE(eventually([&] {
    (void)sub.poll([](const EventView&) {});
    return sub.state() == SubscriptionState::closed;
  }));
  ASSERT_TRUE(writer.stop().ok());
}

}  // namespace
}  // namespace sessionring::test
