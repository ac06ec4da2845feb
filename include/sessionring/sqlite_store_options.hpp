// Options of a SqliteStore (sessions in one SQLite database file, docs/store.md "SqliteStore").
// SqliteStore::open validates every field: Errc::validation_error naming the option.
#pragma once
#include <sessionring/durability.hpp>
#include <sessionring/result.hpp>
#include <sessionring/retention_policy.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

namespace sessionring {

struct SqliteStoreOptions {
  std::filesystem::path path;  ///< required: the database file, created (not its directory) if missing
  /// none → PRAGMA synchronous=OFF, buffered (default) → NORMAL (WAL: survives a process crash),
  /// fsync → FULL (WAL: every commit, i.e. every sequencer batch, synced: survives power loss).
  Durability durability = Durability::buffered;
  std::chrono::milliseconds busy_timeout{5000};  ///< SQLite lock waits (another process writing); [1 ms, 10 min]
  std::chrono::milliseconds poll_interval{10};   ///< read handles with no writer in this process: wait_for() polls; [1 ms, 1 min]
  bool read_only = false;                        ///< open the file read-only (tools); a missing file is not_found
  /// Store-wide default retention (default: keep everything), applied by each session's writer
  /// in the transaction of each batch (docs/store.md "Retention").
  RetentionPolicy retention;
  /// Per-session retention, replacing `retention` for the sessions named (valid session ids).
  std::map<std::string, RetentionPolicy, std::less<>> session_retention;
};

/// Checks every field; Errc::validation_error naming the first bad option.
Status validate(const SqliteStoreOptions& options);

}  // namespace sessionring
