// RecordIndex: sequence → pointer to an immutable record, for one writer and any number of
// concurrent readers without locks. Entries live in levels that are allocated once and never
// move (level k holds kBase << k entries), so a reader never sees a reallocation.
// Readers may only look up sequences the writer has published (INV-2: the owner publishes
// with a release/seq_cst store of its latest sequence after set()).
#pragma once
#include <sessionring/config.hpp>

#include "detail/mapped_buffer.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>

namespace sessionring::detail {

class RecordIndex {
 public:
  RecordIndex() = default;
  RecordIndex(const RecordIndex&) = delete;
  RecordIndex& operator=(const RecordIndex&) = delete;
  ~RecordIndex() = default;

  /// Writer only. Sequence seq >= 1.
  void set(Sequence seq, const std::byte* record) {
    const auto [level, offset] = locate(seq);
    level_entries(level)[offset] = record;
  }

  /// Writer only: takes the page faults of the entries for [from, from + n) now (allocating
  /// their level if needed), so that set() there does not fault; stops at the end of a level.
  /// Returns the entries covered (1..n). Throws std::bad_alloc.
  std::size_t prefault(Sequence from, std::size_t n) {
    const auto [level, offset] = locate(from);
    (void)level_entries(level);
    const std::size_t entries = std::min(n, (kBase << level) - offset);
    buffers_[level].prefault(offset * sizeof(const std::byte*), (offset + entries) * sizeof(const std::byte*));
    return entries;
  }

  /// Any thread, for a sequence already published by the owner.
  const std::byte* get(Sequence seq) const noexcept {
    const auto [level, offset] = locate(seq);
    const std::byte** entries = levels_[level].load(std::memory_order_acquire);  // pairs with set()
    return entries == nullptr ? nullptr : entries[offset];
  }

 private:
  static constexpr std::size_t kBase = 1024;

  // Writer only: the entries of `level`, allocated (zero-filled) on first use.
  const std::byte** level_entries(std::size_t level) {
    const std::byte** entries = levels_[level].load(std::memory_order_relaxed);  // relaxed: writer's own store
    if (entries == nullptr) {
      buffers_[level] = MappedBuffer((kBase << level) * sizeof(const std::byte*));  // zero-filled
      entries = reinterpret_cast<const std::byte**>(buffers_[level].data());
      // Release: pairs with the acquire in get(); the owner's later publication of its latest
      // sequence also orders it, this keeps get() safe on its own.
      levels_[level].store(entries, std::memory_order_release);
    }
    return entries;
  }

  struct Where {
    std::size_t level, offset;
  };
  static Where locate(Sequence seq) noexcept {
    const std::size_t i = seq - 1;
    const std::size_t j = i / kBase + 1;
    const std::size_t level = std::bit_width(j) - 1;
    return {level, i - ((std::size_t{1} << level) - 1) * kBase};
  }
  // Level pointers: written once by the writer (release), read by readers (acquire).
  std::array<std::atomic<const std::byte**>, 48> levels_{};
  std::array<MappedBuffer, 48> buffers_;  // writer only: owns the level memory
};

}  // namespace sessionring::detail
