// Litmus tests for two ordering claims of docs/design.md, in the forbidden-outcome style of the
// LMAX jcstress tests: every outcome is counted, the forbidden ones named, and the allowed ones
// must all occur (else the race was never exercised and the test proves nothing).
//  * §11 (C3)/(C4): exactly one of the sequencer's take and the producer's abandon of an
//    append_wait ticket succeeds. Forbidden: both succeed (the event is stored and the producer
//    was told it was dropped) and neither succeeds (nobody owns the item).
//  * §6 (S1)/(A1): no append accepted with Ok is lost across stop(): producers append while
//    another thread stops the session. Forbidden: Ok returned but the event not stored.
#include "detail/completion.hpp"
#include "detail/spin.hpp"

#include "oracle.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <set>
#include <thread>

using namespace sessionring;
using namespace sessionring::test;

TEST(HandshakeLitmus, exactlyOneOfTakeAndAbandonWins) {
  detail::Completion c;
  const std::size_t rounds = scaled(20'000, 1'000'000, 2'000);
  std::uint64_t take_won = 0, abandon_won = 0, both = 0, neither = 0;
  // Rounds are started and finished through two spun counters (a std::barrier's futex wake-up
  // would always let the same side come first). Writer of `started`: the producer (release,
  // after arming: pairs with the sequencer's acquire, which then sees the ticket and `gen`);
  // writer of `finished`: the sequencer (release after storing `took`: pairs with the
  // producer's acquire).
  std::atomic<std::size_t> started{0}, finished{0};
  constexpr std::size_t kStop = ~std::size_t{0};
  std::uint32_t gen = 0;  // written by the producer before `started`, read by the sequencer after it
  int took = -1;          // written by the sequencer before `finished`, read by the producer after it
  // Each side pauses a varying number of spins before its CAS, so either may come first.
  auto jitter = [](std::uint32_t& x) {
    x = x * 1664525u + 1013904223u;
    for (std::uint32_t k = (x >> 24) & 31; k > 0; --k) detail::cpu_relax();
  };
  // Spin first (both sides on their own cores start within nanoseconds of each other), then
  // yield (a loaded machine: do not burn the core the other side needs).
  auto await = [](auto&& ready) {
    for (int k = 0; !ready(); ++k) {
      if (k < 4096) detail::cpu_relax();
      else std::this_thread::yield();
    }
  };
  Watchdog dog("take/abandon litmus");
  std::thread sequencer([&] {
    std::uint32_t x = 7;
    for (std::size_t i = 1;; ++i) {
      await([&] { return started.load(std::memory_order_acquire) >= i; });
      if (started.load(std::memory_order_acquire) == kStop) return;
      jitter(x);
      took = c.take(gen) ? 1 : 0;  // (C4)
      finished.store(i, std::memory_order_release);
    }
  });
  std::uint32_t x = 11;
  // At least `rounds`; more until each allowed outcome was seen 100 times (a loaded machine can
  // keep one side ahead for a long stretch), within a time bound.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto more = [&](std::size_t i) {
    if (i <= rounds) return true;
    return (take_won < 100 || abandon_won < 100) && std::chrono::steady_clock::now() < give_up;
  };
  std::size_t i = 1;
  for (; more(i); ++i) {
    gen = c.arm();
    started.store(i, std::memory_order_release);
    jitter(x);
    const bool abandoned = c.abandon();  // (C3)
    await([&] { return finished.load(std::memory_order_acquire) == i; });
    const bool taken = took == 1;
    if (taken && abandoned) ++both;
    else if (taken) ++take_won;
    else if (abandoned) ++abandon_won;
    else ++neither;
    if (taken) c.complete(gen, 1, Errc::ok, false);  // the sequencer answers what it took
  }
  started.store(kStop, std::memory_order_release);
  sequencer.join();
  EXPECT_EQ(both, 0u) << "FORBIDDEN: the sequencer took an item its producer abandoned";
  EXPECT_EQ(neither, 0u) << "FORBIDDEN: nobody owns the item";
  EXPECT_GT(take_won, 0u) << "allowed outcome never seen: the race was not exercised";
  EXPECT_GT(abandon_won, 0u) << "allowed outcome never seen: the race was not exercised";
  testing::Test::RecordProperty("take_won", std::to_string(take_won));
  testing::Test::RecordProperty("abandon_won", std::to_string(abandon_won));
}

TEST(HandshakeLitmus, noAppendAcceptedWithOkIsLostAcrossStop) {
  const std::size_t rounds = scaled(300, 5'000, 40);
  std::uint64_t accepted_stored = 0, accepted_lost = 0;
  std::atomic<std::uint64_t> refused_stopped{0}, other{0};  // writers: the producer threads
  Watchdog dog("append vs stop litmus");
  for (std::size_t round = 0; round < rounds; ++round) {
    auto s = Session::open(options(MemoryStore::create(), "s1", 8, 256));
    ASSERT_TRUE(s.ok()) << s.error();
    std::vector<std::set<std::string>> ok_ids(2);
    std::atomic<bool> go{false};
    std::atomic<int> accepted_now{0};  // writers: the producers; reader: the stopping thread
    std::atomic<int> done{0};          // producers that finished or were refused
    std::vector<std::thread> producers;
    for (int t = 0; t < 2; ++t) {
      auto made = s->producer();  // before stop() can race it
      ASSERT_TRUE(made.ok()) << made.error();
      producers.emplace_back([&, t, p = std::make_shared<Producer>(std::move(*made))] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < 400; ++i) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "p%d-%d", t, i);  // (GCC 12 -Wrestrict misfires on string +)
          const std::string id = buf;
          const Status st = p->append(ev(EventType::message_streamed, "r", "x", id));  // (A1) then the (S1) check
          if (st.ok()) {
            ok_ids[t].insert(id);
            accepted_now.fetch_add(1);
          } else if (st.code() == Errc::stopped) {
            ++refused_stopped;  // joined before the counts are read
            break;
          } else {
            ++other;
            break;
          }
        }
        done.fetch_add(1);
      });
    }
    go = true;
    // stop() lands at varying points: after 1..64 accepted appends (so both outcomes occur even
    // when the producers start late, as under ThreadSanitizer), or once both are done.
    const int after = 1 + static_cast<int>(round % 64);
    while (accepted_now.load() < after && done.load() < 2) std::this_thread::yield();
    ASSERT_TRUE(s->stop().ok());  // (S1): stop accepting, then publish everything accepted
    for (auto& t : producers) t.join();
    std::set<std::string> stored_ids;
    ASSERT_TRUE(s->log().read(EventQuery{}, [&](const EventView& v) {
      stored_ids.insert(std::string(v.id));
      return true;
    }));
    for (const auto& ids : ok_ids)
      for (const auto& id : ids) (stored_ids.count(id) != 0 ? accepted_stored : accepted_lost) += 1;
  }
  EXPECT_EQ(accepted_lost, 0u) << "FORBIDDEN: append() returned Ok but the event is not stored after stop()";
  EXPECT_EQ(other.load(), 0u);
  EXPECT_GT(accepted_stored, 0u) << "allowed outcome never seen";
  EXPECT_GT(refused_stopped.load(), 0u) << "allowed outcome never seen: stop() never raced an append";
}
