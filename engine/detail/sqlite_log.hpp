// SqliteLog: a read handle of one SqliteStore session. Reads lease a pooled connection (WAL:
// they never block the writer, INV-4); with a writer in this process the latest and first
// sequences come from its SqliteSession, else from the database (another process may write).
// The writer handle (SqliteWriterLog) reads through one of these.
#pragma once
#include <sessionring/session_log.hpp>

#include "detail/sqlite_store_state.hpp"

#include <memory>
#include <string_view>
#include <vector>

namespace sessionring::detail {

class SqliteLog final : public SessionLog {
 public:
  SqliteLog(std::shared_ptr<const SqliteStoreState> store, std::shared_ptr<SqliteSession> session)
      : store_(std::move(store)), session_(std::move(session)) {}

  std::string_view session_id() const noexcept override { return session_->id; }
  /// validation_error: a read handle.
  Status append(const AppendBatch&) override;
  Status commit_cursor(std::string_view, Sequence) override;
  Status delete_cursor(std::string_view) override;
  Result<Sequence> read_cursor(std::string_view name) const override;
  Result<std::vector<CursorPosition>> list_cursors() const override;
  Sequence latest_sequence() const noexcept override;
  Sequence first_sequence() const noexcept override;
  Status read(const EventQuery& q, FunctionRef<bool(const EventView&)> visit) const override;
  Result<Event> find_by_id(std::string_view id) const override;
  Result<Sequence> wait_for(Sequence after, Deadline deadline) const override;

 private:
  /// A gap at `expect` is retention running concurrently (the writer pruned after this read
  /// checked first_sequence()) when the first available is now above it; else `st` (damage).
  Status pruned_or(Status st, Sequence expect) const;
  /// Fills `v` from the current row (views valid until the next step); `expect` is the sequence
  /// the row must hold (contiguity, INV-1).
  Status decode_row(sqlite3_stmt* s, EventView& v, Sequence expect) const;

  std::shared_ptr<const SqliteStoreState> store_;
  std::shared_ptr<SqliteSession> session_;
};

}  // namespace sessionring::detail
