// Bad input of SessionServer::start and the server's subscriptions (engine/session_server.cpp,
// engine/session_server_options.cpp), docs/errors.md "Bad-input table". Each test has known
// events stored first (session_created/started, seeded events and a completed run), makes the
// bad call, checks the exact Errc and that the message names what was wrong, then that nothing
// stored was lost or altered and that the server (or a new one attaching) still runs runs.
// Runs on a MemoryStore and on a LogStore. The run side: run_scheduler_bad_input_test.cpp.
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

struct BadServerOption {
  std::string option;  // the message starts with it
  std::string shown;   // and contains this
  std::function<void(SessionServerOptions&)> apply;
};

class ServerBadInput : public sessionring::test::ServerFixture {
 protected:
  /// Each case, applied to options that attach to s1 and to options that create s2, makes
  /// SessionServer::start (and, with `validate_too`, validate) answer validation_error with a
  /// message that starts with the option and shows the bad value; no session is created.
  void expect_start_refuses(const std::vector<BadServerOption>& cases, bool validate_too) {
    for (const BadServerOption& c : cases) {
      SCOPED_TRACE(c.option + " " + c.shown);
      for (bool attach : {false, true}) {
        auto o = attach ? attach_options(st_.store(), "s1") : server_options(st_.store(), 1, "s2");
        c.apply(o);
        if (validate_too) {
          EXPECT_EQ(validate(o).code(), Errc::validation_error);
        }
        auto server = SessionServer::start(o);
        ASSERT_FALSE(server.ok());
        EXPECT_EQ(server.code(), Errc::validation_error);
        EXPECT_EQ(server.error().message().rfind(c.option, 0), 0u) << server.error();
        EXPECT_TRUE(names(server.error(), {c.shown}));
      }
    }
    EXPECT_EQ(st_.store()->list_sessions().value(), std::vector<std::string>{"s1"});
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// SessionServer::start

TEST_P(ServerBadInput, startWithNeitherOrBothOfSessionIdAndNewSessionIsValidationErrorAndStoreUnchanged) {
  const StoreSnapshot before = seed_stopped();
  const auto sessions = st_.store()->list_sessions().value();
  for (bool both : {false, true}) {
    auto o = server_options(st_.store());
    if (both)
      o.session_id = "s1";
    else
      o.new_session.reset();
    auto server = SessionServer::start(o);
    ASSERT_FALSE(server.ok());
    EXPECT_EQ(server.code(), Errc::validation_error);
    EXPECT_TRUE(names(server.error(), {"session_id / new_session", both ? "are both set" : "are both empty"}));
  }
  EXPECT_EQ(st_.store()->list_sessions().value(), sessions);
  EXPECT_TRUE(same_contents(before, st_.snapshot()));
  expect_attaches_and_runs(before);
}

TEST_P(ServerBadInput, startWithAnInvalidSessionIdIsValidationErrorNamingTheOptionAndTheRule) {
  const StoreSnapshot before = seed_stopped();
  const auto sessions = st_.store()->list_sessions().value();
  for (std::string bad : {std::string(".."), std::string("../s1"), std::string("s1/x"), std::string("a b"),
                          std::string(kMaxSessionIdBytes + 1, 'a'), std::string(".s1")}) {
    SCOPED_TRACE(bad);
    auto attach = attach_options(st_.store(), bad);
    auto a = SessionServer::start(attach);
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.code(), Errc::validation_error);
    EXPECT_EQ(a.error().message().rfind("session_id session id '", 0), 0u) << a.error();
    auto create = server_options(st_.store(), 1, bad);
    auto c = SessionServer::start(create);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.code(), Errc::validation_error);
    EXPECT_EQ(c.error().message().rfind("new_session.session_id session id '", 0), 0u) << c.error();
  }
  EXPECT_EQ(st_.store()->list_sessions().value(), sessions);
  EXPECT_TRUE(same_contents(before, st_.snapshot()));
  expect_attaches_and_runs(before);
}

TEST_P(ServerBadInput, startWithAnyRunKnobOutOfRangeOrNegativeIsValidationErrorNamingIt) {
  const StoreSnapshot before = seed_stopped();
  using ns = std::chrono::nanoseconds;
  const std::vector<BadServerOption> cases = {
      {"max_concurrent_runs", "= 0 is out of range [1, 1024]", [](auto& o) { o.max_concurrent_runs = 0; }},
      {"max_concurrent_runs", "= 1025 is out of range", [](auto& o) { o.max_concurrent_runs = 1025; }},
      {"max_queued_runs", "= 1000001 is out of range [0, 1000000]", [](auto& o) { o.max_queued_runs = 1'000'001; }},
      {"max_queued_runs", "= 4294967295 is out of range", [](auto& o) { o.max_queued_runs = UINT32_MAX; }},
      {"result_retention_count", "= 10000001 is out of range [0, 10000000]",
       [](auto& o) { o.result_retention_count = 10'000'001; }},
      {"lapped_sample_interval", "= 0 ns is out of range [1 ms, 1 h]",
       [](auto& o) { o.lapped_sample_interval = ns(0); }},
      {"lapped_sample_interval", "= 999999 ns", [](auto& o) { o.lapped_sample_interval = ns(999'999); }},
      {"lapped_sample_interval", "= -1 ns", [](auto& o) { o.lapped_sample_interval = ns(-1); }},
      {"lapped_sample_interval", "= 3600000000001 ns",
       [](auto& o) { o.lapped_sample_interval = std::chrono::hours(1) + ns(1); }},
      {"default_run_timeout", "= -1 ns is negative", [](auto& o) { o.default_run_timeout = ns(-1); }},
      {"result_retention_age", "= -1000000000 ns is negative", [](auto& o) { o.result_retention_age = -1s; }},
      {"stop_drain_timeout", "= -1 ns is negative", [](auto& o) { o.stop_drain_timeout = ns(-1); }},
      {"stop_policy", "is not a StopPolicy value", [](auto& o) { o.stop_policy = static_cast<StopPolicy>(2); }},
      {"stop_policy", "is not a StopPolicy value", [](auto& o) { o.stop_policy = static_cast<StopPolicy>(255); }},
  };
  expect_start_refuses(cases, true);
  // Both ends of every range are accepted.
  const std::vector<std::function<void(SessionServerOptions&)>> edges = {
      [](auto& o) { o.max_concurrent_runs = 1; },
      [](auto& o) {
        o.max_concurrent_runs = 1024;
        o.engine.max_producers = 1025;
      },
      [](auto& o) { o.max_queued_runs = 0; }, [](auto& o) { o.max_queued_runs = 1'000'000; },
      [](auto& o) { o.result_retention_count = 0; }, [](auto& o) { o.result_retention_count = 10'000'000; },
      [](auto& o) { o.lapped_sample_interval = 1ms; }, [](auto& o) { o.lapped_sample_interval = std::chrono::hours(1); },
      [](auto& o) { o.default_run_timeout = 0ns; }, [](auto& o) { o.result_retention_age = 0ns; },
      [](auto& o) { o.stop_drain_timeout = 0ns; }, [](auto& o) { o.stop_policy = StopPolicy::cancel; }};
  for (std::size_t i = 0; i < edges.size(); ++i) {
    auto o = attach_options(st_.store(), "s1");
    edges[i](o);
    EXPECT_TRUE(validate(o).ok()) << "edge " << i << ": " << validate(o).error();
  }
  EXPECT_TRUE(same_contents(before, st_.snapshot()));
  expect_attaches_and_runs(before);
}

TEST_P(ServerBadInput, startWithAnEngineFieldTheServerOwnsOrOutOfRangeIsValidationErrorNamingEngineKnob) {
  const StoreSnapshot before = seed_stopped();
  auto other_store = MemoryStore::create();
  const std::vector<BadServerOption> cases = {
      {"engine.store", "must be empty", [&](auto& o) { o.engine.store = other_store; }},
      {"engine.session_id", "must be empty", [](auto& o) { o.engine.session_id = "s1"; }},
      {"engine.follow", "must be false", [](auto& o) { o.engine.follow = true; }},
      {"engine.max_producers", "= 1 must exceed max_concurrent_runs = 1", [](auto& o) { o.engine.max_producers = 1; }},
      {"engine.max_producers", "= 4 must exceed max_concurrent_runs = 4",
       [](auto& o) {
         o.max_concurrent_runs = 4;
         o.engine.max_producers = 4;
       }},
      {"engine.max_producers", "= 0 must exceed", [](auto& o) { o.engine.max_producers = 0; }},
      {"engine.ring_capacity", "= 3 is not a power of two", [](auto& o) { o.engine.ring_capacity = 3; }},
      {"engine.ring_capacity", "= 0 is out of range", [](auto& o) { o.engine.ring_capacity = 0; }},
      {"engine.ring_slot_bytes", "= 16 is out of range [64, 65536]", [](auto& o) { o.engine.ring_slot_bytes = 16; }},
      {"engine.ring_slot_bytes", "= 100 is not a multiple of 64", [](auto& o) { o.engine.ring_slot_bytes = 100; }},
      {"engine.ingest_capacity", "= 0 is out of range", [](auto& o) { o.engine.ingest_capacity = 0; }},
      {"engine.queue", "is not a QueueBackend value",
       [](auto& o) { o.engine.queue = static_cast<QueueBackend>(9); }},
      {"engine.wait", "is not a WaitStrategy value", [](auto& o) { o.engine.wait = static_cast<WaitStrategy>(9); }},
      {"engine.max_producers", "= 65537 is out of range", [](auto& o) { o.engine.max_producers = 65537; }},
      {"engine.max_batch", "= 0 is out of range", [](auto& o) { o.engine.max_batch = 0; }},
      {"engine.max_event_bytes", "= 63 is out of range", [](auto& o) { o.engine.max_event_bytes = 63; }},
      {"engine.max_event_bytes", "= 511 is below 512, the size the runtime's run lifecycle events need",
       [](auto& o) { o.engine.max_event_bytes = 511; }},
  };
  expect_start_refuses(cases, false);
  EXPECT_TRUE(same_contents(before, st_.snapshot()));
  // engine.store equal to store is allowed.
  auto o = attach_options(st_.store(), "s1");
  o.engine.store = st_.store();
  EXPECT_TRUE(validate(o).ok());
  expect_attaches_and_runs(before);
}

TEST_P(ServerBadInput, startAttachingToASessionTheStoreDoesNotHoldIsNotFoundAndCreatesNothing) {
  const StoreSnapshot before = seed_stopped();
  auto server = SessionServer::start(attach_options(st_.store(), "missing"));
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.code(), Errc::not_found);
  EXPECT_TRUE(names(server.error(), {"session 'missing' does not exist", "new_session"}));
  EXPECT_EQ(st_.store()->list_sessions().value(), std::vector<std::string>{"s1"});
  EXPECT_TRUE(same_contents(before, st_.snapshot()));
  expect_attaches_and_runs(before);
}

TEST_P(ServerBadInput, startCreatingASessionThatHoldsEventsIsValidationErrorAndAppendsNothing) {
  const StoreSnapshot before = seed_stopped();
  auto server = SessionServer::start(server_options(st_.store(), 1, "s1"));
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.code(), Errc::validation_error);
  EXPECT_TRUE(names(server.error(), {"new_session.session_id = 's1' already holds " +
                                         std::to_string(before.events.size()) + " events"}));
  EXPECT_TRUE(same_contents(before, st_.snapshot())) << "a second session_created was appended";
  expect_attaches_and_runs(before);
}

TEST_P(ServerBadInput, startOfASessionWithARunningServerIsWriterConflictAndTheRunningOneKeepsWorking) {
  auto first = start_seeded();
  ASSERT_TRUE(first.ok()) << first.error();
  const StoreSnapshot before = take_snapshot(first->session().log());
  auto second = SessionServer::start(attach_options(st_.store(), "s1"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), Errc::writer_conflict);
  EXPECT_TRUE(names(second.error(), {"'s1' already has a writer"}));
  EXPECT_TRUE(same_contents(before, take_snapshot(first->session().log())));
  expect_runs(*first);
  const StoreSnapshot now = take_snapshot(first->session().log());
  ASSERT_TRUE(first->stop().ok());
  release(first);
  expect_attaches_and_runs(now);
}

// ---------------------------------------------------------------------------------------------
// subscriptions through the server

TEST_P(ServerBadInput, subscribeAfterStopIsStoppedAndUnsubscribingTwiceIsClosed) {
  auto server = start_seeded();
  ASSERT_TRUE(server.ok()) << server.error();
  const StoreSnapshot before = take_snapshot(server->session().log());
  auto sub = server->subscribe();
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(server->unsubscribe(*sub).ok());
  Status twice = server->unsubscribe(*sub);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.code(), Errc::closed);
  EXPECT_TRUE(names(twice.error(), {"already unsubscribed"}));
  auto push = server->subscribe_push({}, [](const EventView&) {});
  ASSERT_TRUE(push.ok());
  ASSERT_TRUE(server->unsubscribe(*push).ok());
  Status push_twice = server->unsubscribe(*push);
  ASSERT_FALSE(push_twice.ok());
  EXPECT_EQ(push_twice.code(), Errc::closed);
  auto empty = server->subscribe_push({}, PushSubscription::Handler{});
  EXPECT_EQ(empty.code(), Errc::validation_error);
  SubscribeOptions far;
  far.from_sequence = kMaxSequence + 1;
  EXPECT_EQ(server->subscribe(far).code(), Errc::validation_error);
  ASSERT_TRUE(server->stop().ok());
  auto late = server->subscribe();
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.code(), Errc::stopped);
  EXPECT_TRUE(names(late.error(), {"session 's1' is stopped"}));
  auto late_push = server->subscribe_push({}, [](const EventView&) {});
  ASSERT_FALSE(late_push.ok());
  EXPECT_EQ(late_push.code(), Errc::stopped);
  EXPECT_TRUE(same_contents(before, st_.snapshot()));
  // The subscription handles keep the stopped engine (and its writer role) alive: drop them too.
  sub = Error(Errc::closed, "released by the test");
  push = Error(Errc::closed, "released by the test");
  release(server);
  expect_attaches_and_runs(before);
}

INSTANTIATE_TEST_SUITE_P(Stores, ServerBadInput,
                         ::testing::Values(StoreKind::memory, StoreKind::log), sessionring::test::kind_name);
