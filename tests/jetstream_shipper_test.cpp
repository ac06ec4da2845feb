// Shipper from a local LogStore to a JetStreamStore on a real nats-server (tests/nats_server.hpp;
// docs/store.md "Shipping a store to another"): the primary keeps appending while the server is
// away; the shipper retries, then catches up; a new shipper (a restarted process, its own
// connection) continues at what JetStream holds; another host reading JetStream sees exactly the
// primary's events, same sequences, no gap, no duplicate.
#include "jetstream_test_support.hpp"
#include "log_test_util.hpp"
#include "nats_server.hpp"
#include "oracle.hpp"
#include "shipper_test_support.hpp"

#include <sessionring/jet_stream_store.hpp>
#include <sessionring/sessionring.hpp>

#include <thread>

namespace sessionring::test {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<JetStreamStore> jetstream(const std::string& url) {
  JetStreamStoreOptions o;
  o.url = url;
  o.stream = "SRSHIP";
  o.stream_count = 2;
  return open_jetstream_store(o);
}

std::unique_ptr<Shipper> ship(std::shared_ptr<SessionStore> from, std::shared_ptr<SessionStore> to) {
  return start_shipper(std::move(from), std::move(to), {}, 50, 20ms);
}

TEST(JetStreamShipper, replicaOnJetStreamSurvivesRestartsOfTheServerAndOfTheShipperWithoutGapOrDuplicate) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  TempDir dir;
  auto source = LogStore::open(options_in(dir)).value();
  const std::vector<std::string> ids{"s1", "s2"};
  std::vector<Session> writers;
  for (const auto& id : ids) writers.push_back(Session::open(options(source, id)).value());

  auto replica = jetstream(server.url());
  ASSERT_TRUE(replica);
  auto shipper = ship(source, replica);
  for (auto& w : writers) append_messages(w, 0, 200);
  ASSERT_TRUE(shipper->wait_caught_up(60s).ok());

  // The server goes away: the primary keeps its microseconds; the shipper retries.
  server.stop();
  for (auto& w : writers) append_messages(w, 200, 100);
  ASSERT_TRUE(eventually([&] { return shipper->stats().failures > 0; }));
  server.start();
  Status caught = shipper->wait_caught_up(120s);
  ASSERT_TRUE(caught.ok()) << caught.error();

  // The shipper process restarts (a new store connection): it continues at JetStream's latest.
  shipper.reset();
  replica.reset();
  for (auto& w : writers) append_messages(w, 300, 100);
  replica = jetstream(server.url());
  ASSERT_TRUE(replica);
  shipper = ship(source, replica);
  ASSERT_TRUE(shipper->wait_caught_up(60s).ok());
  for (const auto& l : shipper->stats().sessions) {
    EXPECT_EQ(l.lag, 0u) << l.session_id;
    EXPECT_EQ(l.shipped, 400u) << l.session_id;
  }
  shipper.reset();

  // Another host reads JetStream: exactly the primary's events.
  auto host_b = jetstream(server.url());
  ASSERT_TRUE(host_b);
  for (const auto& id : ids) {
    SCOPED_TRACE(id);
    auto want = all_of(*source, id);
    ASSERT_EQ(want.size(), 400u);
    auto got = all_of(*host_b, id);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_EQ(got, want);
  }
  for (auto& w : writers) ASSERT_TRUE(w.stop().ok());
}

}  // namespace
}  // namespace sessionring::test
