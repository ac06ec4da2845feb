// MemoryStore retention (engine/memory_session_log.cpp, docs/store.md "Retention"): whole chunks
// pruned from the front and reused (mapped memory stops growing), readers racing the pruning
// and the reuse never see another event's bytes (a pinned chunk is never reused), max_bytes,
// per-session policies. The contract shared with every store is in store_conformance.hpp.
#include "log_test_util.hpp"
#include "oracle.hpp"

#include <sessionring/memory_store.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace sessionring;
using namespace sessionring::test;

namespace {

std::shared_ptr<MemoryStore> store_with(RetentionPolicy p, std::size_t chunk_bytes = 4096) {
  MemoryStoreOptions o;
  o.chunk_bytes = chunk_bytes;
  o.retention = p;
  auto s = MemoryStore::create(std::move(o));
  EXPECT_TRUE(s.ok()) << s.error();
  return s.ok() ? *s : nullptr;
}

// The first available sequence a pruned error names ("... the first available is N").
Sequence named_first(const Error& e) {
  const std::string key = "the first available is ";
  const auto at = e.message().find(key);
  return at == std::string::npos ? 0 : std::stoull(e.message().substr(at + key.size()));
}

EventQuery after_query_of(Sequence after) {
  EventQuery q;
  q.after = after;
  return q;
}

}  // namespace

TEST(MemoryRetention, prunedChunksAreReusedSoMappedMemoryStopsGrowing) {
  RetentionPolicy p;
  p.max_events = 200;
  p.prune_unit = 1;
  auto store = store_with(p);
  auto log = store->open("s1", OpenMode::write).value();
  append_range(*log, 1, 2000, 10);
  const std::size_t warm = store->mapped_bytes_approx();
  const Sequence n = scaled(100000, 1000000, 20000);
  append_range(*log, 2001, n - 2000, 10);
  EXPECT_EQ(store->mapped_bytes_approx(), warm) << "pruned chunks were not reused";
  EXPECT_LT(warm, std::size_t{64} << 10) << "a few 4 KiB chunks hold 200 events";
  const Sequence first = log->first_sequence();
  EXPECT_GE(n - first + 1, 200u);
  EXPECT_LT(n - first + 1, 200u + 40u) << "kept more than max_events + one chunk";
  Sequence expect = first;
  ASSERT_TRUE(log->read(after_query_of(first - 1), [&](const EventView& v) {
    Event want = test_event(expect);
    want.session_id = "s1";
    EXPECT_EQ(v.to_event(), want);
    ++expect;
    return true;
  }));
  EXPECT_EQ(expect, n + 1);
}

// The stress test of (M2)-(M6): 4 KiB chunks, max_events 64, so chunks are pruned and reused
// thousands of times while readers (by range, by id, and one whose visitor stalls inside a
// chunk) read. Every event a reader sees is exactly the event of its sequence, contiguous; the
// only error is Errc::pruned naming a first available above the sequence asked for.
TEST(MemoryRetention, readersRacingPruningAndChunkReuseNeverSeeAnotherEventsBytes) {
  RetentionPolicy p;
  p.max_events = 64;
  p.prune_unit = 1;
  auto store = store_with(p);
  auto log = store->open("s1", OpenMode::write).value();
  const Sequence n = scaled(300000, 3000000, 20000);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> checked{0}, pruned{0}, wrong{0}, wrong_error{0}, wrong_id{0};
  auto reader = [&](bool stall) {
    std::uint64_t round = 0;
    while (!done.load(std::memory_order_relaxed)) {
      const Sequence latest = log->latest_sequence();
      if (latest == 0) continue;
      const Sequence from = latest > 80 ? latest - 80 + (round++ % 40) : 1;
      Sequence expect = from;
      Status st = log->read(after_query_of(from - 1), [&](const EventView& v) {
        const Event want_e = test_event(expect);
        if (v.sequence_number != expect || v.data != want_e.data || v.id != want_e.id || v.run_id != want_e.run_id)
          wrong.fetch_add(1, std::memory_order_relaxed);
        ++expect;
        if (stall && expect % 16 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
        return true;
      });
      checked.fetch_add(expect - from, std::memory_order_relaxed);
      if (!st) {
        if (st.code() != Errc::pruned || named_first(st.error()) <= expect) wrong_error.fetch_add(1, std::memory_order_relaxed);
        pruned.fetch_add(1, std::memory_order_relaxed);
      }
    }
  };
  auto by_id = [&] {
    while (!done.load(std::memory_order_relaxed)) {
      const Sequence latest = log->latest_sequence();
      if (latest < 10) continue;
      const Sequence s = latest - 5;
      auto e = log->find_by_id("evt-" + std::to_string(s));
      if (e.ok()) {
        Event want = test_event(s);
        want.session_id = "s1";
        if (*e != want) wrong.fetch_add(1, std::memory_order_relaxed);
      } else if (e.code() != Errc::not_found || log->first_sequence() <= s) {
        wrong_id.fetch_add(1, std::memory_order_relaxed);  // not_found only for a pruned event
      }
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(reader, false);
  threads.emplace_back(reader, true);
  threads.emplace_back(by_id);
  append_range(*log, 1, n, 4);
  done.store(true);
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0u) << "a reader saw bytes of another event";
  EXPECT_EQ(wrong_error.load(), 0u) << "a read failed with another error than pruned naming a later first";
  EXPECT_EQ(wrong_id.load(), 0u) << "find_by_id missed a stored event";
  EXPECT_GT(checked.load(), 0u);
  // Thousands of reuses: n events of ~140 bytes went through a handful of 4 KiB chunks.
  EXPECT_LT(store->mapped_bytes_approx(), std::size_t{256} << 10);
  EXPECT_GT(n * 140 / 4096, 1000u);
  std::printf("checked %llu events, %llu reads answered pruned\n", static_cast<unsigned long long>(checked.load()),
              static_cast<unsigned long long>(pruned.load()));
}

TEST(MemoryRetention, maxBytesKeepsTheStoredRecordBytesUnderTheLimitInWholeChunks) {
  RetentionPolicy p;
  p.max_bytes = 64 << 10;
  auto store = store_with(p);
  auto log = store->open("s1", OpenMode::write).value();
  append_range(*log, 1, 5000, 10);
  const Sequence first = log->first_sequence();
  std::uint64_t bytes = 0;
  ASSERT_TRUE(log->read(after_query_of(first - 1), [&](const EventView& v) {
    bytes += EventRecord::encoded_size(v);
    return true;
  }));
  EXPECT_LE(bytes, std::uint64_t{64} << 10);
  EXPECT_GT(bytes, std::uint64_t{60} << 10) << "pruned more than whole chunks need";
}

TEST(MemoryRetention, sessionRetentionReplacesTheStoreDefaultForTheSessionsItNames) {
  MemoryStoreOptions o;
  o.chunk_bytes = 4096;
  o.retention.max_events = 100;
  o.retention.prune_unit = 1;
  o.session_retention["keep-all"] = RetentionPolicy{};
  auto store = MemoryStore::create(std::move(o)).value();
  auto pruned = store->open("pruned", OpenMode::write).value();
  auto kept = store->open("keep-all", OpenMode::write).value();
  append_range(*pruned, 1, 1000, 10);
  append_range(*kept, 1, 1000, 10);
  EXPECT_GT(pruned->first_sequence(), 800u);
  EXPECT_EQ(kept->first_sequence(), 1u);
  expect_events_1_to_n(*kept, 1000);
}

TEST(MemoryRetention, maxAgePruningEveryEventKeepsTheSequenceAndStoresTheNextInAFreshChunk) {
  RetentionPolicy p;
  p.max_age = std::chrono::seconds(1);  // test events are from 2023: all older
  auto store = store_with(p);
  auto log = store->open("s1", OpenMode::write).value();
  append_range(*log, 1, 100, 10);
  EXPECT_EQ(log->first_sequence(), 11u) << "the first batch's check pruned it; the next within a second waits";
  EXPECT_EQ(log->latest_sequence(), 100u);
  auto stale = make_batch(1, 1);
  EXPECT_EQ(log->append(stale.batch()).code(), Errc::sequence_conflict);
  Sequence expect = 11;
  ASSERT_TRUE(log->read(after_query_of(10), [&](const EventView& v) {
    EXPECT_EQ(v.data, test_event(expect).data);
    ++expect;
    return true;
  }));
  EXPECT_EQ(expect, 101u);
}
