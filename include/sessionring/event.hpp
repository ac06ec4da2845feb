// An owning event: the fields of DESIGN §1. Produced by EventView::to_event() and store reads.
#pragma once
#include <sessionring/event_view.hpp>

#include <string>

namespace sessionring {

class Event {
 public:
  Sequence sequence_number = 0;
  EventType type = EventType::session_created;
  std::string id;
  std::string session_id;
  std::string run_id;
  std::int64_t timestamp_ns = 0;
  std::string data;
  std::string metadata;
  std::string correlation_id;
  std::string provider;
  std::uint32_t schema_version = 1;

  EventView view() const noexcept {
    return EventView{sequence_number, type, id, session_id, run_id, timestamp_ns, data,
                     metadata, correlation_id, provider, schema_version};
  }
  friend bool operator==(const Event&, const Event&) = default;
};

inline Event EventView::to_event() const {
  Event e;
  e.sequence_number = sequence_number;
  e.type = type;
  e.id = id;
  e.session_id = session_id;
  e.run_id = run_id;
  e.timestamp_ns = timestamp_ns;
  e.data = data;
  e.metadata = metadata;
  e.correlation_id = correlation_id;
  e.provider = provider;
  e.schema_version = schema_version;
  return e;
}

}  // namespace sessionring
