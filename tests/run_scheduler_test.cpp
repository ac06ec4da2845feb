// The run side of SessionServer (engine/run_scheduler.cpp): slots and the FIFO run queue
// (INV-8), lifecycle events, await, cancel, interrupt, failures, deadlines, retained results,
// executors. Ported from the reference runtime's scenarios, plus the defects of DESIGN §7.
#include "run_test_support.hpp"

#include <atomic>
#include <thread>

using namespace sessionring;
using namespace sessionring::testing;

namespace {

std::vector<std::string> run_ids_of(const std::vector<Event>& events) {
  std::vector<std::string> ids;
  for (const Event& e : events) ids.push_back(e.run_id);
  return ids;
}

}  // namespace

TEST(RunScheduler, executeRunReturnsOutputBetweenStartedAndCompleted) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok()) << server.error();
  auto out = server->execute_run(emitting(3));
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(*out, "done");
  const auto events = stored_events(*server);
  ASSERT_EQ(events.size(), 7u);  // session_created, session_started, run_started, 3 messages, run_completed
  EXPECT_EQ(events[2].type, EventType::run_started);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(events[3 + i].type, EventType::message_streamed);
    EXPECT_EQ(events[3 + i].data, std::to_string(i));
    EXPECT_EQ(events[3 + i].run_id, events[2].run_id);
  }
  EXPECT_EQ(events[6].type, EventType::run_completed);
  EXPECT_EQ(events[6].run_id, events[2].run_id);
}

TEST(RunScheduler, oneSlotRunsStrictlyOneAtATimeInFifoOrder) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  std::mutex m;
  std::vector<int> order;
  std::atomic<int> active{0};  // writer/reader: the run tasks; checks that no two overlap
  std::atomic<int> max_active{0};
  Gate gate;
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    auto id = server->submit_run([&, i](RunContext&) -> RunResult {
      const int a = active.fetch_add(1) + 1;
      int seen = max_active.load();
      while (a > seen && !max_active.compare_exchange_weak(seen, a)) {
      }
      if (i == 0) gate.wait();  // the rest must queue behind it
      {
        std::lock_guard lock(m);
        order.push_back(i);
      }
      active.fetch_sub(1);
      return std::to_string(i);
    });
    ASSERT_TRUE(id.ok()) << id.error();
    ids.push_back(*id);
  }
  auto st = server->status();
  EXPECT_EQ(st.in_flight_count, 1u);
  EXPECT_EQ(st.queued_count, 5u);
  EXPECT_EQ(st.queued_runs, std::vector<std::string>(ids.begin() + 1, ids.end()));
  gate.open();
  ASSERT_TRUE(server->drain(kWatchdog).ok());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(max_active.load(), 1);
  EXPECT_EQ(run_ids_of(stored_of_type(*server, EventType::run_started)), ids);
  EXPECT_EQ(run_ids_of(stored_of_type(*server, EventType::run_completed)), ids);
}

TEST(RunScheduler, nSlotsRunUpToNInParallelAndNeverMore) {
  constexpr int kSlots = 3;
  auto server = SessionServer::start(server_options(MemoryStore::create(), kSlots));
  ASSERT_TRUE(server.ok());
  std::atomic<int> active{0};  // writer/reader: the run tasks
  std::atomic<int> max_active{0};
  Counter full;
  Gate gate;
  for (int i = 0; i < 9; ++i)
    ASSERT_TRUE(server->submit_run([&](RunContext&) -> RunResult {
      const int a = active.fetch_add(1) + 1;
      int seen = max_active.load();
      while (a > seen && !max_active.compare_exchange_weak(seen, a)) {
      }
      full.arrive();
      gate.wait();
      active.fetch_sub(1);
      return std::string("ok");
    }).ok());
  full.wait_for(kSlots);  // N run in parallel...
  auto st = server->status();
  EXPECT_EQ(st.in_flight_count, std::size_t{kSlots});
  EXPECT_EQ(st.queued_count, 9u - kSlots);
  gate.open();
  ASSERT_TRUE(server->drain(kWatchdog).ok());
  EXPECT_EQ(max_active.load(), kSlots);  // ...and never more
  EXPECT_EQ(full.value(), 9);
}

TEST(RunScheduler, queuedRunsStartInSubmissionOrder) {
  auto server = SessionServer::start(server_options(MemoryStore::create(), 2));
  ASSERT_TRUE(server.ok());
  Gate gate;
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i)
    ids.push_back(*server->submit_run([&](RunContext&) -> RunResult {
      gate.wait();
      return std::string();
    }));
  for (int i = 0; i < 20; ++i) ids.push_back(*server->submit_run(emitting(5)));
  gate.open();
  ASSERT_TRUE(server->drain(kWatchdog).ok());
  // run_started is sequenced in the order runs leave the queue (INV-8)
  EXPECT_EQ(run_ids_of(stored_of_type(*server, EventType::run_started)), ids);
}

TEST(RunScheduler, eachRunsEventsKeepTheirOrderAcrossSlots) {
  auto server = SessionServer::start(server_options(MemoryStore::create(), 4));
  ASSERT_TRUE(server.ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(*server->submit_run(emitting(500)));
  ASSERT_TRUE(server->drain(kWatchdog).ok());
  for (const std::string& id : ids) {
    const auto events = stored_events(*server, EventFilter().run_id(id));
    ASSERT_EQ(events.size(), 502u);  // INV-5: started, 0..499 in order, completed
    EXPECT_EQ(events.front().type, EventType::run_started);
    EXPECT_EQ(events.back().type, EventType::run_completed);
    for (int i = 0; i < 500; ++i) ASSERT_EQ(events[1 + i].data, std::to_string(i));
  }
}

TEST(RunScheduler, fullQueueGivesMaxRunsExceeded) {
  auto o = server_options();
  o.max_queued_runs = 2;
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server.ok());
  Gate gate;
  auto blocker = [&](RunContext&) -> RunResult {
    gate.wait();
    return std::string();
  };
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(server->submit_run(blocker).ok());  // 1 running + 2 queued
  auto over = server->submit_run(blocker);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.code(), Errc::max_runs_exceeded);
  gate.open();
  EXPECT_TRUE(server->drain(kWatchdog).ok());
}

TEST(RunScheduler, maxQueuedRunsZeroStartsAtOnceOrRejects) {  // DESIGN §7: never "accepted, never started"
  auto o = server_options();
  o.max_queued_runs = 0;
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server.ok());
  Gate gate;
  auto first = server->submit_run([&](RunContext&) -> RunResult {
    gate.wait();
    return std::string("first");
  });
  ASSERT_TRUE(first.ok());
  auto second = server->submit_run(emitting(1));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), Errc::max_runs_exceeded);
  gate.open();
  EXPECT_EQ(*server->await_run(*first, kWatchdog), "first");
  auto third = server->execute_run(emitting(1), kWatchdog);  // a slot is free again: it runs
  ASSERT_TRUE(third.ok()) << third.error();
  EXPECT_EQ(*third, "done");
}

TEST(RunScheduler, awaitUnknownRunIsRunNotFoundAtOnce) {  // DESIGN §7: the reference hangs
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  auto r = server->await_run("run-nope", SessionServer::kDefaultAwaitTimeout);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::run_not_found);
}

TEST(RunScheduler, awaitTimesOutWhileTheRunGoesOn) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  Gate gate;
  auto id = server->submit_run([&](RunContext&) -> RunResult {
    gate.wait();
    return std::string("late");
  });
  ASSERT_TRUE(id.ok());
  auto r = server->await_run(*id, std::chrono::milliseconds(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::timeout);
  gate.open();
  EXPECT_EQ(*server->await_run(*id, kWatchdog), "late");
}

TEST(RunScheduler, cancellingAQueuedRunLeavesInFlightRunsAlone) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  Gate gate;
  Counter started;
  auto running = server->submit_run([&](RunContext& ctx) -> RunResult {
    started.arrive();
    gate.wait();
    return std::string(ctx.cancel_requested() ? "cancelled" : "completed");
  });
  auto queued = server->submit_run(emitting(1));
  ASSERT_TRUE(running.ok() && queued.ok());
  started.wait_for(1);
  ASSERT_TRUE(server->cancel_run(*queued).ok());
  auto q = server->await_run(*queued, kWatchdog);
  EXPECT_EQ(q.code(), Errc::cancelled);
  auto st = server->status();
  EXPECT_EQ(st.in_flight_runs, std::vector<std::string>{*running});
  EXPECT_EQ(st.queued_count, 0u);
  const auto cancelled = stored_of_type(*server, EventType::run_cancelled);
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(cancelled[0].run_id, *queued);
  EXPECT_TRUE(stored_events(*server, EventFilter().run_id(*queued).type(EventType::run_started)).empty());
  gate.open();
  EXPECT_EQ(*server->await_run(*running, kWatchdog), "completed");
}

TEST(RunScheduler, cancellingAnInFlightRunFreesItsSlotForTheQueue) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  Counter started;
  auto a = server->submit_run(until_cancelled(&started));
  auto b = server->submit_run(emitting(2));
  ASSERT_TRUE(a.ok() && b.ok());
  started.wait_for(1);
  ASSERT_TRUE(server->cancel_run(*a).ok());
  EXPECT_EQ(server->await_run(*a, kWatchdog).code(), Errc::cancelled);
  EXPECT_EQ(*server->await_run(*b, kWatchdog), "done");
  const auto a_events = stored_events(*server, EventFilter().run_id(*a));
  ASSERT_FALSE(a_events.empty());
  EXPECT_EQ(a_events.back().type, EventType::run_cancelled);
  EXPECT_NE(a_events.back().data.find("cancel_run"), std::string::npos);
}

TEST(RunScheduler, cancelOfAFinishedRunIsOkAndOfAnUnknownRunIsRunNotFound) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  auto id = server->submit_run(emitting(1));
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(server->await_run(*id, kWatchdog).ok());
  EXPECT_TRUE(server->cancel_run(*id).ok());
  EXPECT_EQ(server->cancel_run("run-unknown").code(), Errc::run_not_found);
  EXPECT_EQ(server->interrupt_run("run-unknown").code(), Errc::run_not_found);
  EXPECT_EQ(server->interrupt_run(*id).code(), Errc::run_not_found);  // not in flight
}

TEST(RunScheduler, interruptWithoutAHookCancels) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  Counter started;
  auto id = server->submit_run(until_cancelled(&started));
  started.wait_for(1);
  ASSERT_TRUE(server->interrupt_run(*id).ok());
  EXPECT_EQ(server->await_run(*id, kWatchdog).code(), Errc::cancelled);
  const auto events = stored_events(*server, EventFilter().run_id(*id));
  EXPECT_NE(events.back().data.find("interrupt"), std::string::npos);
}

TEST(RunScheduler, interruptCallsTheHostHookForARunningRun) {
  auto o = server_options();
  std::mutex m;
  std::vector<std::string> interrupted;
  Gate gate;
  o.interrupt = [&](std::string_view session, std::string_view run) -> Status {
    std::lock_guard lock(m);
    interrupted.push_back(std::string(session) + "/" + std::string(run));
    gate.open();  // the hook tells the "provider" to stop
    return {};
  };
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server.ok());
  Counter started;
  auto id = server->submit_run([&](RunContext& ctx) -> RunResult {
    started.arrive();
    gate.wait();
    return std::string(ctx.cancel_requested() ? "cancelled" : "interrupted");
  });
  auto queued = server->submit_run(emitting(1));
  started.wait_for(1);
  EXPECT_EQ(server->interrupt_run(*queued).code(), Errc::run_not_found);  // queued, not in flight
  ASSERT_TRUE(server->interrupt_run(*id).ok());
  EXPECT_EQ(*server->await_run(*id, kWatchdog), "interrupted");
  std::lock_guard lock(m);
  EXPECT_EQ(interrupted, std::vector<std::string>{"s1/" + *id});
}

TEST(RunScheduler, aTaskThatThrowsReleasesItsSlotAndTheNextRunStarts) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  auto bad = server->submit_run([](RunContext&) -> RunResult { throw std::runtime_error("boom"); });
  auto next = server->submit_run(emitting(1));
  ASSERT_TRUE(bad.ok() && next.ok());
  auto r = server->await_run(*bad, kWatchdog);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::run_failed);
  EXPECT_NE(r.error().message().find("boom"), std::string::npos);
  EXPECT_EQ(*server->await_run(*next, kWatchdog), "done");
  const auto failed = stored_of_type(*server, EventType::run_failed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].run_id, *bad);
  EXPECT_NE(failed[0].data.find("boom"), std::string::npos);
}

TEST(RunScheduler, aTaskErrorEndsTheRunWithRunFailedAndThatError) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  auto r = server->execute_run([](RunContext&) -> RunResult { return Error(Errc::not_found, "no such \"file\""); },
                               kWatchdog);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::not_found);
  EXPECT_EQ(r.error().message(), "no such \"file\"");
  const auto failed = stored_of_type(*server, EventType::run_failed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].data.find("{\"duration_ns\":"), 0u);
  EXPECT_NE(failed[0].data.find("\"code\":\"not_found\",\"error\":\"no such \\\"file\\\"\"}"), std::string::npos);
}

TEST(RunScheduler, aFailureMessageIsCutSoRunFailedFitsTheSmallestMaxEventBytes) {
  auto o = server_options();
  o.engine.max_event_bytes = 512;  // the smallest a server accepts
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server.ok()) << server.error();
  RunOptions ro;
  ro.run_id = std::string(128, 'r');  // the longest run id
  const std::string message(10000, '"');  // every byte doubles when escaped
  auto r = server->execute_run([&](RunContext&) -> RunResult { return Error(Errc::not_found, message); }, kWatchdog,
                               ro);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), message);  // the caller still gets the whole error
  const auto failed = stored_of_type(*server, EventType::run_failed);
  ASSERT_EQ(failed.size(), 1u);  // the terminal event was stored, not refused as event_too_large
  EXPECT_EQ(failed[0].run_id, ro.run_id);
  EXPECT_NE(failed[0].data.find("\"code\":\"not_found\""), std::string::npos);
  EXPECT_NE(failed[0].data.find("...(truncated)"), std::string::npos);
  EXPECT_LE(EventRecord::encoded_size(failed[0].view()), 512u);
}

TEST(RunScheduler, aPassedDeadlineRequestsCancellationAndEndsWithRunTimeout) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  bool passed = false;
  RunOptions ro;
  ro.timeout = std::chrono::milliseconds(1);
  auto id = server->submit_run(
      [&](RunContext& ctx) -> RunResult {
        EXPECT_NE(ctx.deadline(), Deadline::max());
        ctx.wait_for_cancel(kWatchdog);  // woken by the deadline
        passed = ctx.deadline_passed() && ctx.cancel_requested() && ctx.stop_token().stop_requested();
        return std::string("too late");
      },
      ro);
  ASSERT_TRUE(id.ok());
  auto r = server->await_run(*id, kWatchdog);
  EXPECT_EQ(r.code(), Errc::timeout);
  EXPECT_TRUE(passed);
  const auto events = stored_events(*server, EventFilter().run_id(*id));
  EXPECT_EQ(events.back().type, EventType::run_timeout);
}

TEST(RunScheduler, aTaskMayNotEmitLifecycleEvents) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  auto r = server->execute_run(
      [](RunContext& ctx) -> RunResult {
        for (EventType t : {EventType::run_started, EventType::run_completed, EventType::run_failed,
                            EventType::run_cancelled, EventType::run_timeout})
          if (ctx.emit(t).code() != Errc::validation_error) return std::string("accepted ") + std::string(to_string(t));
        auto seq = ctx.emit_wait(EventType::tool_call_started, "{}");
        if (!seq) return seq.error();
        return std::to_string(*seq);
      },
      kWatchdog);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, "4");  // session_created, session_started, run_started, then this one
}

TEST(RunScheduler, resultsAreForgottenAfterTheirCountBound) {  // DESIGN §7: kept forever
  auto o = server_options();
  o.result_retention_count = 2;
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server.ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(*server->submit_run(emitting(1)));
    ASSERT_TRUE(server->await_run(ids.back(), kWatchdog).ok());
  }
  EXPECT_EQ(server->await_run(ids[0], kWatchdog).code(), Errc::run_not_found);
  EXPECT_EQ(server->cancel_run(ids[0]).code(), Errc::run_not_found);
  EXPECT_TRUE(server->await_run(ids[1], kWatchdog).ok());
  EXPECT_TRUE(server->await_run(ids[2], kWatchdog).ok());
}

TEST(RunScheduler, resultsAreForgottenAfterTheirAgeBound) {
  auto o = server_options();
  o.result_retention_age = std::chrono::nanoseconds::zero();  // forgotten once finished
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server.ok());
  auto id = server->submit_run(emitting(1));
  ASSERT_TRUE(server->drain(kWatchdog).ok());
  EXPECT_EQ(server->await_run(*id, kWatchdog).code(), Errc::run_not_found);
}

TEST(RunScheduler, badRunInputsAreRejected) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(server->submit_run(nullptr).code(), Errc::validation_error);
  RunOptions negative;
  negative.timeout = std::chrono::milliseconds(-1);
  EXPECT_EQ(server->submit_run(emitting(1), negative).code(), Errc::validation_error);
  RunOptions named;
  named.run_id = "my-run";
  auto id = server->submit_run(emitting(1), named);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "my-run");
  EXPECT_EQ(server->submit_run(emitting(1), named).code(), Errc::validation_error);  // duplicate
  RunOptions too_long;
  too_long.run_id = std::string(200, 'r');
  EXPECT_EQ(server->submit_run(emitting(1), too_long).code(), Errc::validation_error);
  EXPECT_EQ(server->await_run("my-run", std::chrono::milliseconds(-1)).code(), Errc::validation_error);
  EXPECT_EQ(server->drain(std::chrono::milliseconds(-1)).code(), Errc::validation_error);
}

TEST(RunScheduler, runsExecuteOnTheHostsExecutor) {
  std::mutex m;
  std::vector<std::thread> pool;
  std::atomic<int> jobs{0};  // writer: the executor; reader: the test after drain
  auto o = server_options(MemoryStore::create(), 2);
  o.executor = [&](std::function<void()> job) {
    jobs.fetch_add(1);
    std::lock_guard lock(m);
    pool.emplace_back(std::move(job));
  };
  {
    auto server = SessionServer::start(o);
    ASSERT_TRUE(server.ok());
    std::vector<std::string> ids;
    for (int i = 0; i < 6; ++i) ids.push_back(*server->submit_run(emitting(10)));
    for (const auto& id : ids) EXPECT_EQ(*server->await_run(id, kWatchdog), "done");
    EXPECT_EQ(run_ids_of(stored_of_type(*server, EventType::run_started)), ids);
    EXPECT_TRUE(server->stop().ok());
  }
  EXPECT_EQ(jobs.load(), 6);
  std::lock_guard lock(m);
  for (auto& t : pool) t.join();
}

TEST(RunScheduler, anInlineExecutorRunsQueuedRunsInOrder) {
  auto o = server_options();
  o.executor = [](std::function<void()> job) { job(); };
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server.ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(*server->submit_run(emitting(3)));
  for (const auto& id : ids) EXPECT_EQ(*server->await_run(id, kWatchdog), "done");
  EXPECT_EQ(run_ids_of(stored_of_type(*server, EventType::run_completed)), ids);
}

TEST(RunScheduler, anExecutorThatRefusesAJobFailsTheRunAndFreesTheSlot) {
  auto o = server_options();
  std::atomic<int> calls{0};  // writer/reader: the executor
  std::mutex m;
  std::vector<std::thread> pool;
  o.executor = [&](std::function<void()> job) {
    if (calls.fetch_add(1) == 0) throw std::runtime_error("pool is full");
    std::lock_guard lock(m);
    pool.emplace_back(std::move(job));
  };
  {
    auto server = SessionServer::start(o);
    ASSERT_TRUE(server.ok());
    auto a = server->submit_run(emitting(1));
    auto b = server->submit_run(emitting(1));
    auto ra = server->await_run(*a, kWatchdog);
    EXPECT_EQ(ra.code(), Errc::run_failed);
    EXPECT_NE(ra.error().message().find("pool is full"), std::string::npos);
    EXPECT_EQ(*server->await_run(*b, kWatchdog), "done");
    EXPECT_TRUE(server->drain(kWatchdog).ok());
  }
  std::lock_guard lock(m);
  for (auto& t : pool) t.join();
}

TEST(RunScheduler, stopAndDrainFromInsideARunAreRejected) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  SessionServer* self = &*server;
  auto r = server->execute_run(
      [self](RunContext&) -> RunResult {
        if (self->stop().code() != Errc::validation_error) return std::string("stop accepted");
        if (self->drain(std::chrono::seconds(1)).code() != Errc::validation_error) return std::string("drain accepted");
        return std::string("rejected");
      },
      kWatchdog);
  EXPECT_EQ(*r, "rejected");
}
