// SessionServer (engine/session_server.cpp): start and attach, options, status, drain, stop,
// subscriptions through the server, and the subscription defects of DESIGN §7.
// The run side (slots, queue, cancel, ...) is in run_scheduler_test.cpp.
#include "run_test_support.hpp"

#include <set>
#include <thread>

using namespace sessionring;
using namespace sessionring::testing;

TEST(SessionServer, startCreatesASessionWithCreatedAndStartedEvents) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok()) << server.error();
  EXPECT_EQ(server->session_id(), "s1");
  const auto events = stored_events(*server);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, EventType::session_created);
  EXPECT_EQ(events[0].data, "{\"title\":\"test\"}");
  EXPECT_EQ(events[1].type, EventType::session_started);
  EXPECT_EQ(events[1].sequence_number, 2u);
}

TEST(SessionServer, movedFromServerAnswersClosedEverywhere) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok()) << server.error();
  SessionServer taken = std::move(*server);
  SessionServer& gone = *server;
  EXPECT_EQ(gone.session_id(), "");
  EXPECT_EQ(gone.submit_run([](RunContext&) -> Result<RunOutput> { return RunOutput{}; }).code(), Errc::closed);
  EXPECT_EQ(gone.await_run("r").code(), Errc::closed);
  EXPECT_EQ(gone.execute_run([](RunContext&) -> Result<RunOutput> { return RunOutput{}; }).code(), Errc::closed);
  EXPECT_EQ(gone.cancel_run("r").code(), Errc::closed);
  EXPECT_EQ(gone.interrupt_run("r").code(), Errc::closed);
  EXPECT_EQ(gone.drain(std::chrono::seconds(1)).code(), Errc::closed);
  EXPECT_EQ(gone.subscribe({}).code(), Errc::closed);
  EXPECT_EQ(gone.subscribe_push({}, [](const EventView&) {}).code(), Errc::closed);
  EXPECT_EQ(gone.session().append(EventInput{}).code(), Errc::closed);
  EXPECT_TRUE(gone.status().stopped);
  EXPECT_TRUE(gone.stopped());
  EXPECT_EQ(gone.stop().code(), Errc::closed);
  EXPECT_FALSE(taken.stopped());
  EXPECT_TRUE(taken.stop().ok());
}

TEST(SessionServer, startGeneratesASessionIdWhenNoneIsGiven) {
  auto o = server_options();
  o.new_session->session_id.clear();
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server.ok()) << server.error();
  EXPECT_EQ(server->session_id().rfind("session-", 0), 0u);
  EXPECT_TRUE(validate_session_id(server->session_id()).ok());
}

TEST(SessionServer, attachContinuesTheStoredSequence) {
  auto store = MemoryStore::create();
  Sequence before = 0;
  {
    auto first = SessionServer::start(server_options(store));
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(first->execute_run(emitting(3), kWatchdog).ok());
    ASSERT_TRUE(first->stop().ok());
    before = first->session().latest_sequence();
  }
  SessionServerOptions o = attach_options(store, "s1");
  auto second = SessionServer::start(o);
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_EQ(second->session().latest_sequence(), before);  // nothing appended on attach
  ASSERT_TRUE(second->execute_run(emitting(1), kWatchdog).ok());
  const auto events = stored_events(*second);
  ASSERT_EQ(events.size(), before + 3);
  expect_contiguous(events, 1);  // INV-1 across servers
  EXPECT_EQ(events[before].type, EventType::run_started);
}

TEST(SessionServer, attachingToAMissingSessionIsNotFound) {
  SessionServerOptions o = attach_options(MemoryStore::create(), "missing");
  auto server = SessionServer::start(o);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.code(), Errc::not_found);
}

TEST(SessionServer, creatingASessionThatHoldsEventsIsRejected) {
  auto store = MemoryStore::create();
  {
    auto first = SessionServer::start(server_options(store));
    ASSERT_TRUE(first.ok());
  }
  auto again = SessionServer::start(server_options(store));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.code(), Errc::validation_error);
  EXPECT_NE(again.error().message().find("new_session.session_id"), std::string::npos);
}

TEST(SessionServer, secondServerOnTheSameSessionIsAWriterConflict) {
  auto store = MemoryStore::create();
  auto first = SessionServer::start(server_options(store));
  ASSERT_TRUE(first.ok());
  SessionServerOptions o = attach_options(store, "s1");
  auto second = SessionServer::start(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), Errc::writer_conflict);
}

TEST(SessionServer, invalidOptionsAreRejectedNamingTheOption) {
  auto expect_bad = [](SessionServerOptions o, const std::string& option) {
    auto server = SessionServer::start(std::move(o));
    ASSERT_FALSE(server.ok()) << option;
    EXPECT_EQ(server.code(), Errc::validation_error) << option;
    EXPECT_NE(server.error().message().find(option), std::string::npos) << server.error();
  };
  auto o = server_options();
  o.max_concurrent_runs = 0;
  expect_bad(o, "max_concurrent_runs");
  o = server_options();
  o.max_concurrent_runs = 5000;
  expect_bad(o, "max_concurrent_runs");
  o = server_options();
  o.max_queued_runs = 2'000'000;
  expect_bad(o, "max_queued_runs");
  o = server_options();
  o.engine.ring_capacity = 3;
  expect_bad(o, "engine.ring_capacity");
  o = server_options();
  o.engine.max_producers = 1;
  expect_bad(o, "engine.max_producers");
  o = server_options();
  o.engine.session_id = "x";
  expect_bad(o, "engine.session_id");
  o = server_options();
  o.session_id = "s1";  // and new_session
  expect_bad(o, "session_id / new_session");
  o = server_options();
  o.new_session.reset();
  expect_bad(o, "session_id / new_session");
  o = server_options();
  o.new_session->session_id = "../etc";
  expect_bad(o, "new_session.session_id");
  o = server_options();
  o.default_run_timeout = std::chrono::seconds(-1);
  expect_bad(o, "default_run_timeout");
  o = server_options();
  o.result_retention_age = std::chrono::seconds(-1);
  expect_bad(o, "result_retention_age");
  o = server_options();
  o.stop_drain_timeout = std::chrono::seconds(-1);
  expect_bad(o, "stop_drain_timeout");
  o = server_options();
  o.lapped_sample_interval = std::chrono::microseconds(1);
  expect_bad(o, "lapped_sample_interval");
}

TEST(SessionServer, statusReportsRunsSubscribersAndTheEngine) {
  auto o = server_options(MemoryStore::create(), 2);
  o.max_queued_runs = 7;
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server.ok());
  Gate gate;
  Counter started;
  auto blocker = [&](RunContext&) -> RunResult {
    started.arrive();
    gate.wait();
    return std::string();
  };
  auto a = *server->submit_run(blocker);
  started.wait_for(1);
  auto b = *server->submit_run(blocker);
  started.wait_for(2);
  auto c = *server->submit_run(blocker);
  auto live = server->subscribe({});
  SubscribeOptions late;
  late.from_sequence = 1;
  auto from_start = server->subscribe(late);
  ASSERT_TRUE(live.ok() && from_start.ok());
  (void)collect(*live, 4);  // created, started, 2 x run_started

  const ServerStatus st = server->status();
  EXPECT_EQ(st.session_id, "s1");
  EXPECT_EQ(st.in_flight_runs, (std::vector<std::string>{a, b}));
  EXPECT_EQ(st.in_flight_count, 2u);
  EXPECT_EQ(st.queued_runs, std::vector<std::string>{c});
  EXPECT_EQ(st.queued_count, 1u);
  EXPECT_EQ(st.max_concurrent_runs, 2u);
  EXPECT_EQ(st.max_queued_runs, 7u);
  EXPECT_EQ(st.subscriber_count, 2u);
  EXPECT_EQ(st.latest_sequence, 4u);
  EXPECT_EQ(st.ring_capacity, 64u);
  EXPECT_EQ(st.ring_slot_bytes, 256u);
  EXPECT_FALSE(st.stopped);
  ASSERT_EQ(st.subscribers.size(), 2u);
  std::set<Sequence> cursors;
  for (const SubscriptionStats& s : st.subscribers) cursors.insert(s.cursor);
  EXPECT_EQ(cursors, (std::set<Sequence>{1, 5}));  // the late one has read nothing, the live one all 4
  for (const SubscriptionStats& s : st.subscribers) {
    EXPECT_EQ(s.lapped_count, 0u);
    EXPECT_EQ(s.lag, s.cursor == 5 ? 0u : 4u);
  }
  gate.open();
  EXPECT_TRUE(server->drain(kWatchdog).ok());
}

TEST(SessionServer, drainReturnsOkOnceIdleAndTimeoutWhileRunsOutlastIt) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  EXPECT_TRUE(server->drain(std::chrono::nanoseconds::zero()).ok());  // idle already
  Gate gate;
  auto id = server->submit_run([&](RunContext&) -> RunResult {
    gate.wait();
    return std::string();
  });
  auto queued = server->submit_run(emitting(1));
  auto r = server->drain(std::chrono::milliseconds(1));
  EXPECT_EQ(r.code(), Errc::timeout);
  gate.open();
  EXPECT_TRUE(server->drain(kWatchdog).ok());
  EXPECT_TRUE(server->await_run(*queued, kWatchdog).ok());
  EXPECT_EQ(server->status().in_flight_count + server->status().queued_count, 0u);
}

TEST(SessionServer, stopDrainsByDefaultAndThenRefusesRuns) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(*server->submit_run(emitting(20)));
  ASSERT_TRUE(server->stop().ok());
  for (const auto& id : ids) EXPECT_EQ(*server->await_run(id, kWatchdog), "done");  // results outlive stop
  EXPECT_TRUE(server->stopped());
  EXPECT_TRUE(server->status().stopped);
  EXPECT_EQ(server->submit_run(emitting(1)).code(), Errc::stopped);
  EXPECT_EQ(server->subscribe({}).code(), Errc::stopped);
  EXPECT_TRUE(server->stop().ok());  // idempotent
}

TEST(SessionServer, stopWithCancelPolicyCancelsQueuedAndRunningAndClosesSubscriptions) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  SubscribeOptions from_start;
  from_start.from_sequence = 1;
  auto sub = server->subscribe(from_start);
  ASSERT_TRUE(sub.ok());
  Counter started;
  auto running = *server->submit_run(until_cancelled(&started));
  auto queued = *server->submit_run(emitting(1));
  started.wait_for(1);
  ASSERT_TRUE(server->stop(StopPolicy::cancel).ok());
  EXPECT_EQ(server->await_run(running, kWatchdog).code(), Errc::cancelled);
  EXPECT_EQ(server->await_run(queued, kWatchdog).code(), Errc::cancelled);
  // Everything accepted was published; the subscription delivers it, then ends closed.
  std::vector<Event> got;
  const auto deadline = std::chrono::steady_clock::now() + kWatchdog;
  while (sub->state() != SubscriptionState::closed && std::chrono::steady_clock::now() < deadline)
    ASSERT_TRUE(sub->poll_wait([&](const EventView& v) { got.push_back(v.to_event()); }, deadline).ok());
  EXPECT_EQ(sub->state(), SubscriptionState::closed);
  ASSERT_EQ(got.size(), server->session().latest_sequence());
  expect_contiguous(got, 1);
  std::set<std::string> cancelled;
  for (const Event& e : got)
    if (e.type == EventType::run_cancelled) cancelled.insert(e.run_id + (e.data.find("stop") != std::string::npos ? ":stop" : ""));
  EXPECT_EQ(cancelled, (std::set<std::string>{running + ":stop", queued + ":stop"}));
}

TEST(SessionServer, stopWithDrainPolicyCancelsWhatOutlastsTheDrainTimeout) {
  auto o = server_options();
  o.stop_drain_timeout = std::chrono::milliseconds(1);
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server.ok());
  Counter started;
  auto running = *server->submit_run(until_cancelled(&started));
  started.wait_for(1);
  ASSERT_TRUE(server->stop().ok());
  EXPECT_EQ(server->await_run(running, kWatchdog).code(), Errc::cancelled);
}

TEST(SessionServer, aPushSubscriptionEndsAfterStop) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  std::atomic<std::uint64_t> seen{0};  // writer: the push thread; reader: the test after finished()
  SubscribeOptions from_start;
  from_start.from_sequence = 1;
  auto push = server->subscribe_push(from_start, [&](const EventView&) { seen.fetch_add(1); });
  ASSERT_TRUE(push.ok());
  ASSERT_TRUE(server->execute_run(emitting(10), kWatchdog).ok());
  ASSERT_TRUE(server->stop().ok());
  const auto deadline = std::chrono::steady_clock::now() + kWatchdog;
  while (!push->finished() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_TRUE(push->finished());
  EXPECT_EQ(push->state(), SubscriptionState::closed);
  EXPECT_EQ(seen.load(), server->session().latest_sequence());
}

TEST(SessionServer, unsubscribingTwiceIsClosed) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  auto sub = server->subscribe({});
  ASSERT_TRUE(sub.ok());
  EXPECT_TRUE(server->unsubscribe(*sub).ok());
  EXPECT_EQ(server->unsubscribe(*sub).code(), Errc::closed);
  auto push = server->subscribe_push({}, [](const EventView&) {});
  ASSERT_TRUE(push.ok());
  EXPECT_TRUE(server->unsubscribe(*push).ok());
  EXPECT_EQ(server->unsubscribe(*push).code(), Errc::closed);
  EXPECT_EQ(server->status().subscriber_count, 0u);
}

TEST(SessionServer, aSubscriptionBackfillsFromTheStoreAndContinuesLiveWithoutAGap) {
  auto server = SessionServer::start(server_options());  // ring of 64 slots
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE(server->execute_run(emitting(3000), kWatchdog).ok());  // DESIGN §7: more than 1000 behind
  SubscribeOptions from_start;
  from_start.from_sequence = 1;
  auto sub = server->subscribe(from_start);
  ASSERT_TRUE(sub.ok());
  auto history = collect(*sub, server->session().latest_sequence());
  ASSERT_EQ(history.size(), 3004u);  // created, started, run_started, 3000, run_completed
  ASSERT_TRUE(server->execute_run(emitting(100), kWatchdog).ok());
  auto live = collect(*sub, 102);
  history.insert(history.end(), live.begin(), live.end());
  expect_contiguous(history, 1);
  EXPECT_EQ(history.size(), server->session().latest_sequence());
}

TEST(SessionServer, aBurstIsDeliveredWithoutWaitingForLaterEvents) {  // DESIGN §7: 500 per tick
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  SubscribeOptions live;
  live.from_sequence = server->session().latest_sequence() + 1;  // from now on
  auto sub = server->subscribe(live);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(server->execute_run(emitting(5000), kWatchdog).ok());
  // No event follows the burst: a subscriber that needed a later "tick" would stall here.
  auto got = collect(*sub, server->session().latest_sequence() - 2);
  EXPECT_EQ(got.size(), 5002u);
  expect_contiguous(got, 3);
}

TEST(SessionServer, aLateJoinerGetsEveryEventExactlyOnce) {  // DESIGN §7: duplicates on join
  auto server = SessionServer::start(server_options(MemoryStore::create(), 2));
  ASSERT_TRUE(server.ok());
  Counter progress;
  auto chatty = [&](RunContext& ctx) -> RunResult {
    for (int i = 0; i < 4000; ++i) {
      if (Status st = ctx.emit(EventType::message_streamed, std::to_string(i)); !st) return st.error();
      if (i == 1000) progress.arrive();
    }
    return std::string("done");
  };
  auto a = *server->submit_run(chatty);
  auto b = *server->submit_run(chatty);
  progress.wait_for(1);  // join while both runs are emitting
  SubscribeOptions from_start;
  from_start.from_sequence = 1;
  auto late = server->subscribe(from_start);
  ASSERT_TRUE(late.ok());
  ASSERT_TRUE(server->await_run(a, kWatchdog).ok());
  ASSERT_TRUE(server->await_run(b, kWatchdog).ok());
  auto got = collect(*late, server->session().latest_sequence());
  EXPECT_EQ(got.size(), 2u + 2 * 4002u);
  expect_contiguous(got, 1);
}

TEST(SessionServer, aSubscriberResumesFromAStoredCursor) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  ASSERT_TRUE(server->execute_run(emitting(200), kWatchdog).ok());
  SubscribeOptions from_start;
  from_start.from_sequence = 1;
  Sequence cursor = 0;
  std::vector<Event> got;
  {
    auto sub = server->subscribe(from_start);
    ASSERT_TRUE(sub.ok());
    got = collect(*sub, 150);
    ASSERT_EQ(got.size(), 150u);
    cursor = sub->cursor();  // the host persists this
    EXPECT_TRUE(server->unsubscribe(*sub).ok());
  }
  EXPECT_EQ(cursor, 151u);
  ASSERT_TRUE(server->execute_run(emitting(50), kWatchdog).ok());
  SubscribeOptions resume;
  resume.from_sequence = cursor;
  auto sub = server->subscribe(resume);
  ASSERT_TRUE(sub.ok());
  auto rest = collect(*sub, server->session().latest_sequence() - 150);
  got.insert(got.end(), rest.begin(), rest.end());
  EXPECT_EQ(got.size(), server->session().latest_sequence());
  expect_contiguous(got, 1);
}

TEST(SessionServer, aSubscriptionFilteredByRunGetsOnlyThatRun) {
  auto server = SessionServer::start(server_options(MemoryStore::create(), 2));
  ASSERT_TRUE(server.ok());
  RunOptions named;
  named.run_id = "run-a";
  SubscribeOptions only_a;
  only_a.filter.run_id("run-a");
  auto sub = server->subscribe(only_a);
  ASSERT_TRUE(sub.ok());
  auto a = server->submit_run(emitting(100), named);
  auto b = server->submit_run(emitting(100));
  ASSERT_TRUE(server->await_run(*a, kWatchdog).ok());
  ASSERT_TRUE(server->await_run(*b, kWatchdog).ok());
  auto got = collect(*sub, 102);
  ASSERT_EQ(got.size(), 102u);
  for (const Event& e : got) EXPECT_EQ(e.run_id, "run-a");
  EXPECT_EQ(got.front().type, EventType::run_started);
  EXPECT_EQ(got.back().type, EventType::run_completed);
}
