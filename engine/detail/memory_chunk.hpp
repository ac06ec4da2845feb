// MemoryChunk: one arena chunk of a MemoryStore session. Records are copied back to back from
// the front of `data`; their offsets go into a side table, so a reader finds record i of the
// chunk in O(1). Retention prunes whole chunks and the writer reuses them for new records
// (their pages stay faulted in: no page fault in steady state). A reader pins the chunk it reads
// (pins_ > 0) and the writer never reuses a pinned chunk: labels (M3)-(M6) in docs/design.md §12.
#pragma once
#include <sessionring/event_record.hpp>

#include "detail/mapped_buffer.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sessionring::detail {

class MemoryChunk {
 public:
  /// `bytes` of record space (mmap'ed, not yet faulted in) and room for as many offsets as
  /// the smallest records (headers only) could need.
  explicit MemoryChunk(std::size_t bytes)
      : data_(bytes), offsets_(std::max<std::size_t>(1, bytes / EventRecord::kHeaderBytes) * sizeof(std::uint32_t)) {}
  MemoryChunk(const MemoryChunk&) = delete;
  MemoryChunk& operator=(const MemoryChunk&) = delete;
  ~MemoryChunk() = default;

  std::size_t capacity() const noexcept { return data_.size(); }
  std::size_t mapped_bytes() const noexcept { return data_.size() + offsets_.size(); }

  // ---- writer only (or, for the log's spare chunk, the one thread preparing it under the
  // log's spare protocol: MemorySessionLog::step_spare, design §13) ----
  /// Starts the chunk over (a new chunk or one reused after pruning); its pages stay faulted in.
  void reset() noexcept {
    used_ = 0;
    count_ = 0;
  }
  bool fits(std::size_t n) const noexcept { return n <= data_.size() - used_; }
  std::size_t left() const noexcept { return data_.size() - used_; }
  /// Copies one record (it must fit) and notes its offset.
  void push(const std::byte* record, std::size_t n) noexcept {
    std::memcpy(data_.data() + used_, record, n);
    std::uint32_t off = static_cast<std::uint32_t>(used_);
    std::memcpy(offsets_.data() + count_ * sizeof(off), &off, sizeof(off));
    used_ += n;
    ++count_;
  }
  /// One bounded step of faulting in the next `ahead_bytes` of record space and the next
  /// `ahead_entries` offsets, at most `step` bytes; false when they are already faulted in.
  bool prefault_step(std::size_t ahead_bytes, std::size_t ahead_entries, std::size_t step) noexcept {
    touched_data_ = std::max(touched_data_, used_);
    const std::size_t want_data = std::min(data_.size(), used_ + ahead_bytes);
    if (touched_data_ < want_data) {
      const std::size_t to = std::min(want_data, touched_data_ + step);
      data_.prefault(touched_data_, to);
      touched_data_ = to;
      return true;
    }
    const std::size_t used_off = count_ * sizeof(std::uint32_t);
    touched_offsets_ = std::max(touched_offsets_, used_off);
    const std::size_t want_off = std::min(offsets_.size(), used_off + ahead_entries * sizeof(std::uint32_t));
    if (touched_offsets_ < want_off) {
      const std::size_t to = std::min(want_off, touched_offsets_ + step);
      offsets_.prefault(touched_offsets_, to);
      touched_offsets_ = to;
      return true;
    }
    return false;
  }
  /// (M6) seq_cst: pairs with a reader's pin (M3) — Dekker with the writer's prune store of the
  /// first available sequence (M2) and the reader's load of it (M4): either the writer sees the
  /// pin here, or the pinning reader sees the prune — and with the unpin (M5): everything the
  /// reader did in the chunk happens before the writer reuses it.
  bool unpinned() const noexcept { return pins_.load(std::memory_order_seq_cst) == 0; }

  // ---- readers (any thread), for records the owner published, while pinned ----
  const std::byte* record(std::size_t i) const noexcept {
    std::uint32_t off = 0;
    std::memcpy(&off, offsets_.data() + i * sizeof(off), sizeof(off));
    return data_.data() + off;
  }
  /// (M3) seq_cst: pairs with (M6); the reader then loads the first available sequence (M4)
  /// and reads the chunk only if what it wants is not pruned.
  void pin() const noexcept { pins_.fetch_add(1, std::memory_order_seq_cst); }
  /// (M5) release: pairs with (M6): the reader's reads happen before the writer's reuse.
  void unpin() const noexcept { pins_.fetch_sub(1, std::memory_order_release); }

 private:
  MappedBuffer data_;
  MappedBuffer offsets_;
  std::size_t used_ = 0;             // writer only: record bytes in data_
  std::size_t count_ = 0;            // writer only: records (offsets) in the chunk
  std::size_t touched_data_ = 0;     // writer only: bytes of data_ known faulted in (kept across reuse)
  std::size_t touched_offsets_ = 0;  // writer only: bytes of offsets_ known faulted in (kept across reuse)
  // Readers inside the chunk: incremented (M3) / decremented (M5) by readers, loaded by the
  // writer (M6) before reusing the chunk; publishes "a reader may be reading me".
  mutable std::atomic<std::uint32_t> pins_{0};
};

/// A reader's pin on a chunk, released on every path out of the reading scope.
class ChunkPin {
 public:
  explicit ChunkPin(const MemoryChunk* c) noexcept : c_(c) { c_->pin(); }
  ChunkPin(const ChunkPin&) = delete;
  ChunkPin& operator=(const ChunkPin&) = delete;
  ~ChunkPin() { c_->unpin(); }

 private:
  const MemoryChunk* c_;
};

}  // namespace sessionring::detail
