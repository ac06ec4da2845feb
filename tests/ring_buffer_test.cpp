// RingBuffer (engine/detail/ring_buffer.hpp), single-threaded: slot contents, wrap-around, the
// lapped answer, the in-store marker, the window (first_held). Concurrency: ring_litmus_test.cpp.
#include "detail/ring_buffer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using sessionring::Sequence;
using sessionring::detail::RingBuffer;

namespace {

std::vector<std::byte> record(Sequence seq, std::size_t size) {
  std::vector<std::byte> r(size);
  for (std::size_t i = 0; i < size; ++i) r[i] = static_cast<std::byte>((seq * 31 + i) & 0xff);
  return r;
}

struct Copy {
  RingBuffer::Read result;
  std::vector<std::byte> bytes;
};

Copy read(const RingBuffer& ring, Sequence seq) {
  std::vector<std::uint64_t> buf((ring.payload_bytes() + 7) / 8 + 1);
  std::size_t size = 0;
  Copy c{ring.read(seq, buf.data(), size), {}};
  if (c.result == RingBuffer::Read::ok) {
    c.bytes.resize(size);
    std::memcpy(c.bytes.data(), buf.data(), size);
  }
  return c;
}

}  // namespace

TEST(RingBuffer, payloadIsSlotBytesMinusTheHeader) {
  RingBuffer ring(8, 256, 0);
  EXPECT_EQ(ring.capacity(), 8u);
  EXPECT_EQ(ring.payload_bytes(), 256u - RingBuffer::kSlotHeaderBytes);
  EXPECT_EQ(ring.start(), 0u);
  EXPECT_EQ(ring.cursor(), 0u);
}

TEST(RingBuffer, unwrittenSlotsReadAsLapped) {
  RingBuffer ring(4, 64, 0);
  for (Sequence s = 1; s <= 8; ++s) EXPECT_EQ(read(ring, s).result, RingBuffer::Read::lapped) << s;
}

TEST(RingBuffer, writtenRecordsReadBackExactlyForEverySize) {
  RingBuffer ring(16, 128, 0);
  for (std::size_t size = 1; size <= ring.payload_bytes(); ++size) {
    const Sequence seq = size;
    const auto rec = record(seq, size);
    EXPECT_TRUE(ring.write(seq, rec));
    const Copy c = read(ring, seq);
    ASSERT_EQ(c.result, RingBuffer::Read::ok) << size;
    EXPECT_EQ(c.bytes, rec) << size;
  }
}

TEST(RingBuffer, aSlotHoldsOnlyItsLatestSequence) {
  RingBuffer ring(4, 64, 0);
  for (Sequence s = 1; s <= 4; ++s) ring.write(s, record(s, 40));
  for (Sequence s = 1; s <= 4; ++s) EXPECT_EQ(read(ring, s).result, RingBuffer::Read::ok);
  ring.write(5, record(5, 24));  // same slot as 1
  EXPECT_EQ(read(ring, 1).result, RingBuffer::Read::lapped);
  const Copy c = read(ring, 5);
  ASSERT_EQ(c.result, RingBuffer::Read::ok);
  EXPECT_EQ(c.bytes, record(5, 24));  // no stale tail bytes of the 40-byte record of seq 1
  // A reader asking for a sequence the slot will hold later (9) is not given 5.
  EXPECT_EQ(read(ring, 9).result, RingBuffer::Read::lapped);
}

TEST(RingBuffer, wrapsThousandsOfTimes) {
  RingBuffer ring(8, 96, 0);
  for (Sequence s = 1; s <= 100000; ++s) {
    ring.write(s, record(s, 1 + s % ring.payload_bytes()));
    ring.publish(s);
    if (s % 997 == 0) {
      const Sequence oldest = ring.first_held(s);
      for (Sequence t = oldest; t <= s; ++t) {
        const Copy c = read(ring, t);
        ASSERT_EQ(c.result, RingBuffer::Read::ok) << t;
        EXPECT_EQ(c.bytes, record(t, 1 + t % ring.payload_bytes()));
      }
      EXPECT_EQ(read(ring, oldest - 1).result, RingBuffer::Read::lapped);
    }
  }
  EXPECT_EQ(ring.cursor(), 100000u);
}

TEST(RingBuffer, recordLargerThanTheSlotBecomesAnInStoreMarker) {
  RingBuffer ring(4, 64, 0);
  const std::size_t payload = ring.payload_bytes();
  EXPECT_TRUE(ring.write(1, record(1, payload)));  // exactly fits
  EXPECT_FALSE(ring.write(2, record(2, payload + 1)));
  EXPECT_FALSE(ring.write(3, record(3, 100000)));
  EXPECT_EQ(read(ring, 1).result, RingBuffer::Read::ok);
  EXPECT_EQ(read(ring, 2).result, RingBuffer::Read::in_store);
  EXPECT_EQ(read(ring, 3).result, RingBuffer::Read::in_store);
  // A marker slot overwritten by an inline record is an ordinary slot again, and vice versa.
  EXPECT_TRUE(ring.write(6, record(6, 8)));
  EXPECT_EQ(read(ring, 2).result, RingBuffer::Read::lapped);
  EXPECT_EQ(read(ring, 6).bytes, record(6, 8));
  EXPECT_FALSE(ring.write(5, record(5, payload + 8)));
  EXPECT_EQ(read(ring, 1).result, RingBuffer::Read::lapped);
  EXPECT_EQ(read(ring, 5).result, RingBuffer::Read::in_store);
}

TEST(RingBuffer, firstHeldIsTheOldestSequenceInTheWindow) {
  RingBuffer fresh(8, 64, 0);
  EXPECT_EQ(fresh.first_held(0), 1u);
  EXPECT_EQ(fresh.first_held(1), 1u);
  EXPECT_EQ(fresh.first_held(7), 1u);
  EXPECT_EQ(fresh.first_held(8), 1u);
  EXPECT_EQ(fresh.first_held(9), 2u);
  EXPECT_EQ(fresh.first_held(1000), 993u);
  // A ring opened on a log that already holds 100 events never holds 1..100.
  RingBuffer reopened(8, 64, 100);
  EXPECT_EQ(reopened.start(), 100u);
  EXPECT_EQ(reopened.cursor(), 100u);
  EXPECT_EQ(reopened.first_held(100), 101u);
  EXPECT_EQ(reopened.first_held(103), 101u);
  EXPECT_EQ(reopened.first_held(108), 101u);
  EXPECT_EQ(reopened.first_held(109), 102u);
}

TEST(RingBuffer, publishMovesTheCursorAndWakesNobodyWhenNobodyWaits) {
  RingBuffer ring(4, 64, 10);
  ring.write(11, record(11, 8));
  ring.publish(11);
  EXPECT_EQ(ring.cursor(), 11u);
  EXPECT_EQ(ring.cursor_seq_cst(), 11u);
  EXPECT_EQ(ring.gate().waiters_approx(), 0u);
}

TEST(RingBuffer, capacityTwoAndLargeSlotsWork) {
  RingBuffer ring(2, 65536, 0);
  EXPECT_EQ(ring.payload_bytes(), 65536u - 16u);
  for (Sequence s = 1; s <= 10; ++s) {
    ASSERT_TRUE(ring.write(s, record(s, 65000)));
    EXPECT_EQ(read(ring, s).bytes, record(s, 65000));
    if (s > 2) { EXPECT_EQ(read(ring, s - 2).result, RingBuffer::Read::lapped); }
  }
}
