// ReadBuffer: the byte buffer a log read fills with preads, reused by the thread's next read.
// A fresh buffer of a few hundred KiB comes from mmap and costs a page fault per 4 KiB on
// first touch: a subscriber catching up through 4,096-sequence chunks paid ~30 % of its time
// in those faults (docs/performance.md, "2026-12-07: catching up from the log"). Each thread
// keeps one buffer of up to kKeepBytes between reads; a read nested inside another read's
// visitor on the same thread finds the slot empty and gets a buffer of its own. Not shared
// between threads: no atomics, no locks.
#pragma once
#include <cstddef>
#include <cstring>
#include <memory>
#include <utility>

namespace sessionring::detail {

class ReadBuffer {
 public:
  /// Largest buffer a thread keeps for its next read (LogStoreOptions::read_chunk_bytes'
  /// default): a bigger one, asked for by a larger read chunk or a record that large, is freed
  /// when its read ends.
  static constexpr std::size_t kKeepBytes = std::size_t{1} << 20;

  ReadBuffer() noexcept : data_(std::move(slot().data)), cap_(std::exchange(slot().cap, 0)) {}
  ~ReadBuffer() {
    Slot& s = slot();
    if (cap_ <= kKeepBytes && cap_ > s.cap) {
      s.data = std::move(data_);
      s.cap = cap_;
    }
  }
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;

  std::byte* data() noexcept { return data_.get(); }
  std::size_t capacity() const noexcept { return cap_; }

  /// At least `bytes` of capacity; the first `keep` bytes survive a reallocation.
  void reserve(std::size_t bytes, std::size_t keep) {
    if (bytes <= cap_) return;
    auto grown = std::make_unique_for_overwrite<std::byte[]>(bytes);
    if (keep > 0) std::memcpy(grown.get(), data_.get(), keep);
    data_ = std::move(grown);
    cap_ = bytes;
  }

 private:
  struct Slot {
    std::unique_ptr<std::byte[]> data;
    std::size_t cap = 0;
  };
  static Slot& slot() noexcept {
    thread_local Slot s;
    return s;
  }

  std::unique_ptr<std::byte[]> data_;
  std::size_t cap_;
};

}  // namespace sessionring::detail
