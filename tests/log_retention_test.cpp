// LogStore retention (engine/log_writer.cpp retain_locked, engine/log_scan.cpp FIRST;
// docs/store.md "Retention"): whole segment files removed from the front, the first available
// sequence persisted in <session>/FIRST, restarts, an interrupted prune, followers in another
// store instance, verify/info of a pruned session (what `sessionring verify`/`sessions` show),
// and bad retention options. The contract shared with every store is in store_conformance.hpp.
#include "log_test_util.hpp"
#include "oracle.hpp"

#include <sessionring/log_store.hpp>
#include <sessionring/memory_store.hpp>
#include <sessionring/sqlite_store.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace sessionring;
using namespace sessionring::test;
namespace fs = std::filesystem;

namespace {

LogStoreOptions retained(const TempDir& dir, std::uint64_t max_events, Durability d = Durability::buffered) {
  LogStoreOptions o = options_in(dir, d);
  o.segment_bytes = 4096;
  o.retention.max_events = max_events;
  o.retention.prune_unit = 1;
  return o;
}

EventQuery after_q(Sequence after) {
  EventQuery q;
  q.after = after;
  return q;
}

// Reads first..latest and checks every event is test_event of its sequence.
void expect_events_from(const SessionLog& log, Sequence first, Sequence latest) {
  Sequence expect = first;
  Status st = log.read(after_q(first - 1), [&](const EventView& v) {
    Event want = test_event(expect);
    want.session_id = std::string(log.session_id());
    EXPECT_EQ(v.to_event(), want);
    ++expect;
    return true;
  });
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(expect, latest + 1);
}

}  // namespace

TEST(LogRetention, restartAfterPruningKeepsTheFirstAvailableVerifiesIntactAndContinuesTheSequence) {
  for (const Level& level : kWritingLevels) {
    SCOPED_TRACE(name_of(level));
    TempDir dir;
    Sequence first = 0;
    {
      LogStoreOptions o = retained(dir, 100, level.durability);
      o.background_sync = level.background_sync;
      auto store = LogStore::open(o).value();
      auto w = store->open("s1", OpenMode::write).value();
      append_range(*w, 1, 600, 10);
      ASSERT_TRUE(w->wait_for(599, std::chrono::steady_clock::now() + std::chrono::seconds(20)).ok());
      first = w->first_sequence();
      EXPECT_GE(600 - first + 1, 100u);
      EXPECT_LT(segment_files(o.root / "s1").size(), 12u) << "pruned segment files were not removed";
    }
    ASSERT_TRUE(fs::exists(dir.path() / "store" / "s1" / "FIRST"));
    // What the CLI's verify and sessions use: a read-only store. A pruned prefix is not damage.
    LogStoreOptions ro = options_in(dir);
    ro.read_only = true;
    auto reader_store = LogStore::open(ro).value();
    auto report = reader_store->verify("s1").value();
    EXPECT_FALSE(report.damaged) << report.problem;
    EXPECT_EQ(report.intact.first_sequence, first);
    EXPECT_EQ(report.intact.latest_sequence, 600u);
    EXPECT_EQ(report.intact.event_count, 600u - first + 1);
    auto info = reader_store->info("s1").value();
    EXPECT_EQ(info.first_sequence, first);
    EXPECT_EQ(info.event_count, 600u - first + 1);
    auto r = reader_store->open("s1", OpenMode::read).value();
    EXPECT_EQ(r->first_sequence(), first);
    expect_events_from(*r, first, 600);
    EXPECT_EQ(r->read(after_q(0), [](const EventView&) { return true; }).code(), Errc::pruned);
    // A writer continues after the last sequence (INV-1).
    auto store = LogStore::open(retained(dir, 100)).value();
    auto w = store->open("s1", OpenMode::write).value();
    EXPECT_EQ(w->written_sequence(), 600u);
    EXPECT_EQ(w->first_sequence(), first);
    append_range(*w, 601, 10);
    expect_events_from(*w, w->first_sequence(), 610);
  }
}

// A crash between writing FIRST and removing the pruned files leaves leftovers below it:
// readers skip them (neither data nor damage), the next writer open removes them.
TEST(LogRetention, leftoversOfAnInterruptedPruneAreSkippedByReadersAndRemovedByTheNextWriter) {
  TempDir dir;
  LogStoreOptions o = options_in(dir);
  o.segment_bytes = 4096;
  {
    auto store = LogStore::open(o).value();
    auto w = store->open("s1", OpenMode::write).value();
    append_range(*w, 1, 300, 10);
  }
  const fs::path sdir = o.root / "s1";
  std::vector<Sequence> starts;
  for (const auto& e : fs::directory_iterator(sdir))
    if (e.path().extension() == ".seg") starts.push_back(std::stoull(e.path().stem().string()));
  std::sort(starts.begin(), starts.end());
  ASSERT_GE(starts.size(), 4u);
  const Sequence first = starts[2];
  std::ofstream(sdir / "FIRST") << first << "\n";  // FIRST written, the two files not yet removed
  {
    LogStoreOptions ro = o;
    ro.read_only = true;
    auto store = LogStore::open(ro).value();
    auto report = store->verify("s1").value();
    EXPECT_FALSE(report.damaged) << report.problem;
    EXPECT_EQ(report.intact.first_sequence, first);
    auto r = store->open("s1", OpenMode::read).value();
    EXPECT_EQ(r->first_sequence(), first);
    expect_events_from(*r, first, 300);
    auto below = r->read(after_q(first - 2), [](const EventView&) { return true; });
    ASSERT_EQ(below.code(), Errc::pruned);
    EXPECT_NE(below.error().message().find("the first available is " + std::to_string(first)), std::string::npos);
  }
  EXPECT_EQ(segment_files(sdir).size(), starts.size()) << "a read-only open removed files";
  auto store = LogStore::open(o).value();
  auto w = store->open("s1", OpenMode::write).value();
  EXPECT_EQ(segment_files(sdir).size(), starts.size() - 2) << "the writer open did not remove the leftovers";
  EXPECT_EQ(w->written_sequence(), 300u);
}

// A reader in another LogStore instance (another process, as `sessionring tail --follow`)
// follows a writer that prunes under it: every event it delivers is the right one, in order,
// and the only error it meets is pruned (never damaged_store: a file removed under it is not damage).
TEST(LogRetention, followerInAnotherStoreInstanceSeesPrunedNeverDamageWhileTheWriterRemovesSegments) {
  TempDir dir;
  auto writer_store = LogStore::open(retained(dir, 50)).value();
  auto w = writer_store->open("s1", OpenMode::write).value();
  append_range(*w, 1, 10, 10);
  LogStoreOptions ro = options_in(dir);
  ro.read_only = true;
  auto follower_store = LogStore::open(ro).value();
  auto r = follower_store->open("s1", OpenMode::read).value();
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<std::uint64_t> seen{0}, pruned{0};
  std::thread follower([&] {
    Sequence cursor = 0;
    while (!done.load()) {
      (void)r->wait_for(cursor, std::chrono::steady_clock::now() + std::chrono::milliseconds(20));
      Status st = r->read(after_q(cursor), [&](const EventView& v) {
        if (v.sequence_number != cursor + 1 || v.data != test_event(v.sequence_number).data) bad.fetch_add(1);
        cursor = v.sequence_number;
        seen.fetch_add(1);
        return true;
      });
      if (!st) {
        if (st.code() != Errc::pruned) {
          bad.fetch_add(1);
          ADD_FAILURE() << st.error();
        }
        pruned.fetch_add(1);
        cursor = r->first_sequence() - 1;  // resume from the first available
      }
    }
  });
  for (Sequence s = 11; s <= 6000; s += 10) {
    append_range(*w, s, 10, 10);
    if (s % 500 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(eventually([&] { return r->latest_sequence() == 6000; }));
  done.store(true);
  follower.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(seen.load(), 0u);
  EXPECT_EQ(r->first_sequence(), w->first_sequence());
}

TEST(LogRetention, badRetentionOptionsAreValidationErrorNamingTheFieldInEveryStore) {
  TempDir dir;
  LogStoreOptions o = options_in(dir);
  o.retention.prune_unit = 0;
  auto log = LogStore::open(o);
  ASSERT_EQ(log.code(), Errc::validation_error);
  EXPECT_NE(log.error().message().find("LogStoreOptions::retention.prune_unit"), std::string::npos) << log.error();
  o = options_in(dir);
  o.session_retention["../x"] = RetentionPolicy{};
  log = LogStore::open(o);
  ASSERT_EQ(log.code(), Errc::validation_error);
  EXPECT_NE(log.error().message().find("LogStoreOptions::session_retention"), std::string::npos) << log.error();
  o = options_in(dir);
  o.session_retention["s1"].max_bytes = (std::uint64_t{1} << 62) + 1;
  log = LogStore::open(o);
  ASSERT_EQ(log.code(), Errc::validation_error);
  EXPECT_NE(log.error().message().find("session_retention['s1'].max_bytes"), std::string::npos) << log.error();
  EXPECT_FALSE(fs::exists(o.root)) << "a refused open created the root";

  MemoryStoreOptions m;
  m.chunk_bytes = 1024;
  auto mem = MemoryStore::create(m);
  ASSERT_EQ(mem.code(), Errc::validation_error);
  EXPECT_NE(mem.error().message().find("MemoryStoreOptions::chunk_bytes"), std::string::npos) << mem.error();
  m = MemoryStoreOptions{};
  m.retention.max_age = std::chrono::seconds(-1);
  mem = MemoryStore::create(m);
  ASSERT_EQ(mem.code(), Errc::validation_error);
  EXPECT_NE(mem.error().message().find("MemoryStoreOptions::retention.max_age"), std::string::npos) << mem.error();

  SqliteStoreOptions q;
  q.path = dir.path() / "s.db";
  q.retention.max_bytes = 1 << 20;
  auto sql = SqliteStore::open(q);
  ASSERT_EQ(sql.code(), Errc::validation_error);
  EXPECT_NE(sql.error().message().find("max_bytes is not supported"), std::string::npos) << sql.error();
}

TEST(LogRetention, maxBytesKeepsTheSegmentFilesUnderTheLimit) {
  TempDir dir;
  LogStoreOptions o = options_in(dir);
  o.segment_bytes = 4096;
  o.retention.max_bytes = 32 << 10;
  auto store = LogStore::open(o).value();
  auto w = store->open("s1", OpenMode::write).value();
  append_range(*w, 1, 3000, 10);
  std::uint64_t bytes = 0;
  for (const auto& e : fs::directory_iterator(o.root / "s1"))
    if (e.path().extension() == ".seg") bytes += e.file_size();
  EXPECT_LE(bytes, std::uint64_t{32} << 10);
  EXPECT_GT(bytes, std::uint64_t{24} << 10) << "pruned more than whole segments need";
  expect_events_from(*w, w->first_sequence(), 3000);
}
