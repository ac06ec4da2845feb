// What a producer appends: views of the caller's bytes (BorrowedBytes), copied into the ingest
// queue on append, so the caller's bytes need only live until append returns (zero copy before
// that). A temporary std::string cannot be assigned to a field (it would be destroyed before the
// append reads it): `e.data = std::string(300, 'a');` does not compile; keep the string in a
// variable. The sequencer assigns sequence_number; session_id is the session's own.
#pragma once
#include <sessionring/borrowed_bytes.hpp>
#include <sessionring/event_type.hpp>

#include <cstdint>

namespace sessionring {

struct EventInput {
  EventType type = EventType::message_streamed;
  BorrowedBytes run_id;
  BorrowedBytes data;
  BorrowedBytes metadata;
  /// Empty: the engine generates a unique 32-hex-digit id. Non-empty: used for dedupe (INV-6).
  BorrowedBytes id;
  BorrowedBytes correlation_id;
  BorrowedBytes provider;
  /// 0: the sequencer stamps the system clock (CLOCK_REALTIME) when it sequences the event,
  /// one clock read per batch, so engine-stamped timestamps never decrease along the sequence
  /// (unless the clock steps back). Non-zero: kept as given (docs/cli.md "Timestamps").
  std::int64_t timestamp_ns = 0;
  std::uint32_t schema_version = 1;
};

}  // namespace sessionring
