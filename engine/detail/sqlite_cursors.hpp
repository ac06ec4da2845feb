// The `cursors` table of a SqliteStore (docs/store.md "Schema, version 1"): durable named
// cursors as rows (session_id, name, position, updated_ns). Each call is one autocommit
// statement on the given connection (the caller holds it: a pooled connection), waiting up to
// the connection's busy timeout for the writer's transaction.
#pragma once
#include <sessionring/result.hpp>

#include "detail/cursor_table.hpp"

#include <optional>
#include <string>
#include <string_view>

struct sqlite3;

namespace sessionring::detail {

Status sqlite_put_cursor(sqlite3* db, const std::string& path, std::string_view session, std::string_view name,
                         Sequence position);
Result<std::optional<Sequence>> sqlite_get_cursor(sqlite3* db, const std::string& path, std::string_view session,
                                                  std::string_view name);
Result<CursorTable::Map> sqlite_list_cursors(sqlite3* db, const std::string& path, std::string_view session);
/// The lowest position of the session's cursors (nullopt: none): retention keep_cursor_positions.
Result<std::optional<Sequence>> sqlite_lowest_cursor(sqlite3* db, const std::string& path, std::string_view session);
/// True when a row was deleted.
Result<bool> sqlite_delete_cursor(sqlite3* db, const std::string& path, std::string_view session,
                                  std::string_view name);

}  // namespace sessionring::detail
