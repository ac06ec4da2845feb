// A subscriber catching up from a LogStore reads 4,096 sequences per store read
// (engine/subscriber.cpp). Each read used to allocate its pread buffer afresh, growing from
// 64 KiB, and paid a page fault per 4 KiB of it; the thread's ReadBuffer
// (engine/detail/read_buffer.hpp) is reused instead. This binary counts every operator new of
// the process (tools/alloc_counting_new.cpp).
#include "log_test_util.hpp"

#include "../tools/alloc_counter.hpp"

#include <sessionring/log_store.hpp>

#include <gtest/gtest.h>

namespace sessionring {
namespace {

TEST(LogRead, aChunkedCatchUpAllocatesNoReadBufferAfterTheThreadsFirstRead) {
  test::TempDir dir;
  auto store = LogStore::open(test::options_in(dir)).value();
  auto log = store->open("catch-up", OpenMode::write).value();
  constexpr Sequence kEvents = 40'000;  // ~6 MiB of frames: several 1 MiB chunks per pass
  test::append_range(*log, 1, kEvents, 1000, 100);
  std::uint64_t reads = 0;
  auto chunked_pass = [&] {
    Sequence cursor = 1;
    while (cursor <= kEvents) {
      ++reads;
      EventQuery q;
      q.after = cursor - 1;
      q.before = std::min<Sequence>(cursor + 4096, kEvents + 1);
      Status st = log->read(q, [&](const EventView& v) {
        cursor = v.sequence_number + 1;
        return true;
      });
      ASSERT_TRUE(st) << st.error();
    }
  };
  chunked_pass();  // the thread's first read allocates its buffer
  reads = 0;
  const std::uint64_t before = tools::allocation_count();
  chunked_pass();
  // One allocation per read remains: the path the segment's File handle keeps for its error
  // messages. A buffer allocated per read (64 KiB, then growing) would be several more.
  EXPECT_LE(tools::allocation_count() - before, reads) << "allocations in " << reads << " chunked reads";
}

}  // namespace
}  // namespace sessionring
