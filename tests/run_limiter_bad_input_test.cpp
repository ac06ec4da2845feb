// Bad input of RunLimiter::create (engine/run_limiter.cpp), docs/errors.md "Bad-input table":
// max_runs outside [1, 10^6] is Errc::validation_error naming max_runs; both ends are accepted
// and a limiter made at the edge bounds a server's runs.
#include "run_test_support.hpp"
#include "store_snapshot.hpp"

#include <gtest/gtest.h>

#include <cstdint>

using namespace sessionring;
using namespace sessionring::testing;
using sessionring::test::names;

TEST(RunLimiterBadInput, maxRunsOutsideOneToAMillionIsValidationErrorNamingMaxRuns) {
  for (std::uint32_t bad : {0u, 1'000'001u, 2'000'000u, UINT32_MAX}) {
    SCOPED_TRACE(bad);
    auto l = RunLimiter::create(bad);
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(l.code(), Errc::validation_error);
    EXPECT_TRUE(names(l.error(), {"max_runs = " + std::to_string(bad) + " is out of range [1, 1000000]"}));
  }
  for (std::uint32_t good : {1u, 1'000'000u}) {
    auto l = RunLimiter::create(good);
    ASSERT_TRUE(l.ok()) << l.error();
    EXPECT_EQ((*l)->max_runs(), good);
    EXPECT_EQ((*l)->in_use(), 0u);
  }
}

TEST(RunLimiterBadInput, aLimiterAtTheLowerEdgeStillBoundsAServer) {
  auto limiter = RunLimiter::create(1);
  ASSERT_TRUE(limiter.ok());
  auto o = server_options(MemoryStore::create(), 2);
  o.limiter = *limiter;
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server.ok()) << server.error();
  EXPECT_EQ(server->execute_run(emitting(1), kWatchdog).value(), "done");
  EXPECT_EQ((*limiter)->in_use(), 0u);
  EXPECT_EQ((*limiter)->acquired_total(), 1u);
}
