// Session (the core engine), single-threaded behaviour. Concurrency: tests/session_stress_test.cpp.
#include <sessionring/sessionring.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

using namespace sessionring;
using namespace std::chrono_literals;

namespace {

SessionOptions options(std::shared_ptr<SessionStore> store = MemoryStore::create(), std::string id = "s1") {
  SessionOptions o;
  o.store = std::move(store);
  o.session_id = std::move(id);
  o.ring_capacity = 16;
  o.ring_slot_bytes = 256;
  return o;
}

EventInput ev(EventType t, std::string_view run, std::string_view data) {
  EventInput e;
  e.type = t;
  e.run_id = run;
  e.data = data;
  return e;
}

std::vector<Event> drain(Subscription& sub, std::size_t expect, std::chrono::milliseconds limit = 5000ms) {
  std::vector<Event> out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (out.size() < expect && std::chrono::steady_clock::now() < deadline) {
    auto r = sub.poll_wait([&](const EventView& v) { out.push_back(v.to_event()); }, deadline);
    EXPECT_TRUE(r.ok());
  }
  return out;
}

}  // namespace

TEST(Session, sequencesStartAtOneAndAreContiguous) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok()) << s.error();
  for (int i = 0; i < 100; ++i) {
    auto r = s->append_wait(ev(EventType::message_streamed, "r1", std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->sequence, static_cast<Sequence>(i + 1));
    EXPECT_FALSE(r->duplicate);
  }
  auto sub = s->subscribe({});
  ASSERT_TRUE(sub.ok());
  auto got = drain(*sub, 100);
  ASSERT_EQ(got.size(), 100u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].sequence_number, i + 1);
    EXPECT_EQ(got[i].data, std::to_string(i));
    EXPECT_EQ(got[i].session_id, "s1");
    EXPECT_EQ(got[i].run_id, "r1");
    EXPECT_EQ(got[i].id.size(), 32u);
  }
}

TEST(Session, duplicateEventIdReturnsFirstSequenceAndStoresNothing) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  EventInput e = ev(EventType::tool_call_started, "r1", "x");
  e.id = "evt-1";
  auto a = s->append_wait(e);
  ASSERT_TRUE(a.ok());
  (void)s->append_wait(ev(EventType::message_sent, "r1", "y"));
  auto b = s->append_wait(e);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->sequence, a->sequence);
  EXPECT_TRUE(b->duplicate);
  EXPECT_EQ(s->log().latest_sequence(), 2u);
  EXPECT_EQ(s->stats().duplicates, 1u);
}
