#include "latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace sessionring::tools {

void LatencyHistogram::merge(const LatencyHistogram& o) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
  total_ += o.total_;
  max_ = std::max(max_, o.max_);
}

std::uint64_t LatencyHistogram::upper(unsigned i) noexcept {
  if (i < kSub) return i;
  const unsigned shift = i / kSub - 1;
  const std::uint64_t base = (std::uint64_t{kSub} + (i % kSub)) << shift;
  return base + ((std::uint64_t{1} << shift) - 1);
}

std::uint64_t LatencyHistogram::percentile(double q) const noexcept {
  if (total_ == 0) return 0;
  const auto want = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_)));
  std::uint64_t seen = 0;
  for (unsigned i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= std::max<std::uint64_t>(want, 1)) return std::min(upper(i), max_);
  }
  return max_;
}

}  // namespace sessionring::tools
