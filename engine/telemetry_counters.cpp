#include <sessionring/telemetry_counters.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace sessionring {

std::uint64_t TelemetryHistogram::percentile(double q) const noexcept {
  const std::uint64_t total = count();
  if (total == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total))));
  std::uint64_t seen = 0;
  for (unsigned i = 0; i < kBuckets; ++i) {
    seen += counts_[i].load(std::memory_order_relaxed);  // relaxed: statistics
    if (seen >= rank) return std::min(upper_bound(i), max());
  }
  return max();  // writers raced ahead of count_: the largest value seen
}

void TelemetryCounters::on_event(std::string_view name, const Measurements& m, const Metadata& meta) {
  const std::size_t i = telemetry::index_of(name);
  counts_[i].fetch_add(1, std::memory_order_relaxed);  // relaxed: independent counter
  auto value = [&](std::string_view field) { return m.find(field).value_or(0); };
  if (name == telemetry::kRunStop) {
    run_duration_.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, value("duration_ns"))));
    const std::string_view outcome = meta.find("outcome").value_or("");
    for (unsigned o = 0; o < outcomes_.size(); ++o)
      if (outcome == to_string(static_cast<RunOutcome>(o)))
        outcomes_[o].fetch_add(1, std::memory_order_relaxed);  // relaxed: independent counter
  } else if (name == telemetry::kRunStart) {
    queue_wait_.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, value("queued_ns"))));
  } else if (name == telemetry::kQueueEnqueue || name == telemetry::kQueueDequeue) {
    queue_length_.store(value("queue_length"), std::memory_order_relaxed);  // relaxed: gauge, last wins
  } else if (name == telemetry::kSubscribe || name == telemetry::kUnsubscribe) {
    subscribers_.store(value("count"), std::memory_order_relaxed);  // relaxed: gauge, last wins
  } else if (name == telemetry::kSubscriberLapped) {
    lapped_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, value("lapped"))),
                      std::memory_order_relaxed);  // relaxed: independent counter
  }
}

std::uint64_t TelemetryCounters::count(std::string_view name) const noexcept {
  const std::size_t i = telemetry::index_of(name);
  return i < telemetry::kAllNames.size() ? counts_[i].load(std::memory_order_relaxed) : 0;  // relaxed: statistics
}

std::uint64_t TelemetryCounters::unknown_events() const noexcept {
  return counts_[telemetry::kAllNames.size()].load(std::memory_order_relaxed);  // relaxed: statistics
}

std::uint64_t TelemetryCounters::runs(RunOutcome outcome) const noexcept {
  const auto o = static_cast<std::size_t>(outcome);
  return o < outcomes_.size() ? outcomes_[o].load(std::memory_order_relaxed) : 0;  // relaxed: statistics
}

std::int64_t TelemetryCounters::queue_length() const noexcept {
  return queue_length_.load(std::memory_order_relaxed);  // relaxed: gauge
}
std::int64_t TelemetryCounters::subscribers() const noexcept {
  return subscribers_.load(std::memory_order_relaxed);  // relaxed: gauge
}
std::uint64_t TelemetryCounters::lapped() const noexcept {
  return lapped_.load(std::memory_order_relaxed);  // relaxed: statistics
}

std::string TelemetryCounters::report() const {
  std::ostringstream os;
  for (std::string_view name : telemetry::kAllNames) os << name << " " << count(name) << "\n";
  auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e3; };
  os << "runs: completed " << runs(RunOutcome::completed) << ", failed " << runs(RunOutcome::failed) << ", cancelled "
     << runs(RunOutcome::cancelled) << ", timed_out " << runs(RunOutcome::timed_out) << "\n";
  os << "run duration us: p50 " << us(run_duration_.percentile(0.5)) << ", p99 " << us(run_duration_.percentile(0.99))
     << ", max " << us(run_duration_.max()) << "\n";
  os << "queue wait us: p50 " << us(queue_wait_.percentile(0.5)) << ", p99 " << us(queue_wait_.percentile(0.99))
     << ", max " << us(queue_wait_.max()) << "\n";
  os << "queue length " << queue_length() << ", subscribers " << subscribers() << ", lapped " << lapped() << "\n";
  return os.str();
}

}  // namespace sessionring
