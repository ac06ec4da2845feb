// What a producer appends: views of the caller's bytes, copied into the ingest queue on append.
// The sequencer assigns sequence_number; session_id is the session's own.
#pragma once
#include <sessionring/event_type.hpp>

#include <cstdint>
#include <string_view>

namespace sessionring {

struct EventInput {
  EventType type = EventType::message_streamed;
  std::string_view run_id;
  std::string_view data;
  std::string_view metadata;
  /// Empty: the engine generates a unique 32-hex-digit id. Non-empty: used for dedupe (INV-6).
  std::string_view id;
  std::string_view correlation_id;
  std::string_view provider;
  /// 0: the engine stamps the system clock at append time.
  std::int64_t timestamp_ns = 0;
  std::uint32_t schema_version = 1;
};

}  // namespace sessionring
