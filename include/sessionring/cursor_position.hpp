// CursorPosition: one durable named cursor of a session (docs/store.md "Durable named cursors").
// `position` is the last sequence its consumer committed as processed: a subscription with
// this durable name resumes at position + 1. Names follow the session id rules
// (validate_cursor_name).
#pragma once
#include <sessionring/event.hpp>
#include <sessionring/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace sessionring {

struct CursorPosition {
  std::string name;
  Sequence position = 0;  ///< last committed sequence (0: nothing processed yet)
  std::uint64_t lag = 0;  ///< latest − position when listed through a Session (0 from a SessionLog)
};

/// A cursor name obeys the session id rules (1..128 bytes of [A-Za-z0-9._:-], not starting with
/// '.', no ".."); otherwise Errc::validation_error naming it as a cursor name.
Status validate_cursor_name(std::string_view name);

}  // namespace sessionring
