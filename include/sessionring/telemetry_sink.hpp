// TelemetrySink: receives the runtime's named events (telemetry_names.hpp; docs/telemetry.md
// lists each with its fields). Configure one in SessionServerOptions::telemetry; without one
// the runtime emits nothing and pays one pointer check per control-plane step (the event
// path, RunContext::emit, never emits telemetry).
//
// Threads: on_event is called from any server thread (callers of submit_run / cancel_run /
// drain / subscribe, run slot threads, the server's timer thread), possibly concurrently, and
// never while the server holds one of its locks: a sink may call the server's observers
// (status()). Keep it short; it runs on the control path.
#pragma once
#include <sessionring/telemetry_event.hpp>

#include <string_view>

namespace sessionring {

class TelemetrySink {
 public:
  virtual ~TelemetrySink() = default;
  /// `name` is one of telemetry::kAllNames; the views are valid only during the call.
  virtual void on_event(std::string_view name, const Measurements& measurements, const Metadata& metadata) = 0;
};

}  // namespace sessionring
