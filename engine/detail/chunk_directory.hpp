// ChunkDirectory: a MemoryStore session's chunks in the order they were started, each with its
// first sequence. Every start of a chunk (a new one or one reused after pruning) takes the next
// ordinal; entries are immutable once published, so readers binary-search them without locks.
// 16 bytes per chunk ever started (2 bytes per MiB of records at 8 MiB chunks).
#pragma once
#include <sessionring/config.hpp>

#include "detail/memory_chunk.hpp"
#include "detail/published_array.hpp"

#include <atomic>
#include <cstddef>

namespace sessionring::detail {

struct ChunkEntry {
  MemoryChunk* chunk = nullptr;
  Sequence first = 0;  ///< the first sequence stored in the chunk at this ordinal
};

class ChunkDirectory {
 public:
  /// Writer only: the chunk started next, holding sequences from `first` on.
  void add(MemoryChunk* chunk, Sequence first) {
    entries_.set(count_local_, ChunkEntry{chunk, first});
    ++count_local_;
    // (M7) release: publishes the entry to readers' acquire load (M8) in count(). The owner also
    // publishes the sequences stored in the chunk later, with (M1).
    count_.store(count_local_, std::memory_order_release);
  }
  /// Writer only: takes the page faults of the next entries ahead of time.
  void prefault_next() { (void)entries_.prefault(count_local_, 1); }

  /// Any thread: the entries published so far.
  std::size_t count() const noexcept { return count_.load(std::memory_order_acquire); }  // (M8) pairs with (M7)
  ChunkEntry get(std::size_t ordinal) const noexcept { return entries_.get(ordinal); }
  /// The ordinal of the last entry (< count) whose first sequence is <= s (0 if none).
  std::size_t find(Sequence s, std::size_t count) const noexcept {
    std::size_t lo = 0, hi = count;  // invariant: the answer is in [lo, hi)
    while (hi - lo > 1) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (entries_.get(mid).first <= s)
        lo = mid;
      else
        hi = mid;
    }
    return lo;
  }

 private:
  PublishedArray<ChunkEntry, 64> entries_;
  std::size_t count_local_ = 0;  // writer only
  // Entries published: written by the writer (M7), read by readers (M8); publishes the entries below it.
  std::atomic<std::size_t> count_{0};
};

}  // namespace sessionring::detail
