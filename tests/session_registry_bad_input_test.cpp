// Bad input of SessionRegistry (engine/session_registry.cpp), docs/errors.md "Bad-input
// table": starting a session it already hosts (attach or create) is writer_conflict, bad server
// options are refused as SessionServer::start refuses them, stopping a session it does not host
// is not_found. Each test has known events stored first and checks that nothing stored was lost
// or altered and that the hosted servers keep working.
#include "run_test_support.hpp"
#include "store_snapshot.hpp"

#include <gtest/gtest.h>

using namespace sessionring;
using namespace sessionring::testing;
using sessionring::test::KnownEvent;
using sessionring::test::StoreSnapshot;
using sessionring::test::names;
using sessionring::test::same_contents;
using sessionring::test::take_snapshot;

namespace {

/// A registry hosting s1 (with three known events and a completed run) on `store`.
std::shared_ptr<SessionServer> host_seeded(SessionRegistry& registry, const std::shared_ptr<SessionStore>& store) {
  auto server = registry.start(server_options(store, 1, "s1"));
  EXPECT_TRUE(server.ok()) << server.error();
  if (!server) return nullptr;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE((*server)->session().append_wait(KnownEvent(i).input()).ok());
  EXPECT_TRUE((*server)->execute_run(emitting(2), kWatchdog).ok());
  return *server;
}

void expect_runs(SessionServer& server) {
  auto out = server.execute_run(emitting(1), kWatchdog);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(*out, "done");
}

}  // namespace

TEST(SessionRegistryBadInput, startOfAHostedSessionIsWriterConflictWhetherAttachingOrCreating) {
  auto store = MemoryStore::create();
  SessionRegistry registry;
  auto hosted = host_seeded(registry, store);
  ASSERT_TRUE(hosted);
  const StoreSnapshot before = take_snapshot(hosted->session().log());
  for (bool create : {false, true}) {
    SCOPED_TRACE(create ? "new_session s1" : "attach s1");
    auto again = registry.start(create ? server_options(store, 1, "s1") : attach_options(store, "s1"));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.code(), Errc::writer_conflict);
    EXPECT_TRUE(names(again.error(), {"session 's1' is already hosted by this registry"}));
  }
  EXPECT_EQ(registry.session_ids(), std::vector<std::string>{"s1"});
  EXPECT_EQ(registry.find("s1"), hosted);
  EXPECT_TRUE(same_contents(before, take_snapshot(hosted->session().log())));
  expect_runs(*hosted);
}

TEST(SessionRegistryBadInput, startWithBadServerOptionsIsRefusedAsSessionServerStartAndHostsNothingNew) {
  auto store = MemoryStore::create();
  SessionRegistry registry;
  auto hosted = host_seeded(registry, store);
  ASSERT_TRUE(hosted);
  const StoreSnapshot before = take_snapshot(hosted->session().log());
  {
    auto o = server_options(store, 1, "s2");
    o.max_concurrent_runs = 0;
    auto r = registry.start(o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::validation_error);
    EXPECT_TRUE(names(r.error(), {"max_concurrent_runs = 0"}));
  }
  {
    auto r = registry.start(attach_options(store, "missing"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::not_found);
    EXPECT_TRUE(names(r.error(), {"session 'missing' does not exist"}));
  }
  {
    auto r = registry.start(server_options(store, 1, "../s1"));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.code(), Errc::validation_error);
    EXPECT_TRUE(names(r.error(), {"new_session.session_id"}));
  }
  EXPECT_EQ(registry.session_ids(), std::vector<std::string>{"s1"});
  EXPECT_EQ(store->list_sessions().value(), std::vector<std::string>{"s1"});
  EXPECT_TRUE(same_contents(before, take_snapshot(hosted->session().log())));
  // Once the registry no longer hosts s1, creating it again is the server's refusal: it holds events.
  ASSERT_TRUE(registry.stop("s1").ok());
  hosted.reset();
  auto r = registry.start(server_options(store, 1, "s1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::validation_error);
  EXPECT_TRUE(names(r.error(), {"new_session.session_id = 's1' already holds"}));
  EXPECT_TRUE(same_contents(before, sessionring::test::take_snapshot(*store, "s1")));
  auto attached = registry.start(attach_options(store, "s1"));
  ASSERT_TRUE(attached.ok()) << attached.error();
  expect_runs(**attached);
}

TEST(SessionRegistryBadInput, stopOfASessionItDoesNotHostIsNotFoundAndStopsNothing) {
  auto store = MemoryStore::create();
  SessionRegistry registry;
  auto hosted = host_seeded(registry, store);
  ASSERT_TRUE(hosted);
  auto other = registry.start(server_options(store, 1, "s2"));
  ASSERT_TRUE(other.ok()) << other.error();
  ASSERT_TRUE(registry.stop("s2").ok());
  const StoreSnapshot before = take_snapshot(hosted->session().log());
  for (std::string id : {"nope", "s2", "", "../s1", "S1"}) {  // s2: already stopped
    SCOPED_TRACE(id);
    Status st = registry.stop(id);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Errc::not_found);
    EXPECT_TRUE(names(st.error(), {"this registry does not host session '" + id + "'"}));
  }
  EXPECT_EQ(registry.session_ids(), std::vector<std::string>{"s1"});
  EXPECT_FALSE(hosted->stopped());
  EXPECT_TRUE(same_contents(before, take_snapshot(hosted->session().log())));
  expect_runs(*hosted);
}

TEST(SessionRegistryBadInput, negativeCloseIdleAfterIsAValidationErrorNamingTheOption) {
  SessionRegistry::Options o;
  o.close_idle_after = std::chrono::milliseconds(-1);
  auto r = SessionRegistry::create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::validation_error);
  EXPECT_TRUE(names(r.error(), {"close_idle_after"}));
  o.close_idle_after = std::chrono::nanoseconds(0);  // 0: never close
  auto never = SessionRegistry::create(o);
  ASSERT_TRUE(never.ok()) << never.error();
  EXPECT_EQ((*never)->stats().hosted, 0u);
}
