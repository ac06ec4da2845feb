// LogStore at scale (issue 13 part 5, docs/store.md "Descriptors"): thousands of sessions open
// for writing in one process hold a bounded number of descriptors — one lock file per store,
// at most max_open_writer_files segment files between appends, none for an idle session after
// the sequencer pool's idle release — so the process stays under the default soft limit of
// 1,024 open files (the tests lower the limit to 1,024 and count /proc/self/fd). Appends
// after a release continue the sequence (no gap, no duplicate) and survive a restart; a
// follower in another store instance sees them (the commit mark is mapped again).
#include "detail/log_lock_table.hpp"
#include "log_test_util.hpp"
#include "oracle.hpp"

#include <sessionring/fault_injecting_store.hpp>
#include <sessionring/sequencer_pool.hpp>
#include <sessionring/session.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

namespace sessionring {
namespace {

/// The store's lock files: at most 64 descriptors, whatever the number of sessions.
constexpr std::size_t kLockFiles = detail::LockTable::kFiles;

namespace fs = std::filesystem;
using test::TempDir;

std::size_t open_descriptors() {
  std::size_t n = 0;
  for (auto it = fs::directory_iterator("/proc/self/fd"); it != fs::directory_iterator(); ++it) ++n;
  return n;
}

/// Lowers the soft limit of open files to the default 1,024 for the test's lifetime.
class DefaultFileLimit {
 public:
  DefaultFileLimit() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit l = saved_;
    l.rlim_cur = std::min<rlim_t>(1024, saved_.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &l);
  }
  ~DefaultFileLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  DefaultFileLimit(const DefaultFileLimit&) = delete;
  DefaultFileLimit& operator=(const DefaultFileLimit&) = delete;

 private:
  rlimit saved_{};
};

std::string id_of(std::size_t i) {
  std::string id = "scale-";  // append: GCC 12 -Wrestrict false positive on "x" + std::string (PR 105329)
  id += std::to_string(i);
  return id;
}

TEST(LogStoreScale, thousandsOfWritersStayUnderTheDefaultFileLimitAndContinueAfterRelease) {
  TempDir dir;
  DefaultFileLimit limit;
  const std::size_t base = open_descriptors();
  const std::size_t n = test::scaled(2000, 10000, 200);
  auto o = test::options_in(dir);
  auto store = LogStore::open(o).value();
  std::vector<std::shared_ptr<SessionLog>> logs;
  for (std::size_t i = 0; i < n; ++i) {
    auto log = store->open(id_of(i), OpenMode::write);
    ASSERT_TRUE(log) << i << ": " << log.error();
    logs.push_back(std::move(*log));
  }
  EXPECT_LE(open_descriptors(), base + kLockFiles)
      << "an open writer holds no descriptor; the store at most its 64 lock files (LOCKS.xx)";
  std::size_t peak = 0;
  for (std::size_t i = 0; i < n; ++i) {
    test::append_range(*logs[i], 1, 1);
    if (i % 97 == 0) peak = std::max(peak, open_descriptors());
  }
  peak = std::max(peak, open_descriptors());
  EXPECT_LE(peak, base + kLockFiles + o.max_open_writer_files) << "writers over the cap close their file after each append";
  EXPECT_LE(store->open_writer_files_approx(), std::size_t{o.max_open_writer_files});
  for (auto& log : logs) log->release_idle_resources();  // as the pool's idle release does
  EXPECT_EQ(store->open_writer_files_approx(), 0u);
  EXPECT_LE(open_descriptors(), base + kLockFiles);
  for (std::size_t i = 0; i < n; ++i) test::append_range(*logs[i], 2, 2);  // continues at 2: no gap
  EXPECT_LE(open_descriptors(), base + kLockFiles + o.max_open_writer_files);
  logs.clear();
  store.reset();
  EXPECT_EQ(open_descriptors(), base);
  auto again = LogStore::open(o).value();  // restart
  for (std::size_t i = 0; i < n; i += 37) {
    SCOPED_TRACE(id_of(i));
    test::expect_events_1_to_n(*again->open(id_of(i), OpenMode::read).value(), 3);
  }
}

TEST(LogStoreScale, appendsAfterIdleReleaseContinueTheSequenceAtEveryDurabilityAndFollowersSeeThem) {
  const test::Level levels[] = {
      {Durability::none, false}, {Durability::buffered, false}, {Durability::fsync, true}, {Durability::fsync, false}};
  for (const auto& level : levels) {
    SCOPED_TRACE(test::name_of(level));
    TempDir dir;
    auto o = test::options_for(dir, level);
    auto store = LogStore::open(o).value();
    auto follower_store = LogStore::open(o).value();  // no writer in it: reads follow the files and COMMIT
    auto log = store->open("s", OpenMode::write).value();
    test::append_range(*log, 1, 10);
    log->release_idle_resources();  // none: hands the buffer to the OS first
    if (level.durability != Durability::fsync || !level.background_sync) {
      EXPECT_EQ(store->open_writer_files_approx(), 0u);
    } else {
      // The group commit may still be syncing the last batch: the file is kept until it is done.
      for (int i = 0; i < 1000 && log->latest_sequence() < 10; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      log->release_idle_resources();
      EXPECT_EQ(store->open_writer_files_approx(), 0u);
    }
    auto follower = follower_store->open("s", OpenMode::read).value();
    EXPECT_EQ(follower->wait_for(9, std::chrono::steady_clock::now() + std::chrono::seconds(10)).value(), 10u);
    test::append_range(*log, 11, 10);
    log->release_idle_resources();
    test::append_range(*log, 21, 5);
    EXPECT_EQ(follower->wait_for(24, std::chrono::steady_clock::now() + std::chrono::seconds(10)).value(), 25u);
    test::expect_events_1_to_n(*follower, 25);
    test::expect_events_1_to_n(*log, 25);
    log.reset();
    follower.reset();
    test::expect_events_1_to_n(*LogStore::open(o).value()->open("s", OpenMode::read).value(), 25);  // restart
  }
}

TEST(LogStoreScale, writersOverTheCapShedTheirFileAfterEachAppend) {
  TempDir dir;
  auto o = test::options_in(dir);
  o.max_open_writer_files = 4;
  o.segment_bytes = 4096;  // rolls too: a writer over the cap opens the new segment, then sheds it
  auto store = LogStore::open(o).value();
  std::vector<std::shared_ptr<SessionLog>> logs;
  for (int i = 0; i < 40; ++i) logs.push_back(store->open(id_of(static_cast<std::size_t>(i)), OpenMode::write).value());
  for (Sequence round = 0; round < 30; ++round) {
    for (auto& log : logs) test::append_range(*log, round * 3 + 1, 3);
    EXPECT_LE(store->open_writer_files_approx(), 4u) << "round " << round;
  }
  for (auto& log : logs) test::expect_events_1_to_n(*log, 90);
}

TEST(LogStoreScale, faultInjectingStoreForwardsTheIdleRelease) {
  TempDir dir;
  auto inner = LogStore::open(test::options_in(dir)).value();
  auto store = FaultInjectingStore::create(inner, std::make_shared<FaultInjector>()).value();
  auto log = store->open("f", OpenMode::write).value();
  test::append_range(*log, 1, 3);
  EXPECT_EQ(inner->open_writer_files_approx(), 1u);
  log->release_idle_resources();
  EXPECT_EQ(inner->open_writer_files_approx(), 0u);
  test::append_range(*log, 4, 3);
  test::expect_events_1_to_n(*log, 6);
}

TEST(LogStoreScale, pooledSessionsGiveTheirWriterFilesBackWhenIdleAndContinueTheirSequence) {
  TempDir dir;
  DefaultFileLimit limit;
  auto pool = SequencerPool::create().value();
  const std::size_t base = open_descriptors();
  const std::size_t n = test::scaled(1000, 10000, 100);
  auto o = test::options_in(dir);  // max_open_writer_files 256: the cap bounds the peak
  auto store = LogStore::open(o).value();
  std::size_t peak = 0;
  auto run = [&](Sequence expect) {
    std::vector<Session> sessions;
    for (std::size_t i = 0; i < n; ++i) {
      SessionOptions so;
      so.store = store;
      so.pool = pool;
      so.session_id = id_of(i);
      so.ring_capacity = 64;
      auto s = Session::open(so);
      ASSERT_TRUE(s) << i << ": " << s.error();
      sessions.push_back(std::move(*s));
    }
    // Two bursts: each session parks after the first (arming its idle check) and sequences
    // again before the check runs, which must then look again later, not give up.
    for (Sequence burst = 0; burst < 2; ++burst) {
      for (auto& s : sessions) {
        EventInput e;
        e.type = EventType::message_streamed;
        e.data = R"({"x":1})";
        auto r = s.producer().value().append_wait(e);
        ASSERT_TRUE(r) << r.error();
        EXPECT_EQ(r->sequence, expect + burst);
      }
    }
    peak = std::max(peak, open_descriptors());
    EXPECT_LE(peak, base + kLockFiles + o.max_open_writer_files + 4) << "the cap, plus writers between open and shed";
    // Idle for 1 s: the pool's idle release closes the segment files the cap let them keep.
    const auto until = std::chrono::steady_clock::now() + test::patience();
    while (store->open_writer_files_approx() > 0 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(store->open_writer_files_approx(), 0u);
    EXPECT_LE(open_descriptors(), base + kLockFiles + 1) << "the lock files (and at most one read in flight)";
    for (auto& s : sessions) ASSERT_TRUE(s.stop());
  };
  run(1);
  run(3);  // sessions reopened: the sequence continues
  store.reset();
  auto again = LogStore::open(o).value();
  for (std::size_t i = 0; i < n; i += 53) {
    auto log = again->open(id_of(i), OpenMode::read).value();
    std::vector<Sequence> seen;
    ASSERT_TRUE(log->read(EventQuery{}, [&](const EventView& v) {
      seen.push_back(v.sequence_number);
      return true;
    }));
    EXPECT_EQ(seen, (std::vector<Sequence>{1, 2, 3, 4})) << id_of(i);
  }
}

}  // namespace
}  // namespace sessionring
