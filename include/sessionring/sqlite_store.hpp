// SqliteStore: every session in one SQLite database (Debian libsqlite3-dev), WAL mode, one
// transaction per sequencer batch. The schema is a public, versioned contract (docs/store.md
// "SqliteStore"): other processes and the sqlite3 shell may read it.
//
// Threads: every member function from any thread. One writer per session across processes (an
// flock on <path>-locks/<session>: a second gets Errc::writer_conflict); read handles work
// while another process writes and see its committed batches.
#pragma once
#include <sessionring/session_info.hpp>
#include <sessionring/session_store.hpp>
#include <sessionring/sqlite_store_options.hpp>
#include <sessionring/verify_report.hpp>

#include <memory>

namespace sessionring {

class SqliteStore final : public SessionStore {
 public:
  /// The schema version this build reads and writes (PRAGMA user_version of the database).
  static constexpr int kSchemaVersion = 1;

  /// Validates the options, opens (creates unless read_only) the database and its schema.
  /// Errc::storage_error with SQLite's reason when the file cannot be opened or is not a
  /// sessionring database of a known schema version; not_found for a missing read_only file.
  static Result<std::shared_ptr<SqliteStore>> open(SqliteStoreOptions options);

  std::string_view kind() const noexcept override { return "sqlite"; }
  Result<std::shared_ptr<SessionLog>> open(std::string_view session_id, OpenMode mode) override;
  Result<std::vector<std::string>> list_sessions() const override;

  /// Latest sequence, event count and bytes (the sum of the events' EventRecord sizes) of one
  /// session; segment_count is 0 (no segments). Errc::not_found for a missing session.
  Result<SessionInfo> info(std::string_view session_id) const;

  /// Reads every event of the session, checking contiguity from 1 and every field (a type code
  /// outside the 28); reports the first problem as "table events" at offset = the sequence.
  /// Never modifies the database.
  Result<VerifyReport> verify(std::string_view session_id) const;

  const SqliteStoreOptions& options() const noexcept;

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;
  ~SqliteStore() override;

 private:
  struct State;
  explicit SqliteStore(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace sessionring
