// WaitGate (engine/detail/wait_gate.hpp): sleep until published state changes. Behaviour here;
// the no-lost-wake-up ping-pong litmus is in tests/ring_litmus_test.cpp.
#include "detail/wait_gate.hpp"

#include "oracle.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

using sessionring::detail::WaitGate;
using namespace sessionring::test;

TEST(WaitGate, returnsAtOnceWhenAlreadyReady) {
  WaitGate gate;
  int calls = 0;
  EXPECT_TRUE(gate.wait_until([&] { return ++calls > 0; }, WaitGate::Deadline::max()));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(gate.waiters_approx(), 0u);
}

TEST(WaitGate, returnsFalseOnceTheDeadlinePassed) {
  WaitGate gate;
  const auto deadline = std::chrono::steady_clock::now() + 20ms;
  EXPECT_FALSE(gate.wait_until([] { return false; }, deadline));
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
  EXPECT_EQ(gate.waiters_approx(), 0u);
  // A deadline in the past: one check, no sleep.
  EXPECT_FALSE(gate.wait_until([] { return false; }, WaitGate::Deadline::min()));
  EXPECT_TRUE(gate.wait_until([] { return true; }, WaitGate::Deadline::min()));
}

TEST(WaitGate, notifyWithoutWaitersIsHarmless) {
  WaitGate gate;
  for (int i = 0; i < 1000; ++i) gate.notify_all();
  EXPECT_EQ(gate.waiters_approx(), 0u);
  EXPECT_TRUE(gate.wait_until([] { return true; }, WaitGate::Deadline::max()));
}

TEST(WaitGate, parkedWaiterIsCountedAndWokenByPublishThenNotify) {
  WaitGate gate;
  std::atomic<bool> state{false};
  std::atomic<bool> returned{false};
  Watchdog dog("WaitGate single waiter");
  std::thread waiter([&] {
    EXPECT_TRUE(gate.wait_until([&] { return state.load(std::memory_order_seq_cst); }, WaitGate::Deadline::max()));
    returned.store(true);
  });
  while (gate.waiters_approx() == 0) std::this_thread::yield();
  // Notifies without a state change do not release it: ready() is re-checked after each wake.
  for (int i = 0; i < 50; ++i) gate.notify_all();
  std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(returned.load()) << "returned before the state was published";
  state.store(true, std::memory_order_seq_cst);  // (P1)
  gate.notify_all();
  waiter.join();
  EXPECT_TRUE(returned.load());
  EXPECT_EQ(gate.waiters_approx(), 0u);
}

TEST(WaitGate, notifyAllWakesEveryWaiter) {
  WaitGate gate;
  std::atomic<int> generation{0};
  const int waiters = 6;
  Watchdog dog("WaitGate many waiters");
  for (int round = 1; round <= 50; ++round) {
    std::vector<std::thread> threads;
    std::atomic<int> woken{0};
    for (int w = 0; w < waiters; ++w)
      threads.emplace_back([&] {
        EXPECT_TRUE(gate.wait_until([&] { return generation.load(std::memory_order_seq_cst) >= round; },
                                    WaitGate::Deadline::max()));
        woken.fetch_add(1);
      });
    // Publish when some (not necessarily all) are parked, to mix both sides of the race.
    if (round % 2 == 0)
      while (gate.waiters_approx() < static_cast<unsigned>(waiters) / 2) std::this_thread::yield();
    generation.store(round, std::memory_order_seq_cst);
    gate.notify_all();
    for (auto& t : threads) t.join();
    EXPECT_EQ(woken.load(), waiters);
  }
}

TEST(WaitGate, timedWaitWokenBeforeItsDeadlineReturnsTrue) {
  WaitGate gate;
  std::atomic<bool> state{false};
  Watchdog dog("WaitGate timed waiter");
  std::thread waiter([&] {
    // A deadline far beyond the watchdog: only the notify can end this wait in time.
    EXPECT_TRUE(gate.wait_until([&] { return state.load(std::memory_order_seq_cst); },
                                std::chrono::steady_clock::now() + std::chrono::hours(1)));
  });
  while (gate.waiters_approx() == 0) std::this_thread::yield();
  state.store(true, std::memory_order_seq_cst);
  gate.notify_all();
  waiter.join();
}
