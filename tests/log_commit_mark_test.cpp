// CommitMark (engine/log_commit_mark.cpp) and the follower that honours it (LogState::refresh):
// a read handle with no writer in its process never delivers a record the writer can still
// undo, and keeps following after the undo. Issue 12, defect 4: each test failed before the
// mark existed (the follower delivered the undone records, then stalled on misaligned frames).
#include "log_test_util.hpp"

#include <sessionring/fault_injector.hpp>
#include <sessionring/log_store.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>

namespace sessionring {
namespace {

using namespace std::chrono_literals;
using test::TempDir;

struct WriterAndFollower {
  std::shared_ptr<FaultInjector> faults = FaultInjector::create();
  std::shared_ptr<LogStore> writer_store;
  std::shared_ptr<LogStore> follower_store;  // another LogStore instance: no writer in "its process"
  std::shared_ptr<SessionLog> w;
  std::shared_ptr<SessionLog> r;

  WriterAndFollower(const TempDir& dir, Durability d, bool background_sync) {
    auto wo = test::options_in(dir, d);
    wo.background_sync = background_sync;
    wo.fault_injector = faults;
    auto ro = test::options_in(dir);
    ro.poll_interval = 1ms;
    writer_store = LogStore::open(wo).value();
    follower_store = LogStore::open(ro).value();
    w = writer_store->open("p", OpenMode::write).value();
    test::append_range(*w, 1, 10);
    r = follower_store->open("p", OpenMode::read).value();
  }

  /// The writer appends 11..15 (other data than test_event's) and fails; meanwhile the follower
  /// is asked, during `window`, what it sees. Then the writer stores the real 11..16.
  void undone_batch_then_real_one(std::chrono::milliseconds window) {
    std::thread t([&] {
      auto phantom = test::make_batch(11, 5, 60);  // ~250-byte frames, unlike the real ones
      EXPECT_FALSE(w->append(phantom.batch())) << "the fault was meant to fail this batch";
    });
    const auto until = std::chrono::steady_clock::now() + window;
    while (std::chrono::steady_clock::now() < until) {
      EXPECT_EQ(r->latest_sequence(), 10u) << "the follower sees records the writer may still undo";
      std::this_thread::sleep_for(5ms);
    }
    t.join();
    faults->heal_all();
    ASSERT_TRUE(faults->delay(FileOp::sync, 0ns));
    ASSERT_TRUE(faults->delay(FileOp::truncate, 0ns));
    test::append_range(*w, 11, 6);
    auto got = r->wait_for(15, std::chrono::steady_clock::now() + 10s);
    ASSERT_TRUE(got) << got.error();
    EXPECT_EQ(*got, 16u) << "the follower stopped following after the undo";
    test::expect_events_1_to_n(*r, 16);  // the real events, field by field: no phantom
  }
};

TEST(CommitMark, followerNeverSeesABatchUndoneAfterAFailedInlineFdatasync) {
  TempDir dir;
  WriterAndFollower p(dir, Durability::fsync, /*background_sync=*/false);
  ASSERT_TRUE(p.faults->delay(FileOp::sync, 300ms));  // the batch sits in the file meanwhile
  ASSERT_TRUE(p.faults->fail_next(FileOp::sync, 1, EIO));
  p.undone_batch_then_real_one(250ms);
}

TEST(CommitMark, followerNeverSeesCompleteFramesOfAShortWriteBeforeItIsCutOff) {
  TempDir dir;
  WriterAndFollower p(dir, Durability::buffered, false);
  // The write of the 5-record batch stops after ~3 records (complete frames in the file), and
  // the cut that undoes it is slow.
  ASSERT_TRUE(p.faults->fail_writes_after(3 * 200, ENOSPC));
  ASSERT_TRUE(p.faults->delay(FileOp::truncate, 300ms));
  p.undone_batch_then_real_one(250ms);
}

TEST(CommitMark, followerOfALogWithoutAMarkFileTrustsTheFiles) {
  // Logs written before the mark existed have no COMMIT file: followers read what is there.
  TempDir dir;
  auto o = test::options_in(dir);
  o.poll_interval = 1ms;
  {
    auto store = LogStore::open(o).value();
    auto w = store->open("old", OpenMode::write).value();
    test::append_range(*w, 1, 20);
  }
  std::filesystem::remove(dir.path() / "store" / "old" / "COMMIT");
  auto store = LogStore::open(o).value();
  auto r = store->open("old", OpenMode::read).value();
  EXPECT_EQ(r->latest_sequence(), 20u);
  test::expect_events_1_to_n(*r, 20);
}

TEST(CommitMark, markFollowsEveryDurabilityLevelSoFollowersSeeEverythingAccepted) {
  std::vector<test::Level> levels{{Durability::none, false}};
  levels.insert(levels.end(), std::begin(test::kWritingLevels), std::end(test::kWritingLevels));
  for (const test::Level& level : levels) {
    SCOPED_TRACE(test::name_of(level));
    TempDir dir;
    auto wo = test::options_for(dir, level);
    wo.flush_interval = 1ms;
    auto ro = test::options_in(dir);
    ro.poll_interval = 1ms;
    auto ws = LogStore::open(wo).value();
    auto rs = LogStore::open(ro).value();
    auto w = ws->open("m", OpenMode::write).value();
    auto r = rs->open("m", OpenMode::read).value();
    test::append_range(*w, 1, 300, 9);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    Sequence seen = 0;
    while (seen < 300 && std::chrono::steady_clock::now() < deadline) {
      auto got = r->wait_for(seen, std::chrono::steady_clock::now() + 100ms);
      ASSERT_TRUE(got) << got.error();
      seen = *got;
    }
    EXPECT_EQ(seen, 300u);
    test::expect_events_1_to_n(*r, 300);
  }
}

}  // namespace
}  // namespace sessionring
