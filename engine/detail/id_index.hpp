// IdIndex: event-id hash → sequence, open addressing with linear probing. Stores only the
// 64-bit hash of an id (XXH3) and the sequence: 16 bytes per event, no allocation per insert
// (the table doubles at 50% load). Hashes can collide, so find() yields every candidate and
// the caller compares the real id. Single-threaded: callers serialise access.
#pragma once
#include <sessionring/config.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <xxhash.h>

namespace sessionring::detail {

class IdIndex {
 public:
  static std::uint64_t hash(std::string_view id) noexcept {
    const std::uint64_t h = XXH3_64bits(id.data(), id.size());
    return h == 0 ? 1 : h;  // 0 marks an empty slot
  }

  void insert(std::uint64_t h, Sequence seq) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(h, seq);
    ++size_;
  }

  /// Calls candidate(seq) for each sequence stored under hash h until it returns true;
  /// returns that sequence, or 0.
  template <class F>
  Sequence find(std::uint64_t h, F&& candidate) const {
    if (slots_.empty()) return 0;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.hash == 0) return 0;
      if (s.hash == h && candidate(s.seq)) return s.seq;
    }
  }

  /// Removes the entry (h, seq) if present (backward-shift deletion, no tombstones).
  void erase(std::uint64_t h, Sequence seq) {
    if (slots_.empty()) return;
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
  std::size_t memory_bytes() const noexcept { return slots_.size() * sizeof(Slot); }

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
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.hash != 0) place(s.hash, s.seq);
  }
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace sessionring::detail
