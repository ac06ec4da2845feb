// LatencyHistogram: HdrHistogram-style log-linear buckets over nanoseconds: 2^kSubBits linear
// sub-buckets per power of two, so every recorded value is kept within 1/2^kSubBits (~0.8%)
// relative error, from 1 ns to 2^63 ns, in a fixed 64 × 128-counter array (no allocation per
// record). Not thread-safe: one per recording thread, then merge().
#pragma once
#include <array>
#include <cstdint>

namespace sessionring::tools {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 7;

  void record(std::uint64_t ns) noexcept {
    ++counts_[index(ns)];
    ++total_;
    if (ns > max_) max_ = ns;
  }
  void merge(const LatencyHistogram& o) noexcept;
  /// Smallest recorded-bucket upper bound with at least q of the samples at or below it.
  std::uint64_t percentile(double q) const noexcept;
  std::uint64_t count() const noexcept { return total_; }
  std::uint64_t max() const noexcept { return max_; }

 private:
  static constexpr unsigned kSub = 1u << kSubBits;
  static unsigned index(std::uint64_t v) noexcept {
    if (v < kSub) return static_cast<unsigned>(v);
    const unsigned msb = 63u - static_cast<unsigned>(__builtin_clzll(v));
    const unsigned shift = msb - kSubBits;
    return (shift + 1) * kSub + static_cast<unsigned>((v >> shift) - kSub);
  }
  static std::uint64_t upper(unsigned i) noexcept;
  std::array<std::uint64_t, 58 * kSub> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace sessionring::tools
