// SessionStore: a collection of sessions, each a SessionLog. Implementations: MemoryStore,
// LogStore (embedded durable log). A session has at most one writer handle at a time.
#pragma once
#include <sessionring/result.hpp>
#include <sessionring/session_log.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sessionring {

enum class OpenMode : std::uint8_t {
  read,   ///< an existing session, read-only (Errc::not_found if it does not exist)
  write,  ///< create if missing; exclusive: a second writer gets Errc::writer_conflict
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  /// "memory" or "log".
  virtual std::string_view kind() const noexcept = 0;

  /// Opens one session's log. The id is validated (Errc::invalid_session_id). Any thread.
  virtual Result<std::shared_ptr<SessionLog>> open(std::string_view session_id, OpenMode mode) = 0;

  /// Ids of the sessions in the store, sorted. Any thread.
  virtual Result<std::vector<std::string>> list_sessions() const = 0;
};

}  // namespace sessionring
