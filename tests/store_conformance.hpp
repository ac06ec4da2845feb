// The store conformance suite: the SessionStore / SessionLog contract (docs/store.md "Writing a
// store") as a typed GoogleTest suite that every store must pass.
//
// A store plugs in with a factory type (the StoreFactory concept below) and one line:
//
//   #include "store_conformance.hpp"
//   struct MyStoreFactory {
//     static constexpr bool kDurable = true;        // restart tests run only for durable stores
//     static std::string name() { return "mystore"; }
//     std::shared_ptr<sessionring::SessionStore> open();  // first call: a fresh, empty store;
//                                                         // later calls: the same data, reopened
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(MyStore, StoreConformance, ::testing::Types<MyStoreFactory>);
//
// A store with retention (docs/store.md "Retention") also provides
//     std::shared_ptr<sessionring::SessionStore> open_with_retention(const sessionring::RetentionPolicy&);
// (the same data as open(), with that store-wide policy); the retention tests skip otherwise.
//
// One factory object is made per test (its constructor creates a private temporary location,
// its destructor removes it). Before a second open() the suite releases every handle and the
// store of the first (a "restart"); a durable store must then show the same sessions and events
// and continue their sequences. A non-durable store's open() may return the same instance.
//
// Instantiations in this repository: tests/store_conformance_test.cpp.
#pragma once
#include "log_test_util.hpp"

#include <sessionring/retention_policy.hpp>
#include <sessionring/session_id.hpp>
#include <sessionring/session_store.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace sessionring::test {

template <class F>
concept StoreFactory = std::default_initializable<F> && requires(F& f) {
  { F::kDurable } -> std::convertible_to<bool>;
  { F::name() } -> std::convertible_to<std::string>;
  { f.open() } -> std::convertible_to<std::shared_ptr<SessionStore>>;
};

/// The most events one retention unit (a MemoryStore chunk, a LogStore segment) holds in this
/// suite's tests: a factory's `kRetentionUnitEvents`, 0 for a store that prunes to the event
/// (SqliteStore). Bounds that assume pruning to the event allow this much more.
template <class F>
constexpr Sequence retention_unit_events() {
  if constexpr (requires { F::kRetentionUnitEvents; })
    return F::kRetentionUnitEvents;
  else
    return 0;
}

template <StoreFactory F>
class StoreConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = factory_.open();
    ASSERT_NE(store_, nullptr) << F::name() << ": factory.open() returned no store";
  }

  SessionStore& store() { return *store_; }

  /// Drops the store (the caller must have released its logs) and opens it again.
  void restart() {
    store_.reset();
    store_ = factory_.open();
    ASSERT_NE(store_, nullptr) << F::name() << ": factory.open() after a restart returned no store";
  }

  /// Reopens the store with a retention policy; false when the store has no retention.
  bool reopen_with_retention(const RetentionPolicy& policy) {
    if constexpr (requires(F& f) { { f.open_with_retention(policy) } -> std::convertible_to<std::shared_ptr<SessionStore>>; }) {
      store_.reset();
      store_ = factory_.open_with_retention(policy);
      EXPECT_NE(store_, nullptr);
      return store_ != nullptr;
    } else {
      return false;
    }
  }

  std::shared_ptr<SessionLog> open(std::string_view id, OpenMode mode) {
    auto log = store_->open(id, mode);
    EXPECT_TRUE(log.ok()) << log.error();
    return log.ok() ? *log : nullptr;
  }
  std::shared_ptr<SessionLog> writer(std::string_view id = "s1") { return open(id, OpenMode::write); }

  /// Waits (bounded) until the log has secured `seq`: a store may secure in the background.
  static void await_secured(const SessionLog& log, Sequence seq) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (log.latest_sequence() < seq && std::chrono::steady_clock::now() < deadline)
      (void)log.wait_for(seq - 1, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)));
    ASSERT_GE(log.latest_sequence(), seq) << "sequence " << seq << " never became secured";
  }

  /// Appends test_event(first..first+n-1) in batches of `per_batch` and waits until secured.
  static void append_secured(SessionLog& log, Sequence first, std::size_t n, std::size_t per_batch = 7) {
    append_range(log, first, n, per_batch);
    if (n > 0) await_secured(log, first + n - 1);
  }

  static std::vector<Sequence> seqs(const SessionLog& log, const EventQuery& q) {
    std::vector<Sequence> out;
    Status st = log.read(q, [&](const EventView& v) {
      out.push_back(v.sequence_number);
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.error();
    return out;
  }

  static std::vector<Sequence> range(Sequence a, Sequence b) {
    std::vector<Sequence> v;
    for (Sequence s = a; s <= b; ++s) v.push_back(s);
    return v;
  }

  F factory_;
  std::shared_ptr<SessionStore> store_;
};

TYPED_TEST_SUITE_P(StoreConformance);

inline EventQuery after_query(Sequence after) {
  EventQuery q;
  q.after = after;
  return q;
}

// INV-1: a batch is accepted only when it continues written_sequence(); anything else is
// sequence_conflict naming the session, and stores nothing.
TYPED_TEST_P(StoreConformance, appendNotContinuingTheWrittenSequenceIsSequenceConflictAndStoresNothing) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->latest_sequence(), 0u);
  EXPECT_EQ(log->written_sequence(), 0u);
  for (Sequence bad : {Sequence{0}, Sequence{2}, Sequence{100}}) {
    auto b = make_batch(bad, 1);
    Status st = log->append(b.batch());
    EXPECT_EQ(st.code(), Errc::sequence_conflict) << "first_sequence " << bad;
  }
  this->append_secured(*log, 1, 10, 3);
  for (Sequence bad : {Sequence{1}, Sequence{10}, Sequence{12}, Sequence{1000}}) {
    auto b = make_batch(bad, 2);
    Status st = log->append(b.batch());
    ASSERT_EQ(st.code(), Errc::sequence_conflict) << "first_sequence " << bad;
    EXPECT_NE(st.error().message().find("s1"), std::string::npos) << st.error();
  }
  EXPECT_EQ(log->written_sequence(), 10u);
  EXPECT_EQ(this->seqs(*log, {}), this->range(1, 10));
  this->append_secured(*log, 11, 1);
  expect_events_1_to_n(*log, 11);
}

// A retried batch (the sequencer retrying after a timeout it misread, or a second writer) can
// never store an event twice: the same sequences again are sequence_conflict.
TYPED_TEST_P(StoreConformance, retriedBatchIsRefusedAndNeverDuplicatesAnEvent) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  auto b = make_batch(1, 5);
  ASSERT_TRUE(log->append(b.batch()));
  EXPECT_EQ(log->append(b.batch()).code(), Errc::sequence_conflict);
  this->await_secured(*log, 5);
  expect_events_1_to_n(*log, 5);
}

TYPED_TEST_P(StoreConformance, emptyBatchIsAcceptedAndStoresNothing) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  TestBatch empty({});
  EXPECT_TRUE(log->append(empty.batch()));
  EXPECT_EQ(log->written_sequence(), 0u);
  EXPECT_EQ(log->latest_sequence(), 0u);
  EXPECT_TRUE(this->seqs(*log, {}).empty());
}

TYPED_TEST_P(StoreConformance, batchWithDifferentCountsOfEventsAndRecordsIsValidationErrorAndStoresNothing) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  auto b = make_batch(1, 3);
  AppendBatch bad = b.batch();
  bad.records = bad.records.first(2);
  EXPECT_EQ(log->append(bad).code(), Errc::validation_error);
  EXPECT_EQ(log->written_sequence(), 0u);
  this->append_secured(*log, 1, 3);
  expect_events_1_to_n(*log, 3);
}

// Every field of every event (type, ids, timestamps, payloads, schema version) is read back
// exactly as appended, with the session id of the log.
TYPED_TEST_P(StoreConformance, everyFieldRoundTripsThroughReadAndFindById) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  this->append_secured(*log, 1, 60, 11);
  expect_events_1_to_n(*log, 60);
  for (Sequence s : {Sequence{1}, Sequence{30}, Sequence{60}}) {
    auto e = log->find_by_id("evt-" + std::to_string(s));
    ASSERT_TRUE(e.ok()) << e.error();
    Event want = test_event(s);
    want.session_id = "s1";
    EXPECT_EQ(*e, want);
  }
}

// The dedupe lookup the sequencer relies on (INV-6): find_by_id finds each stored id, also ids
// appended after an earlier lookup, and reports an unknown id as not_found naming it.
TYPED_TEST_P(StoreConformance, findByIdFindsEveryStoredIdAndUnknownIsNotFoundNamingIt) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  this->append_secured(*log, 1, 20);
  auto missing = log->find_by_id("evt-21");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.code(), Errc::not_found);
  EXPECT_NE(missing.error().message().find("evt-21"), std::string::npos) << missing.error();
  this->append_secured(*log, 21, 20);
  for (Sequence s = 1; s <= 40; ++s) {
    auto e = log->find_by_id("evt-" + std::to_string(s));
    ASSERT_TRUE(e.ok()) << "evt-" << s << ": " << e.error();
    EXPECT_EQ(e->sequence_number, s);
  }
  EXPECT_EQ(log->find_by_id("").code(), Errc::not_found);
  EXPECT_EQ(log->find_by_id("evt-0").code(), Errc::not_found);
}

TYPED_TEST_P(StoreConformance, readsHonourAfterBeforeAndLimit) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  this->append_secured(*log, 1, 50);
  EXPECT_EQ(this->seqs(*log, {}), this->range(1, 50));
  EventQuery q;
  q.after = 10;
  EXPECT_EQ(this->seqs(*log, q), this->range(11, 50));
  q.before = 20;
  EXPECT_EQ(this->seqs(*log, q), this->range(11, 19));
  q.limit = 4;
  EXPECT_EQ(this->seqs(*log, q), this->range(11, 14));
  q = {};
  q.after = 49;
  EXPECT_EQ(this->seqs(*log, q), this->range(50, 50));
  q.after = 50;
  EXPECT_TRUE(this->seqs(*log, q).empty());
}

// Filters apply before the limit: `limit` counts matching events.
TYPED_TEST_P(StoreConformance, readsFilterByTypeAndRunBeforeTheLimit) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  this->append_secured(*log, 1, 120, 13);
  std::vector<Sequence> run1, run1_limited, typed, both;
  const EventType t = test_event(5).type;
  const EventType u = test_event(9).type;
  for (Sequence s = 1; s <= 120; ++s) {
    const Event e = test_event(s);
    if (e.run_id == "run-1") run1.push_back(s);
    if (e.type == t || e.type == u) typed.push_back(s);
    if (e.run_id == "run-1" && (e.type == t || e.type == u)) both.push_back(s);
  }
  run1_limited.assign(run1.begin(), run1.begin() + 5);
  EventQuery q;
  q.filter.run_id("run-1");
  EXPECT_EQ(this->seqs(*log, q), run1);
  q.limit = 5;
  EXPECT_EQ(this->seqs(*log, q), run1_limited);
  EventQuery by_type;
  by_type.filter.types({t, u});
  EXPECT_EQ(this->seqs(*log, by_type), typed);
  by_type.filter.run_id("run-1");
  EXPECT_EQ(this->seqs(*log, by_type), both);
  EventQuery none;
  none.filter.run_id("no-such-run");
  EXPECT_TRUE(this->seqs(*log, none).empty());
}

TYPED_TEST_P(StoreConformance, readVisitorReturningFalseStopsTheRead) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  this->append_secured(*log, 1, 30);
  std::vector<Sequence> got;
  Status st = log->read(EventQuery{}, [&](const EventView& v) {
    got.push_back(v.sequence_number);
    return got.size() < 3;
  });
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(got, this->range(1, 3));
}

TYPED_TEST_P(StoreConformance, readOfAnEmptyOrInvertedRangeIsOkAndVisitsNothing) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  this->append_secured(*log, 1, 10);
  const Sequence max = std::numeric_limits<Sequence>::max();
  for (auto [after, before] : {std::pair{Sequence{3}, Sequence{3}}, std::pair{Sequence{3}, Sequence{4}},
                               std::pair{Sequence{4}, Sequence{2}}, std::pair{Sequence{10}, max},
                               std::pair{max, max}, std::pair{max - 1, max}, std::pair{Sequence{0}, Sequence{0}},
                               std::pair{Sequence{0}, Sequence{1}}}) {
    SCOPED_TRACE(std::to_string(after) + " < s < " + std::to_string(before));
    EventQuery q;
    q.after = after;
    q.before = before;
    EXPECT_TRUE(this->seqs(*log, q).empty());
  }
}

// INV-2: latest_sequence() never runs ahead of written_sequence(), reads never expose a
// sequence above latest_sequence(), and everything written becomes secured.
TYPED_TEST_P(StoreConformance, readsExposeOnlySecuredEventsAndEverythingWrittenBecomesSecured) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  for (Sequence first = 1; first <= 200; first += 10) {
    auto b = make_batch(first, 10);
    ASSERT_TRUE(log->append(b.batch()));
    EXPECT_EQ(log->written_sequence(), first + 9);
    const Sequence latest_before = log->latest_sequence();
    EXPECT_LE(latest_before, log->written_sequence());
    std::vector<Sequence> got = this->seqs(*log, {});
    const Sequence latest_after = log->latest_sequence();
    ASSERT_LE(got.size(), latest_after) << "a read exposed an unsecured sequence";
    EXPECT_GE(got.size(), latest_before) << "a read missed secured sequences";
    EXPECT_EQ(got, this->range(1, got.size()));
  }
  this->await_secured(*log, 200);
  EXPECT_EQ(log->latest_sequence(), 200u);
  expect_events_1_to_n(*log, 200);
}

TYPED_TEST_P(StoreConformance, waitForReturnsAtOnceWhenNewerIsSecuredAndTheLatestAfterTheDeadline) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  this->append_secured(*log, 1, 5);
  auto r = log->wait_for(3, std::chrono::steady_clock::now() + std::chrono::seconds(30));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, 5u);
  const auto t0 = std::chrono::steady_clock::now();
  r = log->wait_for(5, t0 + std::chrono::milliseconds(30));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, 5u);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(30));
  r = log->wait_for(5, t0 - std::chrono::seconds(1));  // a deadline already passed
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, 5u);
}

TYPED_TEST_P(StoreConformance, waitForWakesWhenAnotherThreadAppends) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  auto reader = this->open("s1", OpenMode::read);
  ASSERT_NE(reader, nullptr);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto b = make_batch(1, 1);
    EXPECT_TRUE(log->append(b.batch()));
  });
  auto r = reader->wait_for(0, std::chrono::steady_clock::now() + std::chrono::seconds(30));
  t.join();
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, 1u);
}

// One writer per session: a second write open is writer_conflict until the first is released;
// read handles work meanwhile, see the writer's events and refuse appends.
TYPED_TEST_P(StoreConformance, oneWriterPerSessionAndReadHandlesSeeItsEventsButCannotAppend) {
  auto w = this->writer();
  ASSERT_NE(w, nullptr);
  auto second = this->store().open("s1", OpenMode::write);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), Errc::writer_conflict);
  auto r = this->open("s1", OpenMode::read);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->session_id(), "s1");
  this->append_secured(*w, 1, 4);
  this->await_secured(*r, 4);
  expect_events_1_to_n(*r, 4);
  auto b = make_batch(5, 1);
  EXPECT_EQ(r->append(b.batch()).code(), Errc::validation_error);
  EXPECT_NE(this->writer("s2"), nullptr) << "another session has its own writer";
  w.reset();
  auto again = this->writer();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->written_sequence(), 4u) << "a new writer continues the same history";
}

TYPED_TEST_P(StoreConformance, readOpenOfAMissingSessionIsNotFoundAndCreatesNothing) {
  auto r = this->store().open("nope", OpenMode::read);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::not_found);
  auto list = this->store().list_sessions();
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_TRUE(list->empty());
}

TYPED_TEST_P(StoreConformance, invalidSessionIdIsInvalidSessionIdInBothModesAndCreatesNothing) {
  for (std::string_view bad : {std::string_view(""), std::string_view(".."), std::string_view("a/b"),
                               std::string_view("a\\b"), std::string_view(".hidden"), std::string_view("x\ny")}) {
    for (OpenMode mode : {OpenMode::read, OpenMode::write}) {
      auto r = this->store().open(bad, mode);
      ASSERT_FALSE(r.ok()) << "'" << bad << "'";
      EXPECT_EQ(r.code(), Errc::invalid_session_id) << "'" << bad << "'";
    }
  }
  const std::string long_id(200, 'a');
  EXPECT_EQ(this->store().open(long_id, OpenMode::write).code(), Errc::invalid_session_id);
  auto list = this->store().list_sessions();
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_TRUE(list->empty());
}

TYPED_TEST_P(StoreConformance, listSessionsIsSortedAndHoldsEveryWrittenSession) {
  for (const char* id : {"zeta", "alpha", "mid-1", "mid-0"}) {
    auto w = this->writer(id);
    ASSERT_NE(w, nullptr);
    this->append_secured(*w, 1, 2);
  }
  auto list = this->store().list_sessions();
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_EQ(*list, (std::vector<std::string>{"alpha", "mid-0", "mid-1", "zeta"}));
}

TYPED_TEST_P(StoreConformance, sessionsAreIndependent) {
  auto a = this->writer("a");
  auto b = this->writer("b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  this->append_secured(*a, 1, 30);
  this->append_secured(*b, 1, 5);
  expect_events_1_to_n(*a, 30);
  expect_events_1_to_n(*b, 5);
  EXPECT_EQ(b->find_by_id("evt-20").code(), Errc::not_found);
}

// INV-1/INV-4 under concurrency: readers (by range and by id) running while the writer appends
// always see a contiguous, unaltered prefix and never stall it.
TYPED_TEST_P(StoreConformance, concurrentReadersDuringAppendsSeeContiguousUnalteredPrefixes) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  auto reader = this->open("s1", OpenMode::read);
  ASSERT_NE(reader, nullptr);
  constexpr Sequence kTotal = 3000;
  std::atomic<bool> done{false};  // writer: the test thread at the end; readers: loop exit
  std::atomic<int> failures{0};   // writer/reader: reader threads count failed checks
  auto read_loop = [&](const SessionLog& r, unsigned salt) {
    Sequence seen_latest = 0;
    unsigned x = salt;
    while (!done.load(std::memory_order_relaxed)) {  // relaxed: only a stop flag
      const Sequence latest = r.latest_sequence();
      if (latest < seen_latest) failures.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
      seen_latest = latest;
      x = x * 1103515245u + 12345u;
      EventQuery q;
      q.after = latest == 0 ? 0 : (x >> 8) % latest;
      Sequence expect = q.after + 1;
      Status st = r.read(q, [&](const EventView& v) {
        Event want = test_event(expect);
        want.session_id = "s1";
        if (v.sequence_number != expect || !(v.to_event() == want)) {
          failures.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
          return false;
        }
        ++expect;
        return true;
      });
      if (!st || expect - 1 < latest) failures.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
      if (latest > 0) {
        const Sequence s = 1 + (x >> 4) % latest;
        auto e = r.find_by_id("evt-" + std::to_string(s));
        if (!e || e->sequence_number != s) failures.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
      }
    }
  };
  std::thread r1(read_loop, std::cref(*reader), 1u);
  std::thread r2(read_loop, std::cref(*log), 2u);
  append_range(*log, 1, kTotal, 17);
  this->await_secured(*log, kTotal);
  done.store(true, std::memory_order_relaxed);  // relaxed: only a stop flag
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
  expect_events_1_to_n(*reader, kTotal);
}

// Durable stores (F::kDurable): after a restart (every handle and the store released, the
// store reopened) the sessions, every event and the secured sequence are back, and a writer
// continues at latest + 1 (INV-1 across restarts).
TYPED_TEST_P(StoreConformance, restartKeepsEveryEventAndContinuesTheSequence) {
  if constexpr (!TypeParam::kDurable) {
    GTEST_SKIP() << TypeParam::name() << " is not durable";
  } else {
    {
      auto a = this->writer("a");
      auto b = this->writer("b");
      ASSERT_NE(a, nullptr);
      ASSERT_NE(b, nullptr);
      this->append_secured(*a, 1, 100, 9);
      this->append_secured(*b, 1, 3);
    }
    this->restart();
    auto list = this->store().list_sessions();
    ASSERT_TRUE(list.ok()) << list.error();
    EXPECT_EQ(*list, (std::vector<std::string>{"a", "b"}));
    {
      auto r = this->open("a", OpenMode::read);
      ASSERT_NE(r, nullptr);
      EXPECT_EQ(r->latest_sequence(), 100u);
      expect_events_1_to_n(*r, 100);
      auto w = this->writer("a");
      ASSERT_NE(w, nullptr);
      EXPECT_EQ(w->written_sequence(), 100u);
      auto stale = make_batch(1, 1);
      EXPECT_EQ(w->append(stale.batch()).code(), Errc::sequence_conflict);
      this->append_secured(*w, 101, 10);
      auto e = w->find_by_id("evt-50");
      ASSERT_TRUE(e.ok()) << e.error();
      EXPECT_EQ(e->sequence_number, 50u);
    }
    this->restart();
    auto r = this->open("a", OpenMode::read);
    ASSERT_NE(r, nullptr);
    expect_events_1_to_n(*r, 110);
    auto b = this->open("b", OpenMode::read);
    ASSERT_NE(b, nullptr);
    expect_events_1_to_n(*b, 3);
  }
}

// A store without a retention policy never prunes: the first available sequence stays 1.
TYPED_TEST_P(StoreConformance, withoutRetentionTheFirstAvailableSequenceStaysOne) {
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->first_sequence(), 1u);
  this->append_secured(*log, 1, 3000, 64);
  EXPECT_EQ(log->first_sequence(), 1u);
  expect_events_1_to_n(*log, 3000);
}

// Retention (max_events): at least the newest max_events stay; the front goes in whole units
// of at least prune_unit (a store pruning by chunks or segments keeps up to one unit more); what is left is contiguous first..latest, every field intact.
TYPED_TEST_P(StoreConformance, retentionKeepsTheNewestMaxEventsAndPrunesWholeUnitsFromTheFront) {
  RetentionPolicy p;
  p.max_events = 100;
  p.prune_unit = 50;
  if (!this->reopen_with_retention(p)) GTEST_SKIP() << TypeParam::name() << " has no retention";
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  auto reader = this->open("s1", OpenMode::read);
  ASSERT_NE(reader, nullptr);
  Sequence prev_first = 1;
  for (Sequence first = 1; first <= 1000; first += 7) {
    const std::size_t n = std::min<Sequence>(7, 1001 - first);
    this->append_secured(*log, first, n, 7);
    const Sequence latest = first + n - 1;
    for (const SessionLog* l : {log.get(), reader.get()}) {
      const Sequence f = l->first_sequence();
      ASSERT_GE(f, prev_first) << "first_sequence went back";
      ASSERT_GE(latest - f + 1, std::min<Sequence>(latest, 100)) << "pruned below max_events";
      ASSERT_LT(latest - f + 1, 100u + 50u + retention_unit_events<TypeParam>())
          << "kept more than max_events + prune_unit (+ one unit)";
      if (f > prev_first) {
        EXPECT_GE(f - prev_first, 50u) << "a prune smaller than prune_unit";
      }
      prev_first = f;
    }
  }
  const Sequence f = log->first_sequence();
  EXPECT_GT(f, 1u);
  EventQuery q;
  q.after = f - 1;
  Sequence expect = f;
  Status st = reader->read(q, [&](const EventView& v) {
    Event want = test_event(expect);
    want.session_id = "s1";
    EXPECT_EQ(v.to_event(), want);
    ++expect;
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(expect, 1001u);
  EXPECT_EQ(reader->find_by_id("evt-1").code(), Errc::not_found) << "a pruned event is still found by id";
  auto kept = reader->find_by_id("evt-" + std::to_string(f));
  ASSERT_TRUE(kept.ok()) << kept.error();
}

// A read asking for a pruned sequence is Errc::pruned naming the first available one (never a
// silent skip); reads from the first available on succeed.
TYPED_TEST_P(StoreConformance, readOfAPrunedSequenceIsPrunedNamingTheFirstAvailable) {
  RetentionPolicy p;
  p.max_events = 20;
  p.prune_unit = 10;
  if (!this->reopen_with_retention(p)) GTEST_SKIP() << TypeParam::name() << " has no retention";
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  this->append_secured(*log, 1, 200, 5);
  const Sequence f = log->first_sequence();
  ASSERT_GT(f, 1u);
  for (Sequence after : {Sequence{0}, Sequence{1}, f - 2}) {
    int visited = 0;
    Status st = log->read(after_query(after), [&](const EventView&) {
      ++visited;
      return true;
    });
    ASSERT_EQ(st.code(), Errc::pruned) << "after " << after;
    EXPECT_NE(st.error().message().find("first available is " + std::to_string(f)), std::string::npos) << st.error();
    EXPECT_EQ(visited, 0);
  }
  EXPECT_EQ(this->seqs(*log, after_query(f - 1)), this->range(f, 200));
}

// max_age: the prefix older than max_age goes, the young rest stays.
TYPED_TEST_P(StoreConformance, retentionByAgePrunesTheOldPrefixAndKeepsTheYoungEvents) {
  RetentionPolicy p;
  p.max_age = std::chrono::hours(1);
  if (!this->reopen_with_retention(p)) GTEST_SKIP() << TypeParam::name() << " has no retention";
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<Event> events;
  for (Sequence s = 1; s <= 60; ++s) {
    Event e = test_event(s);
    e.timestamp_ns = s <= 50 ? now - std::int64_t{7200} * 1'000'000'000 : now;
    events.push_back(std::move(e));
  }
  TestBatch b(std::move(events));
  ASSERT_TRUE(log->append(b.batch()));
  this->await_secured(*log, 60);
  // A store that prunes whole units keeps the old events sharing a unit with young ones.
  const Sequence first = log->first_sequence();
  EXPECT_LE(first, 51u) << "a young event was pruned";
  EXPECT_GE(first + retention_unit_events<TypeParam>(), 51u) << "old events beyond a unit were kept";
  EXPECT_GT(first, 1u) << "nothing was pruned";
  EXPECT_EQ(this->seqs(*log, after_query(first - 1)), this->range(first, 60));
}

// INV-1 across retention and restarts: the first available sequence persists, and a writer
// continues after the last sequence even when retention pruned everything.
TYPED_TEST_P(StoreConformance, sequencesNeverRestartAfterPruningAndRestart) {
  if constexpr (!TypeParam::kDurable) {
    GTEST_SKIP() << TypeParam::name() << " is not durable";
  } else {
    RetentionPolicy p;
    p.max_events = 10;
    p.prune_unit = 5;
    if (!this->reopen_with_retention(p)) GTEST_SKIP() << TypeParam::name() << " has no retention";
    Sequence first = 0;
    {
      auto log = this->writer();
      ASSERT_NE(log, nullptr);
      this->append_secured(*log, 1, 100, 3);
      first = log->first_sequence();
      ASSERT_GT(first, 1u);
    }
    ASSERT_TRUE(this->reopen_with_retention(p));
    {
      auto r = this->open("s1", OpenMode::read);
      ASSERT_NE(r, nullptr);
      EXPECT_EQ(r->first_sequence(), first);
      EXPECT_EQ(r->latest_sequence(), 100u);
      auto w = this->writer();
      ASSERT_NE(w, nullptr);
      EXPECT_EQ(w->written_sequence(), 100u);
      this->append_secured(*w, 101, 5);
    }
    RetentionPolicy everything_old;
    everything_old.max_age = std::chrono::seconds(1);  // test events are from 2023: all older
    ASSERT_TRUE(this->reopen_with_retention(everything_old));
    {
      auto w = this->writer();
      ASSERT_NE(w, nullptr);
      this->append_secured(*w, 106, 1);
      EXPECT_EQ(w->first_sequence(), 107u) << "every event was older than max_age";
    }
    ASSERT_TRUE(this->reopen_with_retention(everything_old));
    auto w = this->writer();
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->written_sequence(), 106u) << "the sequence restarted after everything was pruned";
    auto stale = make_batch(1, 1);
    EXPECT_EQ(w->append(stale.batch()).code(), Errc::sequence_conflict);
  }
}

REGISTER_TYPED_TEST_SUITE_P(StoreConformance,
                            appendNotContinuingTheWrittenSequenceIsSequenceConflictAndStoresNothing,
                            retriedBatchIsRefusedAndNeverDuplicatesAnEvent, emptyBatchIsAcceptedAndStoresNothing,
                            batchWithDifferentCountsOfEventsAndRecordsIsValidationErrorAndStoresNothing,
                            everyFieldRoundTripsThroughReadAndFindById,
                            findByIdFindsEveryStoredIdAndUnknownIsNotFoundNamingIt, readsHonourAfterBeforeAndLimit,
                            readsFilterByTypeAndRunBeforeTheLimit, readVisitorReturningFalseStopsTheRead,
                            readOfAnEmptyOrInvertedRangeIsOkAndVisitsNothing,
                            readsExposeOnlySecuredEventsAndEverythingWrittenBecomesSecured,
                            waitForReturnsAtOnceWhenNewerIsSecuredAndTheLatestAfterTheDeadline,
                            waitForWakesWhenAnotherThreadAppends,
                            oneWriterPerSessionAndReadHandlesSeeItsEventsButCannotAppend,
                            readOpenOfAMissingSessionIsNotFoundAndCreatesNothing,
                            invalidSessionIdIsInvalidSessionIdInBothModesAndCreatesNothing,
                            listSessionsIsSortedAndHoldsEveryWrittenSession, sessionsAreIndependent,
                            concurrentReadersDuringAppendsSeeContiguousUnalteredPrefixes,
                            restartKeepsEveryEventAndContinuesTheSequence,
                            withoutRetentionTheFirstAvailableSequenceStaysOne,
                            retentionKeepsTheNewestMaxEventsAndPrunesWholeUnitsFromTheFront,
                            readOfAPrunedSequenceIsPrunedNamingTheFirstAvailable,
                            retentionByAgePrunesTheOldPrefixAndKeepsTheYoungEvents,
                            sequencesNeverRestartAfterPruningAndRestart);

}  // namespace sessionring::test
