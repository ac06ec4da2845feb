// RunTelemetry: the server's side of telemetry: emits the named events to the configured sink
// with the session id first in the metadata, and tracks subscribers' lapped counts to report
// subscriber.lapped deltas. Without a sink every emit is one pointer check (and callers guard
// work such as clock reads with enabled()).
// Threads: any; emit() is called with no scheduler lock held (telemetry_sink.hpp).
#pragma once
#include <sessionring/session_stats.hpp>
#include <sessionring/telemetry_names.hpp>
#include <sessionring/telemetry_sink.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace sessionring::detail {

class RunTelemetry {
 public:
  RunTelemetry(std::shared_ptr<TelemetrySink> sink, std::string session_id)
      : sink_(std::move(sink)), session_id_(std::move(session_id)) {}

  bool enabled() const noexcept { return sink_ != nullptr; }

  /// Emits `name` with these measurements and {session_id, extra...} as metadata (at most 3 extra).
  void emit(std::string_view name, std::initializer_list<Measurement> measurements,
            std::initializer_list<MetadataEntry> extra = {}) const {
    if (!sink_) return;
    std::array<MetadataEntry, 4> meta{};
    meta[0] = MetadataEntry{"session_id", session_id_};
    std::size_t n = 1;
    for (const MetadataEntry& e : extra)
      if (n < meta.size()) meta[n++] = e;
    sink_->on_event(name, Measurements({measurements.begin(), measurements.size()}),
                    Metadata({meta.data(), n}));
  }

  /// Emits subscriber.lapped for every subscriber whose lapped count grew since the last call.
  void sample_lapped(const SessionStats& stats);

 private:
  const std::shared_ptr<TelemetrySink> sink_;
  const std::string session_id_;
  std::mutex lapped_mutex_;
  std::map<std::uint64_t, std::uint64_t> lapped_seen_;  // subscriber id -> lapped count reported; guarded
};

}  // namespace sessionring::detail
