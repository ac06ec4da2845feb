// ReadBuffer (engine/detail/read_buffer.hpp): a thread's log reads reuse one buffer, a read
// nested in another's visitor gets its own, threads never share one, a buffer above the keep
// limit is not kept.
#include "detail/read_buffer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>

namespace sessionring::detail {
namespace {

/// Runs `f` on a fresh thread, whose slot starts empty.
template <class F>
void on_fresh_thread(F f) {
  std::thread t(f);
  t.join();
}

TEST(ReadBuffer, aThreadsNextReadReusesTheBufferItsLastReadLeft) {
  on_fresh_thread([] {
    const std::byte* first = nullptr;
    {
      ReadBuffer b;
      EXPECT_EQ(b.capacity(), 0u);
      b.reserve(64 << 10, 0);
      first = b.data();
    }
    ReadBuffer again;
    EXPECT_EQ(again.data(), first);
    EXPECT_EQ(again.capacity(), std::size_t{64} << 10);
    again.reserve(32 << 10, 0);  // smaller than held: no reallocation
    EXPECT_EQ(again.data(), first);
  });
}

TEST(ReadBuffer, aReadNestedInsideAnotherReadGetsABufferOfItsOwnAndTheLargerIsKept) {
  on_fresh_thread([] {
    const std::byte* larger = nullptr;
    {
      ReadBuffer outer;
      outer.reserve(256 << 10, 0);
      larger = outer.data();
      {
        ReadBuffer inner;  // the slot is empty while `outer` holds the thread's buffer
        EXPECT_EQ(inner.capacity(), 0u);
        inner.reserve(4096, 0);
        EXPECT_NE(inner.data(), outer.data());
      }
    }
    ReadBuffer next;
    EXPECT_EQ(next.data(), larger);
  });
}

TEST(ReadBuffer, aBufferAboveTheKeepLimitIsFreedWhenItsReadEnds) {
  on_fresh_thread([] {
    {
      ReadBuffer big;
      big.reserve(ReadBuffer::kKeepBytes + 1, 0);
    }
    ReadBuffer next;
    EXPECT_EQ(next.capacity(), 0u);
  });
}

TEST(ReadBuffer, growingKeepsThePrefixTheReadStillNeeds) {
  on_fresh_thread([] {
    ReadBuffer b;
    b.reserve(16, 0);
    std::memcpy(b.data(), "0123456789abcdef", 16);
    b.reserve(1 << 16, 10);
    EXPECT_EQ(std::memcmp(b.data(), "0123456789", 10), 0);
  });
}

TEST(ReadBuffer, aThreadNeverGetsTheBufferAnotherThreadKept) {
  std::thread t1([] {
    { ReadBuffer r; r.reserve(4096, 0); }  // kept in t1's slot
    std::thread t2([] {
      ReadBuffer s;
      EXPECT_EQ(s.capacity(), 0u);
    });
    t2.join();
    ReadBuffer again;
    EXPECT_EQ(again.capacity(), 4096u);
  });
  t1.join();
}

}  // namespace
}  // namespace sessionring::detail
