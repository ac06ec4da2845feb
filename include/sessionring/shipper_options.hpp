// Options of a Shipper (Shipper::start validates every field: Errc::validation_error naming
// the option). docs/store.md "Shipping a store to another".
#pragma once
#include <sessionring/session_store.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sessionring {

struct ShipperOptions {
  /// The primary: sessions are read from it (read handles only; its writers keep writing).
  std::shared_ptr<SessionStore> source;
  /// The replica: the shipper is the writer of each shipped session there (a second writer
  /// gets the destination's writer_conflict). Must not be the source.
  std::shared_ptr<SessionStore> destination;
  /// Sessions to ship; empty: every session of the source, listed again every rescan_interval.
  std::vector<std::string> sessions;
  std::chrono::nanoseconds rescan_interval = std::chrono::seconds(1);  ///< > 0
  /// Most events (and bytes) appended to the destination in one batch; [1, 65536] / [1 KiB, 64 MiB].
  std::uint32_t max_batch_events = 1024;
  std::size_t max_batch_bytes = std::size_t{4} << 20;
  /// How long the shipper waits for new events on an idle source before looking again; > 0.
  std::chrono::nanoseconds poll_interval = std::chrono::milliseconds(1);
  /// A destination append that failed (server down) is retried after this back-off; > 0.
  std::chrono::nanoseconds retry_interval = std::chrono::milliseconds(100);
};

}  // namespace sessionring
