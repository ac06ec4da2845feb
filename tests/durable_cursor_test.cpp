// Durable subscriptions (SubscribeOptions::durable_name; engine/durable_cursor.cpp,
// engine/durable_subscribe.cpp; docs/design.md §7 "Durable subscriptions"): resume after the
// stored position, coalesced and automatic commits, listing with lag, deletion, bad input.
// Crash (SIGKILL) continuity: tests/durable_cursor_kill_test.cpp.
#include "log_test_util.hpp"
#include "oracle.hpp"

#include <sessionring/log_store.hpp>
#include <sessionring/session_server.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

using namespace sessionring;
using namespace sessionring::test;
using namespace std::chrono_literals;

namespace {

void append_n(Session& s, int n) {
  for (int i = 0; i < n; ++i) ASSERT_TRUE(s.append_wait(ev(EventType::message_streamed, "r1", std::to_string(i))).ok());
}

SubscribeOptions durable(std::string name, std::chrono::milliseconds interval = 0ms, bool auto_commit = false) {
  SubscribeOptions o;
  o.durable_name = std::move(name);
  o.commit_interval = interval;
  o.auto_commit = auto_commit;
  return o;
}

}  // namespace

TEST(DurableCursor, secondSubscriptionWithTheNameResumesAfterTheCommittedPositionIgnoringFromSequence) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok()) << s.error();
  append_n(*s, 10);
  {
    auto sub = s->subscribe(durable("indexer"));
    ASSERT_TRUE(sub.ok()) << sub.error();
    auto got = drain(*sub, 10);
    ASSERT_EQ(got.size(), 10u);
    ASSERT_TRUE(sub->commit(6));
    EXPECT_EQ(sub->committed(), 6u);
  }
  SubscribeOptions o = durable("indexer");
  o.from_sequence = 2;  // ignored: the name has a stored position
  auto again = s->subscribe(o);
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again->cursor(), 7u);
  EXPECT_EQ(sequences(drain(*again, 4)), (std::vector<Sequence>{7, 8, 9, 10}));
}

TEST(DurableCursor, newNameStartsAtFromSequenceAndIsListedAtOnceWithItsLag) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  append_n(*s, 10);
  SubscribeOptions o = durable("ui");
  o.from_sequence = 4;
  auto sub = s->subscribe(o);
  ASSERT_TRUE(sub.ok()) << sub.error();
  auto fresh = s->subscribe(durable("audit"));  // from_sequence 0: the first available
  ASSERT_TRUE(fresh.ok());
  auto list = s->cursors();
  ASSERT_TRUE(list.ok()) << list.error();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "audit");
  EXPECT_EQ((*list)[0].position, 0u);
  EXPECT_EQ((*list)[0].lag, 10u);
  EXPECT_EQ((*list)[1].name, "ui");
  EXPECT_EQ((*list)[1].position, 3u);
  EXPECT_EQ((*list)[1].lag, 7u);
  EXPECT_EQ(sequences(drain(*sub, 7)).front(), 4u);
}

TEST(DurableCursor, autoCommitStoresTheLastHandledEventIncludingFilteredOnesAfterThePoll) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  append_n(*s, 5);
  ASSERT_TRUE(s->append_wait(ev(EventType::run_started, "r2", "x")).ok());  // 6, filtered out
  SubscribeOptions o = durable("auto", 0ms, true);
  o.filter.run_id("r1");
  auto sub = s->subscribe(o);
  ASSERT_TRUE(sub.ok());
  auto n = sub->poll([](const EventView&) {});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 5u);
  EXPECT_EQ(s->log().read_cursor("auto").value(), 6u);
}

TEST(DurableCursor, handlerThatThrowsLeavesTheAutoCommittedPositionOnTheEventBeforeIt) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  append_n(*s, 6);
  auto sub = s->subscribe(durable("t", 0ms, true));
  ASSERT_TRUE(sub.ok());
  EXPECT_THROW((void)sub->poll([](const EventView& v) {
    if (v.sequence_number == 4) throw std::runtime_error("boom");
  }),
               std::runtime_error);
  ASSERT_TRUE(sub->flush_commit());
  EXPECT_EQ(s->log().read_cursor("t").value(), 3u);  // 4 was not processed: it is redelivered
  ASSERT_TRUE(sub->unsubscribe());
  auto again = s->subscribe(durable("t"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->cursor(), 4u);
}

TEST(DurableCursor, coalescedCommitsWriteAtMostOncePerIntervalAndUnsubscribeWritesThePendingOne) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  append_n(*s, 100);
  auto sub = s->subscribe(durable("c", 1h));
  ASSERT_TRUE(sub.ok());
  for (Sequence p = 1; p <= 100; ++p) ASSERT_TRUE(sub->commit(p));
  EXPECT_LE(sub->commit_writes(), 1u);  // the first may write (no write yet in this interval)
  EXPECT_LT(s->log().read_cursor("c").value(), 100u);
  ASSERT_TRUE(sub->unsubscribe());
  EXPECT_EQ(s->log().read_cursor("c").value(), 100u);
}

TEST(DurableCursor, deleteCursorRemovesItAndTheNextSubscriptionStartsFresh) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  append_n(*s, 5);
  {
    auto sub = s->subscribe(durable("d"));
    ASSERT_TRUE(sub.ok());
    ASSERT_TRUE(sub->commit(5));
  }
  ASSERT_TRUE(s->delete_cursor("d"));
  EXPECT_EQ(s->delete_cursor("d").code(), Errc::not_found);
  EXPECT_TRUE(s->cursors()->empty());
  auto sub = s->subscribe(durable("d"));
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->cursor(), 1u);
}

TEST(DurableCursor, badNameIntervalOrCommitWithoutANameIsValidationError) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  append_n(*s, 2);
  EXPECT_EQ(s->subscribe(durable("a/b")).code(), Errc::validation_error);
  EXPECT_EQ(s->subscribe(durable("ok", -1ms)).code(), Errc::validation_error);
  EXPECT_EQ(s->subscribe(durable("ok", 2h)).code(), Errc::validation_error);
  SubscribeOptions no_name;
  no_name.auto_commit = true;
  EXPECT_EQ(s->subscribe(no_name).code(), Errc::validation_error);
  auto plain = s->subscribe({});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->commit().code(), Errc::validation_error);
  EXPECT_EQ(plain->committed(), 0u);
  auto d = s->subscribe(durable("ok"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->commit(3).code(), Errc::validation_error);  // above the latest sequence
  EXPECT_TRUE(s->cursors().ok());
}

TEST(DurableCursor, logStoreDurableSubscriptionResumesAfterASessionRestart) {
  TempDir dir;
  LogStoreOptions lo;
  lo.root = dir.path();
  lo.durability = Durability::fsync;
  {
    auto store = LogStore::open(lo).value();
    auto s = Session::open(options(store));
    ASSERT_TRUE(s.ok()) << s.error();
    append_n(*s, 20);
    auto sub = s->subscribe(durable("idx", 0ms, true));
    ASSERT_TRUE(sub.ok());
    ASSERT_EQ(drain(*sub, 12, 60s).size() >= 12, true);
    ASSERT_TRUE(sub->commit(12));
  }
  auto store = LogStore::open(lo).value();
  auto s = Session::open(options(store));
  ASSERT_TRUE(s.ok()) << s.error();
  auto list = s->cursors();
  ASSERT_TRUE(list.ok()) << list.error();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].position, 12u);
  EXPECT_EQ((*list)[0].lag, 8u);
  auto sub = s->subscribe(durable("idx"));
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sequences(drain(*sub, 8)), (std::vector<Sequence>{13, 14, 15, 16, 17, 18, 19, 20}));
}

TEST(DurableCursor, pushSubscriptionWithAutoCommitStoresWhatItsHandlerReturnedFrom) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  append_n(*s, 50);
  // Writer: the push thread; reader: this test after unsubscribe() joined that thread (relaxed:
  // the join orders it).
  std::atomic<Sequence> seen{0};
  auto push = s->subscribe_push(durable("push", 0ms, true),
                                [&](const EventView& v) { seen.store(v.sequence_number, std::memory_order_relaxed); });
  ASSERT_TRUE(push.ok()) << push.error();
  const auto deadline = std::chrono::steady_clock::now() + patience();
  while (s->log().read_cursor("push").value() < 50 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(push->unsubscribe());
  EXPECT_EQ(s->log().read_cursor("push").value(), 50u);
  EXPECT_EQ(seen.load(std::memory_order_relaxed), 50u);
}

TEST(DurableCursor, sessionServerListsCursorsWithLagAndDeletesThem) {
  SessionServerOptions o;
  o.store = MemoryStore::create();
  o.new_session = NewSession{"srv-session", "{}", ""};
  auto server = SessionServer::start(std::move(o));
  ASSERT_TRUE(server.ok()) << server.error();
  append_n(server->session(), 4);
  auto sub = server->subscribe(durable("srv"));
  ASSERT_TRUE(sub.ok()) << sub.error();
  ASSERT_TRUE(sub->commit(1));
  auto list = server->cursors();
  ASSERT_TRUE(list.ok()) << list.error();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].position, 1u);
  EXPECT_EQ((*list)[0].lag, server->session().latest_sequence() - 1);
  EXPECT_TRUE(server->delete_cursor("srv"));
  EXPECT_TRUE(server->cursors()->empty());
}
