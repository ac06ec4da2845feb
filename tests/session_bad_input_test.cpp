// Bad input of Session (engine/session.cpp: open, producer, subscribe, subscribe_push),
// docs/errors.md "Bad-input table"; the append calls are in producer_bad_input_test.cpp. Each test stores known events first,
// makes the bad call, checks the exact Errc and that the message names the offending option or
// value, then that nothing stored was lost or altered (every event, every byte; for a LogStore
// also the files) and that the session still works. Every test runs on a MemoryStore and on a
// LogStore.
#include "oracle.hpp"
#include "store_snapshot.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

using namespace sessionring;
using namespace sessionring::test;
using namespace std::chrono_literals;

namespace {

constexpr int kSeeded = 3;

class SessionBadInput : public ::testing::TestWithParam<StoreKind> {
 protected:
  SessionBadInput() : st_(GetParam()) {}

  SessionOptions opts(std::string id = "s1") { return options(st_.store(), std::move(id)); }

  /// Stores kSeeded known events in s1 through a session that is then closed; returns the snapshot.
  StoreSnapshot seed_closed() {
    auto s = Session::open(opts());
    EXPECT_TRUE(s.ok()) << s.error();
    if (s) seed(*s, kSeeded);
    return st_.snapshot();
  }

  /// Nothing stored changed: the same events (and, for a LogStore, the same file bytes).
  void expect_unchanged(const StoreSnapshot& before, const std::map<std::string, std::string>& files) {
    EXPECT_TRUE(same_contents(before, st_.snapshot()));
    EXPECT_TRUE(files == st_.files()) << "the store's files changed";
  }

  /// A new session on s1 continues the sequence after `before` and appends.
  void expect_reopens(const StoreSnapshot& before) {
    auto s = Session::open(opts());
    ASSERT_TRUE(s.ok()) << s.error();
    expect_still_appends(*s, before);
  }

  StoreUnderTest st_;
};

/// An option change and the text the refusal must contain.
struct BadOption {
  std::string option;  // the message starts with it
  std::string shown;   // and contains this (the value or the rule)
  std::function<void(SessionOptions&)> apply;
};

void expect_refused_options(const std::vector<BadOption>& cases, const std::function<SessionOptions()>& make,
                            StoreUnderTest& st) {
  const StoreSnapshot before = st.snapshot();
  const auto files = st.files();
  for (const BadOption& c : cases) {
    SCOPED_TRACE(c.option + " " + c.shown);
    SessionOptions o = make();
    c.apply(o);
    EXPECT_EQ(validate(o).code(), Errc::validation_error);
    auto s = Session::open(o);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Errc::validation_error);
    EXPECT_EQ(s.error().message().rfind(c.option, 0), 0u) << "message does not start with the option: " << s.error();
    EXPECT_TRUE(names(s.error(), {c.shown}));
    EXPECT_TRUE(same_contents(before, st.snapshot()));
    EXPECT_TRUE(files == st.files()) << "a refused open changed the store's files";
  }
}


}  // namespace

// ---------------------------------------------------------------------------------------------
// Session::open

TEST_P(SessionBadInput, nullStoreIsValidationErrorNamingStoreAndStoreUnchanged) {
  const StoreSnapshot before = seed_closed();
  const auto files = st_.files();
  SessionOptions o = opts();
  o.store = nullptr;
  auto s = Session::open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Errc::validation_error);
  EXPECT_EQ(s.error().message().rfind("store ", 0), 0u) << s.error();
  expect_unchanged(before, files);
  expect_reopens(before);
}

TEST_P(SessionBadInput, invalidSessionIdIsInvalidSessionIdAndCreatesNothing) {
  const StoreSnapshot before = seed_closed();
  const auto files = st_.files();
  const auto sessions = st_.store()->list_sessions().value();
  for (std::string bad : {std::string(), std::string("."), std::string(".."), std::string("../s1"),
                          std::string("s1/x"), std::string("a b"), std::string(kMaxSessionIdBytes + 1, 'a'),
                          std::string("s\x01"), std::string("s1\\..")}) {
    SCOPED_TRACE("id '" + bad + "'");
    auto s = Session::open(opts(bad));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Errc::invalid_session_id);
    EXPECT_TRUE(names(s.error(), {"session id"}));
  }
  EXPECT_EQ(st_.store()->list_sessions().value(), sessions);
  expect_unchanged(before, files);
  if (st_.kind() == StoreKind::log) {  // nothing written outside the root either
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(st_.root().parent_path())) ++entries;
    EXPECT_EQ(entries, 1u) << "a refused id created something next to the store root";
  }
  expect_reopens(before);
}

TEST_P(SessionBadInput, ringCapacityOutOfRangeOrNotPowerOfTwoIsValidationErrorAndStoreUnchanged) {
  const StoreSnapshot before = seed_closed();
  auto cap = [](std::uint32_t v) { return [v](SessionOptions& o) { o.ring_capacity = v; }; };
  expect_refused_options({{"ring_capacity", "= 0 is out of range [2, 16777216]", cap(0)},
                          {"ring_capacity", "= 1 is out of range", cap(1)},
                          {"ring_capacity", "= 3 is not a power of two", cap(3)},
                          {"ring_capacity", "= 6 is not a power of two", cap(6)},
                          {"ring_capacity", "= 1000 is not a power of two", cap(1000)},
                          {"ring_capacity", "= 16777215 is not a power of two", cap((1u << 24) - 1)},
                          {"ring_capacity", "= 16777217 is out of range", cap((1u << 24) + 1)},
                          {"ring_capacity", "= 33554432 is out of range", cap(1u << 25)},
                          {"ring_capacity", "= 4294967295 is out of range", cap(UINT32_MAX)}},
                         [&] { return opts(); }, st_);
  for (std::uint32_t good : {2u, 4u, 1u << 24}) {
    SessionOptions o = opts();
    o.ring_capacity = good;
    o.ring_slot_bytes = 64;  // 2^24 x 64 bytes = the 1 GiB ring limit (kMaxRingBytes)
    EXPECT_TRUE(validate(o).ok()) << good;
  }
  expect_reopens(before);
}

TEST_P(SessionBadInput, ringSlotBytesBelowHeaderOrOutOfRangeOrNotWholeCacheLinesIsValidationErrorAndStoreUnchanged) {
  const StoreSnapshot before = seed_closed();
  auto slot = [](std::uint32_t v) { return [v](SessionOptions& o) { o.ring_slot_bytes = v; }; };
  expect_refused_options({{"ring_slot_bytes", "= 0 is out of range [64, 65536]", slot(0)},
                          {"ring_slot_bytes", "= 8 is out of range", slot(8)},
                          {"ring_slot_bytes", "= 16 is out of range", slot(16)},  // the slot header alone
                          {"ring_slot_bytes", "= 48 is out of range", slot(48)},  // an EventRecord header
                          {"ring_slot_bytes", "= 56 is out of range", slot(56)},
                          {"ring_slot_bytes", "= 63 is out of range", slot(63)},
                          {"ring_slot_bytes", "= 65 is not a multiple of 64", slot(65)},
                          {"ring_slot_bytes", "= 68 is not a multiple of 64", slot(68)},
                          {"ring_slot_bytes", "= 72 is not a multiple of 64 (a slot is whole cache lines)", slot(72)},
                          {"ring_slot_bytes", "= 200 is not a multiple of 64", slot(200)},
                          {"ring_slot_bytes", "= 65535 is not a multiple of 64", slot(65535)},
                          {"ring_slot_bytes", "= 65544 is out of range", slot(65544)},
                          {"ring_slot_bytes", "= 4294967295 is out of range", slot(UINT32_MAX)}},
                         [&] { return opts(); }, st_);
  // Both ends are accepted; with 64-byte slots every event is bigger than a slot and is
  // delivered from the store: the session works.
  SessionOptions big = opts();
  big.ring_slot_bytes = 65536;
  EXPECT_TRUE(validate(big).ok());
  SessionOptions small = opts();
  small.ring_slot_bytes = 64;
  auto s = Session::open(small);
  ASSERT_TRUE(s.ok()) << s.error();
  expect_still_appends(*s, before);
}

TEST_P(SessionBadInput, ringAboveOneGibibyteIsValidationErrorNotBadAlloc) {
  // Issue 12: 2^24 slots x 65536 bytes (1 TiB) passed validation and Session::open threw
  // std::bad_alloc; the product is bounded by kMaxRingBytes.
  const StoreSnapshot before = seed_closed();
  auto ring = [](std::uint32_t cap, std::uint32_t slot) {
    return [cap, slot](SessionOptions& o) {
      o.ring_capacity = cap;
      o.ring_slot_bytes = slot;
    };
  };
  expect_refused_options({{"ring_capacity", "x ring_slot_bytes = 16777216 x 65536 = 1099511627776 bytes is above the largest ring",
                           ring(1u << 24, 65536)},
                          {"ring_capacity", "x ring_slot_bytes = 32768 x 65536", ring(1u << 15, 65536)}},
                         [&] { return opts(); }, st_);
  SessionOptions at_limit = opts();
  at_limit.ring_capacity = 1u << 14;
  at_limit.ring_slot_bytes = 65536;  // exactly 1 GiB: accepted
  EXPECT_TRUE(validate(at_limit).ok());
  expect_reopens(before);
}

TEST_P(SessionBadInput, ingestCapacityOutsideItsBackendRangeIsValidationErrorAndStoreUnchanged) {
  const StoreSnapshot before = seed_closed();
  auto cap = [](QueueBackend q, std::uint32_t v) {
    return [q, v](SessionOptions& o) {
      o.queue = q;
      o.ingest_capacity = v;
    };
  };
  const auto mc = QueueBackend::moodycamel;
  const auto bl = QueueBackend::boost_lockfree;
  expect_refused_options({{"ingest_capacity", "= 0 is out of range [1, 1048576]", cap(mc, 0)},
                          {"ingest_capacity", "= 1048577 is out of range [1, 1048576]", cap(mc, (1u << 20) + 1)},
                          {"ingest_capacity", "= 4294967295 is out of range", cap(mc, UINT32_MAX)},
                          {"ingest_capacity", "= 0 is out of range [2, 65534]", cap(bl, 0)},
                          {"ingest_capacity", "= 1 is out of range [2, 65534]", cap(bl, 1)},
                          {"ingest_capacity", "= 65535 is out of range [2, 65534]", cap(bl, 65535)},
                          {"ingest_capacity", "= 1048576 is out of range [2, 65534]", cap(bl, 1u << 20)}},
                         [&] { return opts(); }, st_);
  for (auto [q, v] : {std::pair{mc, 1u}, std::pair{mc, 1u << 20}, std::pair{bl, 2u}, std::pair{bl, 65534u}}) {
    SessionOptions o = opts();
    o.queue = q;
    o.ingest_capacity = v;
    EXPECT_TRUE(validate(o).ok()) << to_string(q) << " " << v;
  }
  expect_reopens(before);
}

TEST_P(SessionBadInput, queueOrWaitOutsideTheEnumerationIsValidationErrorAndStoreUnchanged) {
  const StoreSnapshot before = seed_closed();
  expect_refused_options(
      {{"queue", "is not a QueueBackend value", [](SessionOptions& o) { o.queue = static_cast<QueueBackend>(2); }},
       {"queue", "is not a QueueBackend value", [](SessionOptions& o) { o.queue = static_cast<QueueBackend>(255); }},
       {"wait", "is not a WaitStrategy value", [](SessionOptions& o) { o.wait = static_cast<WaitStrategy>(3); }},
       {"wait", "is not a WaitStrategy value", [](SessionOptions& o) { o.wait = static_cast<WaitStrategy>(255); }}},
      [&] { return opts(); }, st_);
  expect_reopens(before);
}

TEST_P(SessionBadInput, maxProducersMaxBatchOrMaxEventBytesOutOfRangeIsValidationErrorAndStoreUnchanged) {
  const StoreSnapshot before = seed_closed();
  auto set = [](std::uint32_t SessionOptions::*field, std::uint32_t v) {
    return [field, v](SessionOptions& o) { o.*field = v; };
  };
  expect_refused_options(
      {{"max_producers", "= 0 is out of range [1, 65536]", set(&SessionOptions::max_producers, 0)},
       {"max_producers", "= 65537 is out of range [1, 65536]", set(&SessionOptions::max_producers, 65537)},
       {"max_batch", "= 0 is out of range [1, 65536]", set(&SessionOptions::max_batch, 0)},
       {"max_batch", "= 65537 is out of range [1, 65536]", set(&SessionOptions::max_batch, 65537)},
       {"max_event_bytes", "= 0 is out of range [64, 2147483648]", set(&SessionOptions::max_event_bytes, 0)},
       {"max_event_bytes", "= 63 is out of range", set(&SessionOptions::max_event_bytes, 63)},
       {"max_event_bytes", "= 2147483649 is out of range", set(&SessionOptions::max_event_bytes, (1u << 31) + 1)},
       {"max_event_bytes", "= 4294967295 is out of range", set(&SessionOptions::max_event_bytes, UINT32_MAX)}},
      [&] { return opts(); }, st_);
  for (auto [field, v] : {std::pair{&SessionOptions::max_producers, 1u}, std::pair{&SessionOptions::max_producers, 65536u},
                          std::pair{&SessionOptions::max_batch, 1u}, std::pair{&SessionOptions::max_batch, 65536u},
                          std::pair{&SessionOptions::max_event_bytes, 64u},
                          std::pair{&SessionOptions::max_event_bytes, 1u << 31}}) {
    SessionOptions o = opts();
    o.*field = v;
    EXPECT_TRUE(validate(o).ok()) << v;
  }
  expect_reopens(before);
}

TEST_P(SessionBadInput, secondWriterIsWriterConflictAndTheFirstKeepsWorking) {
  auto first = Session::open(opts());
  ASSERT_TRUE(first.ok()) << first.error();
  seed(*first, kSeeded);
  const StoreSnapshot before = take_snapshot(first->log());
  const auto files = st_.files();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto second = Session::open(opts());
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.code(), Errc::writer_conflict);
    EXPECT_TRUE(names(second.error(), {"'s1'", "already has a writer"}));
  }
  expect_unchanged(before, files);
  expect_still_appends(*first, before);
  // The refused opens held nothing: once the first writer is gone a new one opens and continues.
  const StoreSnapshot now = take_snapshot(first->log());
  ASSERT_TRUE(first->stop().ok());
  first = Session::open(opts("other"));  // destroys the old core, releasing the writer
  expect_reopens(now);
}

// ---------------------------------------------------------------------------------------------
// Session::producer

TEST_P(SessionBadInput, producerBeyondMaxProducersIsValidationErrorNamingItUntilOneIsReleased) {
  SessionOptions o = opts();
  o.max_producers = 3;  // the session's shared producer (append/append_wait) is one of them
  auto s = Session::open(o);
  ASSERT_TRUE(s.ok()) << s.error();
  seed(*s, kSeeded);
  const StoreSnapshot before = take_snapshot(s->log());
  auto p1 = s->producer();
  auto p2 = s->producer();
  ASSERT_TRUE(p1.ok() && p2.ok());
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto p3 = s->producer();
    ASSERT_FALSE(p3.ok());
    EXPECT_EQ(p3.code(), Errc::validation_error);
    EXPECT_TRUE(names(p3.error(), {"max_producers = 3", "'s1'"}));
  }
  EXPECT_TRUE(same_contents(before, take_snapshot(s->log())));
  { Producer gone = std::move(*p1); }
  auto p3 = s->producer();
  ASSERT_TRUE(p3.ok()) << p3.error();
  expect_still_appends(*s, before);
}

TEST_P(SessionBadInput, producerAfterStopIsStoppedAndStoreUnchanged) {
  auto s = Session::open(opts());
  ASSERT_TRUE(s.ok());
  seed(*s, kSeeded);
  const StoreSnapshot before = take_snapshot(s->log());
  ASSERT_TRUE(s->stop().ok());
  const auto files = st_.files();
  auto p = s->producer();
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.code(), Errc::stopped);
  EXPECT_TRUE(names(p.error(), {"'s1'", "stopped"}));
  EXPECT_TRUE(same_contents(before, take_snapshot(s->log())));
  s = Session::open(opts("other"));  // releases s1's writer
  expect_unchanged(before, files);
  expect_reopens(before);
}

// ---------------------------------------------------------------------------------------------
// Session::subscribe / subscribe_push

TEST_P(SessionBadInput, fromSequenceAboveMaxSequenceIsValidationErrorInBothSubscribeCalls) {
  auto s = Session::open(opts());
  ASSERT_TRUE(s.ok());
  seed(*s, kSeeded);
  const StoreSnapshot before = take_snapshot(s->log());
  for (Sequence from : {kMaxSequence + 1, kMaxSequence + 2, std::numeric_limits<Sequence>::max()}) {
    SCOPED_TRACE(from);
    SubscribeOptions so;
    so.from_sequence = from;
    auto sub = s->subscribe(so);
    ASSERT_FALSE(sub.ok());
    EXPECT_EQ(sub.code(), Errc::validation_error);
    EXPECT_TRUE(names(sub.error(), {"from_sequence = " + std::to_string(from), "2^62"}));
    auto push = s->subscribe_push(so, [](const EventView&) {});
    ASSERT_FALSE(push.ok());
    EXPECT_EQ(push.code(), Errc::validation_error);
    EXPECT_TRUE(names(push.error(), {"from_sequence = " + std::to_string(from)}));
  }
  EXPECT_EQ(s->stats().subscribers.size(), 0u) << "a refused subscription was registered";
  // kMaxSequence itself is a valid cursor (waits for the future).
  SubscribeOptions edge;
  edge.from_sequence = kMaxSequence;
  auto far = s->subscribe(edge);
  ASSERT_TRUE(far.ok()) << far.error();
  EXPECT_EQ(far->poll([](const EventView&) {}).value(), 0u);
  EXPECT_TRUE(same_contents(before, take_snapshot(s->log())));
  expect_still_appends(*s, before);
  auto all = s->subscribe();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(drain(*all, before.events.size() + 1).size(), before.events.size() + 1);
}

TEST_P(SessionBadInput, filterWithATypeOutsideTheEnumerationIsValidationErrorInBothSubscribeCalls) {
  auto s = Session::open(opts());
  ASSERT_TRUE(s.ok());
  seed(*s, kSeeded);
  const StoreSnapshot before = take_snapshot(s->log());
  for (unsigned raw : {28u, 31u, 32u, 40u, 255u}) {
    SCOPED_TRACE(raw);
    SubscribeOptions so;
    so.filter.type(EventType::message_sent).type(static_cast<EventType>(raw));
    EXPECT_TRUE(so.filter.has_invalid_type());
    auto sub = s->subscribe(so);
    ASSERT_FALSE(sub.ok());
    EXPECT_EQ(sub.code(), Errc::validation_error);
    EXPECT_TRUE(names(sub.error(), {"filter", "not one of the 28 EventType values"}));
    auto push = s->subscribe_push(so, [](const EventView&) {});
    ASSERT_FALSE(push.ok());
    EXPECT_EQ(push.code(), Errc::validation_error);
  }
  SubscribeOptions valid;
  valid.filter.types({EventType::message_sent, EventType::message_received, EventType::message_streamed});
  EXPECT_FALSE(valid.filter.has_invalid_type());
  auto sub = s->subscribe(valid);
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(drain(*sub, before.events.size()).size(), before.events.size());
  EXPECT_TRUE(same_contents(before, take_snapshot(s->log())));
  expect_still_appends(*s, before);
}

TEST_P(SessionBadInput, subscribeAfterStopIsStoppedInBothSubscribeCalls) {
  auto s = Session::open(opts());
  ASSERT_TRUE(s.ok());
  seed(*s, kSeeded);
  const StoreSnapshot before = take_snapshot(s->log());
  ASSERT_TRUE(s->stop().ok());
  auto sub = s->subscribe();
  ASSERT_FALSE(sub.ok());
  EXPECT_EQ(sub.code(), Errc::stopped);
  EXPECT_TRUE(names(sub.error(), {"session 's1' is stopped"}));
  auto push = s->subscribe_push({}, [](const EventView&) {});
  ASSERT_FALSE(push.ok());
  EXPECT_EQ(push.code(), Errc::stopped);
  EXPECT_TRUE(names(push.error(), {"session 's1' is stopped"}));
  EXPECT_TRUE(same_contents(before, take_snapshot(s->log())));
  s = Session::open(opts("other"));
  expect_reopens(before);
}

TEST_P(SessionBadInput, subscribePushWithAnEmptyHandlerIsValidationErrorNamingTheHandler) {
  auto s = Session::open(opts());
  ASSERT_TRUE(s.ok());
  seed(*s, kSeeded);
  const StoreSnapshot before = take_snapshot(s->log());
  auto push = s->subscribe_push({}, PushSubscription::Handler{});
  ASSERT_FALSE(push.ok());
  EXPECT_EQ(push.code(), Errc::validation_error);
  EXPECT_TRUE(names(push.error(), {"handler"}));
  EXPECT_EQ(s->stats().subscribers.size(), 0u);
  EXPECT_TRUE(same_contents(before, take_snapshot(s->log())));
  expect_still_appends(*s, before);
}

INSTANTIATE_TEST_SUITE_P(Stores, SessionBadInput, ::testing::Values(StoreKind::memory, StoreKind::log), kind_name);

// ---------------------------------------------------------------------------------------------
// LogStore only: a damaged session

TEST(SessionLogStoreBadInput, openOfADamagedSessionIsDamagedStoreAndTouchesNoFile) {
  StoreUnderTest st(StoreKind::log);
  {
    auto s = Session::open(options(st.store(), "s1"));
    ASSERT_TRUE(s.ok()) << s.error();
    seed(*s, 20);  // one frame per append_wait: later frames prove the earlier ones were secured
  }
  const auto seg = segment_files(st.root() / "s1").back();
  flip_byte(seg, 32 + 32 + 20);  // inside the first record's payload
  const auto files = st.files();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto s = Session::open(options(st.store(), "s1"));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Errc::damaged_store);
    EXPECT_TRUE(names(s.error(), {"'s1'", seg.string() + " offset 32"}));
  }
  EXPECT_TRUE(files == st.files()) << "a refused open changed the files (it must never cut secured records)";
  // The refused opens released the writer lock: a second LogStore on the root (its own
  // flock) opens the session for writing, here choosing to cut the log at the damage.
  LogStoreOptions repair;
  repair.root = st.root();
  repair.repair_damaged_tail = true;
  auto store = LogStore::open(repair);
  ASSERT_TRUE(store.ok()) << store.error();
  auto s = Session::open(options(*store, "s1"));
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->log().latest_sequence(), 0u);  // the damage was in the first record
}
