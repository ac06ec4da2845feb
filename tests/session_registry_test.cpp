// SessionRegistry (engine/session_registry.cpp): many servers, looked up by session id.
#include "run_test_support.hpp"

using namespace sessionring;
using namespace sessionring::testing;

TEST(SessionRegistry, startRegistersTheServerUnderItsSessionId) {
  SessionRegistry registry;
  auto store = MemoryStore::create();
  auto a = registry.start(server_options(store, 1, "a"));
  auto b = registry.start(server_options(store, 1, "b"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(registry.find("a"), *a);
  EXPECT_EQ(registry.find("b"), *b);
  EXPECT_EQ(registry.find("c"), nullptr);
  EXPECT_EQ(registry.session_ids(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(registry.size(), 2u);
  EXPECT_EQ(*registry.find("a")->execute_run(emitting(1), kWatchdog), "done");
}

TEST(SessionRegistry, hostingTheSameSessionTwiceIsAWriterConflict) {
  SessionRegistry registry;
  auto store = MemoryStore::create();
  ASSERT_TRUE(registry.start(server_options(store, 1, "a")).ok());
  SessionServerOptions attach = attach_options(store, "a");
  auto again = registry.start(attach);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.code(), Errc::writer_conflict);
}

TEST(SessionRegistry, stopStopsAndForgetsOneServer) {
  SessionRegistry registry;
  auto store = MemoryStore::create();
  auto a = *registry.start(server_options(store, 1, "a"));
  auto b = *registry.start(server_options(store, 1, "b"));
  ASSERT_TRUE(registry.stop("a").ok());
  EXPECT_EQ(registry.find("a"), nullptr);
  EXPECT_EQ(registry.stop("a").code(), Errc::not_found);
  EXPECT_EQ(a->submit_run(emitting(1)).code(), Errc::stopped);  // a holder sees it stopped
  EXPECT_FALSE(b->stopped());
  // The session can be hosted again, attached to its stored history, once the old server is
  // gone (a stopped Session keeps the store's writer handle until its last handle is dropped).
  a.reset();
  SessionServerOptions attach = attach_options(store, "a");
  auto again = registry.start(attach);
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ((*again)->session().latest_sequence(), 2u);
}

TEST(SessionRegistry, stopAllAndDestructionStopEveryServer) {
  auto store = MemoryStore::create();
  std::shared_ptr<SessionServer> kept;
  {
    SessionRegistry registry;
    auto a = *registry.start(server_options(store, 1, "a"));
    auto b = *registry.start(server_options(store, 1, "b"));
    ASSERT_TRUE(registry.stop_all().ok());
    EXPECT_TRUE(a->stopped());
    EXPECT_TRUE(b->stopped());
    EXPECT_EQ(registry.size(), 0u);
    kept = *registry.start(server_options(store, 1, "c"));
  }
  EXPECT_TRUE(kept->stopped());
}

TEST(SessionRegistry, aFailedStartRegistersNothing) {
  SessionRegistry registry;
  auto o = server_options();
  o.max_concurrent_runs = 0;
  auto r = registry.start(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::validation_error);
  EXPECT_EQ(registry.size(), 0u);
}
