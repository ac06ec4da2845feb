// Bad input of the run side of SessionServer (submit_run, execute_run, await_run, cancel_run,
// interrupt_run, drain, stop: engine/run_scheduler.cpp), docs/errors.md "Bad-input table".
// Each test has known events stored first (session_created/started, seeded events and a
// completed run), makes the bad call, checks the exact Errc and that the message names what was
// wrong, then that nothing stored was lost or altered, that a refused run left no trace in the
// store and that the server still runs runs. Runs on a MemoryStore and on a LogStore.
#include "server_bad_input_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <limits>
#include <string>
#include <vector>

using namespace sessionring;
using namespace sessionring::testing;
using sessionring::test::KnownEvent;
using sessionring::test::StoreKind;
using sessionring::test::StoreSnapshot;
using sessionring::test::StoreUnderTest;
using sessionring::test::keeps_contents;
using sessionring::test::names;
using sessionring::test::release;
using sessionring::test::same_contents;
using sessionring::test::take_snapshot;
using namespace std::chrono_literals;

namespace {

class RunSchedulerBadInput : public sessionring::test::ServerFixture {};

}  // namespace

// ---------------------------------------------------------------------------------------------
// submit_run

TEST_P(RunSchedulerBadInput, submitOfAnEmptyTaskIsValidationErrorAndQueuesNothing) {
  auto server = start_seeded();
  ASSERT_TRUE(server.ok()) << server.error();
  const StoreSnapshot before = take_snapshot(server->session().log());
  RunOptions ro;
  ro.run_id = "refused";
  auto id = server->submit_run(RunTask{}, ro);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.code(), Errc::validation_error);
  EXPECT_TRUE(names(id.error(), {"submit_run", "task is empty"}));
  EXPECT_EQ(server->status().queued_count + server->status().in_flight_count, 0u);
  EXPECT_EQ(server->await_run("refused", 0ns).code(), Errc::run_not_found);
  EXPECT_TRUE(same_contents(before, take_snapshot(server->session().log())));
  expect_runs(*server);
  ASSERT_TRUE(server->stop().ok());
  expect_kept(before, "refused");
}

TEST_P(RunSchedulerBadInput, submitWithANegativeTimeoutOrAnOverlongRunIdIsValidationErrorNamingTheOption) {
  auto server = start_seeded();
  ASSERT_TRUE(server.ok()) << server.error();
  const StoreSnapshot before = take_snapshot(server->session().log());
  for (auto timeout : {-1ns, std::chrono::nanoseconds(-1s), std::chrono::nanoseconds::min()}) {
    RunOptions ro;
    ro.run_id = "refused";
    ro.timeout = timeout;
    auto id = server->submit_run(emitting(1), ro);
    ASSERT_FALSE(id.ok());
    EXPECT_EQ(id.code(), Errc::validation_error);
    EXPECT_TRUE(names(id.error(), {"RunOptions::timeout = " + std::to_string(timeout.count()) + " ns is negative"}));
  }
  for (std::size_t n : {std::size_t{129}, std::size_t{1000}}) {
    RunOptions ro;
    ro.run_id = std::string(n, 'r');
    auto id = server->submit_run(emitting(1), ro);
    ASSERT_FALSE(id.ok());
    EXPECT_EQ(id.code(), Errc::validation_error);
    EXPECT_TRUE(names(id.error(), {"RunOptions::run_id is longer than 128 bytes"}));
  }
  EXPECT_TRUE(same_contents(before, take_snapshot(server->session().log())));
  // 128 bytes is the limit itself.
  RunOptions edge;
  edge.run_id = std::string(128, 'e');
  auto out = server->execute_run(emitting(1), kWatchdog, edge);
  ASSERT_TRUE(out.ok()) << out.error();
  ASSERT_TRUE(server->stop().ok());
  expect_kept(before, "refused");
  for (const Event& e : st_.snapshot().events) EXPECT_LE(e.run_id.size(), 128u);
}

TEST_P(RunSchedulerBadInput, submitWithARunIdQueuedRunningOrRetainedIsValidationErrorAndTheSecondTaskNeverRuns) {
  auto server = start_seeded();
  ASSERT_TRUE(server.ok()) << server.error();
  const StoreSnapshot before = take_snapshot(server->session().log());
  Gate gate;
  Counter started;
  RunOptions running, queued;
  running.run_id = "running";
  queued.run_id = "queued";
  ASSERT_TRUE(server->submit_run(gated(gate, started), running).ok());
  started.wait_for(1);
  ASSERT_TRUE(server->submit_run(emitting(1), queued).ok());
  std::atomic<int> impostor_ran{0};
  auto impostor = [&](RunContext&) -> RunResult {
    impostor_ran.fetch_add(1);
    return std::string("impostor");
  };
  for (const char* id : {"running", "queued", "seed-run"}) {  // seed-run finished: its result is retained
    SCOPED_TRACE(id);
    RunOptions ro;
    ro.run_id = id;
    auto r = server->submit_run(impostor, ro);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::validation_error);
    EXPECT_TRUE(names(r.error(), {std::string("run_id '") + id + "' is already in use in session 's1'"}));
  }
  gate.open();
  EXPECT_EQ(server->await_run("running", kWatchdog).value(), "gated");
  EXPECT_EQ(server->await_run("queued", kWatchdog).value(), "done");
  EXPECT_EQ(server->await_run("seed-run", kWatchdog).value(), "done") << "the retained result was replaced";
  EXPECT_EQ(impostor_ran.load(), 0);
  ASSERT_TRUE(server->stop().ok());
  expect_kept(before);
  int started_events = 0;
  for (const Event& e : st_.snapshot().events)
    if (e.type == EventType::run_started) ++started_events;
  EXPECT_EQ(started_events, 3) << "seed-run, running, queued: each started exactly once";
}

TEST_P(RunSchedulerBadInput, submitBeyondTheQueueIsMaxRunsExceededAndTheRefusedRunLeavesNoTrace) {
  for (std::uint32_t max_queued : {0u, 1u, 3u}) {
    SCOPED_TRACE(max_queued);
    StoreUnderTest st(GetParam());
    auto o = server_options(st.store());
    o.max_queued_runs = max_queued;
    auto server = start_seeded(o);
    ASSERT_TRUE(server.ok()) << server.error();
    const StoreSnapshot before = take_snapshot(server->session().log());
    Gate gate;
    Counter started;
    ASSERT_TRUE(server->submit_run(gated(gate, started)).ok());
    started.wait_for(1);
    for (std::uint32_t i = 0; i < max_queued; ++i) ASSERT_TRUE(server->submit_run(emitting(1)).ok());
    for (int attempt = 0; attempt < 2; ++attempt) {
      RunOptions ro;
      ro.run_id = "refused";
      auto r = server->submit_run(emitting(1), ro);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.code(), Errc::max_runs_exceeded);
      EXPECT_TRUE(names(r.error(), {"'s1'", "1 runs running and " + std::to_string(max_queued) + " queued",
                                    "max_concurrent_runs = 1", "max_queued_runs = " + std::to_string(max_queued)}));
    }
    EXPECT_EQ(server->await_run("refused", 0ns).code(), Errc::run_not_found);
    gate.open();
    ASSERT_TRUE(server->drain(kWatchdog).ok());
    expect_runs(*server);  // room again once runs finish
    ASSERT_TRUE(server->stop().ok());
    const StoreSnapshot now = st.snapshot();
    EXPECT_TRUE(keeps_contents(before, now));
    for (const Event& e : now.events) EXPECT_NE(e.run_id, "refused");
  }
}

TEST_P(RunSchedulerBadInput, submitAfterStopIsStoppedAndAppendsNothing) {
  auto server = start_seeded();
  ASSERT_TRUE(server.ok()) << server.error();
  ASSERT_TRUE(server->stop().ok());
  const StoreSnapshot before = st_.snapshot();
  RunOptions ro;
  ro.run_id = "refused";
  auto r = server->submit_run(emitting(1), ro);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::stopped);
  EXPECT_TRUE(names(r.error(), {"'s1' is stopped"}));
  EXPECT_EQ(server->execute_run(emitting(1)).code(), Errc::stopped);
  EXPECT_TRUE(same_contents(before, st_.snapshot()));
  release(server);
  expect_attaches_and_runs(before);
}

// ---------------------------------------------------------------------------------------------
// await_run, cancel_run, interrupt_run

TEST_P(RunSchedulerBadInput, awaitWithANegativeTimeoutIsValidationErrorAndAnUnknownOrForgottenRunIsRunNotFound) {
  auto o = server_options(st_.store());
  o.result_retention_count = 0;  // results are forgotten once their awaiters have them
  auto server = start_seeded(o);
  ASSERT_TRUE(server.ok()) << server.error();
  const StoreSnapshot before = take_snapshot(server->session().log());
  for (auto timeout : {-1ns, std::chrono::nanoseconds::min()}) {
    auto r = server->await_run("seed-run", timeout);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::validation_error);
    EXPECT_TRUE(names(r.error(), {"await_run: timeout = " + std::to_string(timeout.count()) + " ns is negative"}));
  }
  for (std::string id : {std::string("nope"), std::string(), std::string("seed-run"), std::string("SEED-RUN"),
                         std::string(200, 'x')}) {  // seed-run: forgotten
    SCOPED_TRACE(id);
    auto r = server->await_run(id, kWatchdog);  // at once, never a hang
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::run_not_found);
    EXPECT_TRUE(names(r.error(), {"'s1' has no run '" + id + "'"}));
  }
  EXPECT_TRUE(same_contents(before, take_snapshot(server->session().log())));
  expect_runs(*server);
}

TEST_P(RunSchedulerBadInput, executeRunWithNoRetainedResultsStillAnswersTheRunsOwnResult) {
  // With result_retention_count = 0 (or result_retention_age = 0) a finished result is forgotten
  // at once unless an awaiter already holds the run. execute_run must hold it from submission:
  // an inline executor finishes the run inside submit_run, before any await could look it up.
  for (bool by_age : {false, true}) {
    SCOPED_TRACE(by_age ? "result_retention_age = 0" : "result_retention_count = 0");
    StoreUnderTest st(GetParam());
    auto o = server_options(st.store());
    if (by_age)
      o.result_retention_age = 0ns;
    else
      o.result_retention_count = 0;
    o.executor = [](std::function<void()> job) { job(); };
    auto server = SessionServer::start(o);
    ASSERT_TRUE(server.ok()) << server.error();
    RunOptions ro;
    ro.run_id = "inline";
    auto out = server->execute_run(emitting(1), kWatchdog, ro);
    ASSERT_TRUE(out.ok()) << out.error();
    EXPECT_EQ(*out, "done");
    // Nobody holds it any more: now it is forgotten, as configured.
    EXPECT_EQ(server->await_run("inline", 0ns).code(), Errc::run_not_found);
    ASSERT_TRUE(server->stop().ok());
  }
}

TEST_P(RunSchedulerBadInput, awaitOfARunThatOutlastsTheTimeoutIsTimeoutAndTheRunGoesOn) {
  auto server = start_seeded();
  ASSERT_TRUE(server.ok()) << server.error();
  const StoreSnapshot before = take_snapshot(server->session().log());
  Gate gate;
  Counter started;
  RunOptions ro;
  ro.run_id = "slow";
  ASSERT_TRUE(server->submit_run(
                        [&](RunContext&) -> RunResult {
                          started.arrive();
                          gate.wait();
                          return std::string("finished");
                        },
                        ro)
                  .ok());
  started.wait_for(1);
  for (auto timeout : {0ns, std::chrono::nanoseconds(1ms)}) {
    auto r = server->await_run("slow", timeout);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::timeout);
    EXPECT_TRUE(names(r.error(), {"run 'slow' of session 's1' did not finish within"}));
  }
  EXPECT_EQ(server->status().in_flight_count, 1u);
  gate.open();
  EXPECT_EQ(server->await_run("slow", kWatchdog).value(), "finished");
  ASSERT_TRUE(server->stop().ok());
  expect_kept(before);
  EXPECT_EQ(st_.snapshot().events.back().type, EventType::run_completed);
}

TEST_P(RunSchedulerBadInput, cancelOfAnUnknownRunIsRunNotFoundAndCancelsNothing) {
  auto o = server_options(st_.store());
  o.result_retention_count = 0;
  auto server = start_seeded(o);
  ASSERT_TRUE(server.ok()) << server.error();
  const StoreSnapshot before = take_snapshot(server->session().log());
  for (std::string id : {"nope", "", "seed-run"}) {  // seed-run: finished and forgotten
    SCOPED_TRACE(id);
    Status st = server->cancel_run(id);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Errc::run_not_found);
    EXPECT_TRUE(names(st.error(), {"'s1' has no run '" + id + "'"}));
  }
  EXPECT_TRUE(same_contents(before, take_snapshot(server->session().log())));
  expect_runs(*server);
  ASSERT_TRUE(server->stop().ok());
  for (const Event& e : st_.snapshot().events) EXPECT_NE(e.type, EventType::run_cancelled);
}

TEST_P(RunSchedulerBadInput, interruptOfARunThatIsNotRunningIsRunNotFoundAndInterruptsNothing) {
  auto server = start_seeded();
  ASSERT_TRUE(server.ok()) << server.error();
  const StoreSnapshot before = take_snapshot(server->session().log());
  Gate gate;
  Counter started;
  RunOptions running, queued;
  running.run_id = "running";
  queued.run_id = "queued";
  ASSERT_TRUE(server->submit_run(
                        [&](RunContext& ctx) -> RunResult {
                          started.arrive();
                          gate.wait();
                          return std::string(ctx.cancel_requested() ? "cancelled" : "finished");
                        },
                        running)
                  .ok());
  started.wait_for(1);
  ASSERT_TRUE(server->submit_run(emitting(1), queued).ok());
  for (const char* id : {"nope", "queued", "seed-run"}) {  // unknown, queued, finished (retained)
    SCOPED_TRACE(id);
    Status st = server->interrupt_run(id);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Errc::run_not_found);
    EXPECT_TRUE(names(st.error(), {std::string("run '") + id + "' is not running in session 's1'"}));
  }
  gate.open();
  EXPECT_EQ(server->await_run("running", kWatchdog).value(), "finished");
  EXPECT_EQ(server->await_run("queued", kWatchdog).value(), "done");
  ASSERT_TRUE(server->stop().ok());
  expect_kept(before);
  for (const Event& e : st_.snapshot().events) EXPECT_NE(e.type, EventType::run_cancelled);
}

// ---------------------------------------------------------------------------------------------
// drain and stop

TEST_P(RunSchedulerBadInput, drainWithANegativeTimeoutIsValidationErrorAndPastItsTimeoutIsTimeout) {
  auto server = start_seeded();
  ASSERT_TRUE(server.ok()) << server.error();
  const StoreSnapshot before = take_snapshot(server->session().log());
  for (auto timeout : {-1ns, std::chrono::nanoseconds::min()}) {
    Status st = server->drain(timeout);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Errc::validation_error);
    EXPECT_TRUE(names(st.error(), {"drain: timeout = " + std::to_string(timeout.count()) + " ns is negative"}));
  }
  Gate gate;
  Counter started;
  ASSERT_TRUE(server->submit_run(gated(gate, started)).ok());
  started.wait_for(1);
  for (auto timeout : {0ns, std::chrono::nanoseconds(1ms)}) {
    Status st = server->drain(timeout);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Errc::timeout);
    EXPECT_TRUE(names(st.error(), {"drain: 0 queued and 1 running runs remain in session 's1'"}));
  }
  gate.open();
  EXPECT_TRUE(server->drain(kWatchdog).ok());
  expect_runs(*server);
  ASSERT_TRUE(server->stop().ok());
  expect_kept(before);
}

TEST_P(RunSchedulerBadInput, stopOrDrainFromInsideARunIsValidationErrorAndTheRunCompletes) {
  auto server = start_seeded();
  ASSERT_TRUE(server.ok()) << server.error();
  const StoreSnapshot before = take_snapshot(server->session().log());
  SessionServer* srv = &*server;
  std::vector<Status> answers;
  auto out = server->execute_run(
      [&](RunContext&) -> RunResult {
        answers.push_back(srv->stop());
        answers.push_back(srv->stop(StopPolicy::cancel));
        answers.push_back(srv->drain(1s));
        return std::string("survived");
      },
      kWatchdog);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(*out, "survived");
  ASSERT_EQ(answers.size(), 3u);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_FALSE(answers[i].ok());
    EXPECT_EQ(answers[i].code(), Errc::validation_error);
    EXPECT_TRUE(names(answers[i].error(), {i < 2 ? "stop() called from inside a run of session 's1'"
                                                 : "drain() called from inside a run of session 's1'",
                                           "would wait for itself"}));
  }
  EXPECT_FALSE(server->stopped());
  expect_runs(*server);
  ASSERT_TRUE(server->stop().ok());
  expect_kept(before);
}

INSTANTIATE_TEST_SUITE_P(Stores, RunSchedulerBadInput, ::testing::Values(StoreKind::memory, StoreKind::log),
                         sessionring::test::kind_name);
