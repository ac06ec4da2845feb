// SpillPool (engine/detail/spill_pool.hpp): blocks given back are taken again, from any thread
// and in any order, a block in use is never handed out twice, idle blocks stay bounded.
#include "detail/spill_pool.hpp"

#include "oracle.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace sessionring::detail {
namespace {

TEST(SpillPool, aBlockGivenBackIsTakenAgainForARecordOfItsSizeClass) {
  SpillPool pool;
  std::byte* a = pool.take(600);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 16, 0u);
  std::memset(a, 0x5a, 600);
  pool.give_back(a);
  EXPECT_EQ(pool.take(1000), a);  // 600 and 1000 bytes: both the 1 KiB class
  std::byte* b = pool.take(3000);  // another class: another block
  EXPECT_NE(b, a);
  pool.give_back(a);
  pool.give_back(b);
  std::byte* again = pool.take(2100);  // 4 KiB class
  EXPECT_EQ(again, b);
  pool.put_back(again);
}

TEST(SpillPool, aRecordAboveTheRecycleLimitGetsABlockOfItsOwnThatIsNotKept) {
  SpillPool pool;
  std::byte* big = pool.take(SpillPool::kRecycleMaxBytes + 1);
  std::memset(big, 1, SpillPool::kRecycleMaxBytes + 1);  // all of it is usable (ASan checks)
  pool.give_back(big);
  std::byte* small = pool.take(100);  // collects what was given back
  EXPECT_EQ(pool.free_bytes(), 0u);
  pool.put_back(small);
}

TEST(SpillPool, blocksGivenBackByAnotherThreadInAnyOrderAreAllReusedAndIdleOnesAreFreedOnTrim) {
  SpillPool pool;
  std::vector<std::byte*> taken;
  for (int i = 0; i < 100; ++i) taken.push_back(pool.take(700));
  std::thread sequencer([&] {
    std::vector<std::byte*> order = taken;
    std::reverse(order.begin(), order.end());
    for (std::byte* p : order) pool.give_back(p);
  });
  sequencer.join();
  std::set<std::byte*> again;
  for (int i = 0; i < 100; ++i) again.insert(pool.take(700));
  EXPECT_EQ(again, std::set<std::byte*>(taken.begin(), taken.end()));
  for (std::byte* p : again) pool.put_back(p);
  EXPECT_EQ(pool.free_bytes(), 100u * 1024u);
  pool.trim();
  EXPECT_EQ(pool.free_bytes(), 0u);
}

TEST(SpillPool, idleBlocksBeyondTheKeepLimitAreFreed) {
  SpillPool pool;
  pool.set_keep_blocks(10);
  std::vector<std::byte*> taken;
  for (int i = 0; i < 25; ++i) taken.push_back(pool.take(SpillPool::kRecycleMaxBytes));
  for (std::byte* p : taken) pool.give_back(p);
  std::byte* small = pool.take(100);  // collects: 10 kept, 15 freed
  EXPECT_EQ(pool.free_bytes(), 10 * SpillPool::kRecycleMaxBytes);
  pool.put_back(small);
}

// The engine's pattern with a tiny credit window: a producer takes a block, fills it with its
// sequence number and hands it over (here through a 4-slot ring of atomics); a second thread
// checks the whole block and gives it back. A block handed out while still in use would show
// as a torn or foreign fill (and as a race under ThreadSanitizer). Thousands of round trips.
TEST(SpillPool, aBlockIsNeverHandedOutAgainWhileTheSequencerStillReadsIt) {
  SpillPool pool;
  constexpr std::size_t kSlots = 4;
  const std::size_t rounds = 20'000 / test::kSlow;
  // Writer: the producer thread (release); reader: the checker (acquire): the record's bytes.
  std::array<std::atomic<std::byte*>, kSlots> ring{};
  std::atomic<bool> bad{false};  // written by the checker, read after join
  std::thread checker([&] {
    for (std::size_t i = 0; i < rounds; ++i) {
      auto& slot = ring[i % kSlots];
      std::byte* p;
      while ((p = slot.load(std::memory_order_acquire)) == nullptr) std::this_thread::yield();  // pairs with the release below
      slot.store(nullptr, std::memory_order_relaxed);  // relaxed: only this thread clears, the producer waits for it
      const std::size_t size = 600 + (i % 3) * 2000;
      const auto fill = static_cast<std::byte>(i & 0xff);
      for (std::size_t k = 0; k < size; ++k)
        if (p[k] != fill) bad.store(true, std::memory_order_relaxed);  // relaxed: read after join
      pool.give_back(p);
    }
  });
  for (std::size_t i = 0; i < rounds; ++i) {
    const std::size_t size = 600 + (i % 3) * 2000;
    std::byte* p = pool.take(size);
    std::memset(p, static_cast<int>(i & 0xff), size);
    auto& slot = ring[i % kSlots];
    while (slot.load(std::memory_order_relaxed) != nullptr) std::this_thread::yield();  // relaxed: a hint, the store below publishes
    slot.store(p, std::memory_order_release);  // pairs with the checker's acquire
  }
  checker.join();
  EXPECT_FALSE(bad.load());
}

}  // namespace
}  // namespace sessionring::detail
