// A non-owning view of one stored event. Valid only as long as the memory it points into
// (during a subscription handler call, or while the owning Event lives). to_event() copies it out.
#pragma once
#include <sessionring/config.hpp>
#include <sessionring/event_type.hpp>

#include <cstdint>
#include <string_view>

namespace sessionring {

class Event;

struct EventView {
  Sequence sequence_number = 0;
  EventType type = EventType::session_created;
  std::string_view id;
  std::string_view session_id;
  std::string_view run_id;
  std::int64_t timestamp_ns = 0;  ///< nanoseconds since the Unix epoch (system clock)
  std::string_view data;          ///< opaque bytes (JSON by convention)
  std::string_view metadata;      ///< opaque bytes (JSON by convention)
  std::string_view correlation_id;
  std::string_view provider;
  std::uint32_t schema_version = 1;

  /// Deep copy into an owning Event.
  Event to_event() const;
};

}  // namespace sessionring
