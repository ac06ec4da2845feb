// FaultInjector (engine/fault_injector.cpp) and FaultInjectingStore
// (engine/fault_injecting_store.cpp): each rule decides exactly as documented, configuration is
// validated, counters count, configuration from other threads while operations run is safe,
// and the store wrapper keeps a refused append all-or-nothing.
#include "oracle.hpp"

#include <sessionring/fault_injecting_store.hpp>
#include <sessionring/fault_injector.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

namespace sessionring {
namespace {

using namespace std::chrono_literals;
using test::BatchBuilder;

TEST(FaultInjector, unconfiguredOperationsGoAheadWithAllBytes) {
  auto f = FaultInjector::create();
  for (FileOp op : {FileOp::write, FileOp::sync, FileOp::read, FileOp::truncate}) {
    const auto d = f->before(op, 100);
    EXPECT_EQ(d.error, 0);
    EXPECT_EQ(f->injected(op), 0u);
  }
  EXPECT_EQ(f->injected_total(), 0u);
}

TEST(FaultInjector, failFailsEveryOperationOfThatKindUntilHealed) {
  auto f = FaultInjector::create();
  ASSERT_TRUE(f->fail(FileOp::sync, EIO));
  for (int i = 0; i < 5; ++i) {
    const auto d = f->before(FileOp::sync);
    EXPECT_EQ(d.error, EIO);
    EXPECT_EQ(d.allowed, 0u);
    EXPECT_EQ(f->before(FileOp::write, 10).error, 0) << "other operations are not affected";
  }
  EXPECT_EQ(f->injected(FileOp::sync), 5u);
  ASSERT_TRUE(f->heal(FileOp::sync));
  EXPECT_EQ(f->before(FileOp::sync).error, 0);
  EXPECT_EQ(f->injected(FileOp::sync), 5u);
  EXPECT_EQ(f->injected_total(), 5u);
}

TEST(FaultInjector, failNextFailsExactlyCountOperations) {
  auto f = FaultInjector::create();
  ASSERT_TRUE(f->fail_next(FileOp::read, 3, EIO));
  EXPECT_EQ(f->before(FileOp::read).error, EIO);
  EXPECT_EQ(f->before(FileOp::read).error, EIO);
  EXPECT_EQ(f->before(FileOp::read).error, EIO);
  EXPECT_EQ(f->before(FileOp::read).error, 0);
  EXPECT_EQ(f->before(FileOp::read).error, 0);
  EXPECT_EQ(f->injected(FileOp::read), 3u);
}

TEST(FaultInjector, diskFullAfterKBytesAllowsThePartThatFitsThenFailsEverything) {
  auto f = FaultInjector::create();
  ASSERT_TRUE(f->fail_writes_after(100, ENOSPC));
  EXPECT_EQ(f->before(FileOp::write, 60).error, 0);  // 40 left
  const auto shortw = f->before(FileOp::write, 50);  // crosses: a short write of 40 bytes
  EXPECT_EQ(shortw.error, ENOSPC);
  EXPECT_EQ(shortw.allowed, 40u);
  const auto after = f->before(FileOp::write, 1);  // the disk stays full
  EXPECT_EQ(after.error, ENOSPC);
  EXPECT_EQ(after.allowed, 0u);
  EXPECT_EQ(f->before(FileOp::write, 0).error, 0) << "a rewrite in place needs no new space";
  EXPECT_EQ(f->injected(FileOp::write), 2u);
  ASSERT_TRUE(f->heal(FileOp::write));
  EXPECT_EQ(f->before(FileOp::write, 1 << 20).error, 0);
}

TEST(FaultInjector, diskFullAtExactlyTheBudgetFailsTheNextByte) {
  auto f = FaultInjector::create();
  ASSERT_TRUE(f->fail_writes_after(64, ENOSPC));
  EXPECT_EQ(f->before(FileOp::write, 64).error, 0);
  const auto d = f->before(FileOp::write, 8);
  EXPECT_EQ(d.error, ENOSPC);
  EXPECT_EQ(d.allowed, 0u);
}

TEST(FaultInjector, delaySleepsBeforeTheOperationAndIsCounted) {
  auto f = FaultInjector::create();
  ASSERT_TRUE(f->delay(FileOp::sync, 20ms));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(f->before(FileOp::sync).error, 0);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
  EXPECT_EQ(f->delayed(FileOp::sync), 1u);
  EXPECT_EQ(f->injected(FileOp::sync), 0u) << "a delay is not a failure";
  ASSERT_TRUE(f->delay(FileOp::sync, 0ns));
  EXPECT_EQ(f->before(FileOp::sync).error, 0);
  EXPECT_EQ(f->delayed(FileOp::sync), 1u);
}

TEST(FaultInjector, healAllClearsFaultsAndDelays) {
  auto f = FaultInjector::create();
  ASSERT_TRUE(f->fail(FileOp::write, EIO));
  ASSERT_TRUE(f->fail(FileOp::read, EIO));
  ASSERT_TRUE(f->delay(FileOp::sync, 1h));
  f->heal_all();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(f->before(FileOp::write, 1).error, 0);
  EXPECT_EQ(f->before(FileOp::read).error, 0);
  EXPECT_EQ(f->before(FileOp::sync).error, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10min);
}

TEST(FaultInjector, badArgumentsAreValidationErrorsAndChangeNothing) {
  auto f = FaultInjector::create();
  EXPECT_EQ(f->fail(FileOp::write, 0).code(), Errc::validation_error);
  EXPECT_EQ(f->fail(FileOp::write, -5).code(), Errc::validation_error);
  EXPECT_EQ(f->fail(FileOp::write, 4096).code(), Errc::validation_error);
  EXPECT_EQ(f->fail(static_cast<FileOp>(9), EIO).code(), Errc::validation_error);
  EXPECT_EQ(f->fail_next(FileOp::read, 0, EIO).code(), Errc::validation_error);
  EXPECT_EQ(f->fail_next(static_cast<FileOp>(200), 1, EIO).code(), Errc::validation_error);
  EXPECT_EQ(f->fail_writes_after(10, 0).code(), Errc::validation_error);
  EXPECT_EQ(f->delay(FileOp::sync, -1ns).code(), Errc::validation_error);
  EXPECT_EQ(f->delay(FileOp::sync, std::chrono::hours(2)).code(), Errc::validation_error);
  EXPECT_EQ(f->delay(static_cast<FileOp>(4), 1ms).code(), Errc::validation_error);
  EXPECT_EQ(f->heal(static_cast<FileOp>(4)).code(), Errc::validation_error);
  auto st = f->fail(FileOp::sync, 0);
  EXPECT_NE(st.error().message().find("errno"), std::string::npos) << st.error();
  for (FileOp op : {FileOp::write, FileOp::sync, FileOp::read, FileOp::truncate})
    EXPECT_EQ(f->before(op, 1).error, 0) << "a refused configuration armed nothing";
  EXPECT_EQ(f->before(static_cast<FileOp>(7), 1).error, 0) << "an invalid op is never failed";
  EXPECT_EQ(f->injected(static_cast<FileOp>(7)), 0u);
}

TEST(FaultInjector, configurationFromOtherThreadsWhileOperationsRunCountsEveryFailureOnce) {
  // Thread safety (TSan checks the races): one thread reconfigures at random while three run
  // operations; every failed decision is counted exactly once.
  auto f = FaultInjector::create();
  std::atomic<bool> stop{false};  // writer: main; readers: workers (relaxed: a flag, no data)
  std::atomic<std::uint64_t> failures{0};  // writers: workers (relaxed sum, read after join)
  std::vector<std::thread> workers;
  for (int t = 0; t < 3; ++t)
    workers.emplace_back([&, t] {
      const FileOp op = t == 0 ? FileOp::write : t == 1 ? FileOp::sync : FileOp::read;
      while (!stop.load(std::memory_order_relaxed))
        if (f->before(op, 16).error != 0) failures.fetch_add(1, std::memory_order_relaxed);
    });
  const int rounds = static_cast<int>(test::scaled(2000, 20000, 200));
  for (int i = 0; i < rounds; ++i) {
    switch (i % 5) {
      case 0: ASSERT_TRUE(f->fail(FileOp::sync, EIO)); break;
      case 1: ASSERT_TRUE(f->fail_next(FileOp::read, 3, EIO)); break;
      case 2: ASSERT_TRUE(f->fail_writes_after(100, ENOSPC)); break;
      case 3: f->heal_all(); break;
      case 4: ASSERT_TRUE(f->heal(FileOp::write)); break;
    }
    std::this_thread::yield();
  }
  stop.store(true, std::memory_order_relaxed);
  for (auto& w : workers) w.join();
  EXPECT_EQ(f->injected_total(), failures.load(std::memory_order_relaxed));
}

// ---------------------------------------------------------------------------------------------
// FaultInjectingStore

TEST(FaultInjectingStore, needsAnInnerStoreAndAnInjector) {
  EXPECT_EQ(FaultInjectingStore::create(nullptr, FaultInjector::create()).code(), Errc::validation_error);
  EXPECT_EQ(FaultInjectingStore::create(MemoryStore::create(), nullptr).code(), Errc::validation_error);
  auto ok = FaultInjectingStore::create(MemoryStore::create(), FaultInjector::create());
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)->kind(), "memory");
}

TEST(FaultInjectingStore, refusedAppendTouchesNothingAndTheNextOneContinues) {
  auto inner = MemoryStore::create();
  auto faults = FaultInjector::create();
  auto store = FaultInjectingStore::create(inner, faults).value();
  auto log = store->open("s", OpenMode::write).value();
  BatchBuilder b1(1);
  b1.add(EventType::run_started, "r", "a").add(EventType::message_streamed, "r", "b");
  ASSERT_TRUE(log->append(b1.batch()));
  ASSERT_TRUE(faults->fail_next(FileOp::write, 1, ENOSPC));
  BatchBuilder b2(3);
  b2.add(EventType::message_streamed, "r", "c").add(EventType::run_completed, "r", "d");
  Status st = log->append(b2.batch());
  ASSERT_EQ(st.code(), Errc::storage_error);
  EXPECT_NE(st.error().message().find("errno 28, injected by FaultInjector"), std::string::npos) << st.error();
  EXPECT_EQ(log->latest_sequence(), 2u);
  EXPECT_EQ(inner->open("s", OpenMode::read).value()->latest_sequence(), 2u) << "the inner store never saw it";
  ASSERT_TRUE(log->append(b2.batch())) << "the same batch is accepted once the fault clears";
  EXPECT_EQ(log->latest_sequence(), 4u);
  EXPECT_EQ(faults->injected(FileOp::write), 1u);
}

TEST(FaultInjectingStore, diskFullRefusesTheWholeBatchThatDoesNotFit) {
  auto faults = FaultInjector::create();
  auto store = FaultInjectingStore::create(MemoryStore::create(), faults).value();
  auto log = store->open("s", OpenMode::write).value();
  BatchBuilder b1(1);
  for (int i = 0; i < 10; ++i) b1.add(EventType::message_streamed, "r", std::string(100, 'x'));
  ASSERT_TRUE(faults->fail_writes_after(500, ENOSPC));  // less than the batch
  EXPECT_EQ(log->append(b1.batch()).code(), Errc::storage_error);
  EXPECT_EQ(log->latest_sequence(), 0u);
  EXPECT_TRUE(log->read(EventQuery{}).value().empty());
  faults->heal_all();
  ASSERT_TRUE(log->append(b1.batch()));
  EXPECT_EQ(log->read(EventQuery{}).value().size(), 10u);
}

TEST(FaultInjectingStore, syncFaultsRefuseAppendsAndReadFaultsFailReads) {
  auto faults = FaultInjector::create();
  auto store = FaultInjectingStore::create(MemoryStore::create(), faults).value();
  auto log = store->open("s", OpenMode::write).value();
  BatchBuilder b(1);
  b.add(EventType::run_started, "r", "a", "the-id");
  ASSERT_TRUE(faults->fail_next(FileOp::sync, 1, EIO));
  EXPECT_EQ(log->append(b.batch()).code(), Errc::storage_error);
  ASSERT_TRUE(log->append(b.batch()));
  ASSERT_TRUE(faults->fail(FileOp::read, EIO));
  EXPECT_EQ(log->read(EventQuery{}).code(), Errc::storage_error);
  EXPECT_EQ(log->find_by_id("the-id").code(), Errc::storage_error);
  EXPECT_EQ(log->latest_sequence(), 1u) << "latest_sequence is not a read of records";
  ASSERT_TRUE(faults->heal(FileOp::read));
  EXPECT_EQ(log->read(EventQuery{}).value().size(), 1u);
  EXPECT_EQ(log->find_by_id("the-id").value().sequence_number, 1u);
  EXPECT_EQ(faults->injected_total(), 3u);
}

TEST(FaultInjectingStore, appendDelayModelsASlowStore) {
  auto faults = FaultInjector::create();
  auto store = FaultInjectingStore::create(MemoryStore::create(), faults).value();
  auto log = store->open("s", OpenMode::write).value();
  ASSERT_TRUE(faults->delay(FileOp::sync, 30ms));
  BatchBuilder b(1);
  b.add(EventType::run_started, "r", "a");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(log->append(b.batch()));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 30ms);
  EXPECT_EQ(faults->delayed(FileOp::sync), 1u);
}

}  // namespace
}  // namespace sessionring
