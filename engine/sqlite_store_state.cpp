// SqliteStore's shared state: connections, the reader pool, per-session lookups
// (engine/detail/sqlite_store_state.hpp).
#include "detail/sqlite_store_state.hpp"

namespace sessionring::detail {

SqliteStoreState::Lease::~Lease() {
  if (!conn) return;
  std::lock_guard lock(state->mutex);
  state->pool.push_back(std::move(conn));
}

Result<Db> SqliteStoreState::connect(bool write) const {
  sqlite3* raw = nullptr;
  const int flags =
      (options.read_only && !write ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return sqlite_error(raw, path, "open");
  sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));
  const char* sync = options.durability == Durability::none       ? "PRAGMA synchronous=OFF"
                     : options.durability == Durability::buffered ? "PRAGMA synchronous=NORMAL"
                                                                  : "PRAGMA synchronous=FULL";
  if (Status st = sqlite_exec(db.get(), path, sync); !st) return st.error();
  return db;
}

Result<SqliteStoreState::Lease> SqliteStoreState::lease() const {
  {
    std::lock_guard lock(mutex);
    if (!pool.empty()) {
      Lease l{this, std::move(pool.back())};
      pool.pop_back();
      return l;
    }
  }
  auto db = connect(false);
  if (!db) return db.error();
  auto c = std::make_unique<Conn>();
  c->db = std::move(*db);
  return Lease{this, std::move(c)};
}

Result<sqlite3_stmt*> SqliteStoreState::prepared(Conn& c, Stmt Conn::*slot, const char* sql) const {
  Stmt& stmt = c.*slot;
  if (!stmt) {
    auto s = sqlite_prepare(c.db.get(), path, sql);
    if (!s) return s.error();
    stmt = std::move(*s);
  }
  return stmt.get();
}

namespace {

/// Runs the one-row statement `slot` (prepared from `sql` on first use) for `session` on a
/// leased connection: SQLITE_ROW with `row` called, or SQLITE_DONE; else an error naming `what`.
template <class Row>
Result<int> query_session(const SqliteStoreState& st, Stmt SqliteStoreState::Conn::*slot, const char* sql,
                          std::string_view session, const char* what, Row row) {
  auto l = st.lease();
  if (!l) return l.error();
  SqliteStoreState::Conn& c = *l->conn;
  auto stmt = st.prepared(c, slot, sql);
  if (!stmt) return stmt.error();
  StmtReset reset{*stmt};
  sqlite_bind_text(*stmt, 1, session);
  const int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_ROW) row(*stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite_error(c.db.get(), st.path, what);
  return rc;
}

}  // namespace

Result<Sequence> SqliteStoreState::stored_latest(std::string_view session) const {
  Sequence latest = 0;
  auto rc = query_session(*this, &Conn::max, "SELECT coalesce(max(sequence), 0) FROM events WHERE session_id = ?1",
                          session, "max(sequence)",
                          [&](sqlite3_stmt* s) { latest = static_cast<Sequence>(sqlite3_column_int64(s, 0)); });
  if (!rc) return rc.error();
  return latest;  // an aggregate: always one row
}

Result<Sequence> SqliteStoreState::stored_first(std::string_view session) const {
  Sequence first = 1;
  auto rc = query_session(*this, &Conn::first, "SELECT first_sequence FROM sessions WHERE session_id = ?1", session,
                          "first_sequence",
                          [&](sqlite3_stmt* s) { first = static_cast<Sequence>(sqlite3_column_int64(s, 0)); });
  if (!rc) return rc.error();
  return first;
}

Result<bool> SqliteStoreState::session_exists(std::string_view session) const {
  auto rc = query_session(*this, &Conn::exists, "SELECT 1 FROM sessions WHERE session_id = ?1", session,
                          "look up session", [](sqlite3_stmt*) {});
  if (!rc) return rc.error();
  return *rc == SQLITE_ROW;
}

}  // namespace sessionring::detail
