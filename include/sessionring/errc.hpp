// Typed error codes. docs/errors.md lists each with its cause and remedy.
#pragma once
#include <cstdint>
#include <string_view>

namespace sessionring {

enum class Errc : std::uint8_t {
  ok = 0,
  validation_error,    ///< an argument or option is out of range; the message names it
  unknown_event_type,  ///< a type name that is not one of the 28 of EventType
  invalid_session_id,  ///< empty, too long, path characters, `..`, control characters
  event_too_large,     ///< event above SessionOptions::max_event_bytes
  queue_full,          ///< ingest queue full and the caller asked not to wait (or the deadline passed)
  timeout,             ///< a deadline passed before the operation could complete
  sequence_conflict,   ///< a store append that does not continue the latest sequence
  writer_conflict,     ///< a second writer opened a session that already has one
  storage_error,       ///< the store failed (I/O error, disk full, ...); nothing was published
  damaged_store,       ///< a stored record failed its checksum or the log is not contiguous
  not_found,           ///< no such event / session
  run_not_found,       ///< unknown run id
  max_runs_exceeded,   ///< run queue full
  cancelled,           ///< the run was cancelled
  stopped,             ///< the session (or server) is stopped and accepts nothing new
  closed,              ///< the subscription was already unsubscribed
  run_failed,          ///< a run's task threw (or its executor refused it); the message says what
  pruned,              ///< the sequence asked for was removed by retention; the message names the first available
  unsupported_format,  ///< stored data written by a newer sessionring (a format version this build cannot read)
  subscriber_too_slow, ///< a disconnect_after subscription fell too far behind; the message names the lag and the cursor
  unsupported,         ///< the store does not offer this operation (e.g. durable cursors on JetStreamStore)
};

/// The snake_case name of an error code ("queue_full").
std::string_view to_string(Errc code) noexcept;

}  // namespace sessionring
