// SqliteStore: sessions in one SQLite database (docs/store.md "SqliteStore"). The writer handle
// owns a connection and appends each batch in one IMMEDIATE transaction; readers lease pooled
// connections (WAL: readers never block the writer, INV-4). See include/sessionring/sqlite_store.hpp.
#include <sessionring/event_record.hpp>
#include <sessionring/event_type.hpp>
#include <sessionring/session_id.hpp>
#include <sessionring/sqlite_store.hpp>

#include "detail/wall_clock.hpp"
#include "detail/cursor_checks.hpp"
#include "detail/log_file.hpp"
#include "detail/sqlite_cursors.hpp"
#include "detail/retention_options.hpp"
#include "detail/wait_gate.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>

namespace sessionring {

// ---- options ------------------------------------------------------------------------------

Status validate(const SqliteStoreOptions& o) {
  if (o.path.empty()) return Status(Errc::validation_error, "SqliteStoreOptions::path is empty");
  if (to_string(o.durability) == "invalid")
    return Status(Errc::validation_error, "SqliteStoreOptions::durability has an invalid value");
  const auto busy = o.busy_timeout.count();
  if (busy < 1 || busy > 600'000)
    return Status(Errc::validation_error, "SqliteStoreOptions::busy_timeout (ms) = " + std::to_string(busy) +
                                              " is outside [1, 600000]");
  if (Status st = detail::validate_retention_options(o.retention, o.session_retention, "SqliteStoreOptions"); !st)
    return st;
  // No byte accounting here (the SQL pages are not a session's own): max_bytes is refused, not ignored.
  if (o.retention.max_bytes != 0)
    return Status(Errc::validation_error, "SqliteStoreOptions::retention.max_bytes is not supported by SqliteStore "
                                          "(use max_events or max_age)");
  for (const auto& [id, policy] : o.session_retention)
    if (policy.max_bytes != 0)
      return Status(Errc::validation_error, "SqliteStoreOptions::session_retention['" + id +
                                                "'].max_bytes is not supported by SqliteStore (use max_events or max_age)");
  const auto poll = o.poll_interval.count();
  if (poll < 1 || poll > 60'000)
    return Status(Errc::validation_error, "SqliteStoreOptions::poll_interval (ms) = " + std::to_string(poll) +
                                              " is outside [1, 60000]");
  return {};
}

namespace {

// ---- thin RAII over the SQLite C API --------------------------------------------------------

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
  ~StmtReset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

Error db_error(sqlite3* db, const std::string& path, std::string_view what) {
  const int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  return Error(Errc::storage_error, "sqlite store '" + path + "': " + std::string(what) + ": " +
                                        (db ? sqlite3_errmsg(db) : "out of memory") + " (SQLite code " +
                                        std::to_string(code) + ")");
}

Status exec(sqlite3* db, const std::string& path, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return db_error(db, path, sql);
  return {};
}

Result<Stmt> prepare(sqlite3* db, const std::string& path, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
    return db_error(db, path, std::string("prepare ") + sql);
  return Stmt(s);
}

void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
std::string_view column_text(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string_view();
}

// The schema, version 1 (docs/store.md "SqliteStore": a public contract; change it only with a
// new PRAGMA user_version and a migration).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE sessions (
  session_id     TEXT PRIMARY KEY,
  created_ns     INTEGER NOT NULL,
  first_sequence INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE TABLE events (
  session_id     TEXT    NOT NULL,
  sequence       INTEGER NOT NULL,
  id             TEXT    NOT NULL,
  type           INTEGER NOT NULL,
  run_id         TEXT    NOT NULL,
  timestamp_ns   INTEGER NOT NULL,
  schema_version INTEGER NOT NULL,
  correlation_id TEXT    NOT NULL,
  provider       TEXT    NOT NULL,
  data           TEXT    NOT NULL,
  metadata       TEXT    NOT NULL,
  PRIMARY KEY (session_id, sequence)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_by_id ON events (session_id, id);
CREATE TABLE cursors (
  session_id  TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  position    INTEGER NOT NULL,
  updated_ns  INTEGER NOT NULL,
  PRIMARY KEY (session_id, name)
) WITHOUT ROWID;
CREATE TABLE event_types (
  code  INTEGER PRIMARY KEY,
  name  TEXT NOT NULL UNIQUE
);
CREATE VIEW events_named AS
  SELECT e.session_id, e.sequence, e.id, t.name AS type, e.run_id, e.timestamp_ns, e.schema_version,
         e.correlation_id, e.provider, e.data, e.metadata
  FROM events e JOIN event_types t ON t.code = e.type;
)sql";

constexpr const char* kEventColumns =
    "sequence, type, id, run_id, timestamp_ns, schema_version, correlation_id, provider, data, metadata";


/// One connection with its statements, prepared on first use.
struct Conn {
  Db db;
  Stmt read, find, max, exists, first;
};

Error pruned_error(const std::string& session, Sequence asked, Sequence first) {
  return Error(Errc::pruned, "session '" + session + "': sequence " + std::to_string(asked) +
                                 " was pruned by retention; the first available is " + std::to_string(first));
}

}  // namespace

// ---- the store's shared state ---------------------------------------------------------------

/// In-process facts of one session, shared by its handles of one SqliteStore.
struct SqliteSession {
  explicit SqliteSession(std::string i) : id(std::move(i)) {}
  const std::string id;
  // writer: the writer handle, after each COMMIT and at open (Q1, seq_cst); readers: every read
  // path (acquire, pairs with Q1); publishes the committed batch. Authoritative only while
  // local_writer is true; otherwise a cache of the database's max(sequence).
  std::atomic<Sequence> latest{0};
  // writer: writer handle open/close (under the store mutex, release); readers: read paths
  // (acquire, pairs with that release): whether `latest` is kept by a writer in this process.
  std::atomic<bool> local_writer{false};
  // writer: the writer handle, after a COMMIT that pruned and at open (release); readers: read
  // paths (acquire, pairs with that release): the first available sequence (retention). Like
  // `latest`, authoritative only while local_writer is true, else a cache of the database.
  std::atomic<Sequence> first{1};
  mutable detail::WaitGate gate;
};

struct SqliteStoreState {
  SqliteStoreOptions options;
  std::string path;
  mutable std::mutex mutex;  // guards pool, sessions
  mutable std::vector<std::unique_ptr<Conn>> pool;
  std::map<std::string, std::weak_ptr<SqliteSession>, std::less<>> sessions;

  Result<Db> connect(bool write) const {
    sqlite3* raw = nullptr;
    const int flags = (options.read_only && !write ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                      SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    Db db(raw);
    if (rc != SQLITE_OK) return db_error(raw, path, "open");
    sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));
    const char* sync = options.durability == Durability::none       ? "PRAGMA synchronous=OFF"
                       : options.durability == Durability::buffered ? "PRAGMA synchronous=NORMAL"
                                                                    : "PRAGMA synchronous=FULL";
    if (Status st = exec(db.get(), path, sync); !st) return st.error();
    return db;
  }

  /// A pooled reader connection, returned by Lease's destructor.
  struct Lease {
    const SqliteStoreState* state;
    std::unique_ptr<Conn> conn;
    Lease(const SqliteStoreState* s, std::unique_ptr<Conn> c) : state(s), conn(std::move(c)) {}
    Lease(const Lease&) = delete;
    Lease(Lease&&) = default;
    ~Lease() {
      if (!conn) return;
      std::lock_guard lock(state->mutex);
      state->pool.push_back(std::move(conn));
    }
  };
  Result<Lease> lease() const {
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

  /// max(sequence) of the session in the database (0 when empty).
  Result<Sequence> stored_latest(std::string_view session) const {
    auto l = lease();
    if (!l) return l.error();
    Conn& c = *l->conn;
    if (!c.max) {
      auto s = prepare(c.db.get(), path, "SELECT coalesce(max(sequence), 0) FROM events WHERE session_id = ?1");
      if (!s) return s.error();
      c.max = std::move(*s);
    }
    StmtReset reset{c.max.get()};
    bind_text(c.max.get(), 1, session);
    if (sqlite3_step(c.max.get()) != SQLITE_ROW) return db_error(c.db.get(), path, "max(sequence)");
    return static_cast<Sequence>(sqlite3_column_int64(c.max.get(), 0));
  }

  /// sessions.first_sequence of the session (1 when it has no row).
  Result<Sequence> stored_first(std::string_view session) const {
    auto l = lease();
    if (!l) return l.error();
    Conn& c = *l->conn;
    if (!c.first) {
      auto s = prepare(c.db.get(), path, "SELECT first_sequence FROM sessions WHERE session_id = ?1");
      if (!s) return s.error();
      c.first = std::move(*s);
    }
    StmtReset reset{c.first.get()};
    bind_text(c.first.get(), 1, session);
    const int rc = sqlite3_step(c.first.get());
    if (rc == SQLITE_DONE) return Sequence{1};
    if (rc != SQLITE_ROW) return db_error(c.db.get(), path, "first_sequence");
    return static_cast<Sequence>(sqlite3_column_int64(c.first.get(), 0));
  }

  Result<bool> session_exists(std::string_view session) const {
    auto l = lease();
    if (!l) return l.error();
    Conn& c = *l->conn;
    if (!c.exists) {
      auto s = prepare(c.db.get(), path, "SELECT 1 FROM sessions WHERE session_id = ?1");
      if (!s) return s.error();
      c.exists = std::move(*s);
    }
    StmtReset reset{c.exists.get()};
    bind_text(c.exists.get(), 1, session);
    const int rc = sqlite3_step(c.exists.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_error(c.db.get(), path, "look up session");
    return rc == SQLITE_ROW;
  }
};

struct SqliteStore::State : SqliteStoreState {};

namespace {

// ---- session handles ------------------------------------------------------------------------

class SqliteLog final : public SessionLog {
 public:
  SqliteLog(std::shared_ptr<const SqliteStoreState> store, std::shared_ptr<SqliteSession> session)
      : store_(std::move(store)), session_(std::move(session)) {}

  std::string_view session_id() const noexcept override { return session_->id; }

  Status append(const AppendBatch&) override {
    return Status(Errc::validation_error,
                  "session '" + session_->id + "' was opened read-only; append needs OpenMode::write");
  }

  Status commit_cursor(std::string_view, Sequence) override {
    return detail::cursor_read_only(session_->id, "commit_cursor");
  }
  Status delete_cursor(std::string_view) override { return detail::cursor_read_only(session_->id, "delete_cursor"); }
  Result<Sequence> read_cursor(std::string_view name) const override {
    if (Status st = validate_cursor_name(name); !st) return st.error();
    auto l = store_->lease();
    if (!l) return l.error();
    auto p = detail::sqlite_get_cursor(l->conn->db.get(), store_->path, session_->id, name);
    if (!p) return p.error();
    if (!*p) return detail::cursor_not_found(session_->id, name);
    return **p;
  }
  Result<std::vector<CursorPosition>> list_cursors() const override {
    auto l = store_->lease();
    if (!l) return l.error();
    auto m = detail::sqlite_list_cursors(l->conn->db.get(), store_->path, session_->id);
    if (!m) return m.error();
    return detail::CursorTable::to_list(*m);
  }

  Sequence latest_sequence() const noexcept override {
    if (session_->local_writer.load(std::memory_order_acquire))  // pairs with the writer open's release
      return session_->latest.load(std::memory_order_acquire);   // pairs with (Q1)
    // No writer in this process: ask the database (another process may be writing).
    try {
      auto l = store_->stored_latest(session_->id);
      if (l) {
        Sequence cur = session_->latest.load(std::memory_order_relaxed);  // relaxed: a monotonic cache
        while (*l > cur && !session_->latest.compare_exchange_weak(cur, *l, std::memory_order_relaxed)) {
        }
        return std::max(cur, *l);
      }
    } catch (...) {
      // Out of memory: answer the cached value.
    }
    return session_->latest.load(std::memory_order_acquire);  // pairs with (Q1)
  }

  Sequence first_sequence() const noexcept override {
    if (session_->local_writer.load(std::memory_order_acquire))  // pairs with the writer open's release
      return session_->first.load(std::memory_order_acquire);    // pairs with the writer's release
    try {
      auto f = store_->stored_first(session_->id);
      if (f) {
        Sequence cur = session_->first.load(std::memory_order_relaxed);  // relaxed: a monotonic cache
        while (*f > cur && !session_->first.compare_exchange_weak(cur, *f, std::memory_order_relaxed)) {
        }
        return std::max(cur, *f);
      }
    } catch (...) {
      // Out of memory: answer the cached value.
    }
    return session_->first.load(std::memory_order_acquire);  // pairs with the writer's release
  }

  Status read(const EventQuery& q, FunctionRef<bool(const EventView&)> visit) const override {
    const Sequence latest = latest_sequence();
    const Sequence last = std::min(latest, q.before == 0 ? 0 : q.before - 1);
    if (last <= q.after) return {};
    if (const Sequence first = first_sequence(); q.after + 1 < first) return pruned_error(session_->id, q.after + 1, first);
    auto l = store_->lease();
    if (!l) return l.error();
    Conn& c = *l->conn;
    if (!c.read) {
      const std::string sql = std::string("SELECT ") + kEventColumns +
                              " FROM events WHERE session_id = ?1 AND sequence > ?2 AND sequence <= ?3 ORDER BY sequence";
      auto s = prepare(c.db.get(), store_->path, sql.c_str());
      if (!s) return s.error();
      c.read = std::move(*s);
    }
    sqlite3_stmt* s = c.read.get();
    StmtReset reset{s};
    bind_text(s, 1, session_->id);
    sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(std::min<Sequence>(q.after, INT64_MAX)));
    sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(std::min<Sequence>(last, INT64_MAX)));
    const bool all = q.filter.matches_everything();
    Sequence expect = q.after + 1;
    std::size_t n = 0;
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return db_error(c.db.get(), store_->path, "read session '" + session_->id + "'");
      EventView v;
      if (Status st = decode_row(s, v, expect); !st) return pruned_or(st, expect);
      ++expect;
      if (!all && !q.filter.matches(v)) continue;
      if (!visit(v)) return {};
      if (q.limit != 0 && ++n >= q.limit) return {};
    }
    // Every row up to `last` was secured: a shorter result means rows were removed behind the
    // store's back. Never a silent gap.
    if (expect <= last)
      return pruned_or(Status(Errc::damaged_store, "sqlite store '" + store_->path + "': session '" + session_->id +
                                                       "' is missing sequence " + std::to_string(expect)),
                       expect);
    return {};
  }

  /// A gap at `expect` is retention running concurrently (the writer pruned after this read
  /// checked first_sequence()) when the first available is now above it; else `st` (damage).
  Status pruned_or(Status st, Sequence expect) const {
    if (st.code() != Errc::damaged_store) return st;
    // The database, not the cache: the deletion this read saw is committed, and so is the
    // first_sequence written in the same transaction (the writer publishes it after COMMIT).
    auto first = store_->stored_first(session_->id);
    if (first && expect < *first) return pruned_error(session_->id, expect, *first);
    return st;
  }

  Result<Event> find_by_id(std::string_view id) const override {
    const Sequence latest = latest_sequence();
    auto l = store_->lease();
    if (!l) return l.error();
    Conn& c = *l->conn;
    if (!c.find) {
      const std::string sql = std::string("SELECT ") + kEventColumns + " FROM events WHERE session_id = ?1 AND id = ?2";
      auto s = prepare(c.db.get(), store_->path, sql.c_str());
      if (!s) return s.error();
      c.find = std::move(*s);
    }
    sqlite3_stmt* s = c.find.get();
    StmtReset reset{s};
    bind_text(s, 1, session_->id);
    bind_text(s, 2, id);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && static_cast<Sequence>(sqlite3_column_int64(s, 0)) <= latest) {
      EventView v;
      const Sequence seq = static_cast<Sequence>(sqlite3_column_int64(s, 0));
      if (Status st = decode_row(s, v, seq); !st) return st.error();
      return v.to_event();
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_error(c.db.get(), store_->path, "find_by_id");
    return Error(Errc::not_found, "session '" + session_->id + "' has no event with id '" + std::string(id) + "'");
  }

  Result<Sequence> wait_for(Sequence after, Deadline deadline) const override {
    for (;;) {
      const Sequence l = latest_sequence();
      const auto now = std::chrono::steady_clock::now();
      if (l > after || now >= deadline) return l;
      const Deadline step = std::min(deadline, now + store_->options.poll_interval);
      if (session_->local_writer.load(std::memory_order_acquire))  // pairs with the writer open's release
        session_->gate.wait_until([&] { return session_->latest.load(std::memory_order_seq_cst) > after; },  // pairs with (Q1)
                                  step);
      else
        std::this_thread::sleep_until(step);
    }
  }

 protected:
  /// Fills `v` from the current row (views valid until the next step); `expect` is the sequence
  /// the row must hold (contiguity, INV-1).
  Status decode_row(sqlite3_stmt* s, EventView& v, Sequence expect) const {
    v.sequence_number = static_cast<Sequence>(sqlite3_column_int64(s, 0));
    const auto type = sqlite3_column_int64(s, 1);
    if (v.sequence_number != expect)
      return Status(Errc::damaged_store, "sqlite store '" + store_->path + "': session '" + session_->id +
                                             "' is missing sequence " + std::to_string(expect) + " (next row holds " +
                                             std::to_string(v.sequence_number) + ")");
    if (type < 0 || type > 255 || !is_valid_event_type(static_cast<std::uint8_t>(type)))
      return Status(Errc::damaged_store, "sqlite store '" + store_->path + "': session '" + session_->id +
                                             "' sequence " + std::to_string(expect) + " has an invalid type code " +
                                             std::to_string(type));
    v.type = static_cast<EventType>(type);
    v.id = column_text(s, 2);
    v.session_id = session_->id;
    v.run_id = column_text(s, 3);
    v.timestamp_ns = sqlite3_column_int64(s, 4);
    v.schema_version = static_cast<std::uint32_t>(sqlite3_column_int64(s, 5));
    v.correlation_id = column_text(s, 6);
    v.provider = column_text(s, 7);
    v.data = column_text(s, 8);
    v.metadata = column_text(s, 9);
    return {};
  }

  std::shared_ptr<const SqliteStoreState> store_;
  std::shared_ptr<SqliteSession> session_;
};

class SqliteWriterLog final : public SessionLog {
 public:
  static Result<std::unique_ptr<SqliteWriterLog>> start(std::shared_ptr<SqliteStoreState> store,
                                                        std::shared_ptr<SqliteSession> session, detail::File lock) {
    auto w = std::unique_ptr<SqliteWriterLog>(new SqliteWriterLog(store, session, std::move(lock)));
    auto db = store->connect(true);
    if (!db) return db.error();
    w->db_ = std::move(*db);
    sqlite3* d = w->db_.get();
    const std::string& path = store->path;
    auto ins = prepare(d, path,
                       "INSERT INTO events (session_id, sequence, id, type, run_id, timestamp_ns, schema_version, "
                       "correlation_id, provider, data, metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (!ins) return ins.error();
    w->insert_ = std::move(*ins);
    auto begin = prepare(d, path, "BEGIN IMMEDIATE");
    if (!begin) return begin.error();
    w->begin_ = std::move(*begin);
    auto commit = prepare(d, path, "COMMIT");
    if (!commit) return commit.error();
    w->commit_ = std::move(*commit);
    auto reg = prepare(d, path, "INSERT OR IGNORE INTO sessions (session_id, created_ns) VALUES (?1, ?2)");
    if (!reg) return reg.error();
    {
      StmtReset reset{reg->get()};
      bind_text(reg->get(), 1, session->id);
      sqlite3_bind_int64(reg->get(), 2, detail::wall_clock_ns());
      if (sqlite3_step(reg->get()) != SQLITE_DONE) return db_error(d, path, "register session '" + session->id + "'");
    }
    auto latest = prepare(d, path,
                          "SELECT coalesce((SELECT max(sequence) FROM events WHERE session_id = ?1), 0), "
                          "(SELECT first_sequence FROM sessions WHERE session_id = ?1)");
    if (!latest) return latest.error();
    {
      StmtReset reset{latest->get()};
      bind_text(latest->get(), 1, session->id);
      if (sqlite3_step(latest->get()) != SQLITE_ROW) return db_error(d, path, "max(sequence)");
      w->first_ = static_cast<Sequence>(sqlite3_column_int64(latest->get(), 1));
      // Sequences never restart (INV-1): a session pruned to nothing continues after its last.
      w->written_ = std::max(static_cast<Sequence>(sqlite3_column_int64(latest->get(), 0)), w->first_ - 1);
    }
    auto it = store->options.session_retention.find(session->id);
    w->policy_ = it != store->options.session_retention.end() ? it->second : store->options.retention;
    if (!w->policy_.keeps_everything()) {
      for (auto [stmt, sql] : {std::pair{&w->prune_, "DELETE FROM events WHERE session_id = ?1 AND sequence < ?2"},
                               std::pair{&w->set_first_, "UPDATE sessions SET first_sequence = ?2 WHERE session_id = ?1"},
                               std::pair{&w->young_, "SELECT sequence FROM events WHERE session_id = ?1 AND sequence >= ?2 "
                                                     "AND timestamp_ns >= ?3 ORDER BY sequence LIMIT 1"}}) {
        auto p = prepare(d, path, sql);
        if (!p) return p.error();
        *stmt = std::move(*p);
      }
    }
    return w;
  }

  ~SqliteWriterLog() override {
    std::lock_guard lock(store_->mutex);
    session_->local_writer.store(false, std::memory_order_release);  // pairs with the readers' acquire
  }

  /// Publishes the recovered latest sequence and takes the in-process writer role.
  void publish_open() {
    session_->first.store(first_, std::memory_order_release);     // pairs with the readers' acquire
    session_->latest.store(written_, std::memory_order_seq_cst);  // (Q1) pairs with readers' acquire
    session_->local_writer.store(true, std::memory_order_release);  // pairs with the readers' acquire
    session_->gate.notify_all();
  }

  std::string_view session_id() const noexcept override { return session_->id; }

  Status append(const AppendBatch& batch) override {
    if (batch.size() == 0) return {};
    const std::string& id = session_->id;
    if (batch.records.size() != batch.events.size())
      return Status(Errc::validation_error, "session '" + id + "': batch has " + std::to_string(batch.events.size()) +
                                                " events but " + std::to_string(batch.records.size()) + " records");
    if (batch.first_sequence != written_ + 1)
      return Status(Errc::sequence_conflict, "session '" + id + "': batch starts at sequence " +
                                                 std::to_string(batch.first_sequence) + " but the latest is " +
                                                 std::to_string(written_) + " (is a second writer appending?)");
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (batch.events[i].sequence_number != batch.first_sequence + i || !is_valid_event_type(static_cast<std::uint8_t>(batch.events[i].type)))
        return Status(Errc::validation_error, "session '" + id + "': append batch event " + std::to_string(i) +
                                                  " is not a valid event of sequence " +
                                                  std::to_string(batch.first_sequence + i));
    sqlite3* d = db_.get();
    {
      StmtReset reset{begin_.get()};
      if (sqlite3_step(begin_.get()) != SQLITE_DONE) return db_error(d, store_->path, "BEGIN IMMEDIATE");
    }
    auto fail = [&](Error e) {
      sqlite3_exec(d, "ROLLBACK", nullptr, nullptr, nullptr);
      return Status(std::move(e));
    };
    sqlite3_stmt* s = insert_.get();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const EventView& v = batch.events[i];
      StmtReset reset{s};
      bind_text(s, 1, id);
      sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(batch.first_sequence + i));
      bind_text(s, 3, v.id);
      sqlite3_bind_int(s, 4, static_cast<int>(v.type));
      bind_text(s, 5, v.run_id);
      sqlite3_bind_int64(s, 6, v.timestamp_ns);
      sqlite3_bind_int64(s, 7, v.schema_version);
      bind_text(s, 8, v.correlation_id);
      bind_text(s, 9, v.provider);
      bind_text(s, 10, v.data);
      bind_text(s, 11, v.metadata);
      const int rc = sqlite3_step(s);
      if (rc != SQLITE_DONE) {
        if ((sqlite3_extended_errcode(d) & 0xff) == SQLITE_CONSTRAINT)
          return fail(Error(Errc::validation_error, "session '" + id + "': append batch event " + std::to_string(i) +
                                                        " (sequence " + std::to_string(batch.first_sequence + i) +
                                                        ") repeats a stored id '" + std::string(v.id) +
                                                        "' or sequence: " + sqlite3_errmsg(d)));
        return fail(db_error(d, store_->path, "insert into session '" + id + "'"));
      }
    }
    // Retention in the batch's transaction: the prune and the batch commit together or not at all.
    Sequence new_first = first_;
    if (!policy_.keeps_everything()) {
      auto pruned = prune_point(batch.last_sequence());
      if (!pruned) return fail(pruned.error());
      new_first = *pruned;
    }
    {
      StmtReset reset{commit_.get()};
      if (sqlite3_step(commit_.get()) != SQLITE_DONE) return fail(db_error(d, store_->path, "COMMIT"));
    }
    written_ = batch.last_sequence();
    if (new_first != first_) {
      first_ = new_first;
      session_->first.store(first_, std::memory_order_release);  // pairs with the readers' acquire
    }
    session_->latest.store(written_, std::memory_order_seq_cst);  // (Q1) pairs with readers' acquire; WaitGate publication
    session_->gate.notify_all();
    return {};
  }

  Sequence latest_sequence() const noexcept override {
    return session_->latest.load(std::memory_order_acquire);  // pairs with (Q1)
  }
  Sequence written_sequence() const noexcept override { return written_; }
  Sequence first_sequence() const noexcept override {
    return session_->first.load(std::memory_order_acquire);  // pairs with the writer's release
  }
  Status read(const EventQuery& q, FunctionRef<bool(const EventView&)> visit) const override {
    return reader_.read(q, visit);
  }
  Result<Event> find_by_id(std::string_view id) const override { return reader_.find_by_id(id); }
  Result<Sequence> wait_for(Sequence after, Deadline deadline) const override {
    return reader_.wait_for(after, deadline);
  }
  // Cursor writes go through a pooled connection (any thread; SQLite serialises them with the
  // writer's transactions, waiting up to busy_timeout), never through db_ (writer thread only).
  Status commit_cursor(std::string_view name, Sequence position) override {
    if (Status st = detail::check_cursor_commit(session_->id, name, position, latest_sequence()); !st) return st;
    auto l = store_->lease();
    if (!l) return l.error();
    return detail::sqlite_put_cursor(l->conn->db.get(), store_->path, session_->id, name, position);
  }
  Result<Sequence> read_cursor(std::string_view name) const override { return reader_.read_cursor(name); }
  Result<std::vector<CursorPosition>> list_cursors() const override { return reader_.list_cursors(); }
  Status delete_cursor(std::string_view name) override {
    if (Status st = validate_cursor_name(name); !st) return st;
    auto l = store_->lease();
    if (!l) return l.error();
    auto gone = detail::sqlite_delete_cursor(l->conn->db.get(), store_->path, session_->id, name);
    if (!gone) return gone.error();
    if (!*gone) return detail::cursor_not_found(session_->id, name);
    return {};
  }

 private:
  SqliteWriterLog(std::shared_ptr<SqliteStoreState> store, std::shared_ptr<SqliteSession> session, detail::File lock)
      : store_(std::move(store)), session_(std::move(session)), lock_(std::move(lock)), reader_(store_, session_) {}

  std::shared_ptr<SqliteStoreState> store_;
  std::shared_ptr<SqliteSession> session_;
  detail::File lock_;  // flock held: the writer role across processes
  SqliteLog reader_;   // reads through pooled connections, like any read handle
  Db db_;              // the writer's own connection; writer thread only
  Stmt insert_, begin_, commit_;
  Stmt prune_, set_first_, young_;  // retention (prepared only with a policy)
  Sequence written_ = 0;  // writer thread only
  Sequence first_ = 1;    // writer thread only: the first available sequence
  RetentionPolicy policy_;
  std::chrono::steady_clock::time_point next_age_check_{};  // writer thread only

  /// Inside the batch's transaction: deletes the front of the session that the policy no
  /// longer keeps, in units of at least policy_.prune_unit events (max_events) or whatever is
  /// older than max_age (checked at most once per second); returns the new first sequence.
  Result<Sequence> prune_point(Sequence last) {
    sqlite3* d = db_.get();
    Sequence to = first_;
    if (policy_.max_events > 0 && last >= first_ && last - first_ + 1 >= policy_.max_events + policy_.prune_unit)
      to = last - policy_.max_events + 1;
    const auto now = std::chrono::steady_clock::now();
    if (policy_.max_age.count() > 0 && now >= next_age_check_) {
      next_age_check_ = now + std::chrono::seconds(1);
      const std::int64_t cutoff = detail::wall_clock_ns() - std::chrono::duration_cast<std::chrono::nanoseconds>(policy_.max_age).count();
      StmtReset reset{young_.get()};
      bind_text(young_.get(), 1, session_->id);
      sqlite3_bind_int64(young_.get(), 2, static_cast<sqlite3_int64>(to));
      sqlite3_bind_int64(young_.get(), 3, cutoff);
      const int rc = sqlite3_step(young_.get());
      if (rc == SQLITE_ROW)
        to = std::max(to, static_cast<Sequence>(sqlite3_column_int64(young_.get(), 0)));
      else if (rc == SQLITE_DONE)
        to = last + 1;  // every event is older than max_age
      else
        return db_error(d, store_->path, "retention: find the first young event");
    }
    if (to > first_ && policy_.keep_cursor_positions) {
      // Inside the batch's transaction: the cursors as of now, consistent with the prune.
      auto low = detail::sqlite_lowest_cursor(d, store_->path, session_->id);
      if (!low) return low.error();
      if (*low) to = std::min(to, **low + 1);
    }
    if (to <= first_) return first_;
    for (sqlite3_stmt* s : {prune_.get(), set_first_.get()}) {
      StmtReset reset{s};
      bind_text(s, 1, session_->id);
      sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(to));
      if (sqlite3_step(s) != SQLITE_DONE) return db_error(d, store_->path, "retention: prune session '" + session_->id + "'");
    }
    return to;
  }
};

}  // namespace

// ---- the store ------------------------------------------------------------------------------

SqliteStore::SqliteStore(std::shared_ptr<State> state) : state_(std::move(state)) {}
SqliteStore::~SqliteStore() = default;
const SqliteStoreOptions& SqliteStore::options() const noexcept { return state_->options; }

Result<std::shared_ptr<SqliteStore>> SqliteStore::open(SqliteStoreOptions options) {
  if (Status st = validate(options); !st) return st.error();
  auto state = std::make_shared<State>();
  state->path = options.path.string();
  state->options = std::move(options);
  const std::string& path = state->path;
  std::error_code ec;
  if (state->options.read_only && !std::filesystem::exists(path, ec))
    return Error(Errc::not_found, "no sqlite store at '" + path + "' (no such file)");
  auto db = state->connect(!state->options.read_only);
  if (!db) return db.error();
  sqlite3* d = db->get();
  if (!state->options.read_only) {
    if (Status st = exec(d, path, "PRAGMA journal_mode=WAL"); !st) return st.error();
    if (Status st = exec(d, path, "BEGIN IMMEDIATE"); !st) return st.error();
  }
  int version = -1;
  {
    auto s = prepare(d, path, "PRAGMA user_version");
    if (!s) return s.error();
    if (sqlite3_step(s->get()) != SQLITE_ROW) return db_error(d, path, "PRAGMA user_version");
    version = sqlite3_column_int(s->get(), 0);
  }
  auto tables = [&]() -> Result<int> {
    auto s = prepare(d, path, "SELECT count(*) FROM sqlite_schema");
    if (!s) return s.error();
    if (sqlite3_step(s->get()) != SQLITE_ROW) return db_error(d, path, "read sqlite_schema");
    return sqlite3_column_int(s->get(), 0);
  }();
  if (!tables) return tables.error();
  if (version == 0 && *tables == 0 && !state->options.read_only) {
    if (Status st = exec(d, path, kSchemaV1); !st) return st.error();
    auto s = prepare(d, path, "INSERT INTO event_types (code, name) VALUES (?1, ?2)");
    if (!s) return s.error();
    for (EventType t : all_event_types()) {
      StmtReset reset{s->get()};
      sqlite3_bind_int(s->get(), 1, static_cast<int>(t));
      bind_text(s->get(), 2, to_string(t));
      if (sqlite3_step(s->get()) != SQLITE_DONE) return db_error(d, path, "fill event_types");
    }
    if (Status st = exec(d, path, "PRAGMA user_version = 1"); !st) return st.error();
    version = kSchemaVersion;
  }
  if (version != kSchemaVersion) {
    if (!state->options.read_only) (void)exec(d, path, "ROLLBACK");
    return Error(Errc::storage_error, "sqlite store '" + path + "': schema version " + std::to_string(version) +
                                         (version == 0 ? " (not a sessionring database: it has other tables)"
                                                       : " is not the version this build reads (" +
                                                             std::to_string(kSchemaVersion) + ")"));
  }
  if (!state->options.read_only)
    if (Status st = exec(d, path, "COMMIT"); !st) return st.error();
  return std::shared_ptr<SqliteStore>(new SqliteStore(std::move(state)));
}

Result<std::shared_ptr<SessionLog>> SqliteStore::open(std::string_view session_id, OpenMode mode) {
  if (Status st = validate_session_id(session_id); !st) return st.error();
  if (mode == OpenMode::write && state_->options.read_only)
    return Error(Errc::validation_error, "sqlite store '" + state_->path + "' was opened read_only; session '" +
                                             std::string(session_id) + "' cannot be opened for writing");
  if (mode == OpenMode::read) {
    auto exists = state_->session_exists(session_id);
    if (!exists) return exists.error();
    if (!*exists)
      return Error(Errc::not_found, "sqlite store '" + state_->path + "' has no session '" + std::string(session_id) + "'");
  }
  std::shared_ptr<SqliteSession> session;
  {
    std::lock_guard lock(state_->mutex);
    auto it = state_->sessions.find(session_id);
    if (it != state_->sessions.end()) session = it->second.lock();
    if (!session) {
      session = std::make_shared<SqliteSession>(std::string(session_id));
      state_->sessions[std::string(session_id)] = session;
    }
  }
  if (mode == OpenMode::read) return std::shared_ptr<SessionLog>(std::make_shared<SqliteLog>(state_, session));

  // The writer role across processes: flock on <path>-locks/<session>.lock.
  const std::string lock_dir = state_->path + "-locks";
  std::error_code ec;
  std::filesystem::create_directories(lock_dir, ec);
  if (ec) return detail::io_error("cannot create", lock_dir, ec.value());
  auto f = detail::File::open(lock_dir + "/" + std::string(session_id) + ".lock", O_RDWR | O_CREAT, 0644);
  if (!f) return f.error();
  int r;
  do {
    r = ::flock(f->fd(), LOCK_EX | LOCK_NB);
  } while (r != 0 && errno == EINTR);
  if (r != 0) {
    if (errno == EWOULDBLOCK)
      return Error(Errc::writer_conflict, "session '" + std::string(session_id) +
                                              "' already has a writer (lock held on '" + f->path() + "')");
    return detail::io_error("cannot lock", f->path(), errno);
  }
  auto w = SqliteWriterLog::start(state_, session, std::move(*f));
  if (!w) return w.error();
  {
    std::lock_guard lock(state_->mutex);
    (*w)->publish_open();
  }
  return std::shared_ptr<SessionLog>(std::move(*w));
}

Result<SessionInfo> SqliteStore::info(std::string_view session_id) const {
  auto v = verify(session_id);
  if (!v) return v.error();
  if (v->damaged) return Error(Errc::damaged_store, "sqlite store '" + state_->path + "': session '" +
                                                        std::string(session_id) + "': " + v->problem);
  return v->intact;
}

Result<VerifyReport> SqliteStore::verify(std::string_view session_id) const {
  if (Status st = validate_session_id(session_id); !st) return st.error();
  auto exists = state_->session_exists(session_id);
  if (!exists) return exists.error();
  if (!*exists)
    return Error(Errc::not_found, "sqlite store '" + state_->path + "' has no session '" + std::string(session_id) + "'");
  auto session = std::make_shared<SqliteSession>(std::string(session_id));
  SqliteLog log(state_, session);
  VerifyReport r;
  r.intact.session_id = std::string(session_id);
  r.intact.first_sequence = log.first_sequence();
  r.intact.latest_sequence = r.intact.first_sequence - 1;
  EventQuery all;
  all.after = r.intact.first_sequence - 1;
  Status st = log.read(all, [&](const EventView& v) {
    r.intact.latest_sequence = v.sequence_number;
    ++r.intact.event_count;
    r.intact.bytes += EventRecord::encoded_size(v);
    return true;
  });
  if (!st) {
    if (st.code() != Errc::damaged_store && st.code() != Errc::pruned) return st.error();
    r.damaged = true;
    r.problem = st.error().message();
    r.file = state_->path + " (table events)";
    r.offset = r.intact.latest_sequence + 1;
  }
  return r;
}

Result<std::vector<std::string>> SqliteStore::list_sessions() const {
  auto l = state_->lease();
  if (!l) return l.error();
  auto s = prepare(l->conn->db.get(), state_->path, "SELECT session_id FROM sessions ORDER BY session_id");
  if (!s) return s.error();
  std::vector<std::string> out;
  for (;;) {
    const int rc = sqlite3_step(s->get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return db_error(l->conn->db.get(), state_->path, "list sessions");
    out.emplace_back(column_text(s->get(), 0));
  }
  return out;
}

}  // namespace sessionring
