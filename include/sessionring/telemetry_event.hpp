// The fields of one telemetry event: named integer measurements and key/value metadata, both
// views over the emitter's stack (valid only during TelemetrySink::on_event; copy what you keep).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace sessionring {

struct Measurement {
  std::string_view name;  ///< e.g. "queue_length", "duration_ns"
  std::int64_t value = 0;
};

struct MetadataEntry {
  std::string_view key;  ///< e.g. "session_id", "run_id"
  std::string_view value;
};

/// A read-only list of measurements with lookup by name.
class Measurements {
 public:
  constexpr Measurements() noexcept = default;
  constexpr explicit Measurements(std::span<const Measurement> items) noexcept : items_(items) {}
  std::optional<std::int64_t> find(std::string_view name) const noexcept {
    for (const Measurement& m : items_)
      if (m.name == name) return m.value;
    return std::nullopt;
  }
  auto begin() const noexcept { return items_.begin(); }
  auto end() const noexcept { return items_.end(); }
  std::size_t size() const noexcept { return items_.size(); }

 private:
  std::span<const Measurement> items_;
};

/// A read-only list of metadata entries with lookup by key.
class Metadata {
 public:
  constexpr Metadata() noexcept = default;
  constexpr explicit Metadata(std::span<const MetadataEntry> items) noexcept : items_(items) {}
  std::optional<std::string_view> find(std::string_view key) const noexcept {
    for (const MetadataEntry& e : items_)
      if (e.key == key) return e.value;
    return std::nullopt;
  }
  auto begin() const noexcept { return items_.begin(); }
  auto end() const noexcept { return items_.end(); }
  std::size_t size() const noexcept { return items_.size(); }

 private:
  std::span<const MetadataEntry> items_;
};

}  // namespace sessionring
