// SessionRegistry idle close (engine/session_registry.cpp, docs/runtime.md "Idle sessions"): a
// session nobody uses is closed and reopened by the next find()/attach(), its sequence
// continuing (INV-1); a session in use (a handle held, a subscriber, a run, a producer) is never
// closed under its user; closes racing producers and subscribers lose and repeat nothing.
#include "oracle.hpp"
#include "run_test_support.hpp"

#include <atomic>
#include <barrier>
#include <cstdio>
#include <optional>
#include <set>
#include <thread>

using namespace sessionring;
using namespace sessionring::testing;
using sessionring::test::eventually;
using sessionring::test::scaled;

namespace {

std::unique_ptr<SessionRegistry> closing_registry(std::chrono::nanoseconds after) {
  SessionRegistry::Options o;
  o.close_idle_after = after;
  auto r = SessionRegistry::create(o);
  EXPECT_TRUE(r.ok()) << r.error();
  return std::move(*r);
}

EventInput message(const std::string& id) {
  EventInput e;
  e.type = EventType::message_streamed;
  e.id = id;  // an lvalue the caller keeps until the append returns
  e.data = id;
  return e;
}

}  // namespace

TEST(SessionRegistryIdle, unusedSessionIsClosedAndFindReopensItWithItsSequenceContinuing) {
  auto registry = closing_registry(20ms);
  auto store = MemoryStore::create();
  {
    auto server = registry->start(server_options(store, 1, "a"));
    ASSERT_TRUE(server.ok()) << server.error();
    ASSERT_EQ(*(*server)->execute_run(emitting(3), kWatchdog), "done");
  }
  ASSERT_TRUE(eventually([&] { return registry->stats().closes == 1; }));
  const auto closed = registry->stats();
  EXPECT_EQ(closed.hosted, 1u);
  EXPECT_EQ(closed.open, 0u);
  EXPECT_EQ(registry->session_ids(), std::vector<std::string>{"a"});  // still hosted
  // Closed means the store handle is gone: the store lets another writer in now.
  Sequence before = 0;
  {
    auto log = store->open("a", OpenMode::write);
    ASSERT_TRUE(log.ok()) << log.error();
    before = (*log)->latest_sequence();
  }
  ASSERT_GT(before, 0u);

  auto again = registry->find("a");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(registry->stats().reopens, 1u);
  EXPECT_EQ(again->session().latest_sequence(), before);
  ASSERT_EQ(*again->execute_run(emitting(2), kWatchdog), "done");
  auto events = stored_events(*again);
  ASSERT_GT(events.size(), before);
  expect_contiguous(events, 1);
}

TEST(SessionRegistryIdle, sessionWithAHeldHandleASubscriberOrAProducerIsNeverClosed) {
  auto registry = closing_registry(5ms);
  auto server = *registry->start(server_options(MemoryStore::create(), 1, "a"));
  std::this_thread::sleep_for(100ms);  // twenty idle periods
  EXPECT_EQ(registry->stats().closes, 0u) << "closed while the host held its handle";

  std::optional<Subscription> sub(server->subscribe().value());
  std::optional<Producer> producer(server->session().producer().value());
  server.reset();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(registry->stats().closes, 0u) << "closed under a subscriber";
  const std::string after = "after";
  ASSERT_TRUE(producer->append_wait(message(after)).ok());  // its session is alive

  sub.reset();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(registry->stats().closes, 0u) << "closed under a held producer";

  producer.reset();
  ASSERT_TRUE(eventually([&] { return registry->stats().closes == 1; }));
}

TEST(SessionRegistryIdle, closedSessionIsStillHostedStartIsAWriterConflictAndStopForgetsIt) {
  auto registry = closing_registry(5ms);
  auto store = MemoryStore::create();
  ASSERT_TRUE(registry->start(server_options(store, 1, "a")).ok());
  ASSERT_TRUE(eventually([&] { return registry->stats().closes == 1; }));
  EXPECT_EQ(registry->start(attach_options(store, "a")).code(), Errc::writer_conflict);
  ASSERT_TRUE(registry->stop("a").ok());
  EXPECT_EQ(registry->attach("a").code(), Errc::not_found);
  EXPECT_EQ(registry->stats().hosted, 0u);
  EXPECT_EQ(registry->stop("a").code(), Errc::not_found);
  auto again = registry->start(attach_options(store, "a"));  // a new host of the stored session
  ASSERT_TRUE(again.ok()) << again.error();
}

TEST(SessionRegistryIdle, reopenThatTheStoreRefusesIsReportedAndTheSessionStaysClosed) {
  auto registry = closing_registry(5ms);
  auto store = MemoryStore::create();
  ASSERT_TRUE(registry->start(server_options(store, 1, "a")).ok());
  ASSERT_TRUE(eventually([&] { return registry->stats().closes == 1; }));
  // Another writer takes the session while it is closed: the reopen is its writer_conflict.
  SessionOptions so;
  so.store = store;
  so.session_id = "a";
  auto opened = Session::open(so);
  ASSERT_TRUE(opened.ok()) << opened.error();
  std::optional<Session> other(std::move(*opened));
  auto refused = registry->attach("a");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Errc::writer_conflict);
  EXPECT_EQ(registry->find("a"), nullptr);
  EXPECT_EQ(registry->stats().reopen_failures, 2u);
  ASSERT_TRUE(other->stop().ok());
  other.reset();
  EXPECT_NE(registry->find("a"), nullptr);  // the writer left: the reopen goes through
}

// Closes race appends and subscribers many times (close after 2 ms unused): producers take the
// session with find(), append, let go and pause (0.3 ms, and every 8th round all of them 15 ms
// together, so the session is certainly closed then); a subscriber resumes from its last
// sequence each time it comes back. Afterwards the store holds every appended id exactly once,
// contiguously, and the subscriber saw every sequence exactly once, in order.
TEST(SessionRegistryIdle, closesRacingProducersAndResumingSubscribersLoseAndRepeatNothing) {
  auto registry = closing_registry(2ms);
  auto store = MemoryStore::create();
  ASSERT_TRUE(registry->start(server_options(store, 1, "a")).ok());
  const std::size_t rounds = scaled(240, 2'400, 40);
  constexpr int kProducers = 2;
  std::atomic<bool> failed{false};
  std::barrier quiet(kProducers);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (std::size_t r = 0; r < rounds; ++r) {
        if (!failed) {
          auto server = registry->find("a");
          if (!server) failed = true;
          for (int k = 0; k < 3 && server; ++k) {
            const std::string id = std::string("p").append(std::to_string(p)).append("-").append(
                std::to_string(r * 3 + static_cast<std::size_t>(k)));
            if (!server->session().append_wait(message(id)).ok()) failed = true;
          }
        }
        if (r % 8 == 7) {
          quiet.arrive_and_wait();  // every producer let go: a quiet window for the janitor
          std::this_thread::sleep_for(15ms);
        } else {
          std::this_thread::sleep_for(300us);
        }
      }
    });
  }
  std::vector<Sequence> seen;
  std::atomic<bool> producing{true};
  std::thread subscriber([&] {
    while (!failed) {
      const bool last_round = !producing.load();
      {
        auto server = registry->find("a");
        if (!server) {
          failed = true;
          return;
        }
        SubscribeOptions so;
        so.from_sequence = seen.empty() ? 1 : seen.back() + 1;
        auto sub = server->subscribe(so);
        if (!sub) {
          failed = true;
          return;
        }
        const Sequence head = server->session().latest_sequence();
        server.reset();  // the subscription alone keeps the session open
        while (seen.empty() || seen.back() < head) {
          auto r = sub->poll_wait([&](const EventView& v) { seen.push_back(v.sequence_number); },
                                  std::chrono::steady_clock::now() + kWatchdog);
          if (!r.ok()) {
            failed = true;
            return;
          }
        }
      }
      if (last_round) return;
      std::this_thread::sleep_for(6ms);  // gone: the session may close meanwhile
    }
  });
  for (auto& t : producers) t.join();
  producing = false;
  subscriber.join();
  ASSERT_FALSE(failed.load());

  const auto stats = registry->stats();
  std::printf("closes %llu, reopens %llu over %zu rounds\n", static_cast<unsigned long long>(stats.closes),
              static_cast<unsigned long long>(stats.reopens), rounds);
  EXPECT_GT(stats.closes, 0u) << "no close raced the producers: the test did not test closing";
  EXPECT_EQ(stats.reopens, stats.closes - (stats.open == 0 ? 1 : 0));
  auto server = registry->find("a");
  ASSERT_NE(server, nullptr);
  auto events = stored_events(*server);
  expect_contiguous(events, 1);
  std::set<std::string> ids;
  std::size_t messages = 0;
  for (const Event& e : events) {
    if (e.type != EventType::message_streamed) continue;
    ++messages;
    EXPECT_TRUE(ids.insert(e.id).second) << "stored twice: " << e.id;
  }
  EXPECT_EQ(messages, rounds * 3 * kProducers);
  ASSERT_FALSE(seen.empty());
  for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i + 1) << "gap or repeat at " << i;
  EXPECT_EQ(seen.back(), events.back().sequence_number);
}
