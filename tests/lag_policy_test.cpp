// Slow-subscriber policies (engine/lag_policy.cpp, engine/subscriber.cpp; docs/design.md §7
// "Slow subscribers"): skip_to_live and disconnect_after, pull and push, with a handler stalled
// on a latch while the test appends enough to lap a tiny ring. Every check compares the host's
// stream — events and gap notices in the order it got them — with the store: before each notice
// exactly the stored events in order, the notice covering exactly the missing sequences, after
// it the stored events from last + 1, nothing twice.
#include "oracle.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

using namespace sessionring;
using namespace sessionring::test;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t kRing = 8;

/// One thing the host got: an event (first == last == its sequence) or a gap notice.
struct Item {
  bool gap = false;
  Sequence first = 0;
  Sequence last = 0;
  std::uint64_t print = 0;  ///< fingerprint of the event (0 for a notice)
  GapNotice::Reason reason = GapNotice::Reason::lapped;
};

/// What the host got, in order; written by the delivering thread, read by the test thread.
class Stream {
 public:
  void event(const EventView& v) {
    std::lock_guard lock(m_);
    items_.push_back({false, v.sequence_number, v.sequence_number, fingerprint(v), {}});
  }
  void gap(const GapNotice& n) {
    std::lock_guard lock(m_);
    items_.push_back({true, n.first, n.last, 0, n.reason});
  }
  std::vector<Item> items() const {
    std::lock_guard lock(m_);
    return items_;
  }

 private:
  mutable std::mutex m_;
  std::vector<Item> items_;
};

/// A latch the handler stalls on when it gets the armed sequence.
class Stall {
 public:
  void arm(Sequence seq) {
    std::lock_guard lock(m_);
    target_ = seq;
    entered_ = released_ = false;
  }
  /// In the handler.
  void on(Sequence seq) {
    std::unique_lock lock(m_);
    if (seq != target_) return;
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
  }
  bool wait_entered() {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, patience(), [&] { return entered_; });
  }
  void release() {
    {
      std::lock_guard lock(m_);
      released_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  Sequence target_ = 0;
  bool entered_ = false;
  bool released_ = false;
};

/// Appends `n` events; returns the last one's sequence (published: append_wait).
Sequence append_n(Producer& p, std::size_t n, std::string_view tag = "x") {
  Sequence last = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string data = std::string(tag).append(std::to_string(i));
    const EventInput e = ev(EventType::message_streamed, "r1", data);
    if (i + 1 < n) {
      EXPECT_TRUE(p.append(e).ok());
    } else {
      auto r = p.append_wait(e);
      EXPECT_TRUE(r.ok()) << r.error();
      last = r.ok() ? r->sequence : 0;
    }
  }
  return last;
}

std::map<Sequence, std::uint64_t> stored_prints(const SessionLog& log, Sequence from, Sequence to) {
  std::map<Sequence, std::uint64_t> out;
  EventQuery q;
  q.after = from - 1;
  q.before = to + 1;
  EXPECT_TRUE(log.read(q,
                       [&](const EventView& v) {
                         out[v.sequence_number] = fingerprint(v);
                         return true;
                       })
                  .ok());
  return out;
}

/// The stream covers from..to exactly: every event equals the stored one at the expected
/// sequence, every notice starts where the previous item ended, nothing repeats, nothing is
/// missing. Returns the notices.
std::vector<Item> expect_stream_matches_store(const std::vector<Item>& items, const SessionLog& log, Sequence from,
                                              Sequence to) {
  const auto stored = stored_prints(log, from, to);
  EXPECT_EQ(stored.size(), to - from + 1) << "the store is contiguous (INV-1)";
  std::vector<Item> gaps;
  Sequence next = from;
  for (const Item& it : items) {
    EXPECT_EQ(it.first, next) << (it.gap ? "a notice" : "an event") << " does not continue at " << next;
    if (it.first != next) return gaps;
    if (it.gap) {
      EXPECT_GE(it.last, it.first);
      EXPECT_LE(it.last, to);
      gaps.push_back(it);
    } else {
      auto s = stored.find(it.first);
      EXPECT_TRUE(s != stored.end() && s->second == it.print) << "event " << it.first << " differs from the store";
    }
    next = it.last + 1;
  }
  EXPECT_EQ(next, to + 1) << "the stream stops before the end";
  return gaps;
}

Session open_session(std::uint32_t ring = kRing) {
  auto s = Session::open(options(MemoryStore::create(), "s1", ring));
  EXPECT_TRUE(s.ok()) << s.error();
  return std::move(*s);
}

/// Polls `sub` on its own thread (poll_wait) until stopped; keeps the first error.
class Poller {
 public:
  Poller(Subscription& sub, Stream& stream, Stall& stall)
      : thread_([this, &sub, &stream, &stall] {
          while (!stop_.load()) {
            auto r = sub.poll_wait(
                [&](const EventView& v) {
                  stream.event(v);
                  stall.on(v.sequence_number);
                },
                std::chrono::steady_clock::now() + 5ms);
            if (!r.ok()) {
              std::lock_guard lock(m_);
              errors_.push_back(r.error());
              if (errors_.size() >= 3) return;  // the same answer three times: it stays ended
            }
          }
        }) {}
  ~Poller() { stop(); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  std::vector<Error> errors() {
    std::lock_guard lock(m_);
    return errors_;
  }

 private:
  std::atomic<bool> stop_{false};  // writer: the test thread (stop()); reader: the poll thread; a flag only
  std::mutex m_;
  std::vector<Error> errors_;
  std::thread thread_;
};

/// One round: the handler stalls on a new event T while `during` more are appended; returns
/// {T, the last appended}. The caller releases the stall.
std::pair<Sequence, Sequence> stall_while_appending(Producer& p, Stall& stall, std::size_t during) {
  auto t = p.append_wait(ev(EventType::message_streamed, "r1", "trigger"));
  EXPECT_TRUE(t.ok());
  const Sequence trigger = t.ok() ? t->sequence : 0;
  EXPECT_TRUE(stall.wait_entered()) << "the handler never got " << trigger;
  const Sequence last = during == 0 ? trigger : append_n(p, during);
  return {trigger, last};
}

SubscribeOptions skipping(Stream& stream, std::uint64_t max_lag_events = 0) {
  SubscribeOptions o;
  o.slow = SlowSubscriberPolicy::skip_to_live(max_lag_events);
  o.on_gap = [&stream](const GapNotice& n) { stream.gap(n); };
  return o;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// skip_to_live

TEST(SkipToLive, stalledPullSubscriberGetsOneNoticePerLapNamingExactlyTheMissedSequencesThenLastPlusOne) {
  Watchdog dog("skip_to_live pull rounds");
  Session s = open_session();
  auto p = s.producer();
  ASSERT_TRUE(p.ok());
  const Sequence history = append_n(*p, 3, "h");
  Stream stream;
  Stall stall;
  auto sub = s.subscribe(skipping(stream));
  ASSERT_TRUE(sub.ok()) << sub.error();
  Poller poller(*sub, stream, stall);
  ASSERT_TRUE(eventually([&] { return sub->cursor() > history; }));

  constexpr int kRounds = 20;
  std::vector<std::pair<Sequence, Sequence>> rounds;
  for (int r = 0; r < kRounds; ++r) {
    stall.arm(s.latest_sequence() + 1);
    const std::size_t during = 2 * kRing + static_cast<std::size_t>(r) * 3;  // laps the ring 2..9 times
    rounds.push_back(stall_while_appending(*p, stall, during));
    stall.release();
    ASSERT_TRUE(eventually([&] { return sub->cursor() > rounds.back().second; })) << "round " << r;
  }
  poller.stop();
  EXPECT_TRUE(poller.errors().empty());

  const Sequence last = rounds.back().second;
  const auto gaps = expect_stream_matches_store(stream.items(), s.log(), 1, last);
  ASSERT_EQ(gaps.size(), static_cast<std::size_t>(kRounds)) << "one notice per stall, never more";
  std::uint64_t skipped = 0;
  for (int r = 0; r < kRounds; ++r) {
    // the events after the trigger were overwritten; it resumes at the newest (the head)
    EXPECT_EQ(gaps[r].first, rounds[r].first + 1);
    EXPECT_EQ(gaps[r].last, rounds[r].second - 1);
    EXPECT_EQ(gaps[r].reason, GapNotice::Reason::lapped);
    skipped += gaps[r].last - gaps[r].first + 1;
  }
  const SubscriptionStats st = sub->stats();
  EXPECT_EQ(st.gaps, static_cast<std::uint64_t>(kRounds));
  EXPECT_EQ(st.skipped, skipped);
  EXPECT_EQ(st.store_reads, 0u) << "a skipping subscriber never reads the store after its history";
  EXPECT_GE(st.lapped_count, static_cast<std::uint64_t>(kRounds));
}

TEST(SkipToLive, stalledPushSubscriberGetsOneNoticePerLapOnItsThreadAndTheStreamMatchesTheStore) {
  Watchdog dog("skip_to_live push rounds");
  Session s = open_session();
  auto p = s.producer();
  ASSERT_TRUE(p.ok());
  Stream stream;
  Stall stall;
  std::atomic<std::thread::id> gap_thread{};    // writer: on_gap; reader: the test after unsubscribe (joined)
  std::atomic<std::thread::id> event_thread{};  // writer: the handler; reader: the test after unsubscribe (joined)
  SubscribeOptions o = skipping(stream);
  o.on_gap = [&](const GapNotice& n) {
    gap_thread.store(std::this_thread::get_id());
    stream.gap(n);
  };
  auto push = s.subscribe_push(std::move(o), [&](const EventView& v) {
    event_thread.store(std::this_thread::get_id());
    stream.event(v);
    stall.on(v.sequence_number);
  });
  ASSERT_TRUE(push.ok()) << push.error();

  constexpr int kRounds = 15;
  std::vector<std::pair<Sequence, Sequence>> rounds;
  for (int r = 0; r < kRounds; ++r) {
    stall.arm(s.latest_sequence() + 1);
    rounds.push_back(stall_while_appending(*p, stall, 5 * kRing));
    stall.release();
    ASSERT_TRUE(eventually([&] { return push->cursor() > rounds.back().second; })) << "round " << r;
  }
  ASSERT_TRUE(push->unsubscribe().ok());
  EXPECT_TRUE(push->last_error().empty()) << push->last_error();
  EXPECT_EQ(gap_thread.load(), event_thread.load()) << "on_gap runs on the push thread";

  const auto gaps = expect_stream_matches_store(stream.items(), s.log(), 1, rounds.back().second);
  ASSERT_EQ(gaps.size(), static_cast<std::size_t>(kRounds));
  for (int r = 0; r < kRounds; ++r) {
    EXPECT_EQ(gaps[r].first, rounds[r].first + 1);
    EXPECT_EQ(gaps[r].last, rounds[r].second - 1);
  }
}

TEST(SkipToLive, lagAboveMaxLagEventsSkipsWithoutLappingAndAtOrBelowItDeliversEverything) {
  Watchdog dog("skip_to_live max_lag_events");
  Session s = open_session(64);
  auto p = s.producer();
  ASSERT_TRUE(p.ok());
  Stream stream;
  Stall stall;
  auto sub = s.subscribe(skipping(stream, 5));
  ASSERT_TRUE(sub.ok()) << sub.error();
  Poller poller(*sub, stream, stall);

  stall.arm(1);
  const auto below = stall_while_appending(*p, stall, 5);  // 5 undelivered: not more than 5
  stall.release();
  ASSERT_TRUE(eventually([&] { return sub->cursor() > below.second; }));
  stall.arm(below.second + 1);
  const auto above = stall_while_appending(*p, stall, 9);  // 9 undelivered, well inside the ring
  stall.release();
  ASSERT_TRUE(eventually([&] { return sub->cursor() > above.second; }));
  poller.stop();

  const auto gaps = expect_stream_matches_store(stream.items(), s.log(), 1, above.second);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].first, above.first + 1);
  EXPECT_EQ(gaps[0].last, above.second - 1);
  EXPECT_EQ(gaps[0].reason, GapNotice::Reason::lag_too_high);
  EXPECT_EQ(sub->lapped_count(), 0u);
}

TEST(SkipToLive, historyBeforeTheSubscribeIsDeliveredInFullEvenWhenLongerThanTheRing) {
  Session s = open_session();
  auto p = s.producer();
  ASSERT_TRUE(p.ok());
  const Sequence last = append_n(*p, 20 * kRing);
  Stream stream;
  auto sub = s.subscribe(skipping(stream, 2));
  ASSERT_TRUE(sub.ok());
  auto n = sub->poll([&](const EventView& v) { stream.event(v); });
  ASSERT_TRUE(n.ok()) << n.error();
  EXPECT_EQ(*n, last);
  EXPECT_TRUE(expect_stream_matches_store(stream.items(), s.log(), 1, last).empty());
}

TEST(SkipToLive, throwingOnGapKeepsTheCursorAndTheNextPollOffersTheGapAgainUpToTheNewHead) {
  Session s = open_session();
  auto p = s.producer();
  ASSERT_TRUE(p.ok());
  Stream stream;
  bool fail = true;
  SubscribeOptions o;
  o.slow = SlowSubscriberPolicy::skip_to_live();
  o.on_gap = [&](const GapNotice& n) {
    if (fail) throw std::runtime_error("host not ready");
    stream.gap(n);
  };
  auto sub = s.subscribe(std::move(o));
  ASSERT_TRUE(sub.ok());
  const Sequence first = append_n(*p, 1);
  auto keep = [&](const EventView& v) { stream.event(v); };
  ASSERT_EQ(sub->poll(keep).value(), 1u);
  const Sequence lapped = append_n(*p, 3 * kRing);
  EXPECT_THROW((void)sub->poll(keep), std::runtime_error);
  EXPECT_EQ(sub->cursor(), first + 1) << "a notice that threw did not move the cursor";
  fail = false;
  const Sequence last = append_n(*p, 2 * kRing);
  ASSERT_TRUE(sub->poll(keep).ok());
  const auto gaps = expect_stream_matches_store(stream.items(), s.log(), 1, last);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].first, first + 1);
  EXPECT_EQ(gaps[0].last, last - 1);
  EXPECT_GT(gaps[0].last, lapped) << "the repeated notice reaches the head at that time";
}

TEST(SkipToLive, concurrentProducersOnARingOfFourGiveAContiguousCoverOfEventsAndNotices) {
  Watchdog dog("skip_to_live stress");
  Session s = open_session(4);
  const std::size_t per_producer = scaled(20'000, 200'000, 500);
  Stream stream;
  std::atomic<bool> first_seen{false};  // push thread only (an atomic for the exchange's clarity)
  auto push = s.subscribe_push(skipping(stream), [&](const EventView& v) {
    stream.event(v);
    if (!first_seen.exchange(true)) {  // one deterministic lap: stall until the ring wrapped many times
      while (s.latest_sequence() < 64) std::this_thread::yield();
    }
    if (v.sequence_number % 97 == 0) std::this_thread::sleep_for(50us);  // a slow handler now and then
  });
  ASSERT_TRUE(push.ok());
  std::vector<std::thread> producers;
  for (int t = 0; t < 2; ++t) {
    producers.emplace_back([&, t] {
      auto p = s.producer();
      ASSERT_TRUE(p.ok());
      for (std::size_t i = 0; i < per_producer; ++i) {
        const std::string data = std::to_string(t).append(":").append(std::to_string(i));
        ASSERT_TRUE(p->append(ev(EventType::message_streamed, "r1", data)).ok());
      }
    });
  }
  for (auto& t : producers) t.join();
  const Sequence last = 2 * per_producer;  // every appended event, once published
  ASSERT_TRUE(eventually([&] { return s.latest_sequence() == last; }));
  ASSERT_TRUE(eventually([&] { return push->cursor() > last; }));
  ASSERT_TRUE(push->unsubscribe().ok());
  EXPECT_TRUE(push->last_error().empty()) << push->last_error();
  const auto gaps = expect_stream_matches_store(stream.items(), s.log(), 1, last);
  EXPECT_GE(gaps.size(), 1u) << "the first stall lapped a ring of 4";
  EXPECT_EQ(push->stats().gaps, gaps.size());
}

// ---------------------------------------------------------------------------------------------
// disconnect_after

TEST(DisconnectAfter, lagAboveMaxLagEventsEndsWithSubscriberTooSlowNamingTheLagAndNothingAfterIt) {
  Watchdog dog("disconnect_after events");
  Session s = open_session();
  auto p = s.producer();
  ASSERT_TRUE(p.ok());
  Stream stream;
  Stall stall;
  SubscribeOptions o;
  o.slow = SlowSubscriberPolicy::disconnect_after(20);
  auto sub = s.subscribe(std::move(o));
  ASSERT_TRUE(sub.ok()) << sub.error();
  Poller poller(*sub, stream, stall);

  // lapped (12 > 8) but not more than 20 behind: it catches up from the store
  stall.arm(1);
  const auto tolerated = stall_while_appending(*p, stall, 12);
  stall.release();
  ASSERT_TRUE(eventually([&] { return sub->cursor() > tolerated.second; }));
  EXPECT_TRUE(poller.errors().empty());
  EXPECT_GE(sub->lapped_count(), 1u);

  stall.arm(tolerated.second + 1);
  const auto too_far = stall_while_appending(*p, stall, 30);
  stall.release();
  ASSERT_TRUE(eventually([&] { return poller.errors().size() >= 3; }));
  poller.stop();
  for (const Error& e : poller.errors()) {
    EXPECT_EQ(e.code(), Errc::subscriber_too_slow);
    EXPECT_NE(e.message().find("30 events undelivered"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("more than slow.max_lag_events = 20"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("from_sequence = " + std::to_string(too_far.first + 1)), std::string::npos)
        << e.message();
  }
  EXPECT_EQ(sub->cursor(), too_far.first + 1);
  EXPECT_EQ(sub->state(), SubscriptionState::closed);
  EXPECT_TRUE(expect_stream_matches_store(stream.items(), s.log(), 1, too_far.first).empty())
      << "exactly the stored events up to the stalled one, nothing after the error";

  // the host acts on it: resubscribe from the cursor, with the same policy
  SubscribeOptions again;
  again.from_sequence = sub->cursor();
  again.slow = SlowSubscriberPolicy::disconnect_after(20);
  auto resumed = s.subscribe(std::move(again));
  ASSERT_TRUE(resumed.ok());
  Stream after;
  ASSERT_TRUE(resumed->poll([&](const EventView& v) { after.event(v); }).ok());
  EXPECT_TRUE(expect_stream_matches_store(after.items(), s.log(), too_far.first + 1, too_far.second).empty())
      << "the resubscription delivers the history it asked for, with no gap";
}

TEST(DisconnectAfter, behindLongerThanMaxLagTimeEndsWithSubscriberTooSlowAndTheCursorOnTheFirstUndelivered) {
  Watchdog dog("disconnect_after time");
  Session s = open_session();
  auto p = s.producer();
  ASSERT_TRUE(p.ok());
  Stream stream;
  Stall stall;
  SubscribeOptions o;
  o.slow = SlowSubscriberPolicy::disconnect_after(0, 100ms);
  auto sub = s.subscribe(std::move(o));
  ASSERT_TRUE(sub.ok()) << sub.error();
  Poller poller(*sub, stream, stall);

  stall.arm(1);
  const auto round = stall_while_appending(*p, stall, 2);  // a small lag, for a long time
  std::this_thread::sleep_for(300ms);
  stall.release();
  ASSERT_TRUE(eventually([&] { return !poller.errors().empty(); }));
  poller.stop();
  const Error e = poller.errors().front();
  EXPECT_EQ(e.code(), Errc::subscriber_too_slow);
  EXPECT_NE(e.message().find("behind the head for"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("slow.max_lag_time = 100 ms"), std::string::npos) << e.message();
  EXPECT_EQ(sub->cursor(), round.first + 1);
  EXPECT_TRUE(expect_stream_matches_store(stream.items(), s.log(), 1, round.first).empty());
}

TEST(DisconnectAfter, slowHandlerThatEndsLevelWithTheHeadIsNotDisconnectedByMaxLagTime) {
  Watchdog dog("disconnect_after time, level");
  Session s = open_session();
  auto p = s.producer();
  ASSERT_TRUE(p.ok());
  Stream stream;
  Stall stall;
  SubscribeOptions o;
  o.slow = SlowSubscriberPolicy::disconnect_after(0, 100ms);
  auto sub = s.subscribe(std::move(o));
  ASSERT_TRUE(sub.ok());
  Poller poller(*sub, stream, stall);
  stall.arm(1);
  const auto round = stall_while_appending(*p, stall, 0);  // nothing published meanwhile
  std::this_thread::sleep_for(300ms);
  stall.release();
  ASSERT_TRUE(eventually([&] { return sub->cursor() > round.first; }));
  std::this_thread::sleep_for(200ms);  // idle and level: the clock does not run
  const Sequence last = append_n(*p, 3);
  ASSERT_TRUE(eventually([&] { return sub->cursor() > last; }));
  poller.stop();
  EXPECT_TRUE(poller.errors().empty()) << poller.errors().front();
  EXPECT_TRUE(expect_stream_matches_store(stream.items(), s.log(), 1, last).empty());
}

TEST(DisconnectAfter, pushSubscriptionPassesSubscriberTooSlowToItsErrorHandlerEndsAndAResubscribeHasNoGap) {
  Watchdog dog("disconnect_after push");
  Session s = open_session();
  auto p = s.producer();
  ASSERT_TRUE(p.ok());
  Stream stream;
  Stall stall;
  std::mutex m;
  std::vector<Error> told;
  SubscribeOptions o;
  o.slow = SlowSubscriberPolicy::disconnect_after(3 * kRing);
  auto push = s.subscribe_push(
      std::move(o),
      [&](const EventView& v) {
        stream.event(v);
        stall.on(v.sequence_number);
      },
      [&](const Error& e) {
        std::lock_guard lock(m);
        told.push_back(e);
      });
  ASSERT_TRUE(push.ok()) << push.error();
  stall.arm(1);
  const auto round = stall_while_appending(*p, stall, 10 * kRing);
  stall.release();
  ASSERT_TRUE(eventually([&] { return push->finished(); }));
  {
    std::lock_guard lock(m);
    ASSERT_EQ(told.size(), 1u);
    EXPECT_EQ(told[0].code(), Errc::subscriber_too_slow);
  }
  EXPECT_EQ(push->last_error_code(), Errc::subscriber_too_slow);
  EXPECT_NE(push->last_error().find("subscriber_too_slow: "), std::string::npos) << push->last_error();
  EXPECT_EQ(push->cursor(), round.first + 1);
  EXPECT_EQ(push->state(), SubscriptionState::closed);
  EXPECT_TRUE(expect_stream_matches_store(stream.items(), s.log(), 1, round.first).empty());

  SubscribeOptions again;
  again.from_sequence = push->cursor();
  auto resumed = s.subscribe_push(std::move(again), [&](const EventView& v) { stream.event(v); });
  ASSERT_TRUE(resumed.ok());
  ASSERT_TRUE(eventually([&] { return resumed->cursor() > round.second; }));
  ASSERT_TRUE(resumed->unsubscribe().ok());
  EXPECT_TRUE(expect_stream_matches_store(stream.items(), s.log(), 1, round.second).empty())
      << "the old stream then the resubscription: every stored event once, in order";
}

TEST(CatchUp, defaultPolicyStalledSubscriberLappedManyTimesGetsEveryEventAndNoNotice) {
  Watchdog dog("catch_up rounds");
  Session s = open_session();
  auto p = s.producer();
  ASSERT_TRUE(p.ok());
  Stream stream;
  Stall stall;
  auto sub = s.subscribe();
  ASSERT_TRUE(sub.ok());
  Poller poller(*sub, stream, stall);
  Sequence last = 0;
  for (int r = 0; r < 5; ++r) {
    stall.arm(s.latest_sequence() + 1);
    last = stall_while_appending(*p, stall, 4 * kRing).second;
    stall.release();
    ASSERT_TRUE(eventually([&] { return sub->cursor() > last; }));
  }
  poller.stop();
  EXPECT_TRUE(poller.errors().empty());
  EXPECT_TRUE(expect_stream_matches_store(stream.items(), s.log(), 1, last).empty());
  EXPECT_GE(sub->lapped_count(), 5u);
  EXPECT_EQ(sub->stats().gaps, 0u);
}
