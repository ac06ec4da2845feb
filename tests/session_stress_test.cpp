// Session under concurrency, checked against an oracle (the store's own history):
//  * P producers (a Producer each) × N events; S subscribers with random filters, random
//    from_sequence cursors, random poll sizes and pauses, some unsubscribing and resubscribing
//    from their cursor; tiny rings (8, 16) so wrap-around and lapping happen thousands of times.
//    Every subscriber's stream must equal the store's filtered stream from its first cursor
//    (INV-3: no gap, no duplicate, same content). Subscriber 0 is a "lapper" (takes what is
//    there, then waits for the ring to pass its cursor) and the producers are paced to stay
//    within four rings of it, so it is lapped thousands of times per run. The store must hold
//    every event exactly once, contiguously (INV-1), in per-producer order (INV-5). Both queue
//    backends, all three wait strategies, the memory store and the log store.
//  * a subscriber whose handler is stuck gates nobody (INV-4) and then catches up completely;
//  * a subscriber joining in the middle of a burst gets no duplicate and no gap (DESIGN §7).
#include "oracle.hpp"

#include <sessionring/log_store.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <latch>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include <unistd.h>

using namespace sessionring;
using namespace sessionring::test;

namespace {

enum class StoreKind { memory, log_buffered, log_fsync };

std::string_view to_string(StoreKind k) {
  switch (k) {
    case StoreKind::memory: return "memory";
    case StoreKind::log_buffered: return "logBuffered";
    case StoreKind::log_fsync: return "logFsync";
  }
  return "?";
}

/// A fresh store; log stores live in a temporary directory removed at the end.
class TestStore {
 public:
  explicit TestStore(StoreKind kind) {
    if (kind == StoreKind::memory) {
      store_ = MemoryStore::create();
      return;
    }
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("sessionring-stress-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    LogStoreOptions o;
    o.root = dir_;
    o.durability = kind == StoreKind::log_fsync ? Durability::fsync : Durability::buffered;
    o.segment_bytes = 1u << 20;  // several segments per run
    auto s = LogStore::open(o);
    EXPECT_TRUE(s.ok()) << s.error();
    if (s.ok()) store_ = *s;
  }
  ~TestStore() {
    store_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  std::shared_ptr<SessionStore> store() const { return store_; }

 private:
  std::filesystem::path dir_;
  std::shared_ptr<SessionStore> store_;
};

// Event (p, i): producer p's i-th event. Its data encodes both; its run and type vary with i so
// filters select interleaved subsets.
constexpr EventType kTypes[] = {EventType::message_streamed, EventType::tool_call_started, EventType::run_started,
                                EventType::token_usage_updated, EventType::error_occurred, EventType::turn_completed};
std::string run_for(int p, std::size_t i) { return "r" + std::to_string((static_cast<std::size_t>(p) * 7 + i) % 5); }
EventType type_for(std::size_t i) { return kTypes[i % std::size(kTypes)]; }

EventFilter random_filter(std::mt19937_64& rng) {
  EventFilter f;
  switch (rng() % 6) {
    case 0: break;  // everything
    case 1: f.run_id("r" + std::to_string(rng() % 5)); break;
    case 2: f.run_id("r1").run_id("r" + std::to_string(2 + rng() % 3)); break;
    case 3: f.type(kTypes[rng() % std::size(kTypes)]); break;
    case 4: f.types({EventType::message_streamed, kTypes[1 + rng() % (std::size(kTypes) - 1)]}); break;
    default: f.run_id("r0").run_id("r3").types({EventType::message_streamed, EventType::run_started}); break;
  }
  return f;
}

struct StressConfig {
  QueueBackend queue;
  WaitStrategy wait;
  std::uint32_t ring;
  StoreKind store;
};

std::string name_of(const StressConfig& c) {
  return std::string(to_string(c.queue)) + "_" + std::string(to_string(c.wait)) + "_ring" +
         std::to_string(c.ring) + "_" + std::string(to_string(c.store));
}

std::string config_name(const testing::TestParamInfo<StressConfig>& info) { return name_of(info.param); }

struct SubscriberRecord {
  Sequence first_from = 0;
  EventFilter filter;
  std::vector<Sequence> seqs;
  std::vector<std::uint64_t> prints;
  std::uint64_t lapped = 0;
  std::uint64_t resubscribes = 0;
  std::uint64_t stalls = 0;  // the lapper's waits for the ring to wrap past it
};

class SessionStress : public testing::TestWithParam<StressConfig> {};

TEST_P(SessionStress, everySubscriberGetsExactlyTheStoredFilteredStream) {
  const StressConfig cfg = GetParam();
  const bool spin = cfg.wait == WaitStrategy::spin;
  const bool fsync = cfg.store == StoreKind::log_fsync;
  const int producers = 2;
  const int subscribers = spin ? 2 : 3;
  // Per producer. Spinning waiters and fsync batches are kept short on 2 cores.
  const std::size_t each = spin ? scaled(5'000, 100'000, 500)
                                : fsync ? scaled(20'000, 300'000, 2'000) : scaled(150'000, 1'000'000, 15'000);
  const Sequence total = static_cast<Sequence>(producers) * each;

  TestStore ts(cfg.store);
  ASSERT_TRUE(ts.store());
  SessionOptions o = options(ts.store(), "stress", cfg.ring, 256);
  o.queue = cfg.queue;
  o.wait = cfg.wait;
  o.ingest_capacity = 64;
  o.max_batch = 32;  // above the ring (slots rewritten before publish), small enough for frequent laps
  auto session = Session::open(o);
  ASSERT_TRUE(session.ok()) << session.error();
  Session& s = *session;
  Watchdog dog("stress " + name_of(cfg));

  std::vector<SubscriberRecord> records(subscribers);
  std::latch all_subscribed(subscribers);  // producers start once every subscriber is attached
  std::atomic<int> producing{producers};   // producers still appending
  // The lapper's cursor. Producers pace themselves to stay within a few rings of it (the test
  // harness paces them; the engine never waits for a subscriber), so that the lapper keeps
  // catching up and being lapped again for the whole run instead of trailing in the store.
  std::atomic<Sequence> lapper_next{1};
  std::vector<std::thread> threads;
  for (int k = 0; k < subscribers; ++k)
    threads.emplace_back([&, k] {
      std::mt19937_64 rng(1234 + static_cast<unsigned>(k) * 77 + static_cast<unsigned>(cfg.ring));
      SubscriberRecord& rec = records[k];
      rec.filter = random_filter(rng);
      // From the start, from somewhere in the middle, or from a future sequence.
      const std::uint64_t pick = k == 0 ? 0 : rng() % 3;
      rec.first_from = pick == 0 ? 0 : 1 + rng() % (pick == 1 ? total / 2 : total);
      Sequence from = rec.first_from;
      while (from <= total) {
        SubscribeOptions so;
        so.from_sequence = from;
        so.filter = rec.filter;
        auto sub = s.subscribe(so);
        if (rec.resubscribes == 0) all_subscribed.count_down();
        ASSERT_TRUE(sub.ok()) << sub.error();
        // Leave after a random number of polls (about a third of the subscriptions stay).
        const std::uint64_t polls = rng() % 3 == 0 ? ~std::uint64_t{0} : 1 + rng() % 400;
        for (std::uint64_t n = 0; n < polls && sub->cursor() <= total; ++n) {
          // Subscriber 0 is the "lapper": it takes everything available, then waits until the
          // ring has wrapped past its cursor, so while the producers run it is lapped, falls back
          // to the store and rejoins over and over.
          const bool lapper = k == 0;
          const std::size_t max = lapper || rng() % 2 == 0 ? Subscription::kAll : 1 + rng() % 64;
          const std::uint64_t pause_every = 32 + rng() % 256;
          auto r = sub->poll_wait(
              [&](const EventView& v) {
                rec.seqs.push_back(v.sequence_number);
                rec.prints.push_back(fingerprint(v));
                if (rec.seqs.size() % pause_every == 0) std::this_thread::yield();  // fall behind now and then
              },
              std::chrono::steady_clock::now() + 50ms, max);
          ASSERT_TRUE(r.ok()) << r.error();
          if (lapper) {
            // Wait until the ring no longer holds our cursor (head >= cursor + ring): the next
            // poll finds it overwritten. Relative to the cursor, not to the head, so that the
            // producers' pacing (head <= cursor + 4 rings) always lets this end.
            ++rec.stalls;
            const Sequence cursor = sub->cursor();
            lapper_next.store(cursor);
            while (s.latest_sequence() < cursor + cfg.ring && producing.load() > 0) std::this_thread::yield();
          } else if (rng() % 4 == 0) {
            // Stall now and then while the producers run: the tiny ring may wrap past us.
            std::this_thread::sleep_for(std::chrono::microseconds(20 + rng() % 200));
          }
        }
        rec.lapped += sub->lapped_count();
        from = sub->cursor();  // the next sequence to consider: resume exactly there
        ASSERT_TRUE(sub->unsubscribe().ok());
        ++rec.resubscribes;
      }
      if (k == 0) lapper_next.store(total + 1);
    });

  std::vector<std::thread> producer_threads;
  for (int p = 0; p < producers; ++p)
    producer_threads.emplace_back([&, p] {
      auto prod = s.producer();
      ASSERT_TRUE(prod.ok());
      all_subscribed.wait();
      for (std::size_t i = 0; i < each; ++i) {
        if (i % 16 == 0)
          while (s.latest_sequence() > lapper_next.load() + 4 * cfg.ring) std::this_thread::yield();
        const std::string data = std::to_string(p) + ":" + std::to_string(i);
        const std::string run = run_for(p, i);  // EventInput holds views: keep the bytes alive
        const EventInput e = ev(type_for(i), run, data);
        if (i % 64 == 63) {  // a round trip now and then: paces the producers, interleaves them with readers
          auto r = prod->append_wait(e);
          ASSERT_TRUE(r.ok()) << r.error();
        } else {
          ASSERT_TRUE(prod->append(e).ok());
        }
      }
      producing.fetch_sub(1);
    });
  for (auto& t : producer_threads) t.join();
  for (auto& t : threads) t.join();

  // The store: every event exactly once, contiguous, per-producer order.
  std::unordered_map<Sequence, std::uint64_t> stored_print;
  stored_print.reserve(total);
  std::vector<std::size_t> next(producers, 0);
  Sequence expect = 1;
  Status st = s.log().read(EventQuery{}, [&](const EventView& v) {
    EXPECT_EQ(v.sequence_number, expect++);
    const auto colon = v.data.find(':');
    const int p = std::stoi(std::string(v.data.substr(0, colon)));
    const std::size_t i = std::stoul(std::string(v.data.substr(colon + 1)));
    EXPECT_EQ(i, next[p]) << "producer " << p << " out of order at sequence " << v.sequence_number;
    next[p] = i + 1;
    EXPECT_EQ(v.run_id, run_for(p, i));
    stored_print.emplace(v.sequence_number, fingerprint(v));
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.error();
  ASSERT_EQ(expect - 1, total);

  // Every subscriber: exactly the stored filtered stream from its first cursor, same content.
  std::uint64_t lapped = 0;
  for (int k = 0; k < subscribers; ++k) {
    const SubscriberRecord& rec = records[k];
    SCOPED_TRACE("subscriber " + std::to_string(k) + " from " + std::to_string(rec.first_from) + " resubscribed " +
                 std::to_string(rec.resubscribes) + " times");
    const auto want = stored_sequences(s.log(), std::max<Sequence>(rec.first_from, 1), total, rec.filter);
    ASSERT_EQ(rec.seqs.size(), want.size());
    std::size_t first_bad = want.size();
    for (std::size_t j = 0; j < want.size() && first_bad == want.size(); ++j)
      if (rec.seqs[j] != want[j]) first_bad = j;
    ASSERT_EQ(first_bad, want.size()) << "stream differs at index " << first_bad << ": got " << rec.seqs[first_bad]
                                      << ", store has " << want[first_bad];
    for (std::size_t j = 0; j < rec.seqs.size(); ++j)
      ASSERT_EQ(rec.prints[j], stored_print.at(rec.seqs[j])) << "content differs at sequence " << rec.seqs[j];
    lapped += rec.lapped;
  }
  RecordProperty("lapped", std::to_string(lapped));
  RecordProperty("lapper_stalls", std::to_string(records[0].stalls));
  RecordProperty("lapper_lapped", std::to_string(records[0].lapped));
  RecordProperty("events", std::to_string(total));
  // The run must have exercised wrap-around and the lapped fallback, not just the happy path.
  // About one lap per lapper cycle (4 rings of events); spin and fsync runs are shorter.
  const std::size_t min_laps =
      spin ? scaled(20, 200, 2) : fsync ? scaled(100, 1'000, 10) : scaled(1'000, 5'000, 100);
  EXPECT_GT(lapped, min_laps) << "subscribers were lapped too rarely to test the fallback";
}

std::vector<StressConfig> matrix() {
  std::vector<StressConfig> out;
  for (QueueBackend q : {QueueBackend::moodycamel, QueueBackend::boost_lockfree})
    for (WaitStrategy w : {WaitStrategy::block, WaitStrategy::yield, WaitStrategy::spin})
      for (std::uint32_t ring : {8u, 16u}) out.push_back({q, w, ring, StoreKind::memory});
  // The log store behind the same engine: both durabilities that differ for publishing (fsync
  // secures in the background, so written runs ahead of latest: INV-2).
  for (StoreKind k : {StoreKind::log_buffered, StoreKind::log_fsync})
    for (std::uint32_t ring : {8u, 16u}) out.push_back({QueueBackend::moodycamel, WaitStrategy::block, ring, k});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Matrix, SessionStress, testing::ValuesIn(matrix()), config_name);

// ---------------------------------------------------------------------------------------------

TEST(SessionConcurrency, stuckSubscriberGatesNobodyAndThenCatchesUp) {
  // INV-4. A push subscriber's handler blocks on its first event until the end of the test. The
  // producers must finish and a second subscriber must receive everything while it is stuck
  // (asserted by order: both happen before we release it; if it gated them this would hang and
  // the watchdog would fail the test). Released, it catches up through the store completely.
  Session s = Session::open(options(MemoryStore::create(), "s1", 16, 256)).value();
  const Sequence total = scaled(50'000, 500'000, 5'000);
  std::latch stuck_entered(1), release(1);
  std::atomic<bool> released{false};
  std::mutex m;
  std::vector<Sequence> slow_got;
  auto slow = s.subscribe_push({}, [&](const EventView& v) {
    if (v.sequence_number == 1) {
      stuck_entered.count_down();
      release.wait();
    }
    std::lock_guard lock(m);
    slow_got.push_back(v.sequence_number);
  });
  ASSERT_TRUE(slow.ok());
  Subscription fast = s.subscribe({}).value();
  Watchdog dog("stuck subscriber");

  std::thread producer([&] {
    auto p = s.producer();
    ASSERT_TRUE(p.ok());
    for (Sequence i = 1; i <= total; ++i)
      if (i == total) {
        auto r = p->append_wait(ev(EventType::message_streamed, "r", "x"));
        ASSERT_TRUE(r.ok());
        EXPECT_FALSE(released.load()) << "producer finished only after the stuck subscriber was released";
      } else {
        ASSERT_TRUE(p->append(ev(EventType::message_streamed, "r", "x")).ok());
      }
  });
  stuck_entered.wait();
  auto got = drain(fast, total);
  producer.join();
  EXPECT_EQ(got.size(), total);
  EXPECT_EQ(sequences(got), stored_sequences(s.log(), 1, total));
  EXPECT_EQ(slow->delivered(), 0u) << "the stuck handler has not returned yet";

  released = true;
  release.count_down();
  const auto deadline = std::chrono::steady_clock::now() + patience();
  while (slow->delivered() < total && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(slow->unsubscribe().ok());
  std::lock_guard lock(m);
  EXPECT_EQ(slow_got, stored_sequences(s.log(), 1, total));
  EXPECT_GE(slow->stats().lapped_count, 1u);
}

TEST(SessionConcurrency, subscriberJoiningDuringABurstGetsNoDuplicateAndNoGap) {
  // DESIGN §7: the reference runtime could deliver an event twice to a subscriber that joined
  // while live dispatch was pending. Subscribers join (from the start and from "now") at random
  // moments while two producers burst.
  Session s = Session::open(options(MemoryStore::create(), "s1", 8, 256)).value();
  const std::size_t each = scaled(30'000, 300'000, 3'000);
  const Sequence total = 2 * each;
  Watchdog dog("join during burst");
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p)
    producers.emplace_back([&] {
      auto prod = s.producer();
      ASSERT_TRUE(prod.ok());
      for (std::size_t i = 0; i < each; ++i) ASSERT_TRUE(prod->append(ev(EventType::message_streamed, "r", "x")).ok());
    });
  std::mt19937 rng(99);
  int joined = 0;
  while (s.latest_sequence() < total && joined < 40) {
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
    const Sequence now = s.latest_sequence();
    SubscribeOptions so;
    so.from_sequence = joined % 2 == 0 ? 0 : now + 1;
    auto sub = s.subscribe(so);
    ASSERT_TRUE(sub.ok());
    // Read part of the burst live, then check exactly-once against the store.
    std::vector<Sequence> got;
    for (int n = 0; n < 20; ++n)
      ASSERT_TRUE(sub->poll_wait([&](const EventView& v) { got.push_back(v.sequence_number); },
                                 std::chrono::steady_clock::now() + 5ms)
                      .ok());
    const Sequence through = sub->cursor() - 1;
    const Sequence first = std::max<Sequence>(so.from_sequence, 1);
    if (through >= first) {
      EXPECT_EQ(got, stored_sequences(s.log(), first, through)) << "joined at " << now;
    } else {
      EXPECT_TRUE(got.empty());
    }
    ++joined;
  }
  for (auto& t : producers) t.join();
  EXPECT_GT(joined, 0);
}

TEST(SessionConcurrency, manySubscribersEachOnItsOwnThreadWithTinyRing) {
  // Push subscribers (library threads) and pull subscribers at once, ring of 8, the session
  // stopped at the end: every subscription ends closed with the complete stream.
  Session s = Session::open(options(MemoryStore::create(), "s1", 8, 128)).value();
  const std::size_t total = scaled(40'000, 400'000, 4'000);
  struct Sink {
    std::mutex m;
    std::vector<Sequence> seqs;
  };
  std::vector<std::unique_ptr<Sink>> sinks;
  std::vector<PushSubscription> pushes;
  for (int k = 0; k < 3; ++k) {
    sinks.push_back(std::make_unique<Sink>());
    Sink* sink = sinks.back().get();
    pushes.push_back(s.subscribe_push({}, [sink](const EventView& v) {
                        std::lock_guard lock(sink->m);
                        sink->seqs.push_back(v.sequence_number);
                      }).value());
  }
  Watchdog dog("many subscribers");
  // Subscribed here, not in the thread: a thread that starts after the producer's burst and
  // stop() would find the session stopped (Errc::stopped).
  Subscription sub = s.subscribe({}).value();
  std::thread pull([&] {
    std::vector<Sequence> got;
    while (sub.state() != SubscriptionState::closed)
      ASSERT_TRUE(sub.poll_wait([&](const EventView& v) { got.push_back(v.sequence_number); },
                                std::chrono::steady_clock::now() + 50ms, 17)
                      .ok());
    EXPECT_EQ(got.size(), total);
    for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], i + 1);
  });
  {
    auto p = s.producer();
    ASSERT_TRUE(p.ok());
    for (std::size_t i = 0; i < total; ++i) ASSERT_TRUE(p->append(ev(EventType::message_streamed, "r", "x")).ok());
  }
  ASSERT_TRUE(s.stop().ok());
  pull.join();
  for (std::size_t k = 0; k < pushes.size(); ++k) {
    const auto deadline = std::chrono::steady_clock::now() + patience();
    while (!pushes[k].finished() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    EXPECT_TRUE(pushes[k].finished());
    EXPECT_EQ(pushes[k].state(), SubscriptionState::closed);
    std::lock_guard lock(sinks[k]->m);
    ASSERT_EQ(sinks[k]->seqs.size(), total);
    for (std::size_t i = 0; i < total; ++i) ASSERT_EQ(sinks[k]->seqs[i], i + 1);
  }
}

}  // namespace
