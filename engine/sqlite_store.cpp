// SqliteStore: sessions in one SQLite database (docs/store.md "SqliteStore"): options, schema,
// open, sessions, info and verify. The writer handle (sqlite_writer_log.cpp) owns a connection
// and appends each batch in one IMMEDIATE transaction; read handles (sqlite_log.cpp) lease
// pooled connections (sqlite_store_state.cpp; WAL: readers never block the writer, INV-4).
#include <sessionring/event_record.hpp>
#include <sessionring/event_type.hpp>
#include <sessionring/session_id.hpp>
#include <sessionring/sqlite_store.hpp>

#include "detail/log_file.hpp"
#include "detail/retention_options.hpp"
#include "detail/sqlite_log.hpp"
#include "detail/sqlite_store_state.hpp"
#include "detail/sqlite_writer_log.hpp"

#include <filesystem>
#include <mutex>
#include <string>
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

}  // namespace

struct SqliteStore::State : detail::SqliteStoreState {};

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
    if (Status st = detail::sqlite_exec(d, path, "PRAGMA journal_mode=WAL"); !st) return st.error();
    if (Status st = detail::sqlite_exec(d, path, "BEGIN IMMEDIATE"); !st) return st.error();
  }
  int version = -1;
  {
    auto s = detail::sqlite_prepare(d, path, "PRAGMA user_version");
    if (!s) return s.error();
    if (sqlite3_step(s->get()) != SQLITE_ROW) return detail::sqlite_error(d, path, "PRAGMA user_version");
    version = sqlite3_column_int(s->get(), 0);
  }
  auto tables = [&]() -> Result<int> {
    auto s = detail::sqlite_prepare(d, path, "SELECT count(*) FROM sqlite_schema");
    if (!s) return s.error();
    if (sqlite3_step(s->get()) != SQLITE_ROW) return detail::sqlite_error(d, path, "read sqlite_schema");
    return sqlite3_column_int(s->get(), 0);
  }();
  if (!tables) return tables.error();
  if (version == 0 && *tables == 0 && !state->options.read_only) {
    if (Status st = detail::sqlite_exec(d, path, kSchemaV1); !st) return st.error();
    auto s = detail::sqlite_prepare(d, path, "INSERT INTO event_types (code, name) VALUES (?1, ?2)");
    if (!s) return s.error();
    for (EventType t : all_event_types()) {
      detail::StmtReset reset{s->get()};
      sqlite3_bind_int(s->get(), 1, static_cast<int>(t));
      detail::sqlite_bind_text(s->get(), 2, to_string(t));
      if (sqlite3_step(s->get()) != SQLITE_DONE) return detail::sqlite_error(d, path, "fill event_types");
    }
    if (Status st = detail::sqlite_exec(d, path, "PRAGMA user_version = 1"); !st) return st.error();
    version = kSchemaVersion;
  }
  if (version != kSchemaVersion) {
    if (!state->options.read_only) (void)detail::sqlite_exec(d, path, "ROLLBACK");
    return Error(Errc::storage_error, "sqlite store '" + path + "': schema version " + std::to_string(version) +
                                         (version == 0 ? " (not a sessionring database: it has other tables)"
                                                       : " is not the version this build reads (" +
                                                             std::to_string(kSchemaVersion) + ")"));
  }
  if (!state->options.read_only)
    if (Status st = detail::sqlite_exec(d, path, "COMMIT"); !st) return st.error();
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
  std::shared_ptr<detail::SqliteSession> session;
  {
    std::lock_guard lock(state_->mutex);
    auto it = state_->sessions.find(session_id);
    if (it != state_->sessions.end()) session = it->second.lock();
    if (!session) {
      session = std::make_shared<detail::SqliteSession>(std::string(session_id));
      state_->sessions[std::string(session_id)] = session;
    }
  }
  if (mode == OpenMode::read) return std::shared_ptr<SessionLog>(std::make_shared<detail::SqliteLog>(state_, session));

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
  return detail::open_sqlite_writer(state_, std::move(session), std::move(*f));
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
  auto session = std::make_shared<detail::SqliteSession>(std::string(session_id));
  detail::SqliteLog log(state_, session);
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
  auto s = detail::sqlite_prepare(l->conn->db.get(), state_->path, "SELECT session_id FROM sessions ORDER BY session_id");
  if (!s) return s.error();
  std::vector<std::string> out;
  for (;;) {
    const int rc = sqlite3_step(s->get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return detail::sqlite_error(l->conn->db.get(), state_->path, "list sessions");
    out.emplace_back(detail::sqlite_column_text(s->get(), 0));
  }
  return out;
}

}  // namespace sessionring
