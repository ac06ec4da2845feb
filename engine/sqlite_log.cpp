// SqliteStore's read handle (engine/detail/sqlite_log.hpp).
#include "detail/sqlite_log.hpp"

#include "detail/cursor_checks.hpp"
#include "detail/sqlite_cursors.hpp"

#include <sessionring/event_type.hpp>

#include <algorithm>
#include <thread>

namespace sessionring::detail {
namespace {

constexpr const char* kEventColumns =
    "sequence, type, id, run_id, timestamp_ns, schema_version, correlation_id, provider, data, metadata";

Error pruned_error(const std::string& session, Sequence asked, Sequence first) {
  return Error(Errc::pruned, "session '" + session + "': sequence " + std::to_string(asked) +
                                 " was pruned by retention; the first available is " + std::to_string(first));
}

/// Raises `cache`, a monotonic cache of a value read from the database, to `stored`; answers the
/// larger of the two.
Sequence raise_cache(std::atomic<Sequence>& cache, Sequence stored) noexcept {
  Sequence cur = cache.load(std::memory_order_relaxed);  // relaxed: a monotonic cache
  while (stored > cur && !cache.compare_exchange_weak(cur, stored, std::memory_order_relaxed)) {
  }
  return std::max(cur, stored);
}

}  // namespace

Status SqliteLog::append(const AppendBatch&) {
  return Status(Errc::validation_error,
                "session '" + session_->id + "' was opened read-only; append needs OpenMode::write");
}

Status SqliteLog::commit_cursor(std::string_view, Sequence) {
  return cursor_read_only(session_->id, "commit_cursor");
}
Status SqliteLog::delete_cursor(std::string_view) { return cursor_read_only(session_->id, "delete_cursor"); }
Result<Sequence> SqliteLog::read_cursor(std::string_view name) const {
  if (Status st = validate_cursor_name(name); !st) return st.error();
  auto l = store_->lease();
  if (!l) return l.error();
  auto p = sqlite_get_cursor(l->conn->db.get(), store_->path, session_->id, name);
  if (!p) return p.error();
  if (!*p) return cursor_not_found(session_->id, name);
  return **p;
}
Result<std::vector<CursorPosition>> SqliteLog::list_cursors() const {
  auto l = store_->lease();
  if (!l) return l.error();
  auto m = sqlite_list_cursors(l->conn->db.get(), store_->path, session_->id);
  if (!m) return m.error();
  return CursorTable::to_list(*m);
}

Sequence SqliteLog::latest_sequence() const noexcept {
  if (session_->local_writer.load(std::memory_order_acquire))  // pairs with the writer open's release
    return session_->latest.load(std::memory_order_acquire);   // pairs with (Q1)
  // No writer in this process: ask the database (another process may be writing).
  try {
    if (auto l = store_->stored_latest(session_->id)) return raise_cache(session_->latest, *l);
  } catch (...) {
    // Out of memory: answer the cached value.
  }
  return session_->latest.load(std::memory_order_acquire);  // pairs with (Q1)
}

Sequence SqliteLog::first_sequence() const noexcept {
  if (session_->local_writer.load(std::memory_order_acquire))  // pairs with the writer open's release
    return session_->first.load(std::memory_order_acquire);    // pairs with the writer's release
  try {
    if (auto f = store_->stored_first(session_->id)) return raise_cache(session_->first, *f);
  } catch (...) {
    // Out of memory: answer the cached value.
  }
  return session_->first.load(std::memory_order_acquire);  // pairs with the writer's release
}

Status SqliteLog::read(const EventQuery& q, FunctionRef<bool(const EventView&)> visit) const {
  const Sequence latest = latest_sequence();
  const Sequence last = std::min(latest, q.before == 0 ? 0 : q.before - 1);
  if (last <= q.after) return {};
  if (const Sequence first = first_sequence(); q.after + 1 < first) return pruned_error(session_->id, q.after + 1, first);
  auto l = store_->lease();
  if (!l) return l.error();
  SqliteStoreState::Conn& c = *l->conn;
  static const std::string kRead = std::string("SELECT ") + kEventColumns +
                                   " FROM events WHERE session_id = ?1 AND sequence > ?2 AND sequence <= ?3 ORDER BY sequence";
  auto stmt = store_->prepared(c, &SqliteStoreState::Conn::read, kRead.c_str());
  if (!stmt) return stmt.error();
  sqlite3_stmt* s = *stmt;
  StmtReset reset{s};
  sqlite_bind_text(s, 1, session_->id);
  sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(std::min<Sequence>(q.after, INT64_MAX)));
  sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(std::min<Sequence>(last, INT64_MAX)));
  const bool all = q.filter.matches_everything();
  Sequence expect = q.after + 1;
  std::size_t n = 0;
  for (;;) {
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return sqlite_error(c.db.get(), store_->path, "read session '" + session_->id + "'");
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

Status SqliteLog::pruned_or(Status st, Sequence expect) const {
  if (st.code() != Errc::damaged_store) return st;
  // The database, not the cache: the deletion this read saw is committed, and so is the
  // first_sequence written in the same transaction (the writer publishes it after COMMIT).
  auto first = store_->stored_first(session_->id);
  if (first && expect < *first) return pruned_error(session_->id, expect, *first);
  return st;
}

Result<Event> SqliteLog::find_by_id(std::string_view id) const {
  const Sequence latest = latest_sequence();
  auto l = store_->lease();
  if (!l) return l.error();
  SqliteStoreState::Conn& c = *l->conn;
  static const std::string kFind = std::string("SELECT ") + kEventColumns + " FROM events WHERE session_id = ?1 AND id = ?2";
  auto stmt = store_->prepared(c, &SqliteStoreState::Conn::find, kFind.c_str());
  if (!stmt) return stmt.error();
  sqlite3_stmt* s = *stmt;
  StmtReset reset{s};
  sqlite_bind_text(s, 1, session_->id);
  sqlite_bind_text(s, 2, id);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW && static_cast<Sequence>(sqlite3_column_int64(s, 0)) <= latest) {
    EventView v;
    const Sequence seq = static_cast<Sequence>(sqlite3_column_int64(s, 0));
    if (Status st = decode_row(s, v, seq); !st) return st.error();
    return v.to_event();
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite_error(c.db.get(), store_->path, "find_by_id");
  return Error(Errc::not_found, "session '" + session_->id + "' has no event with id '" + std::string(id) + "'");
}

Result<Sequence> SqliteLog::wait_for(Sequence after, Deadline deadline) const {
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

Status SqliteLog::decode_row(sqlite3_stmt* s, EventView& v, Sequence expect) const {
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
  v.id = sqlite_column_text(s, 2);
  v.session_id = session_->id;
  v.run_id = sqlite_column_text(s, 3);
  v.timestamp_ns = sqlite3_column_int64(s, 4);
  v.schema_version = static_cast<std::uint32_t>(sqlite3_column_int64(s, 5));
  v.correlation_id = sqlite_column_text(s, 6);
  v.provider = sqlite_column_text(s, 7);
  v.data = sqlite_column_text(s, 8);
  v.metadata = sqlite_column_text(s, 9);
  return {};
}

}  // namespace sessionring::detail
