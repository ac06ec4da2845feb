// LogWriter (engine/log_writer.cpp): durability levels, group commit, a failed append that
// stores nothing, and reads concurrent with appends (INV-1, INV-2, INV-4).
#include "log_test_util.hpp"
#include "oracle.hpp"

#include <sessionring/log_store.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <random>
#include <thread>

#include <sys/resource.h>

namespace sessionring {
namespace {

using namespace std::chrono_literals;
using test::TempDir;
namespace fs = std::filesystem;

using test::Level;
using test::name_of;
using test::options_for;
const Level kLevels[] = {{Durability::none, false},
                         {Durability::buffered, false},
                         {Durability::fsync, true},
                         {Durability::fsync, false}};

TEST(LogWriter, everyDurabilityLevelStoresReadsBackAndSurvivesReopen) {
  for (const Level& l : kLevels) {
    SCOPED_TRACE(name_of(l));
    TempDir dir;
    auto o = options_for(dir, l);
    o.segment_bytes = 16384;
    {
      auto store = LogStore::open(o).value();
      auto log = store->open("d", OpenMode::write).value();
      test::append_range(*log, 1, 300, 10);
      EXPECT_EQ(log->written_sequence(), 300u);
      EXPECT_EQ(*log->wait_for(299, std::chrono::steady_clock::now() + 10s), 300u);
      test::expect_events_1_to_n(*log, 300);
    }
    auto store = LogStore::open(o).value();
    auto log = store->open("d", OpenMode::write).value();
    EXPECT_EQ(log->latest_sequence(), 300u);
    test::append_range(*log, 301, 20, 10);
    EXPECT_EQ(*log->wait_for(319, std::chrono::steady_clock::now() + 10s), 320u);
    test::expect_events_1_to_n(*log, 320);
  }
}

TEST(LogWriter, noneDurabilityHandsBufferedRecordsToTheOsWhenAReaderNeedsThem) {
  TempDir dir;
  auto o = test::options_in(dir, Durability::none);
  o.flush_interval = std::chrono::hours(1);
  auto store = LogStore::open(o).value();
  auto log = store->open("n", OpenMode::write).value();
  test::append_range(*log, 1, 10);
  EXPECT_EQ(log->latest_sequence(), 10u);  // none: accepted = visible
  const auto seg = test::segment_files(o.root / "n").at(0);
  EXPECT_EQ(fs::file_size(seg), 32u) << "records should still be in user space";
  test::expect_events_1_to_n(*log, 10);  // the read flushed them
  EXPECT_GT(fs::file_size(seg), 32u);
}

TEST(LogWriter, noneDurabilityFlushesAfterTheIdleInterval) {
  TempDir dir;
  auto o = test::options_in(dir, Durability::none);
  o.flush_interval = 5ms;
  o.poll_interval = 1ms;
  auto store = LogStore::open(o).value();
  auto other = LogStore::open(o).value();  // another "process": sees only what reached the OS
  auto log = store->open("n", OpenMode::write).value();
  test::append_range(*log, 1, 3);
  auto reader = other->open("n", OpenMode::read).value();
  EXPECT_EQ(*reader->wait_for(2, std::chrono::steady_clock::now() + 10s), 3u);
}

// docs/store.md "Threads": none and background fsync flush on a thread of the writer's own, which
// exists only while there is something to flush or sync. Each round proves that the thread ran
// (none: a reader in another store sees the records, which only the flush thread hands to the
// OS; fsync: latest_sequence() advances, which only the sync thread publishes) and then exited.
TEST(LogWriter, anIdleWriterHoldsNoThreadAndTheNextAppendStartsOneAgain) {
  for (const Level l : {Level{Durability::none, false}, Level{Durability::fsync, true}}) {
    SCOPED_TRACE(name_of(l));
    TempDir dir;
    auto o = options_for(dir, l);
    o.flush_interval = 2ms;
    o.flusher_idle_exit = 10ms;
    o.poll_interval = 1ms;
    auto store = LogStore::open(o).value();
    auto other = LogStore::open(o).value();  // another "process": sees only what reached the OS
    // ThreadSanitizer starts a helper thread of its own with the process's first thread: let it
    // start now, so that `before` counts it.
    std::thread([] {}).join();
    const std::size_t before = test::thread_count();
    auto log = store->open("t", OpenMode::write).value();
    EXPECT_EQ(test::thread_count(), before) << "an open writer that appended nothing started a thread";
    std::shared_ptr<SessionLog> reader;
    for (Sequence first = 1; first <= 7; first += 3) {
      test::append_range(*log, first, 3, 3);
      const Sequence last = first + 2;
      if (l.durability == Durability::none) {
        if (!reader) reader = other->open("t", OpenMode::read).value();
        EXPECT_EQ(*reader->wait_for(last - 1, std::chrono::steady_clock::now() + test::patience()), last);
      } else {
        EXPECT_EQ(*log->wait_for(last - 1, std::chrono::steady_clock::now() + test::patience()), last);
      }
      EXPECT_TRUE(test::eventually([&] { return test::thread_count() == before; }))
          << "the flush thread did not exit while idle (round from " << first << ")";
    }
    reader.reset();
    log.reset();
    auto reopened = store->open("t", OpenMode::write).value();
    EXPECT_EQ(reopened->latest_sequence(), 9u);
  }
}

TEST(LogWriter, fsyncGroupCommitPublishesOnlyWhatTheSyncCovered) {
  TempDir dir;
  auto o = test::options_in(dir, Durability::fsync);
  o.background_sync = true;
  auto store = LogStore::open(o).value();
  auto log = store->open("g", OpenMode::write).value();
  for (Sequence s = 1; s <= 200; s += 10) {
    test::append_range(*log, s, 10, 10);
    const Sequence latest = log->latest_sequence();
    EXPECT_LE(latest, log->written_sequence());  // INV-2: secured never runs ahead of written
    EventQuery q;
    std::size_t n = 0;
    ASSERT_TRUE(log->read(q, [&](const EventView&) { return ++n, true; }));
    EXPECT_LE(n, log->written_sequence());
  }
  auto r = log->wait_for(199, std::chrono::steady_clock::now() + 10s);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 200u);
  o.background_sync = false;
  auto store2 = LogStore::open(o).value();
  auto log2 = store2->open("inline", OpenMode::write).value();
  test::append_range(*log2, 1, 10, 5);
  EXPECT_EQ(log2->latest_sequence(), 10u);  // inline: secured when append returns
}

TEST(LogWriter, concurrentReadersSeeAContiguousPrefixWhileTheWriterAppends) {
  const Sequence total = SESSIONRING_TEST_FULL ? 60000 : 6000;
  for (const Level& l : kLevels) {
    SCOPED_TRACE(name_of(l));
    TempDir dir;
    auto o = options_for(dir, l);
    o.segment_bytes = 8192;
    o.index_every_records = 7;
    o.read_chunk_bytes = 4096;
    auto store = LogStore::open(o).value();
    auto log = store->open("c", OpenMode::write).value();
    const std::size_t per_batch = l.durability == Durability::fsync ? 200 : 13;
    std::atomic<bool> done{false};  // writer: the append thread (release); readers: acquire, then a last pass
    std::atomic<std::uint64_t> checked{0};  // readers add the events they verified (relaxed: a total for the assertion)
    auto reader = [&](unsigned seed) {
      std::mt19937_64 rng(seed);
      for (bool last = false; !last;) {
        last = done.load(std::memory_order_acquire);  // pairs with the writer's release store
        const Sequence hi = log->latest_sequence();
        const Sequence after = hi == 0 ? 0 : rng() % hi;
        Sequence expect = after + 1;
        EventQuery q;
        q.after = after;
        Status st = log->read(q, [&](const EventView& v) {
          EXPECT_EQ(v.sequence_number, expect);
          EXPECT_EQ(v.id, "evt-" + std::to_string(expect));
          ++expect;
          return true;
        });
        ASSERT_TRUE(st) << st.error();
        EXPECT_GE(expect - 1, hi) << "a read returned less than latest_sequence() promised (INV-2)";
        checked.fetch_add(expect - 1 - after, std::memory_order_relaxed);
      }
    };
    std::thread r1(reader, 1), r2(reader, 2);
    test::append_range(*log, 1, total, per_batch);
    ASSERT_TRUE(log->wait_for(total - 1, std::chrono::steady_clock::now() + 30s));
    done.store(true, std::memory_order_release);  // pairs with the readers' acquire
    r1.join();
    r2.join();
    EXPECT_GT(checked.load(std::memory_order_relaxed), 0u);
    test::expect_events_1_to_n(*log, total);
  }
}

TEST(LogWriter, slowVisitorNeverStallsTheWriter) {
  TempDir dir;
  auto store = LogStore::open(test::options_in(dir)).value();
  auto log = store->open("slow", OpenMode::write).value();
  test::append_range(*log, 1, 10);
  std::atomic<bool> in_visitor{false};  // reader thread sets (release) once inside the visitor; main waits (acquire)
  std::atomic<bool> release{false};     // main sets (release) to let the visitor return; visitor spins (acquire)
  std::thread reader([&] {
    ASSERT_TRUE(log->read(EventQuery{}, [&](const EventView&) {
      in_visitor.store(true, std::memory_order_release);  // pairs with main's acquire
      while (!release.load(std::memory_order_acquire)) std::this_thread::sleep_for(1ms);  // pairs with main's release
      return false;
    }));
  });
  while (!in_visitor.load(std::memory_order_acquire)) std::this_thread::yield();  // pairs with the visitor's release
  const auto t0 = std::chrono::steady_clock::now();
  test::append_range(*log, 11, 2000, 10);  // with the visitor parked mid-read (INV-4)
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);
  EXPECT_EQ(log->latest_sequence(), 2010u);
  release.store(true, std::memory_order_release);  // pairs with the visitor's acquire
  reader.join();
}

TEST(LogWriter, failedAppendStoresNothingAndTheWriterContinues) {
  // Disk full, simulated with RLIMIT_FSIZE: writes past the limit fail with EFBIG.
  TempDir dir;
  auto o = test::options_in(dir);
  o.segment_bytes = 16384;
  auto store = LogStore::open(o).value();
  auto log = store->open("full", OpenMode::write).value();
  test::append_range(*log, 1, 20, 5);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit tight = old;
  tight.rlim_cur = 10000;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tight), 0);
  Sequence next = 21;
  Status failed;
  for (int i = 0; i < 1000 && failed; ++i) {
    auto b = test::make_batch(next, 5, 300);
    failed = log->append(b.batch());
    if (failed) next += 5;
  }
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.code(), Errc::storage_error) << failed.error();
  EXPECT_NE(failed.error().message().find("errno"), std::string::npos) << failed.error();
  EXPECT_EQ(log->latest_sequence(), next - 1);
  EXPECT_EQ(log->written_sequence(), next - 1);
  auto b = test::make_batch(next, 5, 300);
  ASSERT_TRUE(log->append(b.batch())) << "the writer stays usable once space is back";
  Sequence expect = 1;
  ASSERT_TRUE(log->read(EventQuery{}, [&](const EventView& v) {
    EXPECT_EQ(v.sequence_number, expect++);
    return true;
  }));
  EXPECT_EQ(expect, next + 5);
  log.reset();
  auto v = store->verify("full");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok()) << v->problem;
  EXPECT_EQ(v->torn_tail_bytes, 0u);
  EXPECT_EQ(v->intact.latest_sequence, next + 4);
}

}  // namespace
}  // namespace sessionring
