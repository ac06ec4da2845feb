// SqliteStore's `cursors` table (engine/detail/sqlite_cursors.hpp).
#include "detail/sqlite_cursors.hpp"
#include "detail/sqlite_db.hpp"
#include "detail/wall_clock.hpp"

#include <chrono>

namespace sessionring::detail {
namespace {

/// A one-shot statement with the session bound to ?1.
Result<Stmt> prepare(sqlite3* db, const std::string& path, const char* sql, std::string_view session) {
  auto s = sqlite_prepare(db, path, sql, /*persistent=*/false);
  if (s) sqlite_bind_text(s->get(), 1, session);
  return s;
}

void bind_name(sqlite3_stmt* s, std::string_view name) { sqlite_bind_text(s, 2, name); }

}  // namespace

Status sqlite_put_cursor(sqlite3* db, const std::string& path, std::string_view session, std::string_view name,
                         Sequence position) {
  auto s = prepare(db, path,
                   "INSERT INTO cursors (session_id, name, position, updated_ns) VALUES (?1, ?2, ?3, ?4) "
                   "ON CONFLICT (session_id, name) DO UPDATE SET position = excluded.position, "
                   "updated_ns = excluded.updated_ns",
                   session);
  if (!s) return s.error();
  bind_name(s->get(), name);
  sqlite3_bind_int64(s->get(), 3, static_cast<sqlite3_int64>(position));
  sqlite3_bind_int64(s->get(), 4, static_cast<sqlite3_int64>(wall_clock_ns()));
  if (sqlite3_step(s->get()) != SQLITE_DONE) return sqlite_error(db, path, "commit cursor");
  return {};
}

Result<std::optional<Sequence>> sqlite_get_cursor(sqlite3* db, const std::string& path, std::string_view session,
                                                  std::string_view name) {
  auto s = prepare(db, path, "SELECT position FROM cursors WHERE session_id = ?1 AND name = ?2", session);
  if (!s) return s.error();
  bind_name(s->get(), name);
  const int rc = sqlite3_step(s->get());
  if (rc == SQLITE_DONE) return std::optional<Sequence>{};
  if (rc != SQLITE_ROW) return sqlite_error(db, path, "read cursor");
  return std::optional<Sequence>(static_cast<Sequence>(sqlite3_column_int64(s->get(), 0)));
}

Result<CursorTable::Map> sqlite_list_cursors(sqlite3* db, const std::string& path, std::string_view session) {
  auto s = prepare(db, path, "SELECT name, position FROM cursors WHERE session_id = ?1 ORDER BY name", session);
  if (!s) return s.error();
  CursorTable::Map map;
  int rc;
  while ((rc = sqlite3_step(s->get())) == SQLITE_ROW) {
    map.insert_or_assign(std::string(sqlite_column_text(s->get(), 0)),
                         static_cast<Sequence>(sqlite3_column_int64(s->get(), 1)));
  }
  if (rc != SQLITE_DONE) return sqlite_error(db, path, "list cursors");
  return map;
}

Result<std::optional<Sequence>> sqlite_lowest_cursor(sqlite3* db, const std::string& path, std::string_view session) {
  auto s = prepare(db, path, "SELECT min(position) FROM cursors WHERE session_id = ?1", session);
  if (!s) return s.error();
  if (sqlite3_step(s->get()) != SQLITE_ROW) return sqlite_error(db, path, "lowest cursor");
  if (sqlite3_column_type(s->get(), 0) == SQLITE_NULL) return std::optional<Sequence>{};
  return std::optional<Sequence>(static_cast<Sequence>(sqlite3_column_int64(s->get(), 0)));
}

Result<bool> sqlite_delete_cursor(sqlite3* db, const std::string& path, std::string_view session,
                                  std::string_view name) {
  auto s = prepare(db, path, "DELETE FROM cursors WHERE session_id = ?1 AND name = ?2", session);
  if (!s) return s.error();
  bind_name(s->get(), name);
  if (sqlite3_step(s->get()) != SQLITE_DONE) return sqlite_error(db, path, "delete cursor");
  return sqlite3_changes(db) > 0;
}

}  // namespace sessionring::detail
