// Subscriptions (engine/subscriber.cpp, subscription.cpp, push_subscription.cpp), mostly single
// threaded: INV-3 for every filter and every from_sequence, through every path (backfill, ring,
// lapped fallback, oversize marker), the observers, unsubscribe, throwing handlers, push
// subscriptions, and the reference runtime's defects of DESIGN §7 (deep backlog, bursts).
#include "oracle.hpp"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>
#include <thread>

using namespace sessionring;
using namespace sessionring::test;

namespace {

// Event i of fill(): type cycles over the 28 types, run "r<i % 4>", data "d<i>".
EventType type_of(Sequence i) { return all_event_types()[i % kEventTypeCount]; }
std::string run_of(Sequence i) { return "r" + std::to_string(i % 4); }

/// Appends events first..last (fire-and-forget, then waits for the last to be published).
void fill(Session& s, Sequence first, Sequence last, std::size_t big_every = 0, std::size_t big_bytes = 0) {
  auto p = s.producer();
  ASSERT_TRUE(p.ok());
  for (Sequence i = first; i <= last; ++i) {
    std::string data = "d" + std::to_string(i);
    if (big_every != 0 && i % big_every == 0) data += std::string(big_bytes, 'B');
    const std::string run = run_of(i);  // EventInput holds views: keep the bytes alive
    EventInput e = ev(type_of(i), run, data);
    if (i == last) {
      auto r = p->append_wait(e);
      ASSERT_TRUE(r.ok()) << r.error();
      ASSERT_EQ(r->sequence, last);
    } else {
      ASSERT_TRUE(p->append(e).ok());
    }
  }
}

Session open_session(SessionOptions o = options()) {
  auto s = Session::open(std::move(o));
  EXPECT_TRUE(s.ok()) << s.error();
  return std::move(*s);
}

Subscription subscribe(Session& s, Sequence from = 0, EventFilter filter = {}) {
  SubscribeOptions o;
  o.from_sequence = from;
  o.filter = std::move(filter);
  auto sub = s.subscribe(std::move(o));
  EXPECT_TRUE(sub.ok()) << sub.error();
  return std::move(*sub);
}

/// Polls until the subscription's cursor is past `last` (it has scanned everything up to it).
/// Waits (poll_wait) only when a poll made no progress: a poll_wait that scans past `last`
/// without delivering anything (filtered out) would wait for a later event until its deadline.
std::vector<Event> collect_through(Subscription& sub, Sequence last) {
  std::vector<Event> out;
  auto keep = [&](const EventView& v) { out.push_back(v.to_event()); };
  const auto deadline = std::chrono::steady_clock::now() + patience();
  while (sub.cursor() <= last && std::chrono::steady_clock::now() < deadline) {
    const Sequence before = sub.cursor();
    auto r = sub.poll(keep);
    if (r.ok() && sub.cursor() == before) r = sub.poll_wait(keep, std::chrono::steady_clock::now() + 5ms);
    EXPECT_TRUE(r.ok()) << r.error();
    if (!r.ok()) break;
  }
  EXPECT_GT(sub.cursor(), last) << "did not get through sequence " << last;
  return out;
}

/// INV-3: what the subscription delivered equals the stored events >= from matching filter,
/// field by field.
void expect_exactly_stored(const Session& s, const std::vector<Event>& got, Sequence from, Sequence last,
                           const EventFilter& filter = {}) {
  EXPECT_EQ(sequences(got), stored_sequences(s.log(), from, last, filter));
  std::map<Sequence, Event> by_seq;
  EventQuery q;
  q.after = from == 0 ? 0 : from - 1;
  q.before = last + 1;
  auto all = s.log().read(q);
  ASSERT_TRUE(all.ok());
  for (auto& e : *all) by_seq.emplace(e.sequence_number, std::move(e));
  for (const Event& e : got) {
    auto it = by_seq.find(e.sequence_number);
    ASSERT_NE(it, by_seq.end());
    ASSERT_EQ(e, it->second) << "delivered content differs from the store at " << e.sequence_number;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// from_sequence

TEST(Subscription, fromZeroAndFromOneBothStartAtTheFirstEvent) {
  Session s = open_session();
  fill(s, 1, 50);
  for (Sequence from : {Sequence{0}, Sequence{1}}) {
    Subscription sub = subscribe(s, from);
    auto got = collect_through(sub, 50);
    expect_exactly_stored(s, got, 1, 50);
    ASSERT_EQ(got.size(), 50u);
  }
}

TEST(Subscription, fromLatestGetsTheLatestThenWhatFollows) {
  Session s = open_session();
  fill(s, 1, 50);
  Subscription sub = subscribe(s, 50);
  auto got = collect_through(sub, 50);
  EXPECT_EQ(sequences(got), std::vector<Sequence>{50});
  fill(s, 51, 53);
  auto more = collect_through(sub, 53);
  EXPECT_EQ(sequences(more), (std::vector<Sequence>{51, 52, 53}));
}

TEST(Subscription, fromLatestPlusOneGetsOnlyFutureEvents) {
  Session s = open_session();
  fill(s, 1, 50);
  Subscription sub = subscribe(s, 51);
  auto none = sub.poll([](const EventView&) { ADD_FAILURE() << "delivered a past event"; });
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0u);
  fill(s, 51, 60);
  auto got = collect_through(sub, 60);
  expect_exactly_stored(s, got, 51, 60);
  EXPECT_EQ(got.size(), 10u);
}

TEST(Subscription, fromFarBeyondTheLatestGetsEventsOnceTheyArrive) {
  // Ring of 16: the future subscriber's sequence arrives in the middle of a burst far larger
  // than the ring, so it is reached through the lapped fallback as well as the ring.
  for (Sequence gap : {Sequence{5}, Sequence{1000}, Sequence{scaled(100'000, 100'000, 10'000)}}) {
    Session s = open_session();
    fill(s, 1, 20);
    const Sequence from = 20 + gap;
    Subscription sub = subscribe(s, from);
    auto early = sub.poll([](const EventView&) { ADD_FAILURE() << "delivered before from_sequence"; });
    ASSERT_TRUE(early.ok());
    fill(s, 21, from + 200);
    auto got = collect_through(sub, from + 200);
    expect_exactly_stored(s, got, from, from + 200);
    ASSERT_EQ(got.size(), 201u);
    EXPECT_EQ(got.front().sequence_number, from);
  }
}

TEST(Subscription, fromBeyondTheLargestCursorIsAValidationError) {
  Session s = open_session();
  SubscribeOptions o;
  o.from_sequence = kMaxSequence + 1;
  EXPECT_EQ(s.subscribe(o).code(), Errc::validation_error);
  o.from_sequence = kMaxSequence;
  EXPECT_TRUE(s.subscribe(o).ok());
}

TEST(Subscription, resumesFromCursorWithoutGapOrDuplicate) {
  Session s = open_session();
  fill(s, 1, 300);
  std::vector<Event> got;
  Sequence from = 0;
  EventFilter f;
  f.run_id("r1").run_id("r3");
  // Disconnect after every few events; resume from the cursor (the next sequence to consider).
  while (from <= 300) {
    Subscription sub = subscribe(s, from, f);
    auto r = sub.poll([&](const EventView& v) { got.push_back(v.to_event()); }, 7);
    ASSERT_TRUE(r.ok());
    from = sub.cursor();
    ASSERT_TRUE(sub.unsubscribe().ok());
    if (*r == 0) break;
  }
  EXPECT_GT(from, 300u);
  expect_exactly_stored(s, got, 1, 300, f);
}

// ---------------------------------------------------------------------------------------------
// filters, through the store (backfill) and through the ring (live)

namespace {

std::vector<std::pair<std::string, EventFilter>> all_filters() {
  return {
      {"none", EventFilter()},
      {"one run", EventFilter().run_id("r2")},
      {"run set", EventFilter().run_id("r0").run_id("r3")},
      {"one type", EventFilter().type(EventType::message_streamed)},
      {"type set",
       EventFilter().types({EventType::run_started, EventType::tool_call_failed, EventType::session_created})},
      {"run and type", EventFilter().run_id("r1").types({EventType::run_failed, EventType::message_sent,
                                                         EventType::tool_approval_denied})},
      {"matches nothing", EventFilter().run_id("no-such-run")},
  };
}

}  // namespace

TEST(Subscription, everyFilterDeliversExactlyTheMatchingStoredEventsFromBackfill) {
  Session s = open_session();
  fill(s, 1, 400);
  for (const auto& [name, filter] : all_filters()) {
    SCOPED_TRACE(name);
    for (Sequence from : {Sequence{0}, Sequence{137}}) {
      Subscription sub = subscribe(s, from, filter);
      EXPECT_EQ(sub.state(), SubscriptionState::backfilling);
      auto got = collect_through(sub, 400);
      expect_exactly_stored(s, got, std::max<Sequence>(from, 1), 400, filter);
    }
  }
}

TEST(Subscription, everyFilterDeliversExactlyTheMatchingStoredEventsLive) {
  for (const auto& [name, filter] : all_filters()) {
    SCOPED_TRACE(name);
    Session s = open_session();
    Subscription sub = subscribe(s, 0, filter);
    EXPECT_EQ(sub.state(), SubscriptionState::live);
    std::vector<Event> got;
    // Small steps so the ring (capacity 16) carries them, polled between steps.
    for (Sequence at = 1; at <= 400; at += 8) {
      fill(s, at, at + 7);
      auto more = collect_through(sub, at + 7);
      got.insert(got.end(), more.begin(), more.end());
    }
    expect_exactly_stored(s, got, 1, 400, filter);
    EXPECT_EQ(sub.lapped_count(), 0u) << "meant to exercise the ring path";
  }
}

TEST(Subscription, everyEventTypeRoundTripsThroughAppendAndSubscribe) {
  Session s = open_session();
  Subscription live = subscribe(s);
  auto p = s.producer();
  ASSERT_TRUE(p.ok());
  for (EventType t : all_event_types())
    ASSERT_TRUE(p->append_wait(ev(t, "r", std::string(to_string(t)))).ok());
  auto got = collect_through(live, kEventTypeCount);
  ASSERT_EQ(got.size(), kEventTypeCount);
  for (std::size_t i = 0; i < kEventTypeCount; ++i) {
    EXPECT_EQ(got[i].type, all_event_types()[i]);
    EXPECT_EQ(got[i].data, to_string(all_event_types()[i]));
  }
  // And each type alone, by a type filter, from the store.
  for (EventType t : all_event_types()) {
    Subscription one = subscribe(s, 0, EventFilter().type(t));
    auto only = collect_through(one, kEventTypeCount);
    ASSERT_EQ(only.size(), 1u) << to_string(t);
    EXPECT_EQ(only[0].type, t);
  }
}

// ---------------------------------------------------------------------------------------------
// events larger than a ring slot (the in-store marker)

TEST(Subscription, eventLargerThanASlotArrivesIntactAmongSmallOnes) {
  Session s = open_session(options(MemoryStore::create(), "s1", 16, 256));
  Subscription live = subscribe(s);
  Subscription filtered = subscribe(s, 0, EventFilter().run_id("r0"));  // i % 4 == 0: includes the big ones
  Subscription other = subscribe(s, 0, EventFilter().run_id("r1"));     // never a big one
  std::vector<Event> got, got_filtered, got_other;
  for (Sequence at = 1; at <= 200; at += 5) {
    fill(s, at, at + 4, /*big_every=*/4, /*big_bytes=*/3000);
    for (auto [sub, out] :
         {std::pair{&live, &got}, std::pair{&filtered, &got_filtered}, std::pair{&other, &got_other}}) {
      auto more = collect_through(*sub, at + 4);
      out->insert(out->end(), more.begin(), more.end());
    }
  }
  expect_exactly_stored(s, got, 1, 200);
  expect_exactly_stored(s, got_filtered, 1, 200, EventFilter().run_id("r0"));
  expect_exactly_stored(s, got_other, 1, 200, EventFilter().run_id("r1"));
  EXPECT_EQ(s.stats().oversize_events, 50u);
  for (const Event& e : got)
    if (e.sequence_number % 4 == 0) {
      EXPECT_EQ(e.data.size(), ("d" + std::to_string(e.sequence_number)).size() + 3000);
    }
  EXPECT_EQ(live.lapped_count(), 0u) << "the big events were meant to come through the ring marker";
}

TEST(Subscription, everyEventThroughTheStoreWhenNoneFitsASlot) {
  // Slots of 64 bytes hold 48 payload bytes: no record with a 32-digit id fits.
  Session s = open_session(options(MemoryStore::create(), "s1", 8, 64));
  Subscription live = subscribe(s);
  std::vector<Event> got;
  for (Sequence at = 1; at <= 100; at += 4) {
    fill(s, at, at + 3);
    auto more = collect_through(live, at + 3);
    got.insert(got.end(), more.begin(), more.end());
  }
  expect_exactly_stored(s, got, 1, 100);
  EXPECT_EQ(s.stats().oversize_events, 100u);
}

TEST(Subscription, hugeEventSpillsTheIngestRecordAndArrivesIntact) {
  Session s = open_session();
  Subscription live = subscribe(s);
  auto p = s.producer();
  ASSERT_TRUE(p.ok());
  std::string huge(1u << 20, 'h');
  for (std::size_t i = 0; i < huge.size(); i += 4099) huge[i] = static_cast<char>('a' + i % 26);
  const std::string metadata(70000, 'm');      // EventInput holds views: the bytes must outlive it
  const std::string correlation(65535, 'c');
  EventInput e = ev(EventType::workspace_snapshot_taken, "r", huge);
  e.metadata = metadata;
  e.correlation_id = correlation;
  ASSERT_TRUE(p->append(ev(EventType::run_started, "r", "small")).ok());
  ASSERT_TRUE(p->append(e).ok());
  ASSERT_TRUE(p->append_wait(ev(EventType::run_completed, "r", "small")).ok());
  auto got = collect_through(live, 3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].data, huge);
  EXPECT_EQ(got[1].metadata, e.metadata);
  EXPECT_EQ(got[1].correlation_id, e.correlation_id);
  expect_exactly_stored(s, got, 1, 3);
}

// ---------------------------------------------------------------------------------------------
// observers

TEST(Subscription, caughtUpFiresExactlyOnceAtTheHead) {
  Session s = open_session();
  fill(s, 1, 100);
  std::vector<std::pair<Sequence, std::size_t>> calls;  // (head, events delivered before the call)
  std::size_t delivered = 0;
  SubscribeOptions o;
  o.on_caught_up = [&](Sequence head) { calls.emplace_back(head, delivered); };
  auto sub = s.subscribe(o);
  ASSERT_TRUE(sub.ok());
  EXPECT_FALSE(sub->caught_up());
  while (sub->cursor() <= 100)
    ASSERT_TRUE(sub->poll([&](const EventView&) { ++delivered; }, 30).ok());  // several polls
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].first, 100u);
  EXPECT_EQ(calls[0].second, 100u) << "fired before the history was delivered";
  EXPECT_TRUE(sub->caught_up());
  fill(s, 101, 150);  // more than the ring: lapped, backfilled, live again
  while (sub->cursor() <= 150) ASSERT_TRUE(sub->poll([&](const EventView&) { ++delivered; }).ok());
  EXPECT_EQ(calls.size(), 1u) << "fired again";
  EXPECT_EQ(delivered, 150u);
}

TEST(Subscription, reportsStateLagLeadAndLappedCount) {
  Session s = open_session();  // ring of 16
  fill(s, 1, 100);
  Subscription sub = subscribe(s, 1);
  EXPECT_EQ(sub.state(), SubscriptionState::backfilling);
  EXPECT_EQ(sub.cursor(), 1u);
  EXPECT_EQ(sub.lag(), 100u);
  EXPECT_EQ(sub.lead(), 0u);
  EXPECT_EQ(sub.lapped_count(), 0u);

  ASSERT_EQ(*sub.poll([](const EventView&) {}, 10), 10u);
  EXPECT_EQ(sub.state(), SubscriptionState::backfilling);
  EXPECT_EQ(sub.cursor(), 11u);
  EXPECT_EQ(sub.lag(), 90u);

  ASSERT_EQ(*sub.poll([](const EventView&) {}), 90u);
  EXPECT_EQ(sub.state(), SubscriptionState::live);
  EXPECT_EQ(sub.lag(), 0u);
  EXPECT_EQ(sub.lead(), 16u);
  EXPECT_TRUE(sub.caught_up());
  const auto reads_after_backfill = sub.stats().store_reads;
  EXPECT_GT(reads_after_backfill, 0u);

  // Live, inside the ring: delivered from the ring, no store read, lead shrinks with lag.
  fill(s, 101, 105);
  EXPECT_EQ(sub.lag(), 5u);
  EXPECT_EQ(sub.lead(), 11u);
  ASSERT_EQ(*sub.poll([](const EventView&) {}), 5u);
  EXPECT_EQ(sub.stats().store_reads, reads_after_backfill);
  EXPECT_EQ(sub.lapped_count(), 0u);

  // Stalled while the ring wraps: lapped once, reads the store, live again.
  fill(s, 106, 205);
  EXPECT_EQ(sub.lag(), 100u);
  EXPECT_EQ(sub.lead(), 0u) << "lag beyond the ring leaves no lead";
  std::vector<SubscriptionState> states;
  ASSERT_EQ(*sub.poll([&](const EventView&) { states.push_back(sub.state()); }), 100u);
  EXPECT_EQ(sub.lapped_count(), 1u);
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.front(), SubscriptionState::fell_behind);
  EXPECT_EQ(sub.state(), SubscriptionState::live);
  EXPECT_EQ(sub.lag(), 0u);

  const SubscriptionStats st = sub.stats();
  EXPECT_EQ(st.cursor, 206u);
  EXPECT_EQ(st.delivered, 205u);
  EXPECT_EQ(st.lapped_count, 1u);
  EXPECT_EQ(st.state, SubscriptionState::live);
  EXPECT_FALSE(st.reading_store);
  const SessionStats ss = s.stats();
  ASSERT_EQ(ss.subscribers.size(), 1u);
  EXPECT_EQ(ss.subscribers[0].id, st.id);
  EXPECT_EQ(ss.subscribers[0].delivered, 205u);
}

TEST(Subscription, maxEventsBoundsOnePoll) {
  Session s = open_session();
  fill(s, 1, 40);
  Subscription sub = subscribe(s);
  std::vector<Sequence> got;
  for (int i = 0; i < 13; ++i) {
    auto r = sub.poll([&](const EventView& v) { got.push_back(v.sequence_number); }, 3);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 3u);
  }
  auto last = sub.poll([&](const EventView& v) { got.push_back(v.sequence_number); }, 3);
  EXPECT_EQ(*last, 1u);
  EXPECT_EQ(got, stored_sequences(s.log(), 1, 40));
}

TEST(Subscription, pollWaitReturnsZeroAtTheDeadlineWhenNothingArrives) {
  Session s = open_session();
  fill(s, 1, 3);
  Subscription sub = subscribe(s);
  ASSERT_EQ(*sub.poll([](const EventView&) {}), 3u);
  const auto deadline = std::chrono::steady_clock::now() + 30ms;
  auto r = sub.poll_wait([](const EventView&) { ADD_FAILURE(); }, deadline);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
}

TEST(Subscription, pollWaitWakesForAnEventAppendedByAnotherThread) {
  for (WaitStrategy wait : {WaitStrategy::block, WaitStrategy::yield, WaitStrategy::spin}) {
    SessionOptions o = options();
    o.wait = wait;
    Session s = open_session(o);
    Subscription sub = subscribe(s);
    Watchdog dog("poll_wait wake-up");
    const Sequence rounds = wait == WaitStrategy::block ? 50 : 10;  // spinners share 2 cores
    for (Sequence i = 1; i <= rounds; ++i) {
      std::thread t([&] { fill(s, i, i); });
      std::vector<Sequence> got;
      while (got.empty())
        ASSERT_TRUE(sub.poll_wait([&](const EventView& v) { got.push_back(v.sequence_number); }, Deadline::max()).ok());
      EXPECT_EQ(got, std::vector<Sequence>{i});
      t.join();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// unsubscribe

TEST(Subscription, unsubscribeTwiceAnswersClosed) {
  Session s = open_session();
  Subscription sub = subscribe(s);
  EXPECT_TRUE(sub.unsubscribe().ok());
  EXPECT_EQ(sub.unsubscribe().code(), Errc::closed);
  EXPECT_EQ(sub.state(), SubscriptionState::closed);
  EXPECT_TRUE(s.stats().subscribers.empty());
}

TEST(Subscription, pollAfterUnsubscribeAnswersClosed) {
  Session s = open_session();
  fill(s, 1, 5);
  Subscription sub = subscribe(s);
  ASSERT_TRUE(sub.unsubscribe().ok());
  EXPECT_EQ(sub.poll([](const EventView&) { ADD_FAILURE(); }).code(), Errc::closed);
  EXPECT_EQ(sub.poll_wait([](const EventView&) { ADD_FAILURE(); }, Deadline::max()).code(), Errc::closed);
}

TEST(Subscription, movedFromSubscriptionAnswersClosed) {
  Session s = open_session();
  Subscription a = subscribe(s);
  Subscription b = std::move(a);
  EXPECT_EQ(a.poll([](const EventView&) {}).code(), Errc::closed);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(a.unsubscribe().code(), Errc::closed);
  EXPECT_EQ(a.state(), SubscriptionState::closed);
  EXPECT_TRUE(b.poll([](const EventView&) {}).ok());
  // Move-assigning over a live subscription unsubscribes it.
  Subscription c = subscribe(s);
  EXPECT_EQ(s.stats().subscribers.size(), 2u);
  c = std::move(b);
  EXPECT_EQ(s.stats().subscribers.size(), 1u);
}

TEST(Subscription, unsubscribeFromAnotherThreadEndsAPollWait) {
  Session s = open_session();
  Subscription sub = subscribe(s);
  Watchdog dog("unsubscribe wakes poll_wait");
  auto polling = std::async(std::launch::async, [&] {
    return sub.poll_wait([](const EventView&) { ADD_FAILURE(); }, Deadline::max());
  });
  std::this_thread::sleep_for(10ms);  // usually lets it park; the outcome is checked either way
  ASSERT_TRUE(sub.unsubscribe().ok());
  auto r = polling.get();  // the Watchdog fails the test if the parked poll_wait is never woken
  // Woken while parked: it returns having delivered nothing. If the unsubscribe came before the
  // poll_wait started (a loaded machine), that poll_wait is on a closed handle: Errc::closed.
  if (r.ok()) EXPECT_EQ(*r, 0u);
  else EXPECT_EQ(r.code(), Errc::closed) << r.error();
  EXPECT_EQ(sub.poll([](const EventView&) {}).code(), Errc::closed);
}

// ---------------------------------------------------------------------------------------------
// a throwing handler gets the same event again

namespace {

void expect_retry_after_throw(Session& s, Subscription& sub, Sequence throw_at, Sequence last) {
  std::vector<Sequence> got;
  bool thrown = false;
  auto handler = [&](const EventView& v) {
    if (v.sequence_number == throw_at && !thrown) {
      thrown = true;
      throw std::runtime_error("handler failed");
    }
    got.push_back(v.sequence_number);
  };
  EXPECT_THROW((void)sub.poll(handler), std::runtime_error);
  EXPECT_TRUE(thrown);
  EXPECT_EQ(sub.cursor(), throw_at) << "the cursor moved past the event whose handler threw";
  while (sub.cursor() <= last) ASSERT_TRUE(sub.poll(handler).ok());
  EXPECT_EQ(got, stored_sequences(s.log(), 1, last));
}

}  // namespace

TEST(Subscription, throwingHandlerGetsTheSameEventOnTheNextPollFromTheRing) {
  Session s = open_session();
  Subscription sub = subscribe(s);
  fill(s, 1, 10);
  expect_retry_after_throw(s, sub, 4, 10);
  EXPECT_EQ(sub.lapped_count(), 0u);
}

TEST(Subscription, throwingHandlerGetsTheSameEventOnTheNextPollFromTheStore) {
  Session s = open_session();
  fill(s, 1, 300);
  Subscription sub = subscribe(s);
  expect_retry_after_throw(s, sub, 123, 300);
}

TEST(Subscription, throwingHandlerGetsTheSameOversizeEventOnTheNextPoll) {
  Session s = open_session();
  Subscription sub = subscribe(s);
  fill(s, 1, 8, /*big_every=*/3, /*big_bytes=*/1000);
  expect_retry_after_throw(s, sub, 6, 8);
}

// ---------------------------------------------------------------------------------------------
// a failing store read is reported, never skipped

TEST(Subscription, storeReadFailureIsReportedAndTheEventIsNotSkipped) {
  // Every path that reads the store: the in-store marker of an oversize event met in the ring,
  // and backfill. The poll answers the store's error with the cursor on the event; the next
  // poll (store healthy again) delivers it.
  auto store = std::make_shared<ControlledStore>();
  Session s = open_session(options(store));
  auto check = [&](Subscription& sub, Sequence last, std::size_t delivered_before_failure) {
    std::vector<Sequence> got;
    auto keep = [&](const EventView& v) { got.push_back(v.sequence_number); };
    store->control().fail_reads = 1;
    auto r = sub.poll(keep);
    ASSERT_FALSE(r.ok()) << "a failed store read was not reported";
    EXPECT_EQ(r.code(), Errc::storage_error);
    EXPECT_EQ(got.size(), delivered_before_failure);
    EXPECT_EQ(sub.cursor(), delivered_before_failure + 1) << "the cursor moved past the event it could not read";
    while (sub.cursor() <= last) ASSERT_TRUE(sub.poll(keep).ok());
    EXPECT_EQ(got, stored_sequences(s.log(), 1, last));
  };
  Subscription live = subscribe(s);
  fill(s, 1, 6, /*big_every=*/3, /*big_bytes=*/1000);  // 3 and 6 do not fit a slot
  check(live, 6, 2);                                    // 1, 2 from the ring; 3 needs the store
  EXPECT_EQ(live.lapped_count(), 0u);
  fill(s, 7, 40);
  Subscription backfill = subscribe(s);
  EXPECT_EQ(backfill.state(), SubscriptionState::backfilling);
  check(backfill, 40, 0);
}

// ---------------------------------------------------------------------------------------------
// DESIGN §7: deep backlogs and bursts

TEST(Subscription, subscriberMoreThan1000BehindGetsEveryEvent) {
  Session s = open_session();
  fill(s, 1, 1500);
  Subscription sub = subscribe(s);
  auto got = collect_through(sub, 1500);
  expect_exactly_stored(s, got, 1, 1500);
  ASSERT_EQ(got.size(), 1500u);
}

TEST(Subscription, subscriberMoreThan100000BehindGetsEveryEvent) {
  // Both ways to be that far behind: subscribing to the history, and stalling while live.
  Session s = open_session();
  Subscription stalled = subscribe(s);
  EXPECT_EQ(stalled.state(), SubscriptionState::live);
  const Sequence n = 100'001;
  fill(s, 1, n);
  Subscription late = subscribe(s);
  for (Subscription* sub : {&stalled, &late}) {
    Sequence expect = 1;
    std::size_t mismatches = 0;
    const auto deadline = std::chrono::steady_clock::now() + patience();
    while (sub->cursor() <= n && std::chrono::steady_clock::now() < deadline)
      ASSERT_TRUE(sub->poll_wait([&](const EventView& v) { mismatches += v.sequence_number != expect++; },
                                 std::chrono::steady_clock::now() + 100ms)
                      .ok());
    EXPECT_EQ(expect, n + 1);
    EXPECT_EQ(mismatches, 0u);
  }
  EXPECT_EQ(stalled.lapped_count(), 1u);
}

TEST(Subscription, burstLargerThanEveryInternalBatchIsDeliveredWithoutAnotherAppend) {
  // Larger than max_batch (1024, also 64 here), the store chunk (4096) and the ring (16). The
  // reference runtime re-read 500 events per tick, so the tail of a burst waited for the next
  // event; here nothing is appended after the burst.
  for (std::uint32_t max_batch : {64u, 1024u}) {
    SessionOptions o = options();
    o.max_batch = max_batch;
    Session s = open_session(o);
    Subscription live = subscribe(s);
    const Sequence n = 10'000;
    std::thread producer([&] { fill(s, 1, n); });
    std::vector<Event> got = drain(live, n);  // poll_wait only; no append after the burst
    producer.join();
    ASSERT_EQ(got.size(), n);
    expect_exactly_stored(s, got, 1, n);
    // A subscriber arriving after the burst gets all of it in one non-blocking poll.
    Subscription late = subscribe(s);
    std::size_t count = 0;
    auto r = late.poll([&](const EventView&) { ++count; });
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, n);
    EXPECT_EQ(count, n);
  }
}

TEST(Subscription, reopenedSessionBackfillsStoredHistoryThenFollowsTheRing) {
  auto store = MemoryStore::create();
  {
    Session first = open_session(options(store));
    fill(first, 1, 100);
  }
  Session s = open_session(options(store));
  for (Sequence from : {Sequence{0}, Sequence{95}, Sequence{100}, Sequence{101}}) {
    Subscription sub = subscribe(s, from);
    if (from <= 100) {
      EXPECT_EQ(sub.state(), SubscriptionState::backfilling) << from;
    }
  }
  Subscription sub = subscribe(s, 95);
  fill(s, 101, 110);
  auto got = collect_through(sub, 110);
  expect_exactly_stored(s, got, 95, 110);
  ASSERT_EQ(got.size(), 16u);
}

// ---------------------------------------------------------------------------------------------
// push subscriptions

namespace {

struct Received {
  std::mutex m;
  std::vector<Sequence> seqs;
  void add(Sequence s) {
    std::lock_guard lock(m);
    seqs.push_back(s);
  }
  std::vector<Sequence> get() {
    std::lock_guard lock(m);
    return seqs;
  }
};

}  // namespace

TEST(PushSubscription, deliversEverythingAndStopsOnUnsubscribe) {
  Session s = open_session();
  fill(s, 1, 100);
  auto rec = std::make_shared<Received>();
  SubscribeOptions o;
  o.filter.run_id("r1").run_id("r2");
  auto push = s.subscribe_push(o, [rec](const EventView& v) { rec->add(v.sequence_number); });
  ASSERT_TRUE(push.ok()) << push.error();
  fill(s, 101, 1000);
  const auto want = stored_sequences(s.log(), 1, 1000, o.filter);
  ASSERT_TRUE(eventually([&] { return rec->get().size() >= want.size(); }));
  EXPECT_EQ(rec->get(), want);
  EXPECT_EQ(push->delivered(), want.size());
  EXPECT_FALSE(push->finished());
  ASSERT_TRUE(push->unsubscribe().ok());
  EXPECT_TRUE(push->finished());
  EXPECT_EQ(push->state(), SubscriptionState::closed);
  EXPECT_EQ(push->unsubscribe().code(), Errc::closed);
  fill(s, 1001, 1100);
  std::this_thread::sleep_for(5ms);
  EXPECT_EQ(rec->get().size(), want.size()) << "handler called after unsubscribe returned";
  EXPECT_TRUE(push->last_error().empty());
}

TEST(PushSubscription, throwingHandlerStopsTheThreadWithTheCursorOnThatEvent) {
  Session s = open_session();
  fill(s, 1, 20);
  auto rec = std::make_shared<Received>();
  auto push = s.subscribe_push({}, [rec](const EventView& v) {
    if (v.sequence_number == 7) throw std::runtime_error("boom at 7");
    rec->add(v.sequence_number);
  });
  ASSERT_TRUE(push.ok());
  ASSERT_TRUE(eventually([&] { return push->finished(); }));
  EXPECT_EQ(push->last_error(), "boom at 7");
  EXPECT_EQ(push->cursor(), 7u);
  EXPECT_EQ(push->delivered(), 6u);
  EXPECT_EQ(rec->get(), stored_sequences(s.log(), 1, 6));
  // Resuming from its cursor delivers the event again.
  Subscription resume = subscribe(s, push->cursor());
  auto got = collect_through(resume, 20);
  expect_exactly_stored(s, got, 7, 20);
}

TEST(PushSubscription, endsClosedWhenTheSessionStopsAfterDeliveringEverything) {
  Session s = open_session();
  auto rec = std::make_shared<Received>();
  auto push = s.subscribe_push({}, [rec](const EventView& v) { rec->add(v.sequence_number); });
  ASSERT_TRUE(push.ok());
  fill(s, 1, 500);
  ASSERT_TRUE(s.stop().ok());
  ASSERT_TRUE(eventually([&] { return push->finished(); }));
  EXPECT_EQ(push->state(), SubscriptionState::closed);
  EXPECT_EQ(rec->get(), stored_sequences(s.log(), 1, 500));
}

TEST(PushSubscription, storeReadFailureEndsItWithTheErrorKept) {
  auto store = std::make_shared<ControlledStore>();
  Session s = open_session(options(store));
  fill(s, 1, 40);  // more than the ring: the push subscription starts by reading the store
  store->control().fail_reads = 1;
  auto rec = std::make_shared<Received>();
  auto push = s.subscribe_push({}, [rec](const EventView& v) { rec->add(v.sequence_number); });
  ASSERT_TRUE(push.ok());
  ASSERT_TRUE(eventually([&] { return push->finished(); }));
  EXPECT_NE(push->last_error().find("storage_error"), std::string::npos) << push->last_error();
  EXPECT_EQ(push->cursor(), 1u);
  EXPECT_TRUE(rec->get().empty());
}

TEST(PushSubscription, needsAHandler) {
  Session s = open_session();
  EXPECT_EQ(s.subscribe_push({}, nullptr).code(), Errc::validation_error);
}

TEST(PushSubscription, unsubscribeWhileDeliveringLeavesItClosed) {
  // The state observed after unsubscribe() returns is `closed`, even when the push thread was
  // in the middle of a ring/store switch at that moment.
  Session s = open_session(options(MemoryStore::create(), "s1", 8, 256));
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    auto p = s.producer();
    ASSERT_TRUE(p.ok());
    while (!stop.load()) {  // bursts larger than the ring (so the subscriber switches paths), bounded rate
      for (int i = 0; i < 40; ++i) ASSERT_TRUE(p->append(ev(EventType::message_streamed, "r", "x")).ok());
      ASSERT_TRUE(p->append_wait(ev(EventType::message_streamed, "r", "x")).ok());
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  const int rounds = static_cast<int>(scaled(50, 1000, 10));
  for (int i = 0; i < rounds; ++i) {
    std::atomic<std::uint64_t> n{0};
    auto push = s.subscribe_push({}, [&n](const EventView&) { n.fetch_add(1); });
    ASSERT_TRUE(push.ok());
    ASSERT_TRUE(eventually([&] { return n.load() > 50; }));
    ASSERT_TRUE(push->unsubscribe().ok());
    EXPECT_EQ(push->state(), SubscriptionState::closed) << "round " << i;
    const auto after = n.load();
    EXPECT_EQ(push->delivered(), after);
  }
  stop = true;
  producer.join();
}
