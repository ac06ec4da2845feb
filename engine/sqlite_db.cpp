// SQLite helpers shared by SqliteStore's files (engine/detail/sqlite_db.hpp).
#include "detail/sqlite_db.hpp"

namespace sessionring::detail {

Error sqlite_error(sqlite3* db, const std::string& path, std::string_view what) {
  const int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  std::string text = "sqlite store '";
  text.append(path).append("': ").append(what).append(": ").append(db ? sqlite3_errmsg(db) : "out of memory");
  text.append(" (SQLite code ").append(std::to_string(code)).append(")");
  return Error(Errc::storage_error, std::move(text));
}

Status sqlite_exec(sqlite3* db, const std::string& path, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return sqlite_error(db, path, sql);
  return {};
}

Result<Stmt> sqlite_prepare(sqlite3* db, const std::string& path, const char* sql, bool persistent) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &s, nullptr) != SQLITE_OK)
    return sqlite_error(db, path, std::string("prepare ") + sql);
  return Stmt(s);
}

}  // namespace sessionring::detail
