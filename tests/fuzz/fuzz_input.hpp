// FuzzInput: reads typed values from a fuzzer's bytes, front to back. Past the end every read
// answers zero / empty, so a target never needs to check the length (libFuzzer shrinks inputs,
// and a short input must still be a valid, smaller test).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace sessionring::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}

  bool empty() const noexcept { return pos_ >= size_; }
  std::size_t remaining() const noexcept { return empty() ? 0 : size_ - pos_; }

  std::uint8_t u8() noexcept { return empty() ? 0 : data_[pos_++]; }
  bool flag() noexcept { return (u8() & 1) != 0; }

  template <class T>
  T uint() noexcept {
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>(v | static_cast<T>(static_cast<T>(u8()) << (8 * i)));
    return v;
  }
  std::uint16_t u16() noexcept { return uint<std::uint16_t>(); }
  std::uint32_t u32() noexcept { return uint<std::uint32_t>(); }
  std::uint64_t u64() noexcept { return uint<std::uint64_t>(); }

  /// A value in [lo, hi] (hi >= lo), from one byte when the span fits in one, else four.
  std::uint64_t in_range(std::uint64_t lo, std::uint64_t hi) noexcept {
    const std::uint64_t span = hi - lo;
    if (span == 0) return lo;
    const std::uint64_t raw = span < 256 ? u8() : u32();
    return lo + raw % (span + 1);
  }

  /// Up to `max` bytes: a length byte, then that many bytes (fewer at the end of the input).
  std::string_view bytes(std::size_t max) noexcept {
    std::size_t n = u8();
    if (n > max) n = max;
    return take(n);
  }

  /// The next `n` bytes (fewer at the end).
  std::string_view take(std::size_t n) noexcept {
    if (n > remaining()) n = remaining();
    std::string_view s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }

  /// Everything not read yet.
  std::string_view rest() noexcept { return take(remaining()); }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace sessionring::fuzz
