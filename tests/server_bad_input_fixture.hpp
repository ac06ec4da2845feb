// Fixture of the SessionServer bad-input tests (session_server_bad_input_test.cpp: start and
// subscriptions; run_scheduler_bad_input_test.cpp: the run side): a server on session s1 with
// known events and a completed run stored, and the checks that nothing stored was lost or
// altered, that a refused run left no trace and that the server (or a new one) still runs runs.
// Parameterised by the store (MemoryStore, LogStore).
#pragma once
#include "run_test_support.hpp"
#include "store_snapshot.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace sessionring::test {

using sessionring::testing::attach_options;
using sessionring::testing::emitting;
using sessionring::testing::kWatchdog;
using sessionring::testing::server_options;

class ServerFixture : public ::testing::TestWithParam<StoreKind> {
 protected:
  ServerFixture() : st_(GetParam()) {}

  /// A server on a new session s1 holding session_created, session_started, three known
  /// events and one completed run (run_started, two messages, run_completed).
  Result<SessionServer> start_seeded(SessionServerOptions o) {
    auto server = SessionServer::start(std::move(o));
    if (!server) return server;
    for (int i = 0; i < 3; ++i) {
      auto r = server->session().append_wait(KnownEvent(i).input());
      EXPECT_TRUE(r.ok()) << r.error();
    }
    RunOptions ro;
    ro.run_id = "seed-run";
    auto out = server->execute_run(emitting(2), kWatchdog, ro);
    EXPECT_TRUE(out.ok()) << out.error();
    return server;
  }
  Result<SessionServer> start_seeded() { return start_seeded(server_options(st_.store())); }

  /// s1 seeded by a server that was then stopped (the writer released).
  StoreSnapshot seed_stopped() {
    auto server = start_seeded();
    EXPECT_TRUE(server.ok()) << server.error();
    if (server) {
      EXPECT_TRUE(server->stop().ok());
    }
    return st_.snapshot();
  }

  /// Nothing of `before` was lost or altered, and no stored event belongs to `refused_run`.
  void expect_kept(const StoreSnapshot& before, std::string_view refused_run = {}) {
    const StoreSnapshot now = st_.snapshot();
    EXPECT_TRUE(keeps_contents(before, now));
    if (refused_run.empty()) return;
    for (const Event& e : now.events) {
      EXPECT_NE(e.run_id, refused_run) << "a refused run left a trace";
    }
  }

  /// A server attaching to s1 continues its sequence and runs a run.
  void expect_attaches_and_runs(const StoreSnapshot& before) {
    auto server = SessionServer::start(attach_options(st_.store(), "s1"));
    ASSERT_TRUE(server.ok()) << server.error();
    EXPECT_EQ(server->session().latest_sequence(), before.latest);
    expect_runs(*server);
    ASSERT_TRUE(server->stop().ok());
    expect_kept(before);
  }

  static void expect_runs(SessionServer& server) {
    const Sequence latest = server.session().latest_sequence();
    auto out = server.execute_run(emitting(1), kWatchdog);
    ASSERT_TRUE(out.ok()) << out.error();
    EXPECT_EQ(*out, "done");
    EXPECT_EQ(server.session().latest_sequence(), latest + 3);  // run_started, one message, run_completed
  }

  StoreUnderTest st_;
};

/// Destroys the server a Result holds (a stopped server still holds the session's writer).
inline void release(Result<SessionServer>& server) { server = Error(Errc::closed, "released by the test"); }

}  // namespace sessionring::test
