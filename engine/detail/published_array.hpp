// PublishedArray<T>: index → T for one writer and any number of concurrent readers without
// locks. Entries live in levels that are allocated once and never move (level k holds
// kBase << k entries), so a reader never sees a reallocation. Readers may only read entries the
// writer has published: the owner publishes with a release (or seq_cst) store of its own count
// after set(), and readers acquire that count before get(). Used by MemoryStore's chunk
// directory (engine/detail/chunk_directory.hpp).
#pragma once
#include "detail/mapped_buffer.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <type_traits>

namespace sessionring::detail {

template <class T, std::size_t kBase = 1024>
class PublishedArray {
  static_assert(std::is_trivially_copyable_v<T>, "entries are zero-filled mmap memory, copied as bytes");
  static_assert(std::has_single_bit(kBase), "levels are located with bit arithmetic");

 public:
  PublishedArray() = default;
  PublishedArray(const PublishedArray&) = delete;
  PublishedArray& operator=(const PublishedArray&) = delete;
  ~PublishedArray() = default;

  /// Writer only.
  void set(std::size_t i, const T& value) {
    const auto [level, offset] = locate(i);
    level_entries(level)[offset] = value;
  }

  /// Writer only: takes the page faults of the entries [from, from + n) now (allocating their
  /// level if needed), so that set() there does not fault; stops at the end of a level.
  /// Returns the entries covered (1..n). Throws std::bad_alloc.
  std::size_t prefault(std::size_t from, std::size_t n) {
    const auto [level, offset] = locate(from);
    (void)level_entries(level);
    const std::size_t entries = std::min(n, (kBase << level) - offset);
    buffers_[level].prefault(offset * sizeof(T), (offset + entries) * sizeof(T));
    return entries;
  }

  /// Any thread, for an entry already published by the owner; a zero T for an entry of a level
  /// never allocated.
  T get(std::size_t i) const noexcept {
    const auto [level, offset] = locate(i);
    const T* entries = levels_[level].load(std::memory_order_acquire);  // pairs with the release in level_entries()
    return entries == nullptr ? T{} : entries[offset];
  }

 private:
  // Writer only: the entries of `level`, allocated (zero-filled) on first use.
  T* level_entries(std::size_t level) {
    T* entries = levels_[level].load(std::memory_order_relaxed);  // relaxed: the writer's own store
    if (entries == nullptr) {
      buffers_[level] = MappedBuffer((kBase << level) * sizeof(T));  // zero-filled
      entries = reinterpret_cast<T*>(buffers_[level].data());
      // Release: pairs with the acquire in get(); the owner's later publication of its count
      // also orders it, this keeps get() safe on its own.
      levels_[level].store(entries, std::memory_order_release);
    }
    return entries;
  }

  struct Where {
    std::size_t level, offset;
  };
  static Where locate(std::size_t i) noexcept {
    const std::size_t j = i / kBase + 1;
    const std::size_t level = std::bit_width(j) - 1;
    return {level, i - ((std::size_t{1} << level) - 1) * kBase};
  }
  // Level pointers: written once by the writer (release), read by readers (acquire).
  std::array<std::atomic<T*>, 48> levels_{};
  std::array<MappedBuffer, 48> buffers_;  // writer only: owns the level memory
};

}  // namespace sessionring::detail
