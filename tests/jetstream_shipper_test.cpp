// Shipper from a local LogStore to a JetStreamStore on a real nats-server (tests/nats_server.hpp;
// docs/store.md "Shipping a store to another"): the primary keeps appending while the server is
// away; the shipper retries, then catches up; a new shipper (a restarted process, its own
// connection) continues at what JetStream holds; another host reading JetStream sees exactly the
// primary's events, same sequences, no gap, no duplicate. And a follower Session on another host
// (SessionOptions::follow) subscribed to a session written through JetStream.
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

// Cross-host subscribers (issue 16 item 2): a Session on host B (its own JetStreamStore
// connection, SessionOptions::follow) subscribed to a session host A writes gets history then
// live events, across a restart of the server, with no gap or duplicate.
TEST(JetStreamFollower, sessionOnAnotherHostGetsHistoryThenLiveAcrossAServerRestart) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  auto host_a = jetstream(server.url());
  ASSERT_TRUE(host_a);
  Session writer = Session::open(options(host_a, "chat")).value();
  append_messages(writer, 0, 50);  // history

  auto host_b = jetstream(server.url());
  ASSERT_TRUE(host_b);
  SessionOptions fo = options(host_b, "chat", /*ring_capacity=*/8, /*slot_bytes=*/128);
  fo.follow = true;
  Session follower = Session::open(fo).value();
  auto sub = follower.subscribe().value();
  std::vector<Event> got;
  auto take = [&](std::size_t until) {
    Watchdog dog("follower on host B", 120s);
    while (got.size() < until) {
      auto r = sub.poll_wait([&](const EventView& v) { got.push_back(v.to_event()); },
                             std::chrono::steady_clock::now() + 100ms);
      ASSERT_TRUE(r.ok()) << r.error();
    }
  };
  take(50);
  append_messages(writer, 50, 50);  // live
  take(100);
  server.stop();  // both hosts lose the server; B's follower retries
  std::this_thread::sleep_for(300ms);
  server.start();
  append_messages(writer, 100, 50);  // A goes on once its client has reconnected
  take(150);
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].sequence_number, i + 1) << "gap or duplicate";
    ASSERT_EQ(got[i].id, std::string("m").append(std::to_string(i)));
  }
  ASSERT_TRUE(follower.stop().ok());
  ASSERT_TRUE(writer.stop().ok());
}

}  // namespace
}  // namespace sessionring::test
