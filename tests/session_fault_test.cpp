// The engine under store faults (engine/sequencer.cpp, engine/subscriber.cpp,
// engine/producer.cpp; docs/design.md §11): producers that wait get storage_error instead of
// hanging, nothing the store did not accept is ever published (INV-2, checked by comparing every
// delivered event with the store), subscribers are told the store is failing and resume with no
// gap and no duplicate once it recovers (INV-3), fire-and-forget events are retried, never
// dropped, and stored once, in order, with contiguous sequences (INV-1, INV-5).
#include "log_test_util.hpp"
#include "oracle.hpp"

#include <sessionring/fault_injecting_store.hpp>
#include <sessionring/fault_injector.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace sessionring {
namespace {

using namespace std::chrono_literals;
using test::ev;
using test::Watchdog;

struct Faulty {
  std::shared_ptr<FaultInjector> faults = FaultInjector::create();
  std::shared_ptr<SessionStore> store;
};

Faulty memory_store() {
  Faulty f;
  f.store = FaultInjectingStore::create(MemoryStore::create(), f.faults).value();
  return f;
}

Faulty log_store(const test::TempDir& dir, Durability d) {
  Faulty f;
  auto o = test::options_in(dir, d);
  o.segment_bytes = 64 << 10;
  o.fault_injector = f.faults;
  f.store = LogStore::open(o).value();
  return f;
}

SessionOptions options(std::shared_ptr<SessionStore> store, std::uint32_t ring = 8) {
  SessionOptions o = test::options(std::move(store), "faulty", ring, 256);
  o.ingest_capacity = 16;
  o.max_batch = 8;
  return o;
}

/// One delivered event: what a subscriber saw.
struct Seen {
  Sequence seq;
  std::string id;
  std::uint64_t print;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> store_contents(const SessionLog& log) {
  std::vector<Seen> out;
  Status st = log.read(EventQuery{}, [&](const EventView& v) {
    out.push_back({v.sequence_number, std::string(v.id), test::fingerprint(v)});
    return true;
  });
  EXPECT_TRUE(st.ok()) << st.error();
  return out;
}

/// Polls until the cursor passes `last`; storage_error answers are counted and retried.
std::vector<Seen> drain_through(Subscription& sub, Sequence last, std::size_t* errors = nullptr) {
  std::vector<Seen> got;
  const auto deadline = std::chrono::steady_clock::now() + test::patience();
  while (sub.cursor() <= last && std::chrono::steady_clock::now() < deadline) {
    auto r = sub.poll_wait([&](const EventView& v) { got.push_back({v.sequence_number, std::string(v.id), test::fingerprint(v)}); },
                           std::chrono::steady_clock::now() + 50ms);
    if (!r) {
      EXPECT_EQ(r.code(), Errc::storage_error) << r.error();
      if (errors != nullptr) ++*errors;
      std::this_thread::sleep_for(1ms);  // back off before polling again
    }
  }
  return got;
}

TEST(SessionFaults, waitingProducerGetsStorageErrorAndNothingUnstoredIsPublished) {
  Faulty f = memory_store();
  auto s = Session::open(options(f.store)).value();
  auto sub = s.subscribe({}).value();
  ASSERT_TRUE(s.append_wait(ev(EventType::run_started, "r", "stored", "e1")).ok());
  ASSERT_TRUE(f.faults->fail(FileOp::write, EIO));
  {
    Watchdog dog("append_wait with a failing store");
    auto r = s.append_wait(ev(EventType::message_streamed, "r", "refused", "e2"));
    ASSERT_EQ(r.code(), Errc::storage_error);
    EXPECT_NE(r.error().message().find("injected by FaultInjector"), std::string::npos) << r.error();
  }
  EXPECT_EQ(s.log().latest_sequence(), 1u);
  EXPECT_EQ(s.latest_sequence(), 1u) << "INV-2: nothing unstored is published";
  EXPECT_TRUE(s.stats().store_failing);
  // The subscriber delivers what was published, then is told the store is failing; the cursor stays.
  std::vector<Sequence> got;
  auto keep = [&](const EventView& v) { got.push_back(v.sequence_number); };
  ASSERT_EQ(sub.poll(keep).value(), 1u);
  auto r = sub.poll(keep);
  ASSERT_EQ(r.code(), Errc::storage_error);
  EXPECT_NE(r.error().message().find("the store is failing"), std::string::npos) << r.error();
  EXPECT_EQ(sub.cursor(), 2u);
  {
    Watchdog dog("poll_wait with a failing store");
    EXPECT_EQ(sub.poll_wait(keep, Deadline::max()).code(), Errc::storage_error) << "reported, not waited on";
  }
  f.faults->heal_all();
  auto ok = s.append_wait(ev(EventType::message_streamed, "r", "stored", "e2"));
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->sequence, 2u) << "the refused event consumed no sequence (INV-1)";
  EXPECT_FALSE(s.stats().store_failing);
  ASSERT_EQ(sub.poll_wait(keep, std::chrono::steady_clock::now() + test::patience()).value(), 1u);
  EXPECT_EQ(got, (std::vector<Sequence>{1, 2}));
  EXPECT_EQ(test::sequences(s.log().read(EventQuery{}).value()), got);
}

TEST(SessionFaults, producersThatWaitNeverHangWhileTheSequencerRetries) {
  // The store refuses every append: the sequencer keeps the fire-and-forget events and retries
  // them, taking nothing new. Producers waiting for queue space (FullPolicy::wait, no deadline)
  // and append_wait callers whose event is still queued get storage_error (their event not
  // appended / dropped) instead of hanging. Once the store recovers, every accepted
  // fire-and-forget event is stored once, in order, with contiguous sequences.
  Faulty f = memory_store();
  SessionOptions o = options(f.store);
  o.ingest_capacity = 4;
  auto s = Session::open(o).value();
  auto p = s.producer().value();
  auto sub = s.subscribe({}).value();
  ASSERT_TRUE(f.faults->fail(FileOp::write, ENOSPC));
  std::vector<std::string> accepted;
  Watchdog dog("producers with a stalled sequencer");
  for (int i = 0; i < 100; ++i) {
    const std::string id = "ff-" + std::to_string(i);
    Status st = p.append(ev(EventType::message_streamed, "r", id, id));  // FullPolicy::wait, deadline max
    if (st.ok()) {
      accepted.push_back(id);
      continue;
    }
    ASSERT_EQ(st.code(), Errc::storage_error) << st.error();
    EXPECT_NE(st.error().message().find("not appended"), std::string::npos) << st.error();
  }
  EXPECT_GE(accepted.size(), 1u);
  EXPECT_LT(accepted.size(), 100u) << "the queue never filled?";
  auto w = p.append_wait(ev(EventType::run_completed, "r", "waited", "aw-1"));
  ASSERT_EQ(w.code(), Errc::storage_error);
  EXPECT_EQ(s.log().latest_sequence(), 0u);
  EXPECT_EQ(s.latest_sequence(), 0u);
  EXPECT_EQ(sub.poll([](const EventView&) {}).code(), Errc::storage_error);
  f.faults->heal_all();
  Result<AppendResult> end = p.append_wait(ev(EventType::run_completed, "r", "end", "end-0"));
  for (int attempt = 1; !end.ok(); ++attempt) {  // storage_error until the sequencer's next retry
    ASSERT_EQ(end.code(), Errc::storage_error) << end.error();
    std::this_thread::sleep_for(1ms);
    end = p.append_wait(ev(EventType::run_completed, "r", "end", "end-" + std::to_string(attempt)));
  }
  const auto stored = s.log().read(EventQuery{}).value();
  ASSERT_EQ(stored.size(), accepted.size() + 1);
  for (std::size_t i = 0; i < accepted.size(); ++i) {
    EXPECT_EQ(stored[i].sequence_number, i + 1);
    EXPECT_EQ(stored[i].id, accepted[i]) << "INV-5: one producer's events in order";
  }
  EXPECT_EQ(stored.back().id.substr(0, 4), "end-");
  EXPECT_EQ(stored.back().sequence_number, end->sequence);
  EXPECT_FALSE(s.log().find_by_id("aw-1").ok()) << "an append_wait answered storage_error was stored";
  const auto got = drain_through(sub, end->sequence);
  EXPECT_EQ(test::sequences(stored), [&] {
    std::vector<Sequence> v;
    for (const Seen& x : got) v.push_back(x.seq);
    return v;
  }());
}

TEST(SessionFaults, subscribersResumeWithoutGapAfterStoreRecovers) {
  // Pull subscribers in the ring and one behind it, and a push subscription with an error
  // handler: during the fault each delivers what was published and is told storage_error; after
  // the store recovers each continues from its cursor: the stream equals the store, no gap, no
  // duplicate.
  Faulty f = memory_store();
  auto s = Session::open(options(f.store, 16)).value();
  auto p = s.producer().value();
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(p.append(ev(EventType::message_streamed, "r", std::to_string(i))).ok());
  ASSERT_TRUE(p.append_wait(ev(EventType::run_started, "r", "mark")).ok());
  SubscribeOptions from35;
  from35.from_sequence = 35;
  auto live = s.subscribe(from35).value();
  auto behind = s.subscribe({}).value();  // 41 events behind a 16-slot ring: reads the store first
  std::mutex m;
  std::vector<Seen> pushed;
  std::atomic<int> push_errors{0};  // writer: the push thread; reader: main (relaxed: a count)
  auto push = s.subscribe_push(
                   {}, [&](const EventView& v) {
                     std::lock_guard lock(m);
                     pushed.push_back({v.sequence_number, std::string(v.id), test::fingerprint(v)});
                   },
                   [&](const Error& e) {
                     EXPECT_EQ(e.code(), Errc::storage_error) << e;
                     push_errors.fetch_add(1, std::memory_order_relaxed);
                   })
                  .value();
  ASSERT_TRUE(f.faults->fail(FileOp::write, EIO));
  for (int i = 0; i < 10; ++i) {  // accepted and retried; not stored, not published
    Status st = p.append(ev(EventType::message_streamed, "r", "during-" + std::to_string(i)));
    ASSERT_TRUE(st.ok() || st.code() == Errc::storage_error) << st.error();
  }
  // Each subscriber gets everything published, then storage_error (the cursor at 42).
  std::size_t live_errors = 0;
  auto live_got = drain_through(live, 41, &live_errors);
  auto r = live.poll([](const EventView&) {});
  const auto deadline = std::chrono::steady_clock::now() + test::patience();
  while (r.ok() && std::chrono::steady_clock::now() < deadline) r = live.poll([](const EventView&) {});
  ASSERT_EQ(r.code(), Errc::storage_error);
  EXPECT_EQ(live.cursor(), 42u);
  std::size_t behind_errors = 0;
  auto behind_got = drain_through(behind, 41, &behind_errors);
  EXPECT_EQ(behind.poll([](const EventView&) {}).code(), Errc::storage_error);
  while (push_errors.load(std::memory_order_relaxed) == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_GT(push_errors.load(std::memory_order_relaxed), 0) << "the push subscription was not told";
  EXPECT_FALSE(push.finished()) << "a storage_error stopped the push thread despite its error handler";
  EXPECT_EQ(s.latest_sequence(), 41u);
  f.faults->heal_all();
  Result<AppendResult> end = p.append_wait(ev(EventType::run_completed, "r", "end"));
  while (!end.ok()) {
    ASSERT_EQ(end.code(), Errc::storage_error);
    std::this_thread::sleep_for(1ms);
    end = p.append_wait(ev(EventType::run_completed, "r", "end"));
  }
  const Sequence last = end->sequence;
  auto more_live = drain_through(live, last);
  auto more_behind = drain_through(behind, last);
  live_got.insert(live_got.end(), more_live.begin(), more_live.end());
  behind_got.insert(behind_got.end(), more_behind.begin(), more_behind.end());
  while (push.cursor() <= last && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  const auto stored = store_contents(s.log());
  ASSERT_EQ(stored.size(), last);
  EXPECT_EQ(behind_got, stored);
  EXPECT_EQ(live_got, std::vector<Seen>(stored.begin() + 34, stored.end()));
  std::lock_guard lock(m);
  EXPECT_EQ(pushed, stored);
}

TEST(SessionFaults, storeFallbackReadFailureKeepsTheCursorAndRetryWorks) {
  // A subscriber reading the store (backfill, and after being lapped in a tiny ring) whose
  // reads fail gets storage_error with its cursor where it was; polling again later works.
  Faulty f = memory_store();
  auto s = Session::open(options(f.store, 8)).value();
  auto p = s.producer().value();
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(p.append(ev(EventType::message_streamed, "r", std::to_string(i))).ok());
  ASSERT_TRUE(p.append_wait(ev(EventType::run_completed, "r", "end")).ok());
  auto sub = s.subscribe({}).value();
  ASSERT_EQ(sub.state(), SubscriptionState::backfilling);
  std::vector<Seen> got;
  auto keep = [&](const EventView& v) { got.push_back({v.sequence_number, std::string(v.id), test::fingerprint(v)}); };
  ASSERT_TRUE(sub.poll(keep, 100).ok());
  ASSERT_EQ(sub.cursor(), 101u);
  ASSERT_TRUE(f.faults->fail(FileOp::read, EIO));
  for (int i = 0; i < 3; ++i) {
    auto r = sub.poll(keep);
    ASSERT_EQ(r.code(), Errc::storage_error);
    EXPECT_EQ(sub.cursor(), 101u) << "the cursor moved past events it could not read";
  }
  f.faults->heal_all();
  while (sub.cursor() <= 301) ASSERT_TRUE(sub.poll(keep).ok());
  EXPECT_EQ(got, store_contents(s.log()));
}

TEST(SessionFaults, logStoreBackgroundFsyncFailureIsReportedAndRecovers) {
  // LogStore, fsync with group commit: a failing fdatasync makes the engine's store health
  // "failing" (subscribers told, append_wait answered), nothing unsynced is published, and
  // once the disk syncs again everything accepted is stored and delivered.
  test::TempDir dir;
  Faulty f = log_store(dir, Durability::fsync);
  auto s = Session::open(options(f.store, 16)).value();
  auto sub = s.subscribe({}).value();
  auto p = s.producer().value();
  ASSERT_TRUE(p.append_wait(ev(EventType::run_started, "r", "first")).ok());
  ASSERT_TRUE(f.faults->fail(FileOp::sync, EIO));
  for (int i = 0; i < 5; ++i) {
    Status st = p.append(ev(EventType::message_streamed, "r", std::to_string(i)));
    ASSERT_TRUE(st.ok() || st.code() == Errc::storage_error) << st.error();
  }
  // An append_wait whose event the store took before the fdatasync failed waits for the retry
  // to secure it; one refused (or still queued) gets storage_error. Either way its answer
  // matches the store in the end.
  std::atomic<int> waited{0};  // writer: the waiter thread; reader: main after join (0 none, 1 ok, 2 refused)
  std::thread waiter([&] {
    auto w = s.append_wait(ev(EventType::run_completed, "r", "waited", "aw"));
    if (!w.ok()) {
      EXPECT_EQ(w.code(), Errc::storage_error) << w.error();
    }
    waited.store(w.ok() ? 1 : 2, std::memory_order_relaxed);
  });
  // Subscribers get sequence 1 and then storage_error; nothing unsynced is published.
  auto got = drain_through(sub, 1);
  auto r = sub.poll([](const EventView&) {});
  const auto deadline = std::chrono::steady_clock::now() + test::patience();
  while (r.ok() && *r == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
    r = sub.poll([](const EventView&) {});
  }
  ASSERT_EQ(r.code(), Errc::storage_error);
  EXPECT_NE(r.error().message().find("fdatasync"), std::string::npos) << r.error();
  EXPECT_EQ(s.latest_sequence(), 1u);
  f.faults->heal_all();
  waiter.join();
  Result<AppendResult> end = p.append_wait(ev(EventType::run_completed, "r", "end", "end-0"));
  for (int attempt = 1; !end.ok(); ++attempt) {
    ASSERT_EQ(end.code(), Errc::storage_error);
    std::this_thread::sleep_for(1ms);
    end = p.append_wait(ev(EventType::run_completed, "r", "end", "end-" + std::to_string(attempt)));
  }
  auto more = drain_through(sub, end->sequence);
  got.insert(got.end(), more.begin(), more.end());
  const auto stored = store_contents(s.log());
  EXPECT_EQ(got, stored);
  ASSERT_NE(waited.load(std::memory_order_relaxed), 0);
  EXPECT_EQ(s.log().find_by_id("aw").ok(), waited.load(std::memory_order_relaxed) == 1)
      << "append_wait's answer matches the store";
}

// ---------------------------------------------------------------------------------------------
// Chaos: intermittent faults while 2 producers append and 3 subscribers consume.

struct Outcome {
  std::string id;
  bool waited;     // append_wait (else fire-and-forget)
  bool ok;         // accepted (fire-and-forget) / stored (append_wait)
  Sequence seq;    // append_wait OK: its sequence
};

struct ChaosConfig {
  std::string name;
  std::uint32_t ring;
  int store;  // 0 memory wrapper, 1 LogStore buffered, 2 LogStore fsync (group commit)
};

void run_chaos(const ChaosConfig& cfg) {
  SCOPED_TRACE(cfg.name);
  test::TempDir dir;
  Faulty f = cfg.store == 0 ? memory_store() : log_store(dir, cfg.store == 1 ? Durability::buffered : Durability::fsync);
  auto s = Session::open(options(f.store, cfg.ring)).value();
  // Events each producer gets accepted: with ring 8 the ring wraps thousands of times.
  const std::size_t per_producer = test::scaled(10000, 100000, 500);
  Watchdog dog("chaos " + cfg.name);

  // Subscribers: two pull (one from the start, one from the middle), one push with an error handler.
  std::atomic<Sequence> target{0};        // writer: main once producers are done; readers: subscribers
  std::atomic<bool> producers_done{false};  // writer: main; reader: the chaos thread
  std::vector<std::vector<Seen>> pulled(2);
  std::vector<std::size_t> pull_errors(2, 0);
  std::vector<Sequence> pull_from{0, 500};
  std::vector<std::thread> pullers;
  for (int k = 0; k < 2; ++k)
    pullers.emplace_back([&, k] {
      SubscribeOptions so;
      so.from_sequence = pull_from[k];
      auto sub = s.subscribe(so).value();
      for (;;) {
        auto r = sub.poll_wait(
            [&](const EventView& v) { pulled[k].push_back({v.sequence_number, std::string(v.id), test::fingerprint(v)}); },
            std::chrono::steady_clock::now() + 20ms);
        if (!r) {
          ASSERT_EQ(r.code(), Errc::storage_error) << r.error();
          ++pull_errors[k];
          std::this_thread::sleep_for(200us);
        }
        const Sequence t = target.load(std::memory_order_acquire);  // pairs with main's release
        if (t != 0 && sub.cursor() > t) return;
      }
    });
  std::mutex push_m;
  std::vector<Seen> pushed;
  std::atomic<std::uint64_t> push_errors{0};  // writer: push thread; reader: main (relaxed: a count)
  auto push = s.subscribe_push(
                   {}, [&](const EventView& v) {
                     std::lock_guard lock(push_m);
                     pushed.push_back({v.sequence_number, std::string(v.id), test::fingerprint(v)});
                   },
                   [&](const Error& e) {
                     EXPECT_EQ(e.code(), Errc::storage_error) << e;
                     push_errors.fetch_add(1, std::memory_order_relaxed);
                   })
                  .value();

  // Chaos: toggles faults at random until the producers are done, then heals.
  std::thread chaos([&] {
    std::mt19937_64 rng(0xfa017 + cfg.ring + cfg.store);
    while (!producers_done.load(std::memory_order_acquire)) {  // pairs with main's release
      switch (rng() % 10) {
        case 0: (void)f.faults->fail_next(FileOp::write, 1 + rng() % 3, EIO); break;
        case 1: (void)f.faults->fail_writes_after(rng() % 4000, ENOSPC); break;
        case 2: (void)f.faults->fail(FileOp::write, EIO); break;
        case 3: (void)f.faults->fail_next(FileOp::read, 1 + rng() % 4, EIO); break;
        case 4: (void)f.faults->fail_next(FileOp::sync, 1 + rng() % 2, EIO); break;
        case 5: (void)f.faults->delay(FileOp::sync, std::chrono::microseconds(rng() % 2000)); break;
        default: f.faults->heal_all(); break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200 + rng() % 3000));  // let time pass
    }
    f.faults->heal_all();
  });

  // Producers: fire-and-forget and append_wait mixed, every event with a unique id. Once the
  // chaos is over (the store works again) each ends with an append_wait, retried while the
  // sequencer finishes its back-off: it is stored after everything that producer had accepted
  // (INV-5), so the highest of the two is the last stored sequence.
  std::atomic<int> loops_done{0};   // writers: producers (release); reader: main (acquire)
  std::atomic<bool> healed{false};  // writer: main (release); readers: producers (acquire)
  std::vector<Sequence> last_of(2, 0);
  std::vector<std::vector<Outcome>> outcomes(2);
  std::vector<std::thread> producers;
  for (int k = 0; k < 2; ++k)
    producers.emplace_back([&, k] {
      auto p = s.producer().value();
      std::mt19937_64 rng(77 + k);
      std::size_t accepted = 0;
      const std::string run = "run-" + std::to_string(k);  // EventInput holds views: keep the string
      auto appends = [&] {  // (a failed ASSERT returns from here only)
        for (std::size_t i = 0; accepted < per_producer; ++i) {
          const std::string id = "p" + std::to_string(k) + "-" + std::to_string(i);
          const bool waited = rng() % 4 == 0;
          EventInput e = ev(EventType::message_streamed, run, id, id);
          bool ok = false;
          if (waited) {
            auto r = p.append_wait(e);
            if (!r.ok()) {
              ASSERT_EQ(r.code(), Errc::storage_error) << r.error();
            }
            ok = r.ok();
            outcomes[k].push_back({id, true, ok, ok ? r->sequence : 0});
          } else {
            Status st = p.append(e);
            if (!st.ok()) {
              ASSERT_EQ(st.code(), Errc::storage_error) << st.error();
            }
            ok = st.ok();
            outcomes[k].push_back({id, false, ok, 0});
          }
          if (ok) {
            ++accepted;
          } else {
            std::this_thread::sleep_for(300us);  // a host backing off from a failing store
          }
        }
      };
      appends();
      loops_done.fetch_add(1, std::memory_order_release);  // pairs with main's acquire
      while (!healed.load(std::memory_order_acquire)) std::this_thread::sleep_for(100us);  // pairs with main's release
      for (int attempt = 0;; ++attempt) {
        const std::string id = "end-" + std::to_string(k) + "-" + std::to_string(attempt);
        auto r = p.append_wait(ev(EventType::run_completed, "end", id, id));
        outcomes[k].push_back({id, true, r.ok(), r.ok() ? r->sequence : 0});
        if (r.ok()) {
          last_of[k] = r->sequence;
          return;
        }
        ASSERT_EQ(r.code(), Errc::storage_error) << r.error();
        std::this_thread::sleep_for(1ms);
      }
    });
  while (loops_done.load(std::memory_order_acquire) < 2) std::this_thread::sleep_for(1ms);  // pairs with the producers' release
  producers_done.store(true, std::memory_order_release);  // pairs with the chaos thread's acquire
  chaos.join();  // it heals everything before it ends
  healed.store(true, std::memory_order_release);  // pairs with the producers' acquire
  for (auto& t : producers) t.join();
  const Sequence last = std::max(last_of[0], last_of[1]);
  ASSERT_NE(last, 0u);
  target.store(last, std::memory_order_release);  // pairs with the pullers' acquire
  for (auto& t : pullers) t.join();
  const auto deadline = std::chrono::steady_clock::now() + test::patience();
  while (push.cursor() <= last && !push.finished() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(push.finished()) << "the push thread stopped: " << push.last_error();
  ASSERT_TRUE(s.stop().ok());

  // The oracle: the store.
  const auto stored = store_contents(s.log());
  ASSERT_EQ(stored.size(), last) << "INV-1: contiguous sequences";
  std::map<std::string, Sequence> where;
  for (const Seen& e : stored) {
    ASSERT_EQ(e.seq, where.size() + 1);
    ASSERT_TRUE(where.emplace(e.id, e.seq).second) << "stored twice: " << e.id;
  }
  std::size_t waited_ok = 0, waited_refused = 0, ff_ok = 0, ff_refused = 0;
  for (int k = 0; k < 2; ++k) {
    Sequence prev = 0;
    for (const Outcome& o : outcomes[k]) {
      auto it = where.find(o.id);
      if (o.ok) {
        ASSERT_NE(it, where.end()) << o.id << " was accepted but is not stored";
        if (o.waited) { EXPECT_EQ(it->second, o.seq) << o.id; }
        EXPECT_GT(it->second, prev) << "INV-5: " << o.id << " out of its producer's order";
        prev = it->second;
      } else {
        EXPECT_EQ(it, where.end()) << o.id << " answered storage_error but is stored";
      }
      (o.waited ? (o.ok ? waited_ok : waited_refused) : (o.ok ? ff_ok : ff_refused))++;
    }
  }
  // Subscribers: exactly the store (INV-2: nothing else was ever delivered; INV-3: no gap, no dup).
  const std::vector<Seen> from_500(stored.begin() + std::min<std::size_t>(499, stored.size()), stored.end());
  EXPECT_EQ(pulled[0], stored);
  EXPECT_EQ(pulled[1], from_500);
  {
    std::lock_guard lock(push_m);
    EXPECT_EQ(pushed, stored);
  }
  const auto stats = s.stats();
  std::printf("[ chaos %s ] stored %zu: append_wait ok %zu / storage_error %zu, append ok %zu / storage_error %zu; "
              "store failures %llu, abandoned waits %llu, faults injected %llu; subscriber errors %zu/%zu/%llu\n",
              cfg.name.c_str(), stored.size(), waited_ok, waited_refused, ff_ok, ff_refused,
              static_cast<unsigned long long>(stats.store_failures),
              static_cast<unsigned long long>(stats.abandoned_waits),
              static_cast<unsigned long long>(f.faults->injected_total()), pull_errors[0], pull_errors[1],
              static_cast<unsigned long long>(push_errors.load(std::memory_order_relaxed)));
  EXPECT_GT(f.faults->injected_total(), 0u);
}

TEST(SessionFaults, chaosOverMemoryStoreEveryDeliveredEventIsStoredExactlyOnce) {
  run_chaos({"memory, ring 8", 8, 0});
}

TEST(SessionFaults, chaosOverLogStoreEveryDeliveredEventIsStoredExactlyOnce) {
  run_chaos({"log buffered, ring 16", 16, 1});
  run_chaos({"log fsync, ring 8", 8, 2});
}

}  // namespace
}  // namespace sessionring
