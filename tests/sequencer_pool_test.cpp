// The sequencer pool (docs/design.md §13), checked by counts, never by time:
//  * many sessions on a small pool: every session's history is contiguous and every subscriber
//    gets it exactly once (INV-1, INV-3) — hundreds in quick mode, 10,000 in full mode;
//  * starting a pooled session creates no thread; the process keeps pool threads only;
//  * fairness: on a one-thread pool a session flooding its queue cannot starve a trickle
//    session (the trickle's round trips all complete while the flood still goes on);
//  * isolation: a session whose store fails and backs off does not hold the pool thread (the
//    other session's round trips complete while the failing one retries only a few times);
//  * a due timer (a back-off retry) is served while another session floods the pool thread;
//  * the doorbell of a pooled session never loses a wake-up (park/push races, design §8/§13);
//  * an idle session's ring pages given back read as lapped: subscribers keep their place
//    through the store (INV-3);
//  * dedicated_sequencer keeps a thread of its own.
#include "oracle.hpp"

#include "detail/producer_impl.hpp"
#include "detail/ring_buffer.hpp"
#include "detail/session_core.hpp"
#include "detail/spin.hpp"

#include <gtest/gtest.h>

#include <pthread.h>
#include <sched.h>


#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

using namespace sessionring;
using namespace sessionring::test;

namespace {

std::shared_ptr<SequencerPool> pool_of(std::uint32_t threads) {
  SequencerPool::Options o;
  o.threads = threads;
  return SequencerPool::create(o).value();
}

SessionOptions pooled(std::shared_ptr<SessionStore> store, std::string id, std::shared_ptr<SequencerPool> pool) {
  SessionOptions o = options(std::move(store), std::move(id), 16, 256);
  o.pool = std::move(pool);
  return o;
}

std::string name(const char* prefix, std::size_t i) {
  std::string id = prefix;
  id += std::to_string(i);
  return id;
}

}  // namespace

TEST(SequencerPool, createRefusesMoreThan1024Threads) {
  SequencerPool::Options o;
  o.threads = 1025;
  auto p = SequencerPool::create(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.code(), Errc::validation_error);
  EXPECT_NE(p.error().message().find("1024"), std::string::npos) << p.error();
}

TEST(SequencerPool, startingPooledSessionsCreatesNoThread) {
  auto pool = pool_of(2);
  auto store = MemoryStore::create();
  const std::size_t before = thread_count();
  std::vector<Session> sessions;
  for (std::size_t i = 0; i < 50; ++i) sessions.push_back(Session::open(pooled(store, name("t", i), pool)).value());
  EXPECT_EQ(thread_count(), before);  // a dedicated sequencer would have added 50
  for (auto& s : sessions) ASSERT_TRUE(s.append_wait(ev(EventType::message_streamed, "r", "x")).ok());
  EXPECT_EQ(thread_count(), before);
  for (auto& s : sessions) ASSERT_TRUE(s.stop().ok());
}

// Options::on_thread_start: run once on each pool thread, with indexes 0..n-1, all done by the
// time create() returns (a host reads what its hook recorded, e.g. whether a priority was set).
TEST(SequencerPool, everyPoolThreadRunsTheStartHookOnItselfBeforeCreateReturns) {
  std::mutex m;
  std::vector<std::pair<std::uint32_t, std::thread::id>> ran;
  SequencerPool::Options o;
  o.threads = 3;
  o.on_thread_start = [&](std::uint32_t i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a slow hook: create() must still wait
    std::lock_guard lock(m);
    ran.emplace_back(i, std::this_thread::get_id());
  };
  auto pool = SequencerPool::create(o).value();
  {
    std::lock_guard lock(m);
    ASSERT_EQ(ran.size(), 3u);
    std::sort(ran.begin(), ran.end());
    for (std::uint32_t i = 0; i < 3; ++i) {
      EXPECT_EQ(ran[i].first, i);
      EXPECT_NE(ran[i].second, std::this_thread::get_id());
      for (std::uint32_t j = 0; j < i; ++j) EXPECT_NE(ran[i].second, ran[j].second);
    }
  }
  auto store = MemoryStore::create();
  Session s = Session::open(pooled(store, "hooked", pool)).value();
  for (int i = 1; i <= 10; ++i)
    ASSERT_EQ(s.append_wait(ev(EventType::message_streamed, "r", "x")).value().sequence, Sequence(i));
  ASSERT_TRUE(s.stop().ok());
  std::lock_guard lock(m);
  EXPECT_EQ(ran.size(), 3u);  // once per thread, not per session or turn
}

// A host's hook gives the pool threads SCHED_FIFO (docs/tuning.md "A sub-millisecond tail on a
// shared machine"): such a thread parks at once when its session runs dry, and the sessions it
// serves keep INV-1/INV-3 (every event once, in order) through the many parks. Skipped where the
// process may not use a real-time policy.
TEST(SequencerPool, realTimePoolThreadsDeliverEveryEventOnceInOrderAndPark) {
  std::atomic<int> refused{0};  // written by the hooks (pool threads), read after create(): an errno
  SequencerPool::Options o;
  o.threads = 2;
  o.on_thread_start = [&](std::uint32_t) {
    sched_param sp{};
    sp.sched_priority = 1;
    if (int rc = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &sp); rc != 0)
      refused.store(rc, std::memory_order_relaxed);  // relaxed: read after create(), which waits for every hook
  };
  auto pool = SequencerPool::create(o).value();
  if (int rc = refused.load(std::memory_order_relaxed); rc != 0)
    GTEST_SKIP() << "SCHED_FIFO refused here: " << std::strerror(rc);
  auto store = MemoryStore::create();
  const std::size_t sessions = 4, per = scaled(2'000, 20'000, 200);
  std::vector<Session> ss;
  std::vector<Subscription> subs;
  for (std::size_t i = 0; i < sessions; ++i) {
    ss.push_back(Session::open(pooled(store, name("rt", i), pool)).value());
    subs.push_back(ss.back().subscribe().value());
  }
  std::vector<std::thread> appenders;
  for (std::size_t i = 0; i < sessions; ++i)
    appenders.emplace_back([&, i] {
      for (std::size_t k = 0; k < per; ++k) {
        AppendOptions ao;
        ao.on_full = FullPolicy::wait;
        ASSERT_TRUE(ss[i].append(ev(EventType::message_streamed, "r", std::to_string(k)), ao).ok());
        if (k % 64 == 0) std::this_thread::yield();  // let the sessions run dry now and then
      }
    });
  for (auto& t : appenders) t.join();
  for (std::size_t i = 0; i < sessions; ++i) {
    std::vector<Event> got = drain(subs[i], per);
    ASSERT_EQ(got.size(), per) << "session " << i;
    for (std::size_t k = 0; k < per; ++k) {
      ASSERT_EQ(got[k].sequence_number, k + 1) << "session " << i;
      ASSERT_EQ(got[k].data, std::to_string(k)) << "session " << i;
    }
  }
  EXPECT_TRUE(eventually([&] { return pool->stats().parks >= sessions; }));  // all ran dry and parked
  for (auto& s : ss) ASSERT_TRUE(s.stop().ok());
}

TEST(SequencerPool, dedicatedSequencerKeepsAThreadOfItsOwn) {
  auto store = MemoryStore::create();
  const std::size_t before = thread_count();
  SessionOptions o = options(store, "dedicated");
  o.dedicated_sequencer = true;
  Session s = Session::open(o).value();
  // ThreadSanitizer starts a background thread of its own at a time of its choosing: there,
  // the count is only bounded.
  const std::size_t opened = thread_count();
  EXPECT_GE(opened, before + 1);
  if (!kTsan) {
    EXPECT_EQ(opened, before + 1);
  }
  for (int i = 1; i <= 100; ++i) ASSERT_EQ(s.append_wait(ev(EventType::message_streamed, "r", "x")).value().sequence, Sequence(i));
  ASSERT_TRUE(s.stop().ok());
  EXPECT_LT(thread_count(), opened + (kTsan ? 1 : 0));
  if (!kTsan) {
    EXPECT_EQ(thread_count(), before);
  }
}

// INV-1 and INV-3 across many sessions sharing two pool threads: each session gets events from
// its own producer thread pool, each has a subscriber; every history must be 1..N exactly once.
TEST(SequencerPool, manySessionsEachContiguousAndDeliveredExactlyOnce) {
  const std::size_t sessions = scaled(300, 10'000, 30);
  const std::size_t per = kFull ? 20 : 40;
  auto pool = pool_of(2);
  auto store = MemoryStore::create();
  Watchdog dog("many pooled sessions");
  const std::size_t threads_before = thread_count();
  std::vector<Session> ss;
  std::vector<Subscription> subs;
  ss.reserve(sessions);
  subs.reserve(sessions);
  for (std::size_t i = 0; i < sessions; ++i) {
    ss.push_back(Session::open(pooled(store, name("m", i), pool)).value());
    subs.push_back(ss.back().subscribe().value());
  }
  EXPECT_EQ(thread_count(), threads_before);  // no thread per session
  // Four appender threads, each covering every fourth session, fire-and-forget: the pool's
  // sessions become ready and park again many times over.
  std::vector<std::thread> appenders;
  for (std::size_t t = 0; t < 4; ++t)
    appenders.emplace_back([&, t] {
      for (std::size_t k = 0; k < per; ++k)
        for (std::size_t i = t; i < sessions; i += 4) {
          AppendOptions ao;
          ao.on_full = FullPolicy::wait;
          ASSERT_TRUE(ss[i].append(ev(EventType::message_streamed, "r", std::to_string(k)), ao).ok());
        }
    });
  for (auto& t : appenders) t.join();
  for (std::size_t i = 0; i < sessions; ++i) {
    std::vector<Event> got = drain(subs[i], per);
    ASSERT_EQ(got.size(), per) << "session " << i;
    for (std::size_t k = 0; k < per; ++k) {
      ASSERT_EQ(got[k].sequence_number, k + 1) << "session " << i;  // INV-1, INV-3
      ASSERT_EQ(got[k].data, std::to_string(k)) << "session " << i;  // one appender per session: its order (INV-5)
    }
  }
  for (auto& s : ss) ASSERT_TRUE(s.stop().ok());
  for (std::size_t i = 0; i < sessions; ++i) EXPECT_EQ(ss[i].latest_sequence(), per);
}

// Fairness on a one-thread pool: the flood session always has a full queue. Its store takes
// 200 µs per append and its batches are small (16 events), so its queue stays full whatever the
// scheduler does with the flooding threads (it holds up to 2 × 65,536 events: thousands of
// batches). Without requeueing after a bounded batch, the pool thread would keep serving the
// flood and the trickle's append_wait would wait until the flood ends; the flood only ends once
// the trickle is done (or after `cap` events), so a starved trickle shows up as a flood that
// reached its cap. With requeueing, every trickle round trip waits for at most one flood batch,
// and the flood advances by a batch between two of them.
TEST(SequencerPool, floodingSessionCannotStarveATrickleSession) {
  auto pool = pool_of(1);
  auto faults = FaultInjector::create();
  ASSERT_TRUE(faults->delay(FileOp::sync, std::chrono::microseconds(200)).ok());
  auto slow_store = FaultInjectingStore::create(MemoryStore::create(), faults).value();
  SessionOptions fo = pooled(slow_store, "flood", pool);
  fo.max_batch = 16;
  fo.ingest_capacity = 65'536;
  Session flood = Session::open(fo).value();
  Session trickle = Session::open(pooled(MemoryStore::create(), "trickle", pool)).value();
  const std::size_t rounds = scaled(200, 2'000, 50);
  const std::uint64_t cap = 50'000'000;
  std::atomic<bool> trickle_done{false};
  std::atomic<std::uint64_t> flooded{0};
  Watchdog dog("flood vs trickle");
  std::vector<std::thread> flooders;
  for (int t = 0; t < 2; ++t)
    flooders.emplace_back([&] {
      Producer p = flood.producer().value();
      AppendOptions ao;
      ao.on_full = FullPolicy::wait;
      while (!trickle_done.load(std::memory_order_relaxed) && flooded.fetch_add(1, std::memory_order_relaxed) < cap)
        ASSERT_TRUE(p.append(ev(EventType::message_streamed, "f", "flood"), ao).ok());
    });
  // Start once the flood's queue is deep: more batches than the trickle has round trips.
  while (flood.stats().ingest_depth_approx < 16 * (rounds + 16)) std::this_thread::yield();
  const std::uint64_t flood_at_start = flood.latest_sequence();
  for (std::size_t i = 1; i <= rounds; ++i) {
    auto r = trickle.append_wait(ev(EventType::message_streamed, "t", "trickle"));
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(r->sequence, i);
  }
  const std::uint64_t at_trickle_end = flooded.load();
  const std::uint64_t flood_advance = flood.latest_sequence() - flood_at_start;
  trickle_done = true;
  for (auto& t : flooders) t.join();
  faults->heal_all();  // the flood's backlog drains at memory speed
  EXPECT_LT(at_trickle_end, cap) << "the trickle session only got through once the flood ended";
  // The flood had a batch between every two trickle round trips.
  EXPECT_GE(flood_advance, rounds - 1) << "the flood was not served between the trickle's round trips";
  EXPECT_GT(pool->stats().requeues, 0u) << "the pool never handed the thread over after a bounded batch";
  ASSERT_TRUE(flood.stop().ok());
  ASSERT_TRUE(trickle.stop().ok());
  EXPECT_EQ(trickle.latest_sequence(), rounds);
}

// Isolation on a one-thread pool: `bad`'s store refuses every append, so its sequencer backs off
// (0.5 ms doubling to 100 ms) and retries. If a pool thread slept through that back-off, each of
// `good`'s round trips would wait for one of bad's retries: bad would retry at least about as
// often as good completes a round trip. With the timer, good's round trips complete while bad
// retries at most once per back-off period.
TEST(SequencerPool, failingStoreBackOffDoesNotHoldThePoolThread) {
  auto pool = pool_of(1);
  auto faults = FaultInjector::create();
  auto bad_store = FaultInjectingStore::create(MemoryStore::create(), faults).value();
  Session bad = Session::open(pooled(bad_store, "bad", pool)).value();
  Session good = Session::open(pooled(MemoryStore::create(), "good", pool)).value();
  Watchdog dog("failing session vs healthy session");
  ASSERT_TRUE(faults->fail(FileOp::write, EIO).ok());
  ASSERT_TRUE(bad.append(ev(EventType::message_streamed, "b", "kept")).ok());  // fire-and-forget: retried
  while (!bad.stats().store_failing) std::this_thread::yield();
  const std::size_t rounds = scaled(2'000, 20'000, 300);
  const std::uint64_t failures_before = bad.stats().store_failures;
  for (std::size_t i = 1; i <= rounds; ++i) {
    auto r = good.append_wait(ev(EventType::message_streamed, "g", "good"));
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(r->sequence, i);
  }
  const std::uint64_t retries = bad.stats().store_failures - failures_before;
  EXPECT_LT(retries, rounds / 4) << "the failing session's back-off held the pool thread";
  EXPECT_TRUE(bad.stats().store_failing);
  faults->heal_all();
  // The retained event is stored once the store recovers (never dropped, §11).
  while (bad.stats().store_failing) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto sub = bad.subscribe().value();
  auto got = drain(sub, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, "kept");
  ASSERT_TRUE(bad.stop().ok());
  ASSERT_TRUE(good.stop().ok());
}

// A session on a back-off timer gets its retry even while another session floods the only pool
// thread: the flooding session makes way once a timer is due (a thread moves due timers to the
// ready queue only between turns). The flood ends when the retried event is stored, or at `cap`.
TEST(SequencerPool, dueTimerIsServedWhileAnotherSessionFloods) {
  auto pool = pool_of(1);
  auto faults = FaultInjector::create();
  auto bad_store = FaultInjectingStore::create(MemoryStore::create(), faults).value();
  Session bad = Session::open(pooled(bad_store, "bad", pool)).value();
  Session flood = Session::open(pooled(MemoryStore::create(), "flood", pool)).value();
  Watchdog dog("due timer vs flood");
  ASSERT_TRUE(faults->fail(FileOp::write, EIO).ok());
  ASSERT_TRUE(bad.append(ev(EventType::message_streamed, "b", "kept")).ok());
  while (!bad.stats().store_failing) std::this_thread::yield();
  const std::uint64_t cap = 50'000'000;
  std::atomic<bool> stored{false};
  std::atomic<std::uint64_t> flooded{0};
  std::thread flooder([&] {
    Producer p = flood.producer().value();
    AppendOptions ao;
    ao.on_full = FullPolicy::wait;
    while (!stored.load(std::memory_order_relaxed) && flooded.fetch_add(1, std::memory_order_relaxed) < cap)
      ASSERT_TRUE(p.append(ev(EventType::message_streamed, "f", "flood"), ao).ok());
  });
  while (flood.latest_sequence() < 10'000) std::this_thread::yield();
  faults->heal_all();  // the next retry (a timer of at most 100 ms) stores the event
  while (bad.latest_sequence() < 1) std::this_thread::yield();
  const std::uint64_t at_store = flooded.load();
  stored = true;
  flooder.join();
  EXPECT_LT(at_store, cap) << "the backed-off session was retried only after the flood ended";
  ASSERT_TRUE(bad.stop().ok());
  ASSERT_TRUE(flood.stop().ok());
  EXPECT_EQ(bad.latest_sequence(), 1u);
}

// The doorbell of a pooled session (design §13: (A1)/(G1) against (G2)/(A4), with the park
// (D2) and the wake-up CAS (D1)): a lost wake-up leaves append_wait hanging (watchdog). The
// push lands while the session is parked, while it is being parked, or while it runs.
TEST(SequencerPool, pooledDoorbellNeverLosesAWakeup) {
  auto pool = pool_of(1);
  for (QueueBackend queue : {QueueBackend::moodycamel, QueueBackend::boost_lockfree}) {
    SessionOptions o = pooled(MemoryStore::create(), "bell", pool);
    o.queue = queue;
    auto log = o.store->open(o.session_id, OpenMode::write).value();
    auto core = std::make_shared<detail::SessionCore>(o, log);
    ASSERT_TRUE(core->start().ok());
    auto producer = std::make_unique<detail::ProducerImpl>(*core, core->acquire_producer().value(), core);
    const std::size_t rounds = scaled(5'000, 200'000, 500);
    std::mt19937 rng(7);
    std::size_t parked_before_push = 0;
    Watchdog dog("pooled doorbell round trips");
    for (std::size_t i = 1; i <= rounds; ++i) {
      switch (rng() % 4) {
        case 0:  // fully parked: the pool registered it on the doorbell (G2)
          while (core->doorbell.waiters_approx() == 0) std::this_thread::yield();
          ++parked_before_push;
          break;
        case 1: for (auto k = rng() % 2000; k > 0; --k) detail::cpu_relax(); break;
        case 2: std::this_thread::yield(); break;
        default: break;
      }
      auto r = producer->push_wait(ev(EventType::message_streamed, "r", "x"), {});
      ASSERT_TRUE(r.ok()) << r.error();
      ASSERT_EQ(r->sequence, i);
    }
    EXPECT_GT(parked_before_push, 0u);
    producer.reset();
    ASSERT_TRUE(core->stop().ok());
  }
  EXPECT_GT(pool->stats().parks, 0u);
}

// stop() of a parked session, of a session with queued work, and of one on a timer: each returns
// with everything accepted published (the pool finishes it; nothing is joined).
TEST(SequencerPool, stopPublishesEverythingAcceptedOnThePool) {
  auto pool = pool_of(1);
  auto store = MemoryStore::create();
  for (std::size_t round = 0; round < 20; ++round) {
    Session s = Session::open(pooled(store, name("stop", round), pool)).value();
    Producer p = s.producer().value();
    const std::size_t n = round * 37;
    for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(p.append(ev(EventType::message_streamed, "r", "x")).ok());
    ASSERT_TRUE(s.stop().ok());
    EXPECT_TRUE(s.stopped());
    EXPECT_EQ(s.latest_sequence(), Sequence(n));
    EXPECT_EQ(s.log().latest_sequence(), Sequence(n));
  }
}

// Ring pages given back (an idle pooled session, design §13) read as 0: a reader never takes
// them for the sequence it expects, so it reads the store instead (INV-3).
TEST(SequencerPool, releasedRingPagesReadAsLappedNeverAsStaleEvents) {
  detail::RingBuffer ring(64, 256, 0);
  std::vector<std::byte> rec(100, std::byte{7});
  for (Sequence s = 1; s <= 64; ++s) ASSERT_TRUE(ring.write(s, rec));
  ring.publish(64);
  std::vector<std::uint64_t> buf(64);
  std::size_t size = 0;
  ASSERT_EQ(ring.read(10, buf.data(), size), detail::RingBuffer::Read::ok);
  ring.release_pages();
  for (Sequence s = 1; s <= 64; ++s) EXPECT_EQ(ring.read(s, buf.data(), size), detail::RingBuffer::Read::lapped);
  ASSERT_TRUE(ring.write(65, rec));  // written again after the release
  ring.publish(65);
  EXPECT_EQ(ring.read(65, buf.data(), size), detail::RingBuffer::Read::ok);
  EXPECT_EQ(size, 100u);
}

// A subscriber of a session that went idle (its ring given back after the idle period) keeps its
// place: the rest of what was published comes from the store, then new events from the ring.
TEST(SequencerPool, subscriberKeepsItsPlaceAcrossAnIdleRelease) {
  auto pool = pool_of(1);
  SessionOptions o = pooled(MemoryStore::create(), "idle", pool);
  o.ring_capacity = 256;
  Session s = Session::open(o).value();
  auto sub = s.subscribe().value();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(s.append(ev(EventType::message_streamed, "r", std::to_string(i))).ok());
  std::vector<Event> got;
  while (got.size() < 50) {
    auto r = sub.poll_wait([&](const EventView& v) { got.push_back(v.to_event()); },
                           std::chrono::steady_clock::now() + patience(), 50 - got.size());
    ASSERT_TRUE(r.ok()) << r.error();
  }
  // Wait until the pool has given the idle session's memory back (after its idle period).
  Watchdog dog("idle release");
  while (pool->stats().idle_releases == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (int i = 100; i < 130; ++i) ASSERT_TRUE(s.append(ev(EventType::message_streamed, "r", std::to_string(i))).ok());
  auto rest = drain(sub, 80);
  got.insert(got.end(), rest.begin(), rest.end());
  ASSERT_EQ(got.size(), 130u);
  for (std::size_t k = 0; k < got.size(); ++k) {
    ASSERT_EQ(got[k].sequence_number, k + 1);
    ASSERT_EQ(got[k].data, std::to_string(k));
  }
  ASSERT_TRUE(s.stop().ok());
}

// After stop() the pool holds no reference to the session (PoolHandle::holds, design §13
// "Stop"): destroying the Session releases its store handle at once, so the same id reopens
// right away (no writer_conflict) and continues its sequence (INV-1).
TEST(SequencerPool, stoppedSessionReopensAtOnceAndContinuesItsSequence) {
  auto pool = pool_of(2);
  auto store = MemoryStore::create();
  const std::size_t rounds = scaled(300, 3'000, 50);
  for (std::size_t round = 0; round < rounds; ++round) {
    auto s = Session::open(pooled(store, "again", pool));
    ASSERT_TRUE(s.ok()) << "round " << round << ": " << s.error();
    Producer p = s->producer().value();
    for (std::size_t i = 0; i < 3; ++i) ASSERT_TRUE(p.append(ev(EventType::message_streamed, "r", "x")).ok());
    if (round % 2 == 0) {
      ASSERT_TRUE(s->stop().ok());
    }  // else the destructor stops it
  }
  auto s = Session::open(pooled(store, "again", pool)).value();
  EXPECT_EQ(s.log().latest_sequence(), Sequence(3 * rounds));
}

// Design §13, "idle threads help": on a two-thread pool, while one thread serves a saturated
// MemoryStore session (a slow store: its queue never runs dry), the other prepares that
// session's next arena block (helps > 0), and the session's events stay exactly what was
// appended, in order.
TEST(SequencerPool, idleThreadHelpsTheStoreOfASaturatedSessionAnotherThreadServes) {
  auto pool = pool_of(2);
  auto memory = MemoryStore::create();
  auto store = std::make_shared<ControlledStore>(memory);
  store->control().append_delay_us = 200;
  Session s = Session::open(pooled(store, "hot", pool)).value();
  Producer p = s.producer().value();
  AppendOptions ao;
  ao.on_full = FullPolicy::wait;
  const std::string data(1000, 'x');
  std::uint64_t appended = 0;
  ASSERT_TRUE(eventually([&] {
    for (int i = 0; i < 4096; ++i) {
      std::string id = "e";
      id.append(std::to_string(++appended));
      EXPECT_TRUE(p.append(ev(EventType::message_streamed, "r", data, id), ao).ok());
    }
    return pool->stats().helps > 0;
  })) << "no idle pool thread ever helped the hot session's store";
  store->control().append_delay_us = 0;
  ASSERT_TRUE(s.stop().ok());
  EXPECT_EQ(s.latest_sequence(), appended);
  auto log = memory->open("hot", OpenMode::read).value();
  Sequence expect = 1;
  ASSERT_TRUE(log->read(EventQuery{}, [&](const EventView& v) {
                   EXPECT_EQ(v.sequence_number, expect);
                   EXPECT_EQ(v.id, std::string("e").append(std::to_string(expect)));
                   EXPECT_EQ(v.data, data);
                   ++expect;
                   return true;
                 }).ok());
  EXPECT_EQ(expect, appended + 1);
}

// Design §13, "idle threads help" only a saturated session: a paced session (an event, then
// idle steps) on a two-thread pool is never helped, so the idle thread does not take a core
// its subscribers need. WaitStrategy::yield keeps the session on its pool thread's turn the
// whole time, where an idle thread that helped every served session would call its store's
// prefault_ahead() every kHelpPoll.
TEST(SequencerPool, anIdleThreadNeverHelpsAPacedSession) {
  auto pool = pool_of(2);
  auto store = std::make_shared<ControlledStore>();
  SessionOptions o = pooled(store, "paced", pool);
  o.wait = WaitStrategy::yield;
  Session s = Session::open(o).value();
  Producer p = s.producer().value();
  const std::size_t n = scaled(200, 1'000, 50);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(p.append(ev(EventType::message_streamed, "r", "x")).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(eventually([&] { return s.latest_sequence() == n; }));
  EXPECT_EQ(store->control().prefault_calls.load(), 0u) << "helps " << pool->stats().helps;
  ASSERT_TRUE(s.stop().ok());
}
