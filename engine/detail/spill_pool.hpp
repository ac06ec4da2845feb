// SpillPool: the blocks that hold a producer's records too large for an IngestItem's inline
// bytes (docs/design.md §6 step 0), recycled instead of allocated per event. The producer takes
// a block, encodes into it and queues the item; the sequencer gives the block back when it no
// longer needs the record (stored and written to the ring, dropped, or refused), in any order,
// from any thread, with one lock-free push; the producer collects what was given back when its
// own free lists run dry. A steady stream of events of one size therefore allocates only until
// as many blocks are in flight as the queue holds: no allocation per event (docs/design.md §6
// step 0, labels SP1/SP2).
//
// Blocks come in power-of-two size classes from 512 bytes to kRecycleMaxBytes; a larger record
// gets a block of its own size that is freed when given back (its copy costs more than the
// allocation). A producer never has more blocks in use than its credit window plus one batch
// the sequencer is processing, so it keeps that many idle blocks (keep_blocks, set by the
// session: ingest_capacity + max_batch) and frees the rest as they are collected; it frees them
// all when it lets go of its slot (trim). The pool lives in its ProducerSlot,
// which the SessionCore owns for its whole life: the sequencer may give a block back after the
// producer went away, and the next producer to take the slot reuses the blocks.
#pragma once
#include <sessionring/config.hpp>

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace sessionring::detail {

class SpillPool {
 public:
  static constexpr std::size_t kMinBlockBytes = 512;
  static constexpr std::size_t kRecycleMaxBytes = std::size_t{16} << 10;

  SpillPool() = default;
  SpillPool(const SpillPool&) = delete;
  SpillPool& operator=(const SpillPool&) = delete;
  ~SpillPool() { trim(); }

  /// Owning producer: a block of at least `bytes` record bytes (16-byte aligned). Allocates only
  /// when no block of its class is free (std::bad_alloc as `new`).
  std::byte* take(std::size_t bytes) {
    if (bytes > kRecycleMaxBytes) return make(bytes, kOwnSize)->bytes();
    const unsigned c = class_of(bytes);
    if (free_[c] == nullptr) collect();
    if (Block* b = free_[c]; b != nullptr) {
      free_[c] = b->next;
      free_bytes_ -= capacity_of(c);
      --free_blocks_;
      return b->bytes();
    }
    return make(capacity_of(c), c)->bytes();
  }

  /// Owning producer: a block it took and did not queue.
  void put_back(std::byte* record) noexcept {
    Block* b = Block::of(record);
    if (b->size_class == kOwnSize)
      destroy(b);
    else
      keep(b);
  }

  /// Owner (before the producer's first take): how many idle blocks to keep.
  void set_keep_blocks(std::size_t n) noexcept { keep_blocks_ = n; }

  /// Owning producer, when it lets go of the slot: frees every idle block.
  void trim() noexcept {
    collect();
    for (Block*& head : free_)
      while (head != nullptr) destroy(std::exchange(head, head->next));
    free_bytes_ = 0;
    free_blocks_ = 0;
  }

  /// Sequencer (any thread): the record in this block is no longer needed.
  void give_back(std::byte* record) noexcept {
    Block* b = Block::of(record);
    if (b->size_class == kOwnSize) {
      destroy(b);
      return;
    }
    b->next = returned_.load(std::memory_order_relaxed);  // relaxed: the CAS below re-checks it
    // (SP1) release: the sequencer's reads of the record happen before the producer reuses the
    // block; pairs with (SP2).
    while (!returned_.compare_exchange_weak(b->next, b, std::memory_order_release, std::memory_order_relaxed)) {
    }
  }

  /// Idle blocks the owning producer holds (statistics and tests; owning producer only).
  std::size_t free_bytes() const noexcept { return free_bytes_; }

 private:
  static constexpr unsigned kClasses = std::countr_zero(kRecycleMaxBytes) - std::countr_zero(kMinBlockBytes) + 1;
  static constexpr std::uint32_t kOwnSize = 0xffff'ffff;  // a block of its record's own size, not recycled

  struct alignas(16) Block {
    Block* next;
    std::uint32_t size_class;
    std::byte* bytes() noexcept { return reinterpret_cast<std::byte*>(this + 1); }
    static Block* of(std::byte* record) noexcept { return reinterpret_cast<Block*>(record) - 1; }
  };
  static_assert(sizeof(Block) == 16, "records start 16 bytes into their block, 16-byte aligned");

  static unsigned class_of(std::size_t bytes) noexcept {
    const std::size_t rounded = std::bit_ceil(bytes < kMinBlockBytes ? kMinBlockBytes : bytes);
    return static_cast<unsigned>(std::countr_zero(rounded) - std::countr_zero(kMinBlockBytes));
  }
  static std::size_t capacity_of(unsigned c) noexcept { return kMinBlockBytes << c; }

  static Block* make(std::size_t record_bytes, std::uint32_t size_class) {
    void* raw = ::operator new(sizeof(Block) + record_bytes, std::align_val_t{alignof(Block)});
    auto* b = new (raw) Block{nullptr, size_class};
    return b;
  }
  static void destroy(Block* b) noexcept { ::operator delete(b, std::align_val_t{alignof(Block)}); }

  /// Owning producer: takes every block the sequencer gave back.
  void collect() noexcept {
    // (SP2) acquire: pairs with (SP1); the whole list at once, so no ABA.
    Block* b = returned_.exchange(nullptr, std::memory_order_acquire);
    while (b != nullptr) keep(std::exchange(b, b->next));
  }
  void keep(Block* b) noexcept {
    if (free_blocks_ >= keep_blocks_) {
      destroy(b);
      return;
    }
    b->next = free_[b->size_class];
    free_[b->size_class] = b;
    free_bytes_ += capacity_of(b->size_class);
    ++free_blocks_;
  }

  // Blocks given back by the sequencer, not yet collected. Writer: the sequencer (SP1, a
  // release CAS push); reader: the owning producer (SP2, an acquire exchange that takes them all).
  // Its own cache line: the sequencer writes it per large record, the producer its free lists.
  alignas(kCacheLine) std::atomic<Block*> returned_{nullptr};
  alignas(kCacheLine) std::array<Block*, kClasses> free_{};  // owning producer only: idle blocks per size class
  std::size_t free_bytes_ = 0;                            // owning producer only
  std::size_t free_blocks_ = 0;                           // owning producer only
  std::size_t keep_blocks_ = 4096 + 1024;                 // owner: SessionOptions' ingest_capacity + max_batch
};

static_assert(alignof(SpillPool) == kCacheLine, "returned_ and the free lists on separate cache lines");

}  // namespace sessionring::detail
