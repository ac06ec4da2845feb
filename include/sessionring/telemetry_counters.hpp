// TelemetryCounters: a ready-made TelemetrySink that counts every event by name and keeps
// latency histograms, so a host can read the runtime's numbers without writing a sink:
//
//   auto counters = std::make_shared<TelemetryCounters>();
//   options.telemetry = counters;                     // SessionServerOptions
//   ...
//   counters->count(telemetry::kRunStop);              // runs ended
//   counters->run_duration().percentile(0.99);         // ns
//
// One TelemetryCounters may be shared by many servers (it then sums over them).
// Threads: on_event from any number of threads; the readers from any thread (relaxed atomics:
// each value exact, a set of values read together not a snapshot).
#pragma once
#include <sessionring/run_result.hpp>
#include <sessionring/telemetry_histogram.hpp>
#include <sessionring/telemetry_names.hpp>
#include <sessionring/telemetry_sink.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace sessionring {

class TelemetryCounters final : public TelemetrySink {
 public:
  void on_event(std::string_view name, const Measurements& measurements, const Metadata& metadata) override;

  /// Events received with this name (0 for a name outside telemetry::kAllNames).
  std::uint64_t count(std::string_view name) const noexcept;
  /// Events whose name is not one of telemetry::kAllNames.
  std::uint64_t unknown_events() const noexcept;
  /// run.stop events with this outcome ("outcome" metadata).
  std::uint64_t runs(RunOutcome outcome) const noexcept;

  /// run.stop duration_ns: from the task's start to its terminal event being stored.
  const TelemetryHistogram& run_duration() const noexcept { return run_duration_; }
  /// run.start queued_ns: from submit_run to leaving the queue.
  const TelemetryHistogram& queue_wait() const noexcept { return queue_wait_; }

  /// The last reported queue length (queue.enqueue / queue.dequeue) and subscriber count
  /// (subscribe / unsubscribe): gauges, summed over nothing (last writer wins).
  std::int64_t queue_length() const noexcept;
  std::int64_t subscribers() const noexcept;
  /// Sum of the `lapped` deltas reported by subscriber.lapped.
  std::uint64_t lapped() const noexcept;

  /// A multi-line human-readable summary (counts, percentiles).
  std::string report() const;

 private:
  // Independent counters, publishing nothing else:
  std::array<std::atomic<std::uint64_t>, telemetry::kAllNames.size() + 1> counts_{};  // writer: on_event (relaxed); reader: count()
  std::array<std::atomic<std::uint64_t>, 4> outcomes_{};  // writer: on_event for run.stop (relaxed); reader: runs()
  std::atomic<std::int64_t> queue_length_{0};  // writer: on_event (relaxed store, last wins); reader: queue_length()
  std::atomic<std::int64_t> subscribers_{0};   // writer: on_event (relaxed store, last wins); reader: subscribers()
  std::atomic<std::uint64_t> lapped_{0};       // writer: on_event (relaxed fetch_add); reader: lapped()
  TelemetryHistogram run_duration_;
  TelemetryHistogram queue_wait_;
};

}  // namespace sessionring
