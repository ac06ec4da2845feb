// Checks every store's cursor operations share (SessionLog::commit_cursor and friends;
// docs/store.md "Durable named cursors"), so that every store answers the same codes and texts.
#pragma once
#include <sessionring/cursor_position.hpp>
#include <sessionring/result.hpp>

#include <string>
#include <string_view>

namespace sessionring::detail {

/// validation_error: a cursor write on a read handle.
inline Status cursor_read_only(std::string_view session, std::string_view what) {
  std::string text = "session '";
  text.append(session).append("' was opened read-only; ").append(what).append(" needs OpenMode::write");
  return Status(Errc::validation_error, std::move(text));
}

/// The checks of commit_cursor: a valid name, a position no later than the latest sequence.
inline Status check_cursor_commit(std::string_view session, std::string_view name, Sequence position, Sequence latest) {
  if (Status st = validate_cursor_name(name); !st) return st;
  if (position > latest) {
    std::string text = "session '";
    text.append(session).append("': cursor '").append(name).append("' position ").append(std::to_string(position));
    text.append(" is above the latest sequence ").append(std::to_string(latest));
    return Status(Errc::validation_error, std::move(text));
  }
  return {};
}

/// not_found: no cursor of this name.
inline Error cursor_not_found(std::string_view session, std::string_view name) {
  std::string text = "session '";
  text.append(session).append("' has no cursor '").append(name).append("'");
  return Error(Errc::not_found, std::move(text));
}

}  // namespace sessionring::detail
