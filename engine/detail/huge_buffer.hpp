// HugeBuffer: a large zero-filled allocation from mmap, advised to use transparent huge pages.
// In a VM every 4 KiB first-touch fault is expensive; big append-only structures (store arenas,
// index tables) fault once per 2 MiB instead. Small sizes still work (plain mmap).
#pragma once
#include <cstddef>
#include <new>
#include <utility>

#include <sys/mman.h>

namespace sessionring::detail {

class HugeBuffer {
 public:
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;

  HugeBuffer() = default;
  explicit HugeBuffer(std::size_t bytes) : size_(bytes) {
    if (bytes == 0) return;
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    if (bytes >= kHugePage) (void)::madvise(p, bytes, MADV_HUGEPAGE);  // a hint; fine if refused
    data_ = static_cast<std::byte*>(p);
  }
  HugeBuffer(HugeBuffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  HugeBuffer& operator=(HugeBuffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~HugeBuffer() { release(); }

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  void release() noexcept {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = nullptr;
  }
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace sessionring::detail
