// SqliteStoreState: what every handle of one SqliteStore shares — the options, the database
// path, a pool of reader connections (each with its statements, prepared on first use) and the
// in-process SqliteSession of each open session. Any thread; `mutex` guards pool and sessions.
#pragma once
#include <sessionring/sqlite_store.hpp>

#include "detail/sqlite_db.hpp"
#include "detail/sqlite_session.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sessionring::detail {

struct SqliteStoreState {
  /// One connection with its statements, prepared on first use.
  struct Conn {
    Db db;
    Stmt read, find, max, exists, first;
  };

  /// A pooled reader connection, returned to the pool by the destructor.
  struct Lease {
    const SqliteStoreState* state;
    std::unique_ptr<Conn> conn;
    Lease(const SqliteStoreState* s, std::unique_ptr<Conn> c) : state(s), conn(std::move(c)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
  };

  SqliteStoreOptions options;
  std::string path;
  mutable std::mutex mutex;  // guards pool, sessions
  mutable std::vector<std::unique_ptr<Conn>> pool;
  std::map<std::string, std::weak_ptr<SqliteSession>, std::less<>> sessions;

  /// A new connection with the durability's synchronous pragma and the busy timeout; `write`:
  /// read-write even when the store was opened read_only (never: the store refuses that first).
  Result<Db> connect(bool write) const;
  Result<Lease> lease() const;
  /// The connection's statement in `slot`, prepared from `sql` on first use.
  Result<sqlite3_stmt*> prepared(Conn& c, Stmt Conn::*slot, const char* sql) const;

  /// max(sequence) of the session in the database (0 when empty).
  Result<Sequence> stored_latest(std::string_view session) const;
  /// sessions.first_sequence of the session (1 when it has no row).
  Result<Sequence> stored_first(std::string_view session) const;
  Result<bool> session_exists(std::string_view session) const;
};

}  // namespace sessionring::detail
