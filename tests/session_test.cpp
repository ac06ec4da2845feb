// Session (the core engine), single-threaded behaviour. Concurrency: tests/session_stress_test.cpp.
#include "oracle.hpp"

#include <gtest/gtest.h>

#include <future>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace sessionring;
using namespace sessionring::test;
using namespace std::chrono_literals;

TEST(Session, sequencesStartAtOneAndAreContiguous) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok()) << s.error();
  for (int i = 0; i < 100; ++i) {
    auto r = s->append_wait(ev(EventType::message_streamed, "r1", std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->sequence, static_cast<Sequence>(i + 1));
    EXPECT_FALSE(r->duplicate);
  }
  auto sub = s->subscribe({});
  ASSERT_TRUE(sub.ok());
  auto got = drain(*sub, 100);
  ASSERT_EQ(got.size(), 100u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].sequence_number, i + 1);
    EXPECT_EQ(got[i].data, std::to_string(i));
    EXPECT_EQ(got[i].session_id, "s1");
    EXPECT_EQ(got[i].run_id, "r1");
    EXPECT_EQ(got[i].id.size(), 32u);
  }
}

TEST(Session, duplicateEventIdReturnsFirstSequenceAndStoresNothing) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  EventInput e = ev(EventType::tool_call_started, "r1", "x");
  e.id = "evt-1";
  auto a = s->append_wait(e);
  ASSERT_TRUE(a.ok());
  (void)s->append_wait(ev(EventType::message_sent, "r1", "y"));
  auto b = s->append_wait(e);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->sequence, a->sequence);
  EXPECT_TRUE(b->duplicate);
  EXPECT_EQ(s->log().latest_sequence(), 2u);
  EXPECT_EQ(s->stats().duplicates, 1u);
}

// ---------------------------------------------------------------------------------------------
// options

namespace {

struct BadOption {
  const char* what;  // the option the message must name
  void (*apply)(SessionOptions&);
};

}  // namespace

TEST(Session, openValidatesEveryOptionAndNamesIt) {
  const BadOption cases[] = {
      {"ring_capacity", [](SessionOptions& o) { o.ring_capacity = 0; }},
      {"ring_capacity", [](SessionOptions& o) { o.ring_capacity = 1; }},
      {"ring_capacity", [](SessionOptions& o) { o.ring_capacity = 3; }},
      {"ring_capacity", [](SessionOptions& o) { o.ring_capacity = 1000; }},
      {"ring_capacity", [](SessionOptions& o) { o.ring_capacity = 1u << 25; }},
      {"ring_slot_bytes", [](SessionOptions& o) { o.ring_slot_bytes = 8; }},
      {"ring_slot_bytes", [](SessionOptions& o) { o.ring_slot_bytes = 56; }},
      {"ring_slot_bytes", [](SessionOptions& o) { o.ring_slot_bytes = 65; }},
      {"ring_slot_bytes", [](SessionOptions& o) { o.ring_slot_bytes = 65536 + 8; }},
      {"ingest_capacity", [](SessionOptions& o) { o.ingest_capacity = 0; }},
      {"ingest_capacity", [](SessionOptions& o) { o.ingest_capacity = (1u << 20) + 1; }},
      {"ingest_capacity", [](SessionOptions& o) {
         o.queue = QueueBackend::boost_lockfree;
         o.ingest_capacity = 70000;
       }},
      {"ingest_capacity", [](SessionOptions& o) {
         o.queue = QueueBackend::boost_lockfree;
         o.ingest_capacity = 1;
       }},
      {"max_batch", [](SessionOptions& o) { o.max_batch = 0; }},
      {"max_batch", [](SessionOptions& o) { o.max_batch = 65537; }},
      {"max_producers", [](SessionOptions& o) { o.max_producers = 0; }},
      {"max_event_bytes", [](SessionOptions& o) { o.max_event_bytes = 63; }},
      {"queue", [](SessionOptions& o) { o.queue = static_cast<QueueBackend>(7); }},
      {"wait", [](SessionOptions& o) { o.wait = static_cast<WaitStrategy>(7); }},
      {"store", [](SessionOptions& o) { o.store = nullptr; }},
  };
  for (const BadOption& c : cases) {
    auto store = MemoryStore::create();
    SessionOptions o = options(store);
    c.apply(o);
    auto s = Session::open(o);
    ASSERT_FALSE(s.ok()) << c.what;
    EXPECT_EQ(s.code(), Errc::validation_error) << c.what;
    EXPECT_EQ(s.error().message().rfind(c.what, 0), 0u) << "message does not name " << c.what << ": " << s.error();
    EXPECT_EQ(validate(o).code(), Errc::validation_error);
    EXPECT_TRUE(store->list_sessions()->empty()) << "a refused open created the session";
  }
  // The boundaries themselves are accepted.
  SessionOptions edge = options();
  edge.ring_capacity = 2;
  edge.ring_slot_bytes = 64;
  edge.ingest_capacity = 1;
  edge.max_batch = 1;
  edge.max_producers = 1;
  edge.max_event_bytes = 64;
  EXPECT_TRUE(validate(edge).ok());
  auto opened = Session::open(edge);
  ASSERT_TRUE(opened.ok()) << opened.error();
  edge.queue = QueueBackend::boost_lockfree;
  edge.ingest_capacity = 65534;
  edge.session_id = "s2";
  EXPECT_TRUE(Session::open(edge).ok());
}

TEST(Session, invalidSessionIdIsRefused) {
  for (std::string bad : {std::string(), std::string(".x"), std::string("a/b"), std::string("a..b"),
                          std::string(kMaxSessionIdBytes + 1, 'a'), std::string("a b")}) {
    auto s = Session::open(options(MemoryStore::create(), bad));
    EXPECT_EQ(s.code(), Errc::invalid_session_id) << "'" << bad << "'";
  }
}

TEST(Session, secondSessionOnTheSameIdIsAWriterConflict) {
  auto store = MemoryStore::create();
  auto first = Session::open(options(store));
  ASSERT_TRUE(first.ok());
  auto second = Session::open(options(store));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), Errc::writer_conflict);
  EXPECT_TRUE(Session::open(options(store, "other")).ok());
}

TEST(Session, keepsItsIdOptionsAndStats) {
  SessionOptions o = options();
  o.queue = QueueBackend::boost_lockfree;
  o.wait = WaitStrategy::yield;
  auto s = Session::open(o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->id(), "s1");
  EXPECT_EQ(s->options().ring_capacity, 16u);
  ASSERT_TRUE(s->append_wait(ev(EventType::run_started, "r", "x")).ok());
  ASSERT_TRUE(s->append_wait(ev(EventType::message_streamed, "r", std::string(1000, 'b'))).ok());
  const SessionStats st = s->stats();
  EXPECT_EQ(st.session_id, "s1");
  EXPECT_EQ(st.latest_sequence, 2u);
  EXPECT_EQ(st.events_sequenced, 2u);
  EXPECT_EQ(st.duplicates, 0u);
  EXPECT_EQ(st.oversize_events, 1u);
  EXPECT_EQ(st.store_failures, 0u);
  EXPECT_EQ(st.ingest_depth_approx, 0u);
  EXPECT_EQ(st.ring_capacity, 16u);
  EXPECT_EQ(st.ring_slot_bytes, 256u);
  EXPECT_EQ(st.queue, QueueBackend::boost_lockfree);
  EXPECT_EQ(st.wait, WaitStrategy::yield);
  EXPECT_FALSE(st.stopped);
  EXPECT_EQ(s->latest_sequence(), 2u);
  auto e = s->log().find_by_id(s->log().read(EventQuery{})->at(1).id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->data.size(), 1000u);
}

// ---------------------------------------------------------------------------------------------
// stop

TEST(Session, stopDeliversEverythingAcceptedThenClosesEverySubscription) {
  for (QueueBackend queue : {QueueBackend::moodycamel, QueueBackend::boost_lockfree}) {
    SessionOptions o = options();
    o.queue = queue;
    auto s = Session::open(o);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(s->append_wait(ev(EventType::session_started, "ctl", "")).ok());
    // Subscriptions in every state when stop comes: live and polling, stalled (will be lapped),
    // filtered, and one waiting for a future sequence.
    Subscription live = s->subscribe({}).value();
    Subscription stalled = s->subscribe({}).value();
    SubscribeOptions filtered_opts;
    filtered_opts.filter.run_id("p1");
    Subscription filtered = s->subscribe(filtered_opts).value();
    SubscribeOptions future_opts;
    future_opts.from_sequence = 1'000'000'000;
    Subscription future = s->subscribe(future_opts).value();

    // Producers append until stop refuses them; what they were told was accepted must arrive.
    std::atomic<std::uint64_t> accepted{1};
    std::atomic<bool> refused_all{true};
    std::vector<std::thread> producers;
    for (int p = 0; p < 2; ++p)
      producers.emplace_back([&, p] {
        auto prod = s->producer();
        if (!prod) return;  // stop came first
        const std::string run = "p" + std::to_string(p);
        for (;;) {
          Status st = prod->append(ev(EventType::message_streamed, run, "x"));
          if (!st) {
            if (st.code() != Errc::stopped) refused_all = false;
            break;
          }
          accepted.fetch_add(1);
        }
      });
    std::vector<Sequence> got_live;
    Watchdog dog("stop with live producers and subscribers");
    while (got_live.size() < 2000)
      ASSERT_TRUE(live.poll_wait([&](const EventView& v) { got_live.push_back(v.sequence_number); },
                                 std::chrono::steady_clock::now() + 100ms)
                      .ok());
    ASSERT_TRUE(s->stop().ok());
    for (auto& t : producers) t.join();
    EXPECT_TRUE(refused_all.load()) << "after stop, appends answer `stopped`";
    EXPECT_TRUE(s->stopped());
    EXPECT_TRUE(s->stats().stopped);
    const Sequence last = accepted.load();
    EXPECT_EQ(s->log().latest_sequence(), last) << "an accepted event was not stored";
    EXPECT_EQ(s->latest_sequence(), last) << "a stored event was not published";

    auto until_closed = [&](Subscription& sub) {
      std::vector<Sequence> out;
      while (sub.state() != SubscriptionState::closed) {
        auto r = sub.poll_wait([&](const EventView& v) { out.push_back(v.sequence_number); },
                               std::chrono::steady_clock::now() + 100ms);
        EXPECT_TRUE(r.ok());
        if (!r.ok()) break;
      }
      return out;
    };
    auto rest = until_closed(live);
    got_live.insert(got_live.end(), rest.begin(), rest.end());
    EXPECT_EQ(got_live, stored_sequences(s->log(), 1, last));
    EXPECT_EQ(until_closed(stalled), stored_sequences(s->log(), 1, last));
    EXPECT_EQ(until_closed(filtered), stored_sequences(s->log(), 1, last, EventFilter().run_id("p1")));
    EXPECT_TRUE(until_closed(future).empty());
    // Closed subscriptions stay closed and return at once, even with no deadline.
    auto again = live.poll_wait([](const EventView&) { ADD_FAILURE(); }, Deadline::max());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, 0u);
    EXPECT_EQ(live.state(), SubscriptionState::closed);
  }
}

TEST(Session, afterStopNothingNewIsAccepted) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->append_wait(ev(EventType::run_started, "r", "x")).ok());
  ASSERT_TRUE(s->stop().ok());
  ASSERT_TRUE(s->stop().ok());  // idempotent
  EXPECT_EQ(s->subscribe({}).code(), Errc::stopped);
  EXPECT_EQ(s->subscribe_push({}, [](const EventView&) {}).code(), Errc::stopped);
  EXPECT_EQ(s->producer().code(), Errc::stopped);
  EXPECT_EQ(s->append(ev(EventType::run_started, "r", "y")).code(), Errc::stopped);
  EXPECT_EQ(s->log().latest_sequence(), 1u);
  // The stored history stays readable.
  auto all = s->log().read(EventQuery{});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST(Session, subscriptionOutlivingItsSessionDeliversEverythingThenCloses) {
  std::optional<Subscription> sub;
  auto store = MemoryStore::create();
  {
    auto s = Session::open(options(store));
    ASSERT_TRUE(s.ok());
    sub.emplace(s->subscribe({}).value());
    auto p = s->producer();
    ASSERT_TRUE(p.ok());
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(p->append(ev(EventType::message_streamed, "r", "x")).ok());
  }  // ~Session: stop, which publishes everything accepted
  std::vector<Sequence> got;
  Watchdog dog("subscription after session end");
  while (sub->state() != SubscriptionState::closed)
    ASSERT_TRUE(sub->poll_wait([&](const EventView& v) { got.push_back(v.sequence_number); }, Deadline::max()).ok());
  ASSERT_EQ(got.size(), 100u);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], i + 1);
  sub.reset();
  // Once every handle is gone the writer role is free again: the history continues (INV-1).
  auto again = Session::open(options(store));
  ASSERT_TRUE(again.ok()) << again.error();
  auto r = again->append_wait(ev(EventType::run_started, "r", "x"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sequence, 101u);
}

TEST(Session, movedFromSessionAnswersClosedEverywhere) {
  auto a = Session::open(options());
  ASSERT_TRUE(a.ok());
  Session taken = std::move(*a);
  Session& gone = *a;  // moved from: every call answers closed, nothing dereferences null
  EXPECT_EQ(gone.id(), "");
  EXPECT_EQ(gone.producer().code(), Errc::closed);
  EXPECT_EQ(gone.append(ev(EventType::run_started, "r", "x")).code(), Errc::closed);
  EXPECT_EQ(gone.append_wait(ev(EventType::run_started, "r", "x")).code(), Errc::closed);
  EXPECT_EQ(gone.subscribe({}).code(), Errc::closed);
  EXPECT_EQ(gone.subscribe_push({}, [](const EventView&) {}).code(), Errc::closed);
  EXPECT_EQ(gone.latest_sequence(), 0u);
  EXPECT_EQ(gone.log().read(EventQuery{}, [](const EventView&) { return true; }).code(), Errc::closed);
  EXPECT_EQ(gone.log().find_by_id("x").code(), Errc::closed);
  EXPECT_TRUE(gone.stats().subscribers.empty());
  EXPECT_EQ(gone.stop().code(), Errc::closed);
  EXPECT_TRUE(gone.stopped());
  EXPECT_EQ(taken.id(), "s1");
  EXPECT_TRUE(taken.append_wait(ev(EventType::run_started, "r", "x")).ok());
}

TEST(Session, appendWaitingForTheStoreNeverBlocksSessionAppend) {
  // Issue 12: Session::append_wait held the shared producer's mutex for its whole wait, so with
  // a store that does not secure, every Session::append (even fail-fast ones) blocked behind it.
  auto store = std::make_shared<ControlledStore>();
  store->control().manual_secure = true;  // nothing is secured until the test says so
  auto s = Session::open(options(store));
  ASSERT_TRUE(s.ok());
  Watchdog dog("append behind a waiting append_wait");
  auto waiting = std::async(std::launch::async, [&] { return s->append_wait(ev(EventType::run_started, "r", "w")); });
  while (s->log().written_sequence() < 1) std::this_thread::yield();  // the append_wait is in the store, waiting
  auto quick = std::async(std::launch::async, [&] {
    return s->append(ev(EventType::message_streamed, "r", "x"), AppendOptions::fail_fast());
  });
  ASSERT_EQ(quick.wait_for(std::chrono::seconds(10 * kSlow)), std::future_status::ready)
      << "Session::append waited for another thread's append_wait";
  EXPECT_TRUE(quick.get().ok());
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  store->control().secure(2);
  auto r = waiting.get();
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->sequence, 1u);
}

TEST(Session, moveAssignmentStopsTheSessionItReplaces) {
  auto a = Session::open(options(MemoryStore::create(), "a"));
  auto b = Session::open(options(MemoryStore::create(), "b"));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  auto pa = a->producer();
  ASSERT_TRUE(pa.ok());
  Session moved = std::move(*b);
  EXPECT_EQ(moved.id(), "b");
  moved = std::move(*a);  // stops "b"
  EXPECT_EQ(moved.id(), "a");
  EXPECT_TRUE(pa->append_wait(ev(EventType::run_started, "r", "x")).ok());
}

TEST(Session, sharedProducerIsSafeFromManyThreads) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  const int threads_n = 4;
  const int each = static_cast<int>(scaled(200, 20'000, 50));
  Watchdog dog("Session::append_wait from many threads");
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_n; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < each; ++i) {
        if (i % 2 == 0) {
          ASSERT_TRUE(s->append(ev(EventType::message_sent, "t" + std::to_string(t), std::to_string(i))).ok());
        } else {
          auto r = s->append_wait(ev(EventType::message_sent, "t" + std::to_string(t), std::to_string(i)));
          ASSERT_TRUE(r.ok());
          EXPECT_LE(r->sequence, s->latest_sequence());
        }
      }
    });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(s->stop().ok());
  EXPECT_EQ(s->log().latest_sequence(), static_cast<Sequence>(threads_n * each));
  // Each thread's events are in its order (the shared producer is one FIFO).
  std::vector<int> next(threads_n, 0);
  Status st = s->log().read(EventQuery{}, [&](const EventView& v) {
    const int t = v.run_id[1] - '0';
    EXPECT_EQ(v.data, std::to_string(next[t]++));
    return true;
  });
  EXPECT_TRUE(st.ok());
}
