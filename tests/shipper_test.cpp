// Shipper (engine/shipper.cpp, docs/store.md "Shipping a store to another"): the replica holds
// the source's events with the same sequences, every field equal; a restart of the shipper or
// of the replica continues at the replica's latest without gap or duplicate; a source that
// pruned what was never shipped stops that session with Errc::pruned; a replica session held
// by another writer is retried, not skipped; bad options are refused. (On JetStream:
// tests/jetstream_shipper_test.cpp.)
#include "log_test_util.hpp"
#include "oracle.hpp"
#include "shipper_test_support.hpp"

#include <sessionring/sessionring.hpp>

#include <gtest/gtest.h>

namespace sessionring::test {
namespace {

std::unique_ptr<Shipper> ship(std::shared_ptr<SessionStore> from, std::shared_ptr<SessionStore> to,
                              std::vector<std::string> sessions = {}) {
  return start_shipper(std::move(from), std::move(to), std::move(sessions), 7, 5ms);  // many batches per session
}

std::shared_ptr<LogStore> log_store(const TempDir& dir, const char* name) {
  LogStoreOptions o = options_in(dir);
  o.root = dir.path() / name;
  auto s = LogStore::open(o);
  EXPECT_TRUE(s.ok()) << s.error();
  return s ? *s : nullptr;
}

TEST(Shipper, replicaHoldsEverySessionWithTheSameSequencesAndFieldsWhileItsWriterAppends) {
  TempDir dir;
  auto source = log_store(dir, "primary");
  auto replica = MemoryStore::create();
  auto shipper = ship(source, replica);
  const std::size_t n = scaled(300, 3'000, 30);
  for (const char* id : {"a", "b", "c"}) {
    Session s = Session::open(options(source, id)).value();
    append_messages(s, 0, n);
    ASSERT_TRUE(s.stop().ok());
  }
  ASSERT_TRUE(shipper->wait_caught_up(patience()).ok());
  for (const char* id : {"a", "b", "c"}) {
    SCOPED_TRACE(id);
    auto want = all_of(*source, id);
    ASSERT_EQ(want.size(), n);
    EXPECT_EQ(all_of(*replica, id), want);
  }
  const auto st = shipper->stats();
  ASSERT_EQ(st.sessions.size(), 3u);
  for (const auto& l : st.sessions) {
    EXPECT_EQ(l.shipped, n);
    EXPECT_EQ(l.lag, 0u);
    EXPECT_FALSE(l.error.has_value());
  }
  EXPECT_EQ(st.events_shipped, 3 * n);
  EXPECT_GE(st.batches, 3 * n / 7);
}

// The shipped watermark is the replica's own latest sequence: a new shipper over a replica
// reopened from disk (both restarted) ships exactly what is missing.
TEST(Shipper, restartOfShipperAndReplicaContinuesAtTheReplicasLatestWithoutGapOrDuplicate) {
  TempDir dir;
  auto source = log_store(dir, "primary");
  Session writer = Session::open(options(source, "s")).value();
  const std::size_t rounds = scaled(6, 30, 3);
  for (std::size_t r = 0; r < rounds; ++r) {
    auto replica = log_store(dir, "replica");  // reopened each round: its state is on disk
    auto shipper = ship(source, replica, {"s"});
    append_messages(writer, r * 50, 50);
    if (r % 2 == 0) {
      ASSERT_TRUE(shipper->wait_caught_up(patience()).ok());
    }  // else stopped wherever it is
    shipper->stop();
  }
  auto replica = log_store(dir, "replica");
  auto shipper = ship(source, replica, {"s"});
  ASSERT_TRUE(shipper->wait_caught_up(patience()).ok());
  shipper.reset();
  auto want = all_of(*source, "s");
  ASSERT_EQ(want.size(), rounds * 50);
  EXPECT_EQ(all_of(*replica, "s"), want);
  ASSERT_TRUE(writer.stop().ok());
}

TEST(Shipper, sourceThatPrunedWhatWasNeverShippedStopsThatSessionWithPrunedNamingTheRange) {
  MemoryStoreOptions mo;
  mo.chunk_bytes = 4096;
  mo.retention.max_events = 10;
  mo.retention.prune_unit = 1;
  auto source = MemoryStore::create(mo).value();
  Session s = Session::open(options(source, "s")).value();
  const std::string big(1000, 'x');
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(s.append_wait(ev(EventType::message_streamed, "r", big)).ok());
  ASSERT_GT(s.log().first_sequence(), 1u);
  auto replica = MemoryStore::create();
  auto shipper = ship(source, replica, {"s"});
  Status st = shipper->wait_caught_up(patience());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::pruned);
  EXPECT_NE(st.error().message().find("before they were shipped"), std::string::npos) << st.error();
  const auto stats = shipper->stats();
  ASSERT_EQ(stats.sessions.size(), 1u);
  EXPECT_TRUE(stats.sessions[0].stopped);
  EXPECT_EQ(stats.sessions[0].shipped, 0u);  // nothing after the gap: the replica never skips
  auto log = replica->open("s", OpenMode::read);
  EXPECT_TRUE(!log || (*log)->latest_sequence() == 0);
  ASSERT_TRUE(s.stop().ok());
}

TEST(Shipper, replicaSessionHeldByAnotherWriterIsRetriedUntilItIsFreeAndThenShipped) {
  auto source = MemoryStore::create();
  auto replica = MemoryStore::create();
  Session s = Session::open(options(source, "s")).value();
  append_messages(s, 0, 20);
  auto opened = replica->open("s", OpenMode::write);
  ASSERT_TRUE(opened.ok()) << opened.error();
  std::shared_ptr<SessionLog> other = *opened;
  auto shipper = ship(source, replica, {"s"});
  ASSERT_TRUE(eventually([&] {
    auto st = shipper->stats();
    return st.failures > 0 && !st.sessions.empty() && st.sessions[0].error &&
           st.sessions[0].error->code() == Errc::writer_conflict;
  }));
  EXPECT_EQ(shipper->stats().sessions[0].shipped, 0u);
  other.reset();
  opened = Error(Errc::closed, "released");  // the last reference to the other writer
  ASSERT_TRUE(shipper->wait_caught_up(patience()).ok());
  EXPECT_EQ(all_of(*replica, "s"), all_of(*source, "s"));
  EXPECT_FALSE(shipper->stats().sessions[0].error.has_value());
  ASSERT_TRUE(s.stop().ok());
}

TEST(ShipperBadInput, badOptionsAreValidationErrorsNamingTheOption) {
  auto a = MemoryStore::create();
  auto b = MemoryStore::create();
  auto check = [&](const char* name, auto&& change) {
    SCOPED_TRACE(name);
    ShipperOptions o;
    o.source = a;
    o.destination = b;
    change(o);
    auto s = Shipper::start(std::move(o));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Errc::validation_error);
    EXPECT_NE(s.error().message().find(name), std::string::npos) << s.error();
  };
  check("source", [](ShipperOptions& o) { o.source.reset(); });
  check("destination", [](ShipperOptions& o) { o.destination.reset(); });
  check("destination must not be the source", [&](ShipperOptions& o) { o.destination = a; });
  check("rescan_interval", [](ShipperOptions& o) { o.rescan_interval = 0ms; });
  check("poll_interval", [](ShipperOptions& o) { o.poll_interval = -1ms; });
  check("retry_interval", [](ShipperOptions& o) { o.retry_interval = 0ms; });
  check("max_batch_events", [](ShipperOptions& o) { o.max_batch_events = 0; });
  check("max_batch_events", [](ShipperOptions& o) { o.max_batch_events = 65537; });
  check("max_batch_bytes", [](ShipperOptions& o) { o.max_batch_bytes = 100; });
  check("sessions", [](ShipperOptions& o) { o.sessions = {"a", ""}; });
  // Nothing was written anywhere.
  EXPECT_TRUE(b->list_sessions().value().empty());
}

}  // namespace
}  // namespace sessionring::test
