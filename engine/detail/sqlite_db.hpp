// Thin RAII over the SQLite C API for SqliteStore and its cursors table: owning handles for a
// connection and a statement, a scope guard that resets a statement, and the store's error text
// ("sqlite store '<path>': <what>: <sqlite message> (SQLite code N)").
#pragma once
#include <sessionring/result.hpp>

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>

namespace sessionring::detail {

struct DbClose {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbClose>;

struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

/// Resets a statement (ends its read transaction) and clears its bindings on scope exit.
struct StmtReset {
  sqlite3_stmt* s;
  explicit StmtReset(sqlite3_stmt* stmt) noexcept : s(stmt) {}
  StmtReset(const StmtReset&) = delete;
  StmtReset& operator=(const StmtReset&) = delete;
  ~StmtReset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

/// Errc::storage_error naming the store, what failed, SQLite's message and extended code.
Error sqlite_error(sqlite3* db, const std::string& path, std::string_view what);

Status sqlite_exec(sqlite3* db, const std::string& path, const char* sql);

/// `persistent`: a statement kept and reused (SQLITE_PREPARE_PERSISTENT); else a one-shot.
Result<Stmt> sqlite_prepare(sqlite3* db, const std::string& path, const char* sql, bool persistent = true);

/// Binds text by reference (SQLITE_STATIC): `v` must outlive the statement's next step.
inline void sqlite_bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

/// Column `i` of the current row; valid until the next step or reset.
inline std::string_view sqlite_column_text(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string_view();
}

}  // namespace sessionring::detail
