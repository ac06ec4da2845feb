// RunLimiter (engine/run_limiter.cpp) and its use by SessionServer: a permit is taken before a
// run leaves the queue and always given back, however the run ends.
#include "run_test_support.hpp"

#include <atomic>

using namespace sessionring;
using namespace sessionring::testing;

TEST(RunLimiter, createRejectsZeroPermits) {
  auto l = RunLimiter::create(0);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.code(), Errc::validation_error);
  EXPECT_NE(l.error().message().find("max_runs"), std::string::npos);
}

TEST(RunLimiter, permitsStopAtMaxAndReleaseGivesOneBack) {
  auto l = *RunLimiter::create(2);
  EXPECT_TRUE(l->try_acquire());
  EXPECT_TRUE(l->try_acquire());
  EXPECT_FALSE(l->try_acquire());
  EXPECT_EQ(l->in_use(), 2u);
  l->release();
  EXPECT_EQ(l->in_use(), 1u);
  EXPECT_TRUE(l->try_acquire());
  l->release();
  l->release();
  l->release();  // one too many: ignored, never negative
  EXPECT_EQ(l->in_use(), 0u);
  EXPECT_EQ(l->acquired_total(), 3u);
  EXPECT_EQ(l->released_total(), 3u);
}

TEST(RunLimiter, onReleaseCallsBackUntilTheTokenIsDropped) {
  auto l = *RunLimiter::create(1);
  int calls = 0;
  auto token = l->on_release([&] { ++calls; });
  ASSERT_TRUE(l->try_acquire());
  l->release();
  EXPECT_EQ(calls, 1);
  token.reset();
  ASSERT_TRUE(l->try_acquire());
  l->release();
  EXPECT_EQ(calls, 1);
}

TEST(RunLimiter, isAcquiredBeforeEachRunAndAlwaysReleased) {
  auto limiter = *RunLimiter::create(1);
  std::atomic<int> active{0};  // writer/reader: run tasks of both servers
  std::atomic<int> max_active{0};
  auto track = [&] {
    const int a = active.fetch_add(1) + 1;
    int seen = max_active.load();
    while (a > seen && !max_active.compare_exchange_weak(seen, a)) {
    }
  };
  auto make = [&](std::string id) {
    auto o = server_options(MemoryStore::create(), 2, std::move(id));
    o.limiter = limiter;
    return SessionServer::start(o);
  };
  auto one = make("one");
  auto two = make("two");
  ASSERT_TRUE(one.ok() && two.ok());
  RunOptions quick;
  quick.timeout = std::chrono::milliseconds(1);
  std::vector<std::pair<SessionServer*, std::string>> runs;
  for (SessionServer* s : {&*one, &*two}) {
    runs.emplace_back(s, *s->submit_run([&](RunContext&) -> RunResult {  // completes
      track();
      active.fetch_sub(1);
      return std::string("ok");
    }));
    runs.emplace_back(s, *s->submit_run([&](RunContext&) -> RunResult {  // throws
      track();
      active.fetch_sub(1);
      throw std::runtime_error("boom");
    }));
    runs.emplace_back(s, *s->submit_run(
                             [&](RunContext& ctx) -> RunResult {  // times out
                               track();
                               ctx.wait_for_cancel(kWatchdog);
                               active.fetch_sub(1);
                               return std::string("late");
                             },
                             quick));
    runs.emplace_back(s, *s->submit_run([&](RunContext&) -> RunResult {  // fails
      track();
      active.fetch_sub(1);
      return Error(Errc::not_found, "nothing");
    }));
  }
  for (auto& [server, id] : runs) (void)server->await_run(id, kWatchdog);
  ASSERT_TRUE(one->drain(kWatchdog).ok());
  ASSERT_TRUE(two->drain(kWatchdog).ok());
  EXPECT_EQ(max_active.load(), 1);  // one permit across both servers, though each has 2 slots
  EXPECT_EQ(limiter->in_use(), 0u);
  EXPECT_EQ(limiter->acquired_total(), 8u);
  EXPECT_EQ(limiter->released_total(), 8u);
}

TEST(RunLimiter, aRunWithoutAPermitStaysQueuedUntilOneIsReleased) {
  auto limiter = *RunLimiter::create(1);
  auto make = [&](std::string id) {
    auto o = server_options(MemoryStore::create(), 1, std::move(id));
    o.limiter = limiter;
    return SessionServer::start(o);
  };
  auto one = make("one");
  auto two = make("two");
  ASSERT_TRUE(one.ok() && two.ok());
  Gate gate;
  Counter started;
  auto holder = *one->submit_run([&](RunContext&) -> RunResult {
    started.arrive();
    gate.wait();
    return std::string("held");
  });
  started.wait_for(1);
  auto waiting = *two->submit_run(emitting(1));
  auto st = two->status();
  EXPECT_EQ(st.in_flight_count, 0u);
  EXPECT_EQ(st.queued_runs, std::vector<std::string>{waiting});
  gate.open();
  EXPECT_EQ(*one->await_run(holder, kWatchdog), "held");
  EXPECT_EQ(*two->await_run(waiting, kWatchdog), "done");
  EXPECT_EQ(limiter->in_use(), 0u);
}

TEST(RunLimiter, aQueuedRunWaitingForAPermitCanBeCancelledAndStopped) {
  auto limiter = *RunLimiter::create(1);
  ASSERT_TRUE(limiter->try_acquire());  // the host holds the only permit
  auto o = server_options();
  o.limiter = limiter;
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server.ok());
  auto a = *server->submit_run(emitting(1));
  auto b = *server->submit_run(emitting(1));
  EXPECT_TRUE(server->cancel_run(a).ok());
  EXPECT_EQ(server->await_run(a, kWatchdog).code(), Errc::cancelled);
  EXPECT_EQ(server->drain(std::chrono::milliseconds(1)).code(), Errc::timeout);
  ASSERT_TRUE(server->stop(StopPolicy::cancel).ok());
  EXPECT_EQ(server->await_run(b, kWatchdog).code(), Errc::cancelled);
  limiter->release();
  EXPECT_EQ(limiter->in_use(), 0u);
  EXPECT_EQ(limiter->acquired_total(), 1u);  // neither run took a permit
}
