// LogStore under injected disk faults (LogStoreOptions::fault_injector; engine/log_writer.cpp,
// engine/log_file.cpp): a failed batch leaves every segment byte for byte as it was before the
// batch, whatever byte of it the disk filled up at (frame boundaries included, rolls included);
// written/latest do not move; the same batch is accepted once the fault clears; a failed
// fdatasync never publishes what it did not secure (INV-2); slow fsyncs group-commit; read
// faults are reported and retried; and a reopen shows exactly the accepted prefix (INV-9).
#include "log_test_util.hpp"
#include "oracle.hpp"

#include <sessionring/fault_injector.hpp>
#include <sessionring/log_store.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

namespace sessionring {
namespace {

using namespace std::chrono_literals;
using test::TempDir;
namespace fs = std::filesystem;

using test::Level;
using test::kWritingLevels;
using test::name_of;

/// A LogStore on `o` with a FaultInjector, and `session` open for writing.
struct FaultyLog {
  std::shared_ptr<FaultInjector> faults;
  std::shared_ptr<LogStore> store;
  std::shared_ptr<SessionLog> log;
};
FaultyLog open_with_faults(LogStoreOptions o, const std::string& session = "s") {
  FaultyLog f;
  f.faults = FaultInjector::create();
  o.fault_injector = f.faults;
  f.store = LogStore::open(o).value();
  f.log = f.store->open(session, OpenMode::write).value();
  return f;
}

/// Every segment file of a session, name -> bytes.
std::map<std::string, std::string> snapshot(const fs::path& session_dir) {
  std::map<std::string, std::string> out;
  for (const auto& p : test::segment_files(session_dir)) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out[p.filename().string()] = ss.str();
  }
  return out;
}

/// Frame bytes of each record of a batch (32-byte frame header + record).
std::vector<std::size_t> frame_sizes(const test::TestBatch& b) {
  std::vector<std::size_t> out;
  for (const auto& r : b.batch().records) out.push_back(32 + r.size());
  return out;
}

/// Offsets inside a batch of `total` bytes where a disk-full fault is tried: every frame
/// boundary and the bytes around it, plus every `stride`-th byte.
std::vector<std::size_t> fault_offsets(const std::vector<std::size_t>& frames, std::size_t stride) {
  std::vector<std::size_t> out;
  std::size_t total = 0;
  for (std::size_t f : frames) total += f;
  std::size_t at = 0;
  for (std::size_t f : frames) {
    for (std::size_t d : {std::size_t{0}, std::size_t{1}, std::size_t{31}, std::size_t{32}, std::size_t{33}})
      if (at + d < total) out.push_back(at + d);
    if (at > 0) out.push_back(at - 1);
    at += f;
  }
  for (std::size_t k = 0; k < total; k += stride) out.push_back(k);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void wait_secured(const SessionLog& log, Sequence seq) {
  const auto deadline = std::chrono::steady_clock::now() + test::patience();
  while (log.latest_sequence() < seq && std::chrono::steady_clock::now() < deadline)
    (void)log.wait_for(log.latest_sequence(), std::chrono::steady_clock::now() + 100ms);
  ASSERT_GE(log.latest_sequence(), seq);
}

TEST(LogFaults, shortWriteLeavesSegmentAsBeforeTheBatch) {
  // A disk that fills up at byte K of a batch (K over frame boundaries and a stride of the
  // bytes in between; small segments so that some batches roll): the append answers
  // storage_error, every segment file is exactly as before the batch, written/latest have not
  // moved, and the same batch is accepted once space is back. Then a reopen shows 1..N.
  for (const Level& l : kWritingLevels) {
    SCOPED_TRACE(name_of(l));
    TempDir dir;
    auto o = test::options_for(dir, l);
    o.segment_bytes = 4096;  // about 3 batches per segment: many batches roll part-way
    auto [faults, store, log] = open_with_faults(o);
    const fs::path session_dir = o.root / "s";
    test::append_range(*log, 1, 10, 5, 100);
    Sequence next = 11;
    const std::size_t stride = test::kFull ? 1 : (l.background_sync || l.durability != Durability::fsync ? 7 : 41);
    const auto probe = test::make_batch(next, 5, 100);
    const auto offsets = fault_offsets(frame_sizes(probe), stride);
    std::size_t failures = 0;
    for (std::size_t k : offsets) {
      SCOPED_TRACE("disk full after " + std::to_string(k) + " bytes of the batch at " + std::to_string(next));
      wait_secured(*log, next - 1);  // background sync: settle, so the files are what they are
      const auto before = snapshot(session_dir);
      auto b = test::make_batch(next, 5, 100);
      ASSERT_TRUE(faults->fail_writes_after(k, ENOSPC));
      Status st = log->append(b.batch());
      ASSERT_FALSE(st.ok()) << "the batch fit in " << k << " bytes?";
      ASSERT_EQ(st.code(), Errc::storage_error) << st.error();
      EXPECT_NE(st.error().message().find("No space left on device"), std::string::npos) << st.error();
      ++failures;
      EXPECT_EQ(log->written_sequence(), next - 1);
      EXPECT_EQ(log->latest_sequence(), next - 1);
      EXPECT_EQ(snapshot(session_dir), before) << "the failed batch left bytes behind";
      ASSERT_TRUE(faults->heal(FileOp::write));
      ASSERT_TRUE(log->append(b.batch())) << "the writer stays usable once space is back";
      next += 5;
    }
    wait_secured(*log, next - 1);
    EXPECT_EQ(faults->injected(FileOp::write), failures);
    test::expect_events_1_to_n(*log, next - 1, 100);
    log.reset();
    faults->heal_all();
    auto v = store->verify("s");
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ok()) << v->problem;
    EXPECT_EQ(v->torn_tail_bytes, 0u);
    EXPECT_EQ(v->intact.latest_sequence, next - 1);
  }
}

TEST(LogFaults, diskFullAppendIsStorageErrorAndStoredEventsIntact) {
  for (const Level& l : kWritingLevels) {
    SCOPED_TRACE(name_of(l));
    TempDir dir;
    auto o = test::options_for(dir, l);
    o.segment_bytes = 16384;
    auto [faults, store, log] = open_with_faults(o, "full");
    test::append_range(*log, 1, 100, 10);
    wait_secured(*log, 100);
    ASSERT_TRUE(faults->fail_writes_after(20000, ENOSPC));  // the disk fills up in a few batches
    Sequence next = 101;
    Status failed;
    for (int i = 0; i < 1000 && failed; ++i) {
      auto b = test::make_batch(next, 10);
      failed = log->append(b.batch());
      if (failed) next += 10;
    }
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.code(), Errc::storage_error);
    EXPECT_NE(failed.error().message().find("No space left on device (errno 28, injected by FaultInjector)"),
              std::string::npos)
        << failed.error();
    for (int i = 0; i < 3; ++i) {  // the disk stays full: every later append fails the same way
      auto b = test::make_batch(next, 10);
      EXPECT_EQ(log->append(b.batch()).code(), Errc::storage_error);
    }
    EXPECT_EQ(log->written_sequence(), next - 1);
    wait_secured(*log, next - 1);
    test::expect_events_1_to_n(*log, next - 1);  // nothing already stored lost or altered
    log.reset();
    faults->heal_all();
    auto reopened = store->open("full", OpenMode::write).value();
    EXPECT_EQ(reopened->latest_sequence(), next - 1);
    test::expect_events_1_to_n(*reopened, next - 1);
    auto b = test::make_batch(next, 10);
    EXPECT_TRUE(reopened->append(b.batch()));
  }
}

TEST(LogFaults, writeErrorsOfEveryKindStoreNothingOfTheBatch) {
  // EIO and ENOSPC failing the whole write (nothing reaches the file), then the same batch.
  TempDir dir;
  auto o = test::options_in(dir, Durability::buffered);
  auto [faults, store, log] = open_with_faults(o);
  test::append_range(*log, 1, 20, 5);
  const auto before = snapshot(o.root / "s");
  for (int err : {EIO, ENOSPC}) {
    ASSERT_TRUE(faults->fail_next(FileOp::write, 2, err));
    auto b = test::make_batch(21, 5);
    Status st = log->append(b.batch());
    ASSERT_EQ(st.code(), Errc::storage_error);
    EXPECT_NE(st.error().message().find("errno " + std::to_string(err)), std::string::npos) << st.error();
    EXPECT_EQ(log->append(b.batch()).code(), Errc::storage_error);
    EXPECT_EQ(snapshot(o.root / "s"), before);
    EXPECT_EQ(log->latest_sequence(), 20u);
  }
  auto b = test::make_batch(21, 5);
  ASSERT_TRUE(log->append(b.batch()));
  test::expect_events_1_to_n(*log, 25);
}

TEST(LogFaults, failedInlineFsyncUndoesTheBatchAndTheNextAppendContinues) {
  TempDir dir;
  auto o = test::options_in(dir, Durability::fsync);
  o.background_sync = false;
  o.segment_bytes = 4096;
  auto [faults, store, log] = open_with_faults(o);
  test::append_range(*log, 1, 10, 5, 100);
  Sequence next = 11;
  for (int round = 0; round < 12; ++round) {  // some rounds roll (the roll's own fdatasync fails)
    SCOPED_TRACE("round " + std::to_string(round));
    const auto before = snapshot(o.root / "s");
    ASSERT_TRUE(faults->fail_next(FileOp::sync, 1, EIO));
    auto b = test::make_batch(next, 5, 100);
    Status st = log->append(b.batch());
    ASSERT_EQ(st.code(), Errc::storage_error);
    EXPECT_NE(st.error().message().find("fdatasync"), std::string::npos) << st.error();
    EXPECT_EQ(log->written_sequence(), next - 1);
    EXPECT_EQ(log->latest_sequence(), next - 1);
    EXPECT_EQ(snapshot(o.root / "s"), before);
    ASSERT_TRUE(log->append(b.batch()));
    EXPECT_EQ(log->latest_sequence(), next + 4);
    next += 5;
  }
  log.reset();
  auto reopened = store->open("s", OpenMode::write).value();
  test::expect_events_1_to_n(*reopened, next - 1, 100);
}

TEST(LogFaults, failedBackgroundFsyncPublishesNothingUntilARetrySucceeds) {
  // Group commit on the sync thread: a failed fdatasync leaves the page cache in an unknown
  // state. The writer keeps its own copy of the unsynced bytes, refuses appends, and the sync
  // thread rewrites the copy and syncs again until it works. Nothing unsecured is visible.
  TempDir dir;
  auto o = test::options_in(dir, Durability::fsync);
  o.background_sync = true;
  auto [faults, store, log] = open_with_faults(o);
  test::append_range(*log, 1, 20, 5);
  wait_secured(*log, 20);
  ASSERT_TRUE(faults->fail(FileOp::sync, EIO));
  auto b = test::make_batch(21, 5);
  ASSERT_TRUE(log->append(b.batch())) << "written; the sync thread secures it later";
  EXPECT_EQ(log->written_sequence(), 25u);
  // wait_for reports the failing sync instead of waiting in vain.
  Result<Sequence> w = log->wait_for(20, std::chrono::steady_clock::now() + test::patience());
  while (w.ok() && *w == 20) w = log->wait_for(20, std::chrono::steady_clock::now() + test::patience());
  ASSERT_FALSE(w.ok()) << "secured " << *w << " with every fdatasync failing";
  EXPECT_EQ(w.code(), Errc::storage_error);
  EXPECT_NE(w.error().message().find("fdatasync"), std::string::npos) << w.error();
  EXPECT_EQ(log->latest_sequence(), 20u) << "INV-2: nothing the sync did not secure is visible";
  EXPECT_EQ(log->read(EventQuery{}).value().size(), 20u);
  auto c = test::make_batch(26, 5);
  EXPECT_EQ(log->append(c.batch()).code(), Errc::storage_error) << "appends are refused while the sync fails";
  EXPECT_EQ(log->written_sequence(), 25u);
  const auto retries = faults->injected(FileOp::sync);
  ASSERT_TRUE(faults->heal(FileOp::sync));
  wait_secured(*log, 25);
  EXPECT_GE(retries, 1u);
  ASSERT_TRUE(log->append(c.batch())) << "appends resume once a retried fdatasync succeeded";
  wait_secured(*log, 30);
  test::expect_events_1_to_n(*log, 30);
  log.reset();
  auto reopened = store->open("s", OpenMode::write).value();
  test::expect_events_1_to_n(*reopened, 30);
}

TEST(LogFaults, closeWithAFailingBackgroundFsyncCutsTheUnsecuredRecords) {
  TempDir dir;
  auto o = test::options_in(dir, Durability::fsync);
  auto [faults, store, log] = open_with_faults(o);
  test::append_range(*log, 1, 20, 5);
  wait_secured(*log, 20);
  ASSERT_TRUE(faults->fail(FileOp::sync, EIO));
  auto b = test::make_batch(21, 5);
  ASSERT_TRUE(log->append(b.batch()));
  log.reset();  // close: the final fdatasync fails too
  faults->heal_all();
  auto v = store->verify("s");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok()) << v->problem;
  EXPECT_EQ(v->intact.latest_sequence, 20u) << "records never secured were cut at close";
  auto reopened = store->open("s", OpenMode::write).value();
  test::expect_events_1_to_n(*reopened, 20);
}

TEST(LogFaults, slowFsyncGroupCommitsEverythingWrittenMeanwhile) {
  TempDir dir;
  auto o = test::options_in(dir, Durability::fsync);
  auto [faults, store, log] = open_with_faults(o);
  ASSERT_TRUE(faults->delay(FileOp::sync, 50ms));
  const int n = 60;
  const auto t0 = std::chrono::steady_clock::now();
  test::append_range(*log, 1, n, 1);  // one event per batch: each append returns after its pwrite
  const auto append_time = std::chrono::steady_clock::now() - t0;
  EXPECT_LE(log->latest_sequence(), static_cast<Sequence>(n));
  wait_secured(*log, n);
  const auto syncs = faults->delayed(FileOp::sync);
  EXPECT_GE(syncs, 1u);
  // Each fdatasync covers every batch written while the previous one ran: with 60 appends done
  // in far less than 60 x 50 ms, far fewer than 60 syncs ran.
  if (append_time < 1s) { EXPECT_LT(syncs, static_cast<std::uint64_t>(n) / 2) << "no group commit"; }
  test::expect_events_1_to_n(*log, n);
}

TEST(LogFaults, readFailureIsReportedAndTheNextReadSucceeds) {
  TempDir dir;
  auto o = test::options_in(dir);
  auto [faults, store, log] = open_with_faults(o);
  test::append_range(*log, 1, 50, 10);
  ASSERT_TRUE(faults->fail_next(FileOp::read, 1, EIO));
  auto r = log->read(EventQuery{});
  ASSERT_EQ(r.code(), Errc::storage_error);
  EXPECT_NE(r.error().message().find("injected by FaultInjector"), std::string::npos) << r.error();
  ASSERT_TRUE(faults->fail_next(FileOp::read, 1, EIO));
  EXPECT_EQ(log->find_by_id("evt-7").code(), Errc::storage_error);
  test::expect_events_1_to_n(*log, 50);
  EXPECT_EQ(log->find_by_id("evt-7").value().sequence_number, 7u);
  // A read handle of the same store sees the same faults.
  auto reader = store->open("s", OpenMode::read).value();
  ASSERT_TRUE(faults->fail(FileOp::read, EIO));
  EXPECT_EQ(reader->read(EventQuery{}).code(), Errc::storage_error);
  faults->heal_all();
  EXPECT_EQ(reader->read(EventQuery{}).value().size(), 50u);
  EXPECT_EQ(faults->injected(FileOp::read), 3u);
}

TEST(LogFaults, noneFlushFailureKeepsTheRecordsPendingAndARetryWritesThem) {
  // Durability::none: records wait in user space; a failed hand-off to the OS (a reader
  // needing them, the idle flush, a full buffer) is cut back and retried, never a lost record.
  TempDir dir;
  auto o = test::options_in(dir, Durability::none);
  o.flush_interval = std::chrono::milliseconds(1000 * 60);  // only readers and a full buffer flush
  o.buffer_bytes = 4096;
  auto [faults, store, log] = open_with_faults(o);
  test::append_range(*log, 1, 5, 5);  // pending in user space
  const auto before = snapshot(o.root / "s");
  ASSERT_TRUE(faults->fail_writes_after(50, ENOSPC));
  EXPECT_EQ(log->read(EventQuery{}).code(), Errc::storage_error) << "the reader's flush failed";
  EXPECT_EQ(snapshot(o.root / "s"), before) << "the short flush was cut back";
  // A batch that fills the buffer needs a flush: refused, nothing of it kept.
  auto big = test::make_batch(6, 30, 200);
  EXPECT_EQ(log->append(big.batch()).code(), Errc::storage_error);
  EXPECT_EQ(log->written_sequence(), 5u);
  faults->heal_all();
  ASSERT_TRUE(log->append(big.batch()));
  Sequence expect = 1;
  ASSERT_TRUE(log->read(EventQuery{}, [&](const EventView& e) {
    EXPECT_EQ(e.sequence_number, expect);
    EXPECT_EQ(e.id, "evt-" + std::to_string(expect));
    ++expect;
    return true;
  }));
  EXPECT_EQ(expect, 36u);
}

TEST(LogFaults, failedUndoRefusesAppendsAndReopenTreatsTheLeftoverAsATornTail) {
  // The disk fills up exactly after two whole frames of a batch and the truncate that should
  // undo them fails too: the writer zeroes the first frame header of the batch and refuses
  // every later append (it must not append after garbage). A reopen sees a torn tail there and
  // cuts it: exactly the accepted prefix, and appends continue at its end.
  for (bool mid_frame : {false, true}) {
    SCOPED_TRACE(mid_frame ? "short write inside a frame" : "short write at a frame boundary");
    TempDir dir;
    auto o = test::options_in(dir, Durability::buffered);
    auto [faults, store, log] = open_with_faults(o);
    test::append_range(*log, 1, 20, 5);
    auto b = test::make_batch(21, 5);
    const auto frames = frame_sizes(b);
    const std::size_t k = frames[0] + frames[1] + (mid_frame ? 17 : 0);
    ASSERT_TRUE(faults->fail_writes_after(k, ENOSPC));
    ASSERT_TRUE(faults->fail(FileOp::truncate, EIO));
    ASSERT_EQ(log->append(b.batch()).code(), Errc::storage_error);
    EXPECT_GE(faults->injected(FileOp::truncate), 1u);
    faults->heal_all();
    Status again = log->append(b.batch());
    ASSERT_EQ(again.code(), Errc::storage_error) << "appended after garbage it could not remove";
    EXPECT_NE(again.error().message().find("reopened"), std::string::npos) << again.error();
    EXPECT_EQ(log->latest_sequence(), 20u);
    test::expect_events_1_to_n(*log, 20);
    log.reset();
    auto v = store->verify("s");
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->damaged) << v->problem;
    EXPECT_GT(v->torn_tail_bytes, 0u);
    EXPECT_EQ(v->intact.latest_sequence, 20u);
    auto reopened = store->open("s", OpenMode::write).value();
    EXPECT_EQ(reopened->latest_sequence(), 20u);
    ASSERT_TRUE(reopened->append(b.batch()));
    test::expect_events_1_to_n(*reopened, 25);
  }
}

TEST(LogFaults, reopenAfterRandomFaultsShowsExactlyTheAcceptedPrefix) {
  // Random faults (EIO, disk full at a random byte, failed and slow fdatasyncs) between appends
  // of random batches on every writing level, small segments so that batches roll often, and a
  // reader reading the tail all along (it must never see damage: the bytes a failed batch
  // leaves for a moment are past what is secured). The model is the list of accepted batches.
  // After the last append the log is closed and reopened without faults: exactly that prefix.
  std::mt19937_64 rng(20240607);
  const int rounds = static_cast<int>(test::scaled(400, 4000, 60));
  for (const Level& l : kWritingLevels) {
    SCOPED_TRACE(name_of(l));
    TempDir dir;
    auto o = test::options_for(dir, l);
    o.segment_bytes = 4096;
    auto [faults, store, log] = open_with_faults(o);
    std::atomic<bool> done{false};  // writer: main; reader: the reader thread (relaxed: a flag)
    std::thread reader([&] {
      while (!done.load(std::memory_order_relaxed)) {
        const Sequence latest = log->latest_sequence();
        EventQuery q;
        q.after = latest > 30 ? latest - 30 : 0;
        Sequence expect = q.after + 1;
        Status st = log->read(q, [&](const EventView& e) {
          EXPECT_EQ(e.sequence_number, expect++);
          return true;
        });
        ASSERT_TRUE(st.ok()) << st.error();
      }
    });
    Sequence next = 1;
    for (int i = 0; i < rounds; ++i) {
      switch (rng() % 8) {
        case 0: ASSERT_TRUE(faults->fail_next(FileOp::write, 1, EIO)); break;
        case 1: ASSERT_TRUE(faults->fail_writes_after(rng() % 3000, ENOSPC)); break;
        case 2: ASSERT_TRUE(faults->fail_next(FileOp::sync, 1 + rng() % 2, EIO)); break;
        case 3: ASSERT_TRUE(faults->delay(FileOp::sync, std::chrono::microseconds(rng() % 1500))); break;
        default: break;
      }
      auto b = test::make_batch(next, 1 + rng() % 8, 20 + rng() % 200);
      Status st = log->append(b.batch());
      if (st) {
        next = b.batch().first_sequence + b.batch().size();
      } else {
        ASSERT_EQ(st.code(), Errc::storage_error) << st.error();
        EXPECT_EQ(log->written_sequence(), next - 1);
      }
      if (rng() % 3 != 0) faults->heal_all();  // some faults outlive an append (background syncs meet them)
    }
    faults->heal_all();
    wait_secured(*log, next - 1);
    done.store(true, std::memory_order_relaxed);
    reader.join();
    log.reset();
    auto v = store->verify("s");
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->ok()) << v->problem;
    EXPECT_EQ(v->torn_tail_bytes, 0u);
    auto reopened = store->open("s", OpenMode::write).value();
    EXPECT_EQ(reopened->latest_sequence(), next - 1);
    Sequence expect = 1;
    ASSERT_TRUE(reopened->read(EventQuery{}, [&](const EventView& e) {
      EXPECT_EQ(e.sequence_number, expect);
      EXPECT_EQ(e.id, "evt-" + std::to_string(expect));
      ++expect;
      return true;
    }));
    EXPECT_EQ(expect, next);
  }
}

}  // namespace
}  // namespace sessionring
