// Sequencer (engine/sequencer.cpp): dedupe (INV-6) within a batch, far back and across a
// restart; contiguous stamping across batches and store failures (INV-1); publishing only what
// the store secured (INV-2); max_batch; the doorbell under park/push races.
#include "oracle.hpp"

#include <gtest/gtest.h>

#include <future>
#include <random>
#include <thread>

using namespace sessionring;
using namespace sessionring::test;

namespace {

std::vector<Event> stored(const SessionLog& log) {
  auto r = log.read(EventQuery{});
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : std::vector<Event>{};
}

void expect_contiguous(const SessionLog& log, Sequence n) {
  const auto all = stored(log);
  ASSERT_EQ(all.size(), n);
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i].sequence_number, i + 1);
}

/// Waits until `n` events are queued while the sequencer is held in the store. The depth counts
/// the producers' (A1) `pushed` stores, which come just before the queue push itself (steps c and
/// d of ProducerImpl::push, design §6 step 0): the pause lets every counted push land in the queue
/// before the test releases the sequencer, so that its next batch takes them all.
void wait_queued(Session& s, std::uint64_t n) {
  while (s.stats().ingest_depth_approx < n) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

}  // namespace

TEST(Sequencer, duplicateWithinOneBatchIsStoredOnceAndBothGetItsSequence) {
  auto store = std::make_shared<ControlledStore>();
  auto s = Session::open(options(store));
  ASSERT_TRUE(s.ok());
  auto p0 = s->producer();
  ASSERT_TRUE(p0.ok());
  store->control().block_appends();
  ASSERT_TRUE(p0->append(ev(EventType::run_started, "r", "blocker")).ok());
  ASSERT_TRUE(store->control().wait_blocked(1));
  // Two producers append the same id while the sequencer is stalled: both copies wait in the
  // queue and are taken in the next batch.
  Watchdog dog("duplicate within a batch");
  auto twice = [&](std::string data) {
    return std::async(std::launch::async, [&s, data] {
      auto p = s->producer();
      EXPECT_TRUE(p.ok());
      return p->append_wait(ev(EventType::tool_call_started, "r", data, "same-id"));
    });
  };
  auto a = twice("first");
  auto b = twice("second");
  wait_queued(*s, 2);
  EXPECT_EQ(s->stats().batches, 0u);
  store->control().unblock_appends();
  auto ra = a.get();
  auto rb = b.get();
  ASSERT_TRUE(ra.ok()) << ra.error();
  ASSERT_TRUE(rb.ok()) << rb.error();
  EXPECT_EQ(ra->sequence, 2u);
  EXPECT_EQ(rb->sequence, 2u);
  EXPECT_NE(ra->duplicate, rb->duplicate) << "exactly one of the two copies is the duplicate";
  EXPECT_EQ(s->stats().batches, 2u) << "both copies were meant to be in one batch";
  EXPECT_EQ(s->stats().duplicates, 1u);
  const auto all = stored(s->log());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].id, "same-id");
  EXPECT_EQ(all[1].data, ra->duplicate ? "second" : "first");
}

TEST(Sequencer, fireAndForgetDuplicatesInOneBatchAreDropped) {
  auto store = std::make_shared<ControlledStore>();
  auto s = Session::open(options(store));
  ASSERT_TRUE(s.ok());
  auto p = s->producer();
  ASSERT_TRUE(p.ok());
  store->control().block_appends();
  ASSERT_TRUE(p->append(ev(EventType::run_started, "r", "blocker")).ok());
  ASSERT_TRUE(store->control().wait_blocked(1));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(p->append(ev(EventType::message_streamed, "r", "dup", "id-x")).ok());
  ASSERT_TRUE(p->append(ev(EventType::message_streamed, "r", "other", "id-y")).ok());
  store->control().unblock_appends();
  auto again = p->append_wait(ev(EventType::message_streamed, "r", "dup-late", "id-x"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sequence, 2u);
  const auto all = stored(s->log());
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].id, "id-x");
  EXPECT_EQ(all[1].data, "dup");
  EXPECT_EQ(all[2].id, "id-y");
  EXPECT_EQ(s->stats().duplicates, 5u);
}

namespace {
/// An end marker, appended again while the sequencer answers storage_error (it still retries a
/// refused batch, docs/design.md §11): once it is stored, everything queued before it is too.
void append_wait_until_stored(Producer& p) {
  for (;;) {
    auto r = p.append_wait(ev(EventType::run_completed, "r", "end"));
    if (r.ok()) return;
    ASSERT_EQ(r.code(), Errc::storage_error) << r.error();
  }
}

/// Issue 12, defect 3: append_wait(X) and append(X) of one id in one batch that the store
/// refuses. `wait_first`: the append_wait copy is queued before the fire-and-forget one.
/// Claims: an append() that returned Ok is stored exactly once; an append_wait answer is true
/// (Ok: X is stored at that sequence; storage_error: X is not stored at all).
void sameIdInARefusedBatch(bool wait_first) {
  auto store = std::make_shared<ControlledStore>();
  // The Boost queue is one FIFO, so one pop takes both copies; moodycamel's may take one
  // producer's items per pop, and then the copies land in different batches.
  SessionOptions o = options(store);
  o.queue = QueueBackend::boost_lockfree;
  auto s = Session::open(o);
  ASSERT_TRUE(s.ok());
  auto p0 = s->producer();
  auto pf = s->producer();
  ASSERT_TRUE(p0.ok() && pf.ok());
  Watchdog dog("same id in a refused batch");
  store->control().block_appends();
  ASSERT_TRUE(p0->append(ev(EventType::run_started, "r", "blocker")).ok());
  ASSERT_TRUE(store->control().wait_blocked(1));
  auto fire = [&] { ASSERT_TRUE(pf->append(ev(EventType::tool_call_started, "r", "forget", "X")).ok()); };
  if (!wait_first) fire();
  auto waited = std::async(std::launch::async, [&s] {
    auto p = s->producer();
    EXPECT_TRUE(p.ok());
    return p->append_wait(ev(EventType::tool_call_started, "r", "wait", "X"));
  });
  wait_queued(*s, wait_first ? 1u : 2u);
  if (wait_first) fire();
  wait_queued(*s, 2);
  store->control().pass_first = 1;  // the blocked batch is stored ...
  store->control().fail_next = 1;   // ... and the next, holding both copies, is refused once
  store->control().unblock_appends();
  auto answer = waited.get();
  append_wait_until_stored(*p0);  // everything retried before it is stored by then
  std::vector<Event> copies;
  for (const Event& e : stored(s->log()))
    if (e.id == "X") copies.push_back(e);
  ASSERT_EQ(copies.size(), 1u) << "append(X) returned Ok: X must be stored exactly once";
  if (answer.ok()) {
    EXPECT_EQ(answer->sequence, copies[0].sequence_number) << "append_wait(X) answered another sequence";
  } else {
    ADD_FAILURE() << "append_wait(X) answered " << answer.error() << " but X is stored as #"
                  << copies[0].sequence_number;
  }
  EXPECT_EQ(s->stats().store_failures, 1u);
}
}  // namespace

TEST(Sequencer, sameIdWaitedThenFireAndForgetInARefusedBatchIsStoredOnceAndAnsweredTruly) {
  sameIdInARefusedBatch(/*wait_first=*/true);
}

TEST(Sequencer, sameIdFireAndForgetThenWaitedInARefusedBatchIsStoredOnceAndAnsweredTruly) {
  sameIdInARefusedBatch(/*wait_first=*/false);
}

TEST(Sequencer, sameIdWaitedTwiceInARefusedBatchIsNotStoredAndBothAreTold) {
  auto store = std::make_shared<ControlledStore>();
  // Both copies must be in the one refused batch: the Boost queue's single FIFO guarantees it
  // (moodycamel may pop one producer's items per batch, and then the second copy is stored by
  // the next batch and truly answered Ok; that case is sameIdInARefusedBatch's).
  SessionOptions o = options(store);
  o.queue = QueueBackend::boost_lockfree;
  auto s = Session::open(o);
  ASSERT_TRUE(s.ok());
  auto p0 = s->producer();
  ASSERT_TRUE(p0.ok());
  Watchdog dog("same id waited twice in a refused batch");
  store->control().block_appends();
  ASSERT_TRUE(p0->append(ev(EventType::run_started, "r", "blocker")).ok());
  ASSERT_TRUE(store->control().wait_blocked(1));
  auto wait_x = [&s] {
    return std::async(std::launch::async, [&s] {
      auto p = s->producer();
      EXPECT_TRUE(p.ok());
      return p->append_wait(ev(EventType::tool_call_started, "r", "wait", "X"));
    });
  };
  auto a = wait_x();
  auto b = wait_x();
  wait_queued(*s, 2);
  store->control().pass_first = 1;
  store->control().fail_next = 1;
  store->control().unblock_appends();
  EXPECT_EQ(a.get().code(), Errc::storage_error);
  EXPECT_EQ(b.get().code(), Errc::storage_error);
  append_wait_until_stored(*p0);
  for (const Event& e : stored(s->log())) EXPECT_NE(e.id, "X") << "both were told X is not stored";
}

TEST(Sequencer, duplicateOfAnEventFarBackAnswersItsSequence) {
  auto s = Session::open(options());
  ASSERT_TRUE(s.ok());
  auto p = s->producer();
  ASSERT_TRUE(p.ok());
  const Sequence n = scaled(20'000, 200'000, 3'000);
  for (Sequence i = 1; i <= n; ++i)
    ASSERT_TRUE(p->append(ev(EventType::message_streamed, "r", "x", "evt-" + std::to_string(i))).ok());
  for (Sequence far : {Sequence{1}, Sequence{2}, n / 2, n - 1}) {
    auto r = p->append_wait(ev(EventType::message_streamed, "r", "again", "evt-" + std::to_string(far)));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->duplicate);
    EXPECT_EQ(r->sequence, far);
  }
  EXPECT_EQ(s->log().latest_sequence(), n);
  EXPECT_EQ(s->stats().duplicates, 4u);
  EXPECT_EQ(s->stats().events_sequenced, n);
}

TEST(Sequencer, restartContinuesTheSequenceAndRemembersIds) {
  auto store = MemoryStore::create();
  {
    auto s = Session::open(options(store));
    ASSERT_TRUE(s.ok());
    for (int i = 1; i <= 10; ++i)
      ASSERT_TRUE(s->append_wait(ev(EventType::message_streamed, "r", "x", "id-" + std::to_string(i))).ok());
  }
  auto s = Session::open(options(store));
  ASSERT_TRUE(s.ok()) << s.error();
  auto dup = s->append_wait(ev(EventType::message_streamed, "r", "x", "id-3"));
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->sequence, 3u);
  auto next = s->append_wait(ev(EventType::message_streamed, "r", "x", "id-11"));
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->duplicate);
  EXPECT_EQ(next->sequence, 11u);
  expect_contiguous(s->log(), 11);
}

TEST(Sequencer, reappendingAnEngineGeneratedIdIsADuplicate) {
  // Generated ids skip the dedupe index (a hot-path saving); a caller that re-appends an event
  // with the id the engine gave it (read back from the store) must still get INV-6, before and
  // after a restart.
  auto store = MemoryStore::create();
  std::string generated;
  {
    auto s = Session::open(options(store));
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(s->append_wait(ev(EventType::message_streamed, "r", "x")).ok());
    auto all = stored(s->log());
    ASSERT_EQ(all.size(), 50u);
    generated = all[17].id;
    ASSERT_EQ(generated.size(), 32u);
    auto r = s->append_wait(ev(EventType::message_streamed, "r", "retry", generated));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->duplicate);
    EXPECT_EQ(r->sequence, 18u);
  }
  auto s = Session::open(options(store));
  ASSERT_TRUE(s.ok());
  auto r = s->append_wait(ev(EventType::message_streamed, "r", "retry", generated));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->duplicate);
  EXPECT_EQ(r->sequence, 18u);
  // A caller id that merely looks generated, new to the session, is stored once.
  const std::string lookalike = "0123456789abcdef0123456789abcdef";
  auto a = s->append_wait(ev(EventType::message_streamed, "r", "a", lookalike));
  auto b = s->append_wait(ev(EventType::message_streamed, "r", "b", lookalike));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(a->duplicate);
  EXPECT_TRUE(b->duplicate);
  EXPECT_EQ(a->sequence, 51u);
  EXPECT_EQ(b->sequence, 51u);
  EXPECT_EQ(s->log().latest_sequence(), 51u);
}

// Design §2 step 3 / EventInput::timestamp_ns: an event the producer left unstamped gets the
// wall-clock time at which the sequencer took its batch (not the time of append()), so the
// engine's timestamps never decrease along the sequence; a host-set timestamp is kept as given.
TEST(Sequencer, engineStampsTheSequencingTimeNonDecreasingAlongTheSequenceAndKeepsHostTimestamps) {
  auto wall_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  auto store = std::make_shared<ControlledStore>();
  auto s = Session::open(options(store)).value();
  // 1. An event that waits in the queue behind a stalled store is stamped when it is sequenced.
  auto p = s.producer().value();
  store->control().block_appends();
  ASSERT_TRUE(p.append(ev(EventType::run_started, "r", "blocker")).ok());
  ASSERT_TRUE(store->control().wait_blocked(1));
  ASSERT_TRUE(p.append(ev(EventType::message_streamed, "r", "queued")).ok());
  std::this_thread::sleep_for(20ms);
  const std::int64_t released = wall_ns();
  store->control().unblock_appends();
  ASSERT_TRUE(p.append_wait(ev(EventType::message_streamed, "r", "after")).ok());
  // 2. Two producers at once, every 5th event with a host-set (far past) timestamp.
  const std::size_t each = scaled(20'000, 200'000, 2'000);
  std::vector<std::thread> producers;
  for (int k = 0; k < 2; ++k)
    producers.emplace_back([&, k] {
      auto q = s.producer().value();
      for (std::size_t i = 0; i < each; ++i) {
        std::string data(1, i % 5 == 0 ? 'h' : 'e');  // EventInput borrows it: a named string
        data.append(std::to_string(k)).append("-").append(std::to_string(i));
        EventInput e = ev(EventType::message_streamed, "r", data);
        if (i % 5 == 0) e.timestamp_ns = 1'000 + static_cast<std::int64_t>(i);
        if (i + 1 < each) {
          ASSERT_TRUE(q.append(e).ok());
        } else {
          ASSERT_TRUE(q.append_wait(e).ok());  // and all before it (INV-5)
        }
      }
    });
  for (auto& t : producers) t.join();
  ASSERT_TRUE(p.append_wait(ev(EventType::run_completed, "r", "end")).ok());
  const std::int64_t done = wall_ns();
  const auto all = stored(s.log());
  ASSERT_EQ(all.size(), 3 + 2 * each + 1);
  EXPECT_GE(all[1].timestamp_ns, released) << "the queued event carries its append() time, not its sequencing time";
  std::int64_t last = 0;
  std::size_t host_set = 0;
  for (const Event& e : all) {
    if (e.data.front() == 'h') {
      const auto i = std::stoll(e.data.substr(e.data.find('-') + 1));
      EXPECT_EQ(e.timestamp_ns, 1'000 + i) << "host-set timestamp of #" << e.sequence_number << " not kept";
      ++host_set;
      continue;
    }
    ASSERT_GE(e.timestamp_ns, last) << "#" << e.sequence_number << " is stamped earlier than an event before it";
    ASSERT_LE(e.timestamp_ns, done);
    last = e.timestamp_ns;
  }
  EXPECT_EQ(host_set, 2 * ((each + 4) / 5));
}

TEST(Sequencer, batchesNeverExceedMaxBatchAndStayContiguous) {
  for (std::uint32_t max_batch : {1u, 7u, 1024u}) {
    auto store = std::make_shared<ControlledStore>();
    SessionOptions o = options(store);
    o.max_batch = max_batch;
    auto s = Session::open(o);
    ASSERT_TRUE(s.ok());
    auto p = s->producer();
    ASSERT_TRUE(p.ok());
    store->control().block_appends();
    ASSERT_TRUE(p->append(ev(EventType::run_started, "r", "blocker")).ok());
    ASSERT_TRUE(store->control().wait_blocked(1));
    const int n = 3000;  // queued behind the stall: the sequencer then drains in max_batch bites
    for (int i = 0; i < n; ++i) ASSERT_TRUE(p->append(ev(EventType::message_streamed, "r", std::to_string(i))).ok());
    store->control().unblock_appends();
    ASSERT_TRUE(p->append_wait(ev(EventType::run_completed, "r", "end")).ok());
    EXPECT_LE(store->control().largest_batch.load(), max_batch);
    if (max_batch > 1) { EXPECT_GT(store->control().largest_batch.load(), 1u) << "the burst was batched"; }
    expect_contiguous(s->log(), n + 2);
    EXPECT_GE(s->stats().batches, (n + 1) / max_batch);
  }
}

TEST(Sequencer, refusedBatchConsumesNoSequenceAndAppendWaitGetsStorageError) {
  auto store = std::make_shared<ControlledStore>();
  auto s = Session::open(options(store));
  ASSERT_TRUE(s.ok());
  store->control().fail_next = 1;
  auto r = s->append_wait(ev(EventType::run_started, "r", "refused", "id-refused"));
  ASSERT_EQ(r.code(), Errc::storage_error);
  EXPECT_NE(r.error().message().find("injected failure"), std::string::npos) << r.error();
  EXPECT_EQ(s->log().latest_sequence(), 0u);
  EXPECT_EQ(s->latest_sequence(), 0u);
  // The refused event's id was forgotten: appending it again stores it, as sequence 1.
  auto again = s->append_wait(ev(EventType::run_started, "r", "stored", "id-refused"));
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_FALSE(again->duplicate);
  EXPECT_EQ(again->sequence, 1u);
  EXPECT_EQ(s->stats().store_failures, 1u);
}

TEST(Sequencer, refusedFireAndForgetEventsAreRetriedInOrderNeverDropped) {
  auto store = std::make_shared<ControlledStore>();
  auto s = Session::open(options(store));
  ASSERT_TRUE(s.ok());
  auto p = s->producer();
  ASSERT_TRUE(p.ok());
  auto sub = s->subscribe({});
  ASSERT_TRUE(sub.ok());
  store->control().block_appends();
  ASSERT_TRUE(p->append(ev(EventType::run_started, "r", "0")).ok());
  ASSERT_TRUE(store->control().wait_blocked(1));
  store->control().fail_next = 3;  // the stalled batch fails three times, then is stored
  // Some events larger than the inline ingest record (heap spill), whose ownership must survive
  // the retries (ASan checks for leaks and double frees).
  std::vector<std::string> datas;
  for (int i = 1; i < 100; ++i) datas.push_back(i % 10 == 0 ? std::to_string(i) + std::string(500, 'x') : std::to_string(i));
  for (int i = 1; i < 100; ++i) ASSERT_TRUE(p->append(ev(EventType::message_streamed, "r", datas[i - 1])).ok());
  store->control().unblock_appends();
  // While the sequencer retries the refused events it takes nothing new: an append_wait
  // meanwhile answers storage_error at once, its event dropped (docs/design.md §11); retry it.
  auto end = p->append_wait(ev(EventType::run_completed, "r", "100"));
  while (!end.ok()) {
    ASSERT_EQ(end.code(), Errc::storage_error) << end.error();
    end = p->append_wait(ev(EventType::run_completed, "r", "100"));
  }
  const auto all = stored(s->log());
  ASSERT_EQ(all.size(), 101u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].sequence_number, i + 1);
    EXPECT_EQ(all[i].data, i == 0 ? "0" : i == 100 ? "100" : datas[i - 1]);
  }
  EXPECT_EQ(s->stats().store_failures, 3u);
  // Subscribers saw no trace of the failed attempts: exactly the stored stream.
  auto got = drain(*sub, 101);
  EXPECT_EQ(sequences(got), stored_sequences(s->log(), 1, 101));
}

TEST(Sequencer, refusedLargeEventsAndDuplicatesFreeTheirIngestRecords) {
  // append_wait of a spilled (heap) record refused by the store, and a spilled duplicate: the
  // sequencer frees both exactly once (ASan: no leak, no double free).
  auto store = std::make_shared<ControlledStore>();
  auto s = Session::open(options(store));
  ASSERT_TRUE(s.ok());
  const std::string big(4000, 'b');
  store->control().fail_next = 1;
  EXPECT_EQ(s->append_wait(ev(EventType::message_streamed, "r", big, "big-1")).code(), Errc::storage_error);
  auto first = s->append_wait(ev(EventType::message_streamed, "r", big, "big-1"));
  ASSERT_TRUE(first.ok());
  auto dup = s->append_wait(ev(EventType::message_streamed, "r", big, "big-1"));
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->sequence, first->sequence);
  ASSERT_TRUE(s->append(ev(EventType::message_streamed, "r", big, "big-1")).ok());  // fire-and-forget duplicate
  ASSERT_TRUE(s->append_wait(ev(EventType::run_completed, "r", "end")).ok());
  EXPECT_EQ(s->log().latest_sequence(), 2u);
  EXPECT_EQ(s->stats().duplicates, 2u);
}

TEST(Sequencer, stopWithAStoreThatKeepsFailingReportsTheLossInsteadOfHanging) {
  auto store = std::make_shared<ControlledStore>();
  auto s = Session::open(options(store));
  ASSERT_TRUE(s.ok());
  auto sub = s->subscribe({});
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(s->append_wait(ev(EventType::run_started, "r", "stored")).ok());
  // Ten accepted events in two batches: one stalled in the store, nine queued behind it.
  store->control().block_appends();
  ASSERT_TRUE(s->append(ev(EventType::message_streamed, "r", "lost")).ok());
  ASSERT_TRUE(store->control().wait_blocked(1));
  store->control().fail_next = 1'000'000;
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(s->append(ev(EventType::message_streamed, "r", "lost")).ok());
  store->control().unblock_appends();
  Watchdog dog("stop with a failing store");
  Status st = s->stop();
  ASSERT_FALSE(st.ok()) << "stop() hid that accepted events could not be stored";
  EXPECT_EQ(st.code(), Errc::storage_error);
  EXPECT_NE(st.error().message().find("10 accepted events"), std::string::npos) << st.error();
  EXPECT_EQ(s->log().latest_sequence(), 1u);
  // Subscribers get what was stored and close.
  std::vector<Sequence> got;
  while (sub->state() != SubscriptionState::closed)
    ASSERT_TRUE(sub->poll_wait([&](const EventView& v) { got.push_back(v.sequence_number); }, Deadline::max()).ok());
  EXPECT_EQ(got, std::vector<Sequence>{1});
}

TEST(Sequencer, publishesOnlyWhatTheStoreHasSecured) {
  // A store that secures appended batches later (a background group commit): the ring cursor,
  // subscribers and append_wait answers never run ahead of latest_sequence() (INV-2).
  auto store = std::make_shared<ControlledStore>();
  store->control().manual_secure = true;
  auto s = Session::open(options(store));
  ASSERT_TRUE(s.ok());
  StoreControl& c = store->control();
  std::atomic<bool> done{false};
  Watchdog dog("secure-later store");
  std::thread sync([&] {  // secures what was written, a little later, in steps
    std::mt19937 rng(5);
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::microseconds(50 + rng() % 200));
      c.secure(s->log().written_sequence());
    }
  });
  const std::size_t n = scaled(5'000, 100'000, 500);
  std::atomic<std::uint64_t> violations{0};
  std::thread subscriber([&] {
    auto sub = s->subscribe({});
    ASSERT_TRUE(sub.ok());
    std::size_t got = 0;
    while (got < n) {
      auto r = sub->poll_wait(
          [&](const EventView& v) {
            if (v.sequence_number > c.secured.load()) violations.fetch_add(1);
            ++got;
          },
          std::chrono::steady_clock::now() + 100ms);
      ASSERT_TRUE(r.ok());
    }
  });
  auto p = s->producer();
  ASSERT_TRUE(p.ok());
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 100 == 99) {
      auto r = p->append_wait(ev(EventType::message_streamed, "r", "w"));
      ASSERT_TRUE(r.ok());
      EXPECT_LE(r->sequence, c.secured.load()) << "append_wait answered before the store secured it";
    } else {
      ASSERT_TRUE(p->append(ev(EventType::message_streamed, "r", "x")).ok());
    }
    // Read in the order the claim needs: the published cursor first, then the secured mark
    // (which only grows). Inside one EXPECT_LE the two loads are unordered (GCC evaluates the
    // right one first), so a secure() between them made this fail spuriously.
    const Sequence published = s->latest_sequence();
    const Sequence secured = c.secured.load();
    EXPECT_LE(published, secured);
  }
  subscriber.join();
  done = true;
  sync.join();
  EXPECT_EQ(violations.load(), 0u) << "a subscriber saw a sequence the store had not secured";
}

TEST(Sequencer, noLostWakeupUnderParkAndPush) {
  // Several producers do append_wait round trips with random pauses, so pushes land while the
  // sequencer spins, yields, registers on the doorbell or sleeps. A lost wake-up hangs a
  // producer (the watchdog fails the test).
  for (QueueBackend queue : {QueueBackend::moodycamel, QueueBackend::boost_lockfree}) {
    SessionOptions o = options();
    o.queue = queue;
    o.wait = WaitStrategy::block;
    auto s = Session::open(o);
    ASSERT_TRUE(s.ok());
    const int producers = 2;
    const int each = static_cast<int>(scaled(1'500, 100'000, 200));
    Watchdog dog("doorbell with several producers");
    std::vector<std::thread> threads;
    for (int t = 0; t < producers; ++t)
      threads.emplace_back([&, t] {
        auto p = s->producer();
        ASSERT_TRUE(p.ok());
        std::mt19937 rng(static_cast<unsigned>(t) + 17);
        for (int i = 0; i < each; ++i) {
          const unsigned pause = rng() % 16;
          if (pause == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
          else if (pause == 1) std::this_thread::yield();
          ASSERT_TRUE(p->append_wait(ev(EventType::message_streamed, "r", "x")).ok());
        }
      });
    for (auto& th : threads) th.join();
    expect_contiguous(s->log(), static_cast<Sequence>(producers * each));
  }
}

TEST(Sequencer, eventsOfEveryWaitStrategyAreSequencedContiguously) {
  for (WaitStrategy wait : {WaitStrategy::block, WaitStrategy::yield, WaitStrategy::spin}) {
    SessionOptions o = options();
    o.wait = wait;
    auto s = Session::open(o);
    ASSERT_TRUE(s.ok());
    auto p = s->producer();
    ASSERT_TRUE(p.ok());
    const Sequence n = scaled(2'000, 20'000, 200);
    Watchdog dog("wait strategy " + std::string(to_string(wait)));
    for (Sequence i = 1; i <= n; ++i) {
      if (i % 50 == 0) {
        auto r = p->append_wait(ev(EventType::message_streamed, "r", "x"));
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r->sequence, i);
      } else {
        ASSERT_TRUE(p->append(ev(EventType::message_streamed, "r", "x")).ok());
      }
    }
    ASSERT_TRUE(s->stop().ok());
    expect_contiguous(s->log(), n);
    EXPECT_EQ(s->stats().events_sequenced, n);
  }
}
