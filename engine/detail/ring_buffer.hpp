// RingBuffer: a power-of-two array of fixed-size slots written only by the sequencer and read
// by any number of subscribers that never gate it (INV-4). Each slot holds one EventRecord
// inline, or a marker "read this sequence from the store" when the record is larger than the
// slot. Readers copy a slot out and then check that it still holds the sequence they expected
// (seqlock-style); every access is atomic, so the protocol is data-race-free and checkable by
// ThreadSanitizer. docs/design.md "Ring slot layout" and "Publish and read steps".
//
// Slot (ring_slot_bytes bytes, 8-byte words):
//   word 0      seq     : sequence held, kBusy while being rewritten, 0 never written
//   word 1      size    : record bytes, or kInStore
//   word 2..    payload : the EventRecord bytes, ceil(size / 8) words
#pragma once
#include <sessionring/config.hpp>

#include "detail/wait_gate.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>

#include <sys/mman.h>

namespace sessionring::detail {

class RingBuffer {
 public:
  static constexpr std::size_t kSlotHeaderBytes = 16;
  static constexpr std::uint64_t kBusy = ~std::uint64_t{0};
  static constexpr std::uint64_t kInStore = ~std::uint64_t{0};

  enum class Read : std::uint8_t { ok, in_store, lapped };

  /// `start`: the last sequence before the ring's first (the store's latest at open); the
  /// ring only ever holds sequences > start.
  RingBuffer(std::uint32_t capacity, std::uint32_t slot_bytes, Sequence start)
      : capacity_(capacity),
        mask_(capacity - 1),
        words_per_slot_(slot_bytes / 8),
        payload_bytes_(slot_bytes - kSlotHeaderBytes),
        start_(start),
        bytes_(std::size_t{capacity} * slot_bytes),
        words_(map(bytes_)) {
    // The slots come from an anonymous mapping: they read as 0 ("never used") and take memory
    // only when the sequencer first writes them, so an idle session's ring costs nothing.
    cursor_.store(start, std::memory_order_relaxed);  // relaxed: published by the thread start
  }
  ~RingBuffer() { ::munmap(words_, bytes_); }
  RingBuffer(const RingBuffer&) = delete;
  RingBuffer& operator=(const RingBuffer&) = delete;

  /// Sequencer only, while it does not write (an idle pooled session, design §13): gives the
  /// slots' pages back to the OS. They read as 0 afterwards, which a reader takes for a lapped
  /// slot (R1/R3 never see the sequence they expect), so it reads the store instead (INV-3);
  /// the next write() faults a zero page in again.
  void release_pages() noexcept { (void)::madvise(words_, bytes_, MADV_DONTNEED); }

  std::uint32_t capacity() const noexcept { return capacity_; }
  std::size_t payload_bytes() const noexcept { return payload_bytes_; }
  Sequence start() const noexcept { return start_; }

  /// Sequencer only. Writes `record` (EventRecord bytes) as sequence `seq` into its slot,
  /// or an in-store marker when it does not fit. Returns false for the marker.
  bool write(Sequence seq, std::span<const std::byte> record) noexcept {
    std::atomic<std::uint64_t>* slot = slot_of(seq);
    // (W1) relaxed: the release stores of (W2) below order it before any payload word.
    slot[0].store(kBusy, std::memory_order_relaxed);
    const bool fits = record.size() <= payload_bytes_;
    // (W2) release, each word: a reader whose acquire load reads any of these words also sees
    // (W1), so its check (R3) fails instead of accepting a torn copy.
    slot[1].store(fits ? record.size() : kInStore, std::memory_order_release);
    if (fits) {
      const std::size_t full = record.size() / 8;
      const std::byte* src = record.data();
      for (std::size_t i = 0; i < full; ++i) {
        std::uint64_t w;
        std::memcpy(&w, src + i * 8, 8);
        slot[2 + i].store(w, std::memory_order_release);
      }
      if (const std::size_t rest = record.size() % 8; rest != 0)
        slot[2 + full].store(tail_word(src, record.size(), rest), std::memory_order_release);
    }
    slot[0].store(seq, std::memory_order_release);  // (W3) pairs with (R1)
    return fits;
  }

  /// Sequencer only. Makes every sequence <= last visible to readers and wakes sleepers.
  void publish(Sequence last) noexcept {
    // (P1) seq_cst: the release half pairs with the acquire in cursor() (readers then see the
    // slot stores (W3) made before it); the seq_cst half is the WaitGate publication (G1).
    cursor_.store(last, std::memory_order_seq_cst);
    gate_.notify_all();
  }

  /// Any thread: the last published sequence.
  Sequence cursor() const noexcept { return cursor_.load(std::memory_order_acquire); }  // pairs with (P1)
  Sequence cursor_seq_cst() const noexcept { return cursor_.load(std::memory_order_seq_cst); }  // WaitGate ready()

  /// The oldest sequence the ring can still hold when the cursor is `head`.
  Sequence first_held(Sequence head) const noexcept {
    const Sequence oldest = head >= capacity_ ? head - capacity_ + 1 : 1;
    return std::max(start_ + 1, oldest);
  }

  /// Reader: copies sequence `seq` (<= a cursor value it has loaded) into `out` (at least
  /// payload_bytes() rounded up to 8, 8-byte aligned). On Read::ok `size` is the record size.
  Read read(Sequence seq, std::uint64_t* out, std::size_t& size) const noexcept {
    const std::atomic<std::uint64_t>* slot = slot_of(seq);
    if (slot[0].load(std::memory_order_acquire) != seq) return Read::lapped;  // (R1) pairs with (W3)
    const std::uint64_t n = slot[1].load(std::memory_order_acquire);  // (R2) pairs with (W2)
    if (n == kInStore) return still(slot, seq) ? Read::in_store : Read::lapped;
    const std::size_t bytes = std::min<std::uint64_t>(n, payload_bytes_);
    const std::size_t words = (bytes + 7) / 8;
    for (std::size_t i = 0; i < words; ++i) out[i] = slot[2 + i].load(std::memory_order_acquire);  // (R2) pairs with (W2)
    if (!still(slot, seq)) return Read::lapped;
    size = bytes;
    return Read::ok;
  }

  WaitGate& gate() noexcept { return gate_; }

 private:
  static std::atomic<std::uint64_t>* map(std::size_t bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    // Zero-filled pages hold std::atomic<uint64_t> objects of value 0 (lock-free, same
    // representation as uint64_t), the value every slot word starts with.
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free && sizeof(std::atomic<std::uint64_t>) == 8);
    return static_cast<std::atomic<std::uint64_t>*>(p);
  }
  // The last `rest` (1..7) bytes of the record [src, src + size) as one slot word, in memory
  // order, zero beyond them. A record of 8 bytes or more: one 8-byte load ending at the
  // record's end, shifted so those bytes come first (a byte-wise copy into a zeroed word was
  // a store-forwarding stall on the word's reload, a quarter of the sequencer's samples in
  // Sequencer::process: docs/performance.md "2026-12-07: the ring's last word").
  static std::uint64_t tail_word(const std::byte* src, std::size_t size, std::size_t rest) noexcept {
    std::uint64_t w = 0;
    if constexpr (std::endian::native == std::endian::little) {
      if (size >= 8) {
        std::memcpy(&w, src + size - 8, 8);
        return w >> ((8 - rest) * 8);
      }
    }
    std::memcpy(&w, src + size - rest, rest);
    return w;
  }
  // (R3) relaxed: the acquire loads before it keep it after them; if any of them read a word
  // of a newer write, that write's (W1) happens-before this load, which then reads kBusy or a
  // newer sequence (write-read coherence), never `seq`.
  static bool still(const std::atomic<std::uint64_t>* slot, Sequence seq) noexcept {
    return slot[0].load(std::memory_order_relaxed) == seq;
  }
  std::atomic<std::uint64_t>* slot_of(Sequence seq) const noexcept {
    return words_ + (seq & mask_) * words_per_slot_;
  }

  const std::uint32_t capacity_;
  const std::uint64_t mask_;
  const std::size_t words_per_slot_;
  const std::size_t payload_bytes_;
  const Sequence start_;
  const std::size_t bytes_;
  // Slot words (page-aligned mapping): written by the sequencer (W1-W3), read by subscribers
  // (R1-R3); see write()/read().
  std::atomic<std::uint64_t>* const words_;
  // Published cursor, alone on its line: written by the sequencer (P1), read by every subscriber.
  alignas(kCacheLine) std::atomic<Sequence> cursor_{0};
  alignas(kCacheLine) WaitGate gate_;
};

// The cursor (written by the sequencer per batch, read by every subscriber) and the gate's
// waiter count (written by subscribers as they park) never share a line with each other or with
// the read-only fields above: the class is cache-line aligned and both are alignas(kCacheLine).
static_assert(alignof(RingBuffer) == kCacheLine, "cursor_ and gate_ start cache lines");
static_assert(sizeof(RingBuffer) >= 3 * kCacheLine, "fields, cursor and gate on three separate cache lines");

}  // namespace sessionring::detail
