// IdIndex: event-id hash → sequence, open addressing with linear probing. Stores only the
// 64-bit hash of an id (XXH3) and the sequence: 16 bytes per event, no allocation per insert
// (the table doubles at 50% load). Hashes can collide, so find() yields every candidate and
// the caller compares the real id. Single-threaded: callers serialise access. The table lives
// in a MappedBuffer (zero-filled by the kernel, so a new table costs no memset).
#pragma once
#include <sessionring/config.hpp>

#include "detail/mapped_buffer.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <xxhash.h>

namespace sessionring::detail {

class IdIndex {
 public:
  static std::uint64_t hash(std::string_view id) noexcept {
    const std::uint64_t h = XXH3_64bits(id.data(), id.size());
    return h == 0 ? 1 : h;  // 0 marks an empty slot
  }

  void insert(std::uint64_t h, Sequence seq) {
    if ((size_ + 1) * 2 > capacity_) grow();
    place(h, seq);
    ++size_;
  }

  /// Calls candidate(seq) for each sequence stored under hash h until it returns true;
  /// returns that sequence, or 0.
  /// Hint: the probe for h will come soon (lets a batch overlap its cache misses).
  void prefetch(std::uint64_t h) const noexcept {
    if (capacity_ != 0) __builtin_prefetch(&slots_[h & mask_], 1);
  }

  template <class F>
  Sequence find(std::uint64_t h, F&& candidate) const {
    if (capacity_ == 0) return 0;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.hash == 0) return 0;
      if (s.hash == h && candidate(s.seq)) return s.seq;
    }
  }

  /// Removes the entry (h, seq) if present (backward-shift deletion, no tombstones).
  void erase(std::uint64_t h, Sequence seq) {
    if (capacity_ == 0) return;
    std::size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].hash == 0) return;
      if (slots_[i].hash == h && slots_[i].seq == seq) break;
    }
    for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (slots_[j].hash == 0) break;
      const std::size_t home = slots_[j].hash & mask_;
      // Move j back into the hole at i if its home is not in the cyclic range (i, j].
      const bool in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
      if (!in_range) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
    --size_;
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t memory_bytes() const noexcept { return capacity_ * sizeof(Slot); }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    Sequence seq = 0;
  };
  void place(std::uint64_t h, Sequence seq) {
    std::size_t i = h & mask_;
    while (slots_[i].hash != 0) i = (i + 1) & mask_;
    slots_[i] = Slot{h, seq};
  }
  void grow() {
    MappedBuffer old = std::move(buffer_);
    const std::size_t old_capacity = capacity_;
    const Slot* old_slots = slots_;
    capacity_ = old_capacity == 0 ? 1024 : old_capacity * 2;
    buffer_ = MappedBuffer(capacity_ * sizeof(Slot));  // zero-filled: every slot empty
    slots_ = reinterpret_cast<Slot*>(buffer_.data());
    mask_ = capacity_ - 1;
    for (std::size_t i = 0; i < old_capacity; ++i)
      if (old_slots[i].hash != 0) place(old_slots[i].hash, old_slots[i].seq);
  }
  MappedBuffer buffer_;
  Slot* slots_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace sessionring::detail
