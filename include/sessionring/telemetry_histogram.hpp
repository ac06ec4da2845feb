// TelemetryHistogram: a log-linear histogram of non-negative integers (nanoseconds), safe to
// record into from many threads at once. 2^kSubBits linear sub-buckets per power of two, so a
// percentile is reported within 1/2^kSubBits (12.5%) above the true value; fixed memory
// (496 counters), no allocation per record.
//
// Threads: record() from any number of threads; the readers from any thread. Every counter is
// an independent relaxed atomic, so a reader racing with writers sees a mix of before and
// after (each counter exact, the set not a snapshot) — fine for monitoring.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>

namespace sessionring {

class TelemetryHistogram {
 public:
  static constexpr unsigned kSubBits = 3;
  static constexpr unsigned kSub = 1u << kSubBits;
  static constexpr unsigned kBuckets = (64 - kSubBits + 1) * kSub;

  void record(std::uint64_t value) noexcept {
    counts_[index(value)].fetch_add(1, std::memory_order_relaxed);  // relaxed: independent counter
    count_.fetch_add(1, std::memory_order_relaxed);                 // relaxed: independent counter
    sum_.fetch_add(value, std::memory_order_relaxed);               // relaxed: independent counter
    std::uint64_t seen = max_.load(std::memory_order_relaxed);      // relaxed: monotonic max, no payload
    while (value > seen && !max_.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
    }
  }

  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }  // relaxed: statistics
  std::uint64_t sum() const noexcept { return sum_.load(std::memory_order_relaxed); }      // relaxed: statistics
  std::uint64_t max() const noexcept { return max_.load(std::memory_order_relaxed); }      // relaxed: statistics
  /// The upper bound of the bucket holding the q-quantile (q in [0, 1]); 0 when empty.
  std::uint64_t percentile(double q) const noexcept;

  static constexpr unsigned index(std::uint64_t v) noexcept {
    if (v < kSub) return static_cast<unsigned>(v);
    const unsigned msb = 63u - static_cast<unsigned>(__builtin_clzll(v));
    const unsigned shift = msb - kSubBits;
    return (shift + 1) * kSub + static_cast<unsigned>((v >> shift) - kSub);
  }
  /// Largest value that index() maps to bucket i.
  static constexpr std::uint64_t upper_bound(unsigned i) noexcept {
    if (i < kSub) return i;
    const unsigned shift = i / kSub - 1;
    const std::uint64_t base = (std::uint64_t{kSub} + (i % kSub)) << shift;
    return base + ((std::uint64_t{1} << shift) - 1);
  }

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> counts_{};  // writers: record() (relaxed); reader: percentile()
  std::atomic<std::uint64_t> count_{0};  // writer: record() (relaxed); readers: count(), percentile()
  std::atomic<std::uint64_t> sum_{0};    // writer: record() (relaxed); reader: sum()
  std::atomic<std::uint64_t> max_{0};    // writer: record() (relaxed CAS, monotonic); reader: max()
};

}  // namespace sessionring
