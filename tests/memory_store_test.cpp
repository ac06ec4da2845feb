// MemoryStore (engine/memory_store.cpp): the SessionStore/SessionLog contract (docs/store.md):
// append continuity (sequence_conflict), one writer (writer_conflict), reads by
// after/before/filter/limit, find_by_id, the wait_for long poll, session id validation.
#include "oracle.hpp"

#include "detail/published_array.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace sessionring;
using namespace sessionring::test;

namespace {

std::shared_ptr<SessionLog> writer(MemoryStore& store, std::string_view id = "s1") {
  auto log = store.open(id, OpenMode::write);
  EXPECT_TRUE(log.ok()) << log.error();
  return log.ok() ? *log : nullptr;
}

// Appends events first..last: type cycles over the 28 types, run "r<seq % 3>".
void append_range(SessionLog& log, Sequence first, Sequence last) {
  BatchBuilder b(first);
  for (Sequence s = first; s <= last; ++s)
    b.add(static_cast<EventType>(s % kEventTypeCount), "r" + std::to_string(s % 3), "d" + std::to_string(s));
  Status st = log.append(b.batch());
  ASSERT_TRUE(st.ok()) << st.error();
}

std::vector<Sequence> read_seqs(const SessionLog& log, const EventQuery& q) {
  auto r = log.read(q);
  EXPECT_TRUE(r.ok()) << r.error();
  std::vector<Sequence> out;
  if (r.ok())
    for (const Event& e : *r) out.push_back(e.sequence_number);
  return out;
}

std::vector<Sequence> range(Sequence a, Sequence b) {
  std::vector<Sequence> v;
  for (Sequence s = a; s <= b; ++s) v.push_back(s);
  return v;
}

}  // namespace

TEST(MemoryStore, appendMustContinueTheLatestSequence) {
  auto store = MemoryStore::create();
  auto log = writer(*store);
  EXPECT_EQ(log->latest_sequence(), 0u);

  BatchBuilder starts_at_2(2);
  starts_at_2.add(EventType::run_started, "r", "x");
  EXPECT_EQ(log->append(starts_at_2.batch()).code(), Errc::sequence_conflict);
  EXPECT_EQ(log->latest_sequence(), 0u);

  append_range(*log, 1, 5);
  EXPECT_EQ(log->latest_sequence(), 5u);

  for (Sequence bad : {Sequence{1}, Sequence{5}, Sequence{7}, Sequence{1000}}) {
    BatchBuilder b(bad);
    b.add(EventType::run_started, "r", "x");
    Status st = log->append(b.batch());
    EXPECT_EQ(st.code(), Errc::sequence_conflict) << "first_sequence " << bad;
    EXPECT_NE(st.error().message().find("s1"), std::string::npos) << st.error();
  }
  EXPECT_EQ(log->latest_sequence(), 5u);
  // A refused batch stored nothing: the history is still exactly 1..5.
  EXPECT_EQ(read_seqs(*log, {}), range(1, 5));
  append_range(*log, 6, 6);
  EXPECT_EQ(log->latest_sequence(), 6u);
}

TEST(MemoryStore, emptyBatchIsAcceptedAndStoresNothing) {
  auto store = MemoryStore::create();
  auto log = writer(*store);
  BatchBuilder empty(1);
  EXPECT_TRUE(log->append(empty.batch()).ok());
  EXPECT_EQ(log->latest_sequence(), 0u);
}

TEST(MemoryStore, secondWriterIsAWriterConflictUntilTheFirstCloses) {
  auto store = MemoryStore::create();
  auto first = writer(*store);
  auto second = store->open("s1", OpenMode::write);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), Errc::writer_conflict);
  // Readers are fine while a writer is open, and see its appends.
  auto reader = store->open("s1", OpenMode::read);
  ASSERT_TRUE(reader.ok()) << reader.error();
  append_range(*first, 1, 3);
  EXPECT_EQ((*reader)->latest_sequence(), 3u);
  // Another session is independent.
  EXPECT_TRUE(store->open("s2", OpenMode::write).ok());
  first.reset();
  auto third = store->open("s1", OpenMode::write);
  ASSERT_TRUE(third.ok()) << third.error();
  EXPECT_EQ((*third)->latest_sequence(), 3u);  // the new writer continues the same history
}

TEST(MemoryStore, readHandleCannotAppend) {
  auto store = MemoryStore::create();
  auto w = writer(*store);
  auto r = store->open("s1", OpenMode::read);
  ASSERT_TRUE(r.ok());
  BatchBuilder b(1);
  b.add(EventType::run_started, "r", "x");
  EXPECT_EQ((*r)->append(b.batch()).code(), Errc::validation_error);
  EXPECT_EQ(w->latest_sequence(), 0u);
}

TEST(MemoryStore, readOfAMissingSessionIsNotFound) {
  auto store = MemoryStore::create();
  EXPECT_EQ(store->open("nope", OpenMode::read).code(), Errc::not_found);
  auto list = store->list_sessions();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());  // a failed read open creates nothing
}

TEST(MemoryStore, invalidSessionIdsAreRejected) {
  auto store = MemoryStore::create();
  const std::string too_long(kMaxSessionIdBytes + 1, 'a');
  for (std::string_view bad : {std::string_view(""), std::string_view(".hidden"), std::string_view("a/b"),
                               std::string_view("a\\b"), std::string_view("a..b"), std::string_view(".."),
                               std::string_view("tab\there"), std::string_view("sp ace"),
                               std::string_view(too_long), std::string_view("nul\0x", 5)}) {
    for (OpenMode mode : {OpenMode::write, OpenMode::read}) {
      auto r = store->open(bad, mode);
      EXPECT_EQ(r.code(), Errc::invalid_session_id) << "'" << bad << "'";
    }
  }
  EXPECT_TRUE(store->open(std::string(kMaxSessionIdBytes, 'a'), OpenMode::write).ok());
  EXPECT_TRUE(store->open("A-z_0.9:x", OpenMode::write).ok());
}

TEST(MemoryStore, listSessionsIsSorted) {
  auto store = MemoryStore::create();
  for (const char* id : {"zeta", "alpha", "mid"}) ASSERT_TRUE(store->open(id, OpenMode::write).ok());
  auto list = store->list_sessions();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::string>{"alpha", "mid", "zeta"}));
  EXPECT_EQ(store->kind(), "memory");
}

TEST(MemoryStore, readHonoursAfterBeforeAndLimit) {
  auto store = MemoryStore::create();
  auto log = writer(*store);
  append_range(*log, 1, 50);
  EventQuery q;
  EXPECT_EQ(read_seqs(*log, q), range(1, 50));
  q.after = 10;
  EXPECT_EQ(read_seqs(*log, q), range(11, 50));
  q.before = 20;
  EXPECT_EQ(read_seqs(*log, q), range(11, 19));
  q.limit = 3;
  EXPECT_EQ(read_seqs(*log, q), range(11, 13));
  q = {};
  q.after = 50;
  EXPECT_TRUE(read_seqs(*log, q).empty());
  q.after = 1000;
  EXPECT_TRUE(read_seqs(*log, q).empty());
  q.after = std::numeric_limits<Sequence>::max();  // no wrap-around to the start
  EXPECT_TRUE(read_seqs(*log, q).empty());
  q = {};
  q.before = 1;
  EXPECT_TRUE(read_seqs(*log, q).empty());
  q.before = 0;
  EXPECT_TRUE(read_seqs(*log, q).empty());
  q = {};
  q.after = 5;
  q.before = 6;
  EXPECT_TRUE(read_seqs(*log, q).empty());
  q.before = 7;
  EXPECT_EQ(read_seqs(*log, q), std::vector<Sequence>{6});
}

TEST(MemoryStore, readFiltersByRunAndTypeBeforeTheLimit) {
  auto store = MemoryStore::create();
  auto log = writer(*store);
  append_range(*log, 1, 200);
  auto expect_filtered = [&](const EventFilter& f, std::size_t limit) {
    std::vector<Sequence> want;
    for (Sequence s = 1; s <= 200 && (limit == 0 || want.size() < limit); ++s) {
      const auto t = static_cast<EventType>(s % kEventTypeCount);
      if (f.matches_type(t) && f.matches_run("r" + std::to_string(s % 3))) want.push_back(s);
    }
    EventQuery q;
    q.filter = f;
    q.limit = limit;
    EXPECT_EQ(read_seqs(*log, q), want);
    EXPECT_FALSE(want.empty());
  };
  for (std::size_t limit : {std::size_t{0}, std::size_t{4}}) {
    expect_filtered(EventFilter().run_id("r1"), limit);
    expect_filtered(EventFilter().run_id("r1").run_id("r2"), limit);
    expect_filtered(EventFilter().type(EventType::message_streamed), limit);
    expect_filtered(EventFilter().types({EventType::run_started, EventType::tool_call_failed}), limit);
    expect_filtered(EventFilter().run_id("r0").types({EventType::run_started, EventType::session_created}), limit);
  }
  EventQuery none;
  none.filter.run_id("no-such-run");
  EXPECT_TRUE(read_seqs(*log, none).empty());
}

TEST(MemoryStore, readVisitorCanStopEarly) {
  auto store = MemoryStore::create();
  auto log = writer(*store);
  append_range(*log, 1, 10);
  int calls = 0;
  Status st = log->read(EventQuery{}, [&](const EventView& v) {
    ++calls;
    return v.sequence_number < 4;
  });
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(calls, 4);
}

TEST(MemoryStore, readReturnsEveryFieldAsAppended) {
  auto store = MemoryStore::create();
  auto log = writer(*store, "fields");
  BatchBuilder b(1);
  b.add(EventType::tool_call_completed, "run-x", std::string(5000, 'z'), "the-id");
  ASSERT_TRUE(log->append(b.batch()).ok());
  auto r = log->read(EventQuery{});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  Event want = b.events()[0];
  want.session_id = "fields";
  EXPECT_EQ((*r)[0], want);
}

TEST(MemoryStore, findByIdFindsStoredEventsOnly) {
  auto store = MemoryStore::create();
  auto log = writer(*store);
  append_range(*log, 1, 3000);  // several index levels
  for (Sequence s : {Sequence{1}, Sequence{1024}, Sequence{1025}, Sequence{3000}}) {
    auto e = log->find_by_id("id-" + std::to_string(s));
    ASSERT_TRUE(e.ok()) << s << ": " << e.error();
    EXPECT_EQ(e->sequence_number, s);
    EXPECT_EQ(e->data, "d" + std::to_string(s));
    EXPECT_EQ(e->session_id, "s1");
  }
  auto missing = log->find_by_id("id-3001");
  EXPECT_EQ(missing.code(), Errc::not_found);
  EXPECT_EQ(log->find_by_id("").code(), Errc::not_found);
  // A read handle finds them too.
  auto reader = store->open("s1", OpenMode::read);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->find_by_id("id-77")->sequence_number, 77u);
}

TEST(MemoryStore, waitForReturnsAtOnceWhenNewerExists) {
  auto store = MemoryStore::create();
  auto log = writer(*store);
  append_range(*log, 1, 4);
  auto r = log->wait_for(3, Deadline::max());  // would hang if it waited
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 4u);
}

TEST(MemoryStore, waitForReturnsTheLatestAfterTheDeadline) {
  auto store = MemoryStore::create();
  auto log = writer(*store);
  append_range(*log, 1, 4);
  const auto deadline = std::chrono::steady_clock::now() + 20ms;
  auto r = log->wait_for(4, deadline);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 4u);  // nothing newer: the latest, which the caller compares with `after`
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
}

TEST(MemoryStore, waitForWakesOnAppendFromAnotherThread) {
  auto store = MemoryStore::create();
  auto log = writer(*store);
  auto reader = store->open("s1", OpenMode::read);
  ASSERT_TRUE(reader.ok());
  Watchdog dog("MemoryStore wait_for long poll");
  for (Sequence round = 1; round <= 200; ++round) {
    std::thread appender([&] {
      if (round % 2 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
      append_range(*log, round, round);
    });
    auto r = (*reader)->wait_for(round - 1, Deadline::max());  // no deadline: only the append can end it
    ASSERT_TRUE(r.ok());
    EXPECT_GE(*r, round);
    appender.join();
  }
}

TEST(MemoryStore, readersRunConcurrentlyWithTheWriter) {
  // Readers read everything published while the writer appends (chunks and directory levels
  // are allocated under their feet); each read sees a contiguous prefix with intact records.
  auto store = MemoryStore::create();
  auto log = writer(*store);
  const Sequence n = scaled(60000, 400000, 5000);
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  std::atomic<std::uint64_t> checked{0};
  for (int r = 0; r < 2; ++r)
    readers.emplace_back([&] {
      while (!done.load()) {
        const Sequence latest = log->latest_sequence();
        EventQuery q;
        q.after = latest > 100 ? latest - 100 : 0;
        Sequence expect = q.after + 1;
        Status st = log->read(q, [&](const EventView& v) {
          EXPECT_EQ(v.sequence_number, expect);
          EXPECT_EQ(v.data, "d" + std::to_string(expect));
          ++expect;
          return true;
        });
        EXPECT_TRUE(st.ok());
        EXPECT_GE(expect, latest + 1);
        checked.fetch_add(1);
      }
    });
  for (Sequence s = 1; s <= n; s += 10) append_range(*log, s, s + 9);
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(log->latest_sequence(), n);
  EXPECT_GT(checked.load(), 0u);
}

// prepare_append() (the sequencer's idle time, docs/design.md §8) faults in memory the writer
// will use next. It must be bounded (returns false once 1 MiB of arena and the next index
// entries are ready), work across arena blocks and index levels, and never change what is
// stored or what append() stores next.
TEST(MemoryStore, prepareAppendIsBoundedAndNeverAltersStoredOrLaterEvents) {
  auto store = MemoryStore::create();
  auto log = writer(*store, "prep");
  std::vector<Event> all;
  Sequence next = 1;
  for (int round = 0; round < 40; ++round) {
    int steps = 0;
    while (log->prepare_append()) ASSERT_LT(++steps, 1000) << "prepare_append never finishes";
    // ~300 KiB per round: 40 rounds cross the 8 MiB arena blocks and several index levels.
    BatchBuilder b(next);
    for (int i = 0; i < 60; ++i)
      b.add(EventType::message_streamed, "r", std::string(5000 + static_cast<std::size_t>(round * 7 + i), static_cast<char>('a' + i % 26)));
    ASSERT_TRUE(log->append(b.batch()).ok());
    for (Event e : b.events()) {
      e.session_id = "prep";
      all.push_back(e);
    }
    next += 60;
  }
  auto r = log->read(EventQuery{});
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ((*r)[i], all[i]) << i;
  // A read handle has nothing to prepare.
  auto reader = store->open("prep", OpenMode::read);
  ASSERT_TRUE(reader.ok());
  EXPECT_FALSE((*reader)->prepare_append());
}

TEST(PublishedArray, prefaultCoversEntriesWithoutSettingThem) {
  detail::PublishedArray<const std::byte*> ix;
  std::size_t covered = 0;
  for (std::size_t i = 0; i < 20000; i += covered) covered = ix.prefault(i, 4096);
  for (std::size_t i = 0; i < 20000; ++i) ASSERT_EQ(ix.get(i), nullptr) << i;  // still empty
  std::vector<std::byte> bytes(20000);
  for (std::size_t i = 0; i < 20000; ++i) ix.set(i, &bytes[i]);
  for (std::size_t i = 0; i < 20000; ++i) ASSERT_EQ(ix.get(i), &bytes[i]) << i;
  EXPECT_EQ(ix.prefault(1023, 4096), 1u);  // stops at the end of level 0 (1024 entries)
}

TEST(PublishedArray, mapsEveryIndexAcrossLevels) {
  detail::PublishedArray<const std::byte*> ix;
  std::vector<std::byte> bytes(5000);
  for (std::size_t i = 0; i < 5000; ++i) ix.set(i, &bytes[i]);
  for (std::size_t i = 0; i < 5000; ++i) ASSERT_EQ(ix.get(i), &bytes[i]) << i;
  EXPECT_EQ(ix.get(5000), nullptr);         // same level, not set
  EXPECT_EQ(ix.get(1u << 20), nullptr);     // level never allocated
}

// prefault_ahead() runs on another thread while the writer appends (a pool thread helping,
// design §13): it only faults in the spare block, which the writer takes under the log's mutex,
// so every stored record reads back exactly as appended, across many block switches (8 MiB
// blocks, ~4 KiB records: a switch every ~2,000 events).
TEST(MemoryStore, prefaultAheadOnAnotherThreadNeverChangesWhatTheWriterStores) {
  auto store = MemoryStore::create();
  auto log = writer(*store);
  ASSERT_TRUE(log);
  const std::size_t batches = scaled(80, 400, 24);
  const std::size_t per_batch = 256;
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> steps{0};
  std::thread helper([&] {
    while (!done.load(std::memory_order_relaxed))
      if (log->prefault_ahead()) steps.fetch_add(1, std::memory_order_relaxed);
  });
  auto payload = [](Sequence s) { return std::string(4000, static_cast<char>('a' + s % 26)) + std::to_string(s); };
  Sequence next = 1;
  for (std::size_t b = 0; b < batches; ++b) {
    BatchBuilder bb(next);
    for (std::size_t i = 0; i < per_batch; ++i, ++next) bb.add(EventType::message_streamed, "r", payload(next));
    Status st = log->append(bb.batch());
    ASSERT_TRUE(st.ok()) << st.error();
  }
  done = true;
  helper.join();
  EXPECT_GT(steps.load(), 0u) << "the helper never prepared a block: the test proves nothing";
  Sequence expect = 1;
  Status st = log->read(EventQuery{}, [&](const EventView& v) {
    EXPECT_EQ(v.sequence_number, expect);
    EXPECT_EQ(v.data, payload(expect));
    ++expect;
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(expect, next);
}

// A read handle (not the writer) never prepares memory.
TEST(MemoryStore, prefaultAheadOfAReadHandleDoesNothing) {
  auto store = MemoryStore::create();
  auto w = writer(*store);
  ASSERT_TRUE(w);
  auto r = store->open("s1", OpenMode::read);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE((*r)->prefault_ahead());
}
