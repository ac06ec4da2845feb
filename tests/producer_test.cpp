// Producer (engine/producer.cpp): validation, the credit bound and full policies (INV-7), the
// stop handshake, per-producer order (INV-5), producer slots.
#include "detail/producer_impl.hpp"
#include "detail/session_core.hpp"

#include "oracle.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

using namespace sessionring;
using namespace sessionring::test;

namespace {

struct Blocked {
  std::shared_ptr<ControlledStore> store = std::make_shared<ControlledStore>();
  Session session;
  Producer producer;

  static Blocked open(QueueBackend queue, std::uint32_t capacity) {
    auto store = std::make_shared<ControlledStore>();
    SessionOptions o = options(store);
    o.queue = queue;
    o.ingest_capacity = capacity;
    auto s = Session::open(o);
    EXPECT_TRUE(s.ok()) << s.error();
    auto p = s->producer();
    EXPECT_TRUE(p.ok());
    return Blocked{store, std::move(*s), std::move(*p)};
  }
  /// Stalls the sequencer inside log.append() with one event popped (its credit returned).
  void stall_sequencer() {
    store->control().block_appends();
    ASSERT_TRUE(producer.append(ev(EventType::run_started, "r", "blocker")).ok());
    ASSERT_TRUE(store->control().wait_blocked(1));
  }
};

std::vector<std::string> stored_data(const SessionLog& log) {
  std::vector<std::string> out;
  auto r = log.read(EventQuery{});
  EXPECT_TRUE(r.ok());
  for (const Event& e : *r) out.push_back(e.data);
  return out;
}

}  // namespace

TEST(Producer, producerWithCreditFindingTheBoostQueueFullParksUntilAPop) {
  // Issue 12: it spun with yields (a busy core) and never parked. Two producers share a Boost
  // queue of 4 while the sequencer is blocked in the store: the second still has credit but the
  // queue is full. It must park on the `space` gate, and go on once the sequencer pops.
  auto store = std::make_shared<ControlledStore>();
  SessionOptions o = options(store);
  o.queue = QueueBackend::boost_lockfree;
  o.ingest_capacity = 4;
  auto log = store->open(o.session_id, OpenMode::write);
  ASSERT_TRUE(log.ok());
  auto core = std::make_shared<detail::SessionCore>(o, *log);
  ASSERT_TRUE(core->start().ok());
  auto slot_a = core->acquire_producer();
  auto slot_b = core->acquire_producer();
  ASSERT_TRUE(slot_a.ok() && slot_b.ok());
  detail::ProducerImpl a(*core, *slot_a, core);
  detail::ProducerImpl b(*core, *slot_b, core);
  Watchdog dog("boost queue full park");
  store->control().block_appends();
  ASSERT_TRUE(a.push(ev(EventType::run_started, "r", "blocker"), {}, nullptr).ok());
  ASSERT_TRUE(store->control().wait_blocked(1));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(a.push(ev(EventType::message_streamed, "r", "fill"), {}, nullptr).ok());
  EXPECT_EQ(b.push(ev(EventType::message_streamed, "r", "b"), AppendOptions::fail_fast(), nullptr).code(),
            Errc::queue_full);  // b has credit: the queue itself is full
  auto waiting = std::async(std::launch::async, [&] {
    return b.push(ev(EventType::message_streamed, "r", "b"), AppendOptions::wait_for(std::chrono::seconds(60)), nullptr);
  });
  ASSERT_TRUE(eventually([&] { return core->space.waiters_approx() > 0; })) << "the producer never parked";
  store->control().unblock_appends();
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(30)), std::future_status::ready) << "not woken by the pop";
  EXPECT_TRUE(waiting.get().ok());
  (void)core->stop();
}

#if defined(SESSIONRING_TEST_OWNER_CHECKS)
TEST(ProducerDeathTest, twoThreadsInOneProducerAtOnceAbortNamingTheFix) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto store = std::make_shared<ControlledStore>();
        auto s = Session::open(options(store));
        auto made = s->producer();
        auto p = std::make_shared<Producer>(std::move(*made));
        store->control().block_appends();
        std::thread inside([p] { (void)p->append_wait(ev(EventType::run_started, "r", "held")); });
        (void)store->control().wait_blocked(1);  // the other thread is inside append_wait
        (void)p->append(ev(EventType::run_started, "r", "second thread"));
      },
      "Producer was used by two threads at once.*Session::producer");
}
#endif

TEST(Producer, aProducerHandedToAnotherThreadBetweenCallsIsFine) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  auto made = s->producer();
  ASSERT_TRUE(made.ok());
  auto p = std::make_shared<Producer>(std::move(*made));
  ASSERT_TRUE(p->append_wait(ev(EventType::run_started, "r", "main")).ok());
  std::thread other([p] { EXPECT_TRUE(p->append_wait(ev(EventType::run_started, "r", "other")).ok()); });
  other.join();
  ASSERT_TRUE(p->append_wait(ev(EventType::run_completed, "r", "main again")).ok());
}

TEST(Producer, failPolicyAnswersQueueFullOnceCreditIsUsedUp) {
  for (auto [queue, capacity] :
       {std::pair{QueueBackend::moodycamel, 1u}, std::pair{QueueBackend::moodycamel, 3u},
        std::pair{QueueBackend::boost_lockfree, 2u}, std::pair{QueueBackend::boost_lockfree, 5u}}) {
    SCOPED_TRACE(std::string(to_string(queue)) + " capacity " + std::to_string(capacity));
    Blocked b = Blocked::open(queue, capacity);
    b.stall_sequencer();
    // `capacity` events fit in the queue behind the stalled sequencer; the next one does not.
    for (std::uint32_t i = 0; i < capacity; ++i)
      ASSERT_TRUE(b.producer.append(ev(EventType::message_streamed, "r", "q" + std::to_string(i)),
                                    AppendOptions::fail_fast()).ok()) << i;
    EXPECT_EQ(b.producer.in_flight_approx(), capacity);
    Status full = b.producer.append(ev(EventType::message_streamed, "r", "refused"), AppendOptions::fail_fast());
    ASSERT_EQ(full.code(), Errc::queue_full);
    EXPECT_NE(full.error().message().find("s1"), std::string::npos) << full.error();
    // Never a silent drop: after the stall everything accepted is stored, in order, and the
    // refused event is not.
    b.store->control().unblock_appends();
    auto last = b.producer.append_wait(ev(EventType::run_completed, "r", "after"));
    ASSERT_TRUE(last.ok()) << last.error();
    std::vector<std::string> want{"blocker"};
    for (std::uint32_t i = 0; i < capacity; ++i) want.push_back("q" + std::to_string(i));
    want.push_back("after");
    EXPECT_EQ(stored_data(b.session.log()), want);
    EXPECT_EQ(last->sequence, capacity + 2);
  }
}

TEST(Producer, waitPolicyAnswersQueueFullAfterTheDeadline) {
  for (QueueBackend queue : {QueueBackend::moodycamel, QueueBackend::boost_lockfree}) {
    Blocked b = Blocked::open(queue, 2);
    b.stall_sequencer();
    ASSERT_TRUE(b.producer.append(ev(EventType::message_streamed, "r", "a")).ok());
    ASSERT_TRUE(b.producer.append(ev(EventType::message_streamed, "r", "b")).ok());
    const AppendOptions opts = AppendOptions::wait_for(30ms);
    Status st = b.producer.append(ev(EventType::message_streamed, "r", "late"), opts);
    EXPECT_EQ(st.code(), Errc::queue_full);
    EXPECT_GE(std::chrono::steady_clock::now(), opts.deadline) << "gave up before its deadline";
    // append_wait has the same bound on the wait for space.
    auto w = b.producer.append_wait(ev(EventType::message_streamed, "r", "late2"), AppendOptions::wait_for(10ms));
    EXPECT_EQ(w.code(), Errc::queue_full);
    b.store->control().unblock_appends();
    ASSERT_TRUE(b.producer.append_wait(ev(EventType::run_completed, "r", "end")).ok());
    EXPECT_EQ(stored_data(b.session.log()), (std::vector<std::string>{"blocker", "a", "b", "end"}));
  }
}

TEST(Producer, waitPolicySucceedsWhenSpaceFreesBeforeTheDeadline) {
  Blocked b = Blocked::open(QueueBackend::moodycamel, 1);
  b.stall_sequencer();
  ASSERT_TRUE(b.producer.append(ev(EventType::message_streamed, "r", "a")).ok());
  Watchdog dog("append waiting for credit");
  std::thread release([&] {
    std::this_thread::sleep_for(20ms);
    b.store->control().unblock_appends();
  });
  Status st = b.producer.append(ev(EventType::message_streamed, "r", "waited"), AppendOptions::wait_for(patience()));
  release.join();
  ASSERT_TRUE(st.ok()) << st.error();
  ASSERT_TRUE(b.producer.append_wait(ev(EventType::run_completed, "r", "end")).ok());
  EXPECT_EQ(stored_data(b.session.log()), (std::vector<std::string>{"blocker", "a", "waited", "end"}));
}

TEST(Producer, creditWaitNeverLosesAWakeup) {
  // ingest_capacity 1: every append waits for the sequencer to take the previous one (the
  // `space` gate, A2 → G1). A lost wake-up hangs here (the watchdog fails the test).
  for (QueueBackend queue : {QueueBackend::moodycamel, QueueBackend::boost_lockfree}) {
    SessionOptions o = options();
    o.queue = queue;
    o.ingest_capacity = queue == QueueBackend::boost_lockfree ? 2 : 1;
    auto s = Session::open(o);
    ASSERT_TRUE(s.ok());
    auto p = s->producer();
    ASSERT_TRUE(p.ok());
    const std::size_t n = scaled(5'000, 500'000, 300);
    Watchdog dog("credit waits");
    for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(p->append(ev(EventType::message_streamed, "r", "x")).ok());
    ASSERT_TRUE(p->append_wait(ev(EventType::run_completed, "r", "end")).ok());
    EXPECT_EQ(s->log().latest_sequence(), n + 1);
  }
}

TEST(Producer, invalidEventsAreRejectedAndStoreNothing) {
  SessionOptions o = options();
  o.max_event_bytes = 1024;
  auto s = Session::open(o);
  ASSERT_TRUE(s.ok());
  auto p = s->producer();
  ASSERT_TRUE(p.ok());

  EventInput bad_type = ev(EventType::run_started, "r", "x");
  bad_type.type = static_cast<EventType>(kEventTypeCount);
  EXPECT_EQ(p->append(bad_type).code(), Errc::validation_error);
  EXPECT_EQ(p->append_wait(bad_type).code(), Errc::validation_error);

  const std::string long_field(EventRecord::kMaxShortField + 1, 'x');
  for (int field = 0; field < 4; ++field) {
    EventInput e = ev(EventType::run_started, "r", "x");
    BorrowedBytes* f[] = {&e.id, &e.run_id, &e.correlation_id, &e.provider};
    *f[field] = long_field;
    EXPECT_EQ(p->append(e).code(), Errc::validation_error) << "field " << field;
  }

  const std::string big(1024, 'd');  // with the header, above max_event_bytes
  Status too_large = p->append(ev(EventType::message_streamed, "r", big));
  EXPECT_EQ(too_large.code(), Errc::event_too_large);
  EXPECT_NE(too_large.error().message().find("max_event_bytes"), std::string::npos);
  // Exactly at the limit is fine.
  const std::string fits(1024 - EventRecord::kHeaderBytes - 1 - 32, 'd');  // run "r", 32-hex generated id
  auto ok = p->append_wait(ev(EventType::message_streamed, "r", fits));
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->sequence, 1u);
  EXPECT_EQ(s->log().latest_sequence(), 1u);
}

TEST(Producer, appendAfterStopIsStopped) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  auto p = s->producer();
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->append_wait(ev(EventType::run_started, "r", "before")).ok());
  ASSERT_TRUE(s->stop().ok());
  EXPECT_EQ(p->append(ev(EventType::run_completed, "r", "after")).code(), Errc::stopped);
  EXPECT_EQ(p->append_wait(ev(EventType::run_completed, "r", "after")).code(), Errc::stopped);
  EXPECT_EQ(s->append(ev(EventType::run_completed, "r", "after")).code(), Errc::stopped);
  EXPECT_EQ(s->append_wait(ev(EventType::run_completed, "r", "after")).code(), Errc::stopped);
  EXPECT_EQ(s->producer().code(), Errc::stopped);
  EXPECT_EQ(s->log().latest_sequence(), 1u);
}

TEST(Producer, producerOutlivingItsSessionAnswersStopped) {
  std::optional<Producer> p;
  {
    auto s = Session::open(options());
    ASSERT_TRUE(s.ok());
    auto made = s->producer();
    ASSERT_TRUE(made.ok());
    p.emplace(std::move(*made));
  }  // ~Session stops the engine; the producer keeps it alive but stopped
  EXPECT_EQ(p->append(ev(EventType::run_started, "r", "x")).code(), Errc::stopped);
  p.reset();  // destroying it afterwards is safe
}

TEST(Producer, producerWaitingForCreditGivesUpWithStoppedWhenTheSessionStops) {
  Blocked b = Blocked::open(QueueBackend::moodycamel, 1);
  b.stall_sequencer();
  ASSERT_TRUE(b.producer.append(ev(EventType::message_streamed, "r", "a")).ok());
  Watchdog dog("stop while a producer waits for credit");
  auto waiting = std::async(std::launch::async, [&] {
    return b.producer.append(ev(EventType::message_streamed, "r", "never"));  // no deadline
  });
  // stop() cannot finish while the store is stalled, but it withdraws acceptance at once.
  auto stopping = std::async(std::launch::async, [&] { return b.session.stop(); });
  EXPECT_EQ(waiting.get().code(), Errc::stopped);
  b.store->control().unblock_appends();
  EXPECT_TRUE(stopping.get().ok());
  // Everything accepted before stop was stored; the refused event was not.
  EXPECT_EQ(stored_data(b.session.log()), (std::vector<std::string>{"blocker", "a"}));
}

TEST(Producer, maxProducersIsEnforcedAndSlotsAreReused) {
  SessionOptions o = options();
  o.max_producers = 2;
  auto s = Session::open(o);
  ASSERT_TRUE(s.ok());
  auto a = s->producer();
  auto b = s->producer();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  auto c = s->producer();
  ASSERT_EQ(c.code(), Errc::validation_error);
  EXPECT_NE(c.error().message().find("max_producers"), std::string::npos);
  ASSERT_TRUE(a->append_wait(ev(EventType::run_started, "r", "a")).ok());
  { Producer gone = std::move(*a); }  // releases its slot
  auto d = s->producer();
  ASSERT_TRUE(d.ok()) << d.error();
  // The reused slot starts with no stale credit or completion state.
  auto r = d->append_wait(ev(EventType::run_started, "r", "d"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sequence, 2u);
  EXPECT_EQ(d->in_flight_approx(), 0u);
}

TEST(Producer, movedFromProducerAnswersClosed) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  auto p = s->producer();
  ASSERT_TRUE(p.ok());
  Producer q = std::move(*p);
  EXPECT_EQ(p->append(ev(EventType::run_started, "r", "x")).code(), Errc::closed);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(p->append_wait(ev(EventType::run_started, "r", "x")).code(), Errc::closed);
  EXPECT_EQ(p->in_flight_approx(), 0u);
  EXPECT_TRUE(q.append_wait(ev(EventType::run_started, "r", "x")).ok());
}

TEST(Producer, eachProducersEventsKeepTheirOrder) {
  // INV-5 with producers on their own threads, fire-and-forget, tiny credit so they interleave.
  for (QueueBackend queue : {QueueBackend::moodycamel, QueueBackend::boost_lockfree}) {
    SessionOptions o = options();
    o.queue = queue;
    o.ingest_capacity = 8;
    o.max_batch = 5;
    auto s = Session::open(o);
    ASSERT_TRUE(s.ok());
    const int producers = 3;
    const std::size_t each = scaled(10'000, 300'000, 1'000);
    Watchdog dog("per-producer order");
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
      threads.emplace_back([&, p] {
        auto prod = s->producer();
        ASSERT_TRUE(prod.ok());
        const std::string run = "p" + std::to_string(p);
        for (std::size_t i = 0; i < each; ++i)
          ASSERT_TRUE(prod->append(ev(EventType::message_streamed, run, std::to_string(i))).ok());
        ASSERT_TRUE(prod->append_wait(ev(EventType::run_completed, run, "end")).ok());
      });
    for (auto& t : threads) t.join();
    std::vector<std::size_t> next(producers, 0);
    Sequence expect_seq = 1;
    Status st = s->log().read(EventQuery{}, [&](const EventView& v) {
      EXPECT_EQ(v.sequence_number, expect_seq++);
      const int p = v.run_id[1] - '0';
      if (v.data == "end") {
        EXPECT_EQ(next[p], each);
      } else {
        EXPECT_EQ(v.data, std::to_string(next[p])) << "producer " << p;
        ++next[p];
      }
      return true;
    });
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(expect_seq - 1, producers * (each + 1));
  }
}

TEST(Producer, appendWaitAnswersTheSequenceItsEventHolds) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  const int threads_n = 3;
  const int each = static_cast<int>(scaled(2'000, 50'000, 200));
  Watchdog dog("append_wait answers");
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_n; ++t)
    threads.emplace_back([&, t] {
      auto p = s->producer();
      ASSERT_TRUE(p.ok());
      for (int i = 0; i < each; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        EventInput e = ev(EventType::message_sent, "r", "x", id);
        auto r = p->append_wait(e);
        ASSERT_TRUE(r.ok());
        EXPECT_FALSE(r->duplicate);
        // INV-2: once append_wait returns, the event is stored and published.
        EXPECT_LE(r->sequence, s->latest_sequence());
        auto found = s->log().find_by_id(id);
        ASSERT_TRUE(found.ok()) << id;
        EXPECT_EQ(found->sequence_number, r->sequence);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(s->log().latest_sequence(), static_cast<Sequence>(threads_n * each));
}
