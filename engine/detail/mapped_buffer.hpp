// MappedBuffer: a large zero-filled allocation straight from mmap (store arenas, index tables).
// Pages are faulted in on first touch, 4 KiB at a time. Deliberately NOT advised MADV_HUGEPAGE:
// on the project's VM the kernel zeroes a 2 MiB huge page synchronously in the faulting thread
// (the sequencer) at 0.14-1.3 GB/s, a stall of milliseconds that was the paced p99 and halved the
// unpaced throughput (docs/performance.md "Where the time goes"); 4 KiB faults spread the same
// zeroing evenly. prefault() lets a writer take those faults ahead of time, when it is idle.
#pragma once
#include <cstddef>
#include <new>
#include <utility>

#include <sys/mman.h>

namespace sessionring::detail {

class MappedBuffer {
 public:
  MappedBuffer() = default;
  explicit MappedBuffer(std::size_t bytes) : size_(bytes) {
    if (bytes == 0) return;
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<std::byte*>(p);
  }
  MappedBuffer(MappedBuffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  MappedBuffer& operator=(MappedBuffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~MappedBuffer() { release(); }

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

  /// Takes the page faults of bytes [from, to) now (clamped to the buffer), so that later writes
  /// there do not fault. The owner must be the only thread writing that range (the bytes stay
  /// zero). One madvise(MADV_POPULATE_WRITE) where the kernel has it (5.14+), else a write per page.
  void prefault(std::size_t from, std::size_t to) noexcept {
    to = to < size_ ? to : size_;
    from &= ~(kPage - 1);
    if (from >= to) return;
#ifdef MADV_POPULATE_WRITE
    if (::madvise(data_ + from, to - from, MADV_POPULATE_WRITE) == 0) return;
#endif
    for (std::size_t i = from; i < to; i += kPage) {
      // A volatile write of the value already there: faults the page in, changes nothing.
      *reinterpret_cast<volatile unsigned char*>(data_ + i) = 0;
    }
  }

  static constexpr std::size_t kPage = 4096;

 private:
  void release() noexcept {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = nullptr;
  }
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace sessionring::detail
