// SqliteStore's writer handle (engine/detail/sqlite_writer_log.hpp).
#include "detail/sqlite_writer_log.hpp"

#include "detail/batch_checks.hpp"
#include "detail/cursor_checks.hpp"
#include "detail/sqlite_cursors.hpp"
#include "detail/sqlite_log.hpp"
#include "detail/wall_clock.hpp"

#include <sessionring/event_type.hpp>

#include <algorithm>
#include <chrono>

namespace sessionring::detail {
namespace {

class SqliteWriterLog final : public SessionLog {
 public:
  static Result<std::unique_ptr<SqliteWriterLog>> start(std::shared_ptr<SqliteStoreState> store,
                                                        std::shared_ptr<SqliteSession> session, File lock) {
    auto w = std::unique_ptr<SqliteWriterLog>(new SqliteWriterLog(store, session, std::move(lock)));
    auto db = store->connect(true);
    if (!db) return db.error();
    w->db_ = std::move(*db);
    sqlite3* d = w->db_.get();
    const std::string& path = store->path;
    auto ins = sqlite_prepare(d, path,
                       "INSERT INTO events (session_id, sequence, id, type, run_id, timestamp_ns, schema_version, "
                       "correlation_id, provider, data, metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (!ins) return ins.error();
    w->insert_ = std::move(*ins);
    auto begin = sqlite_prepare(d, path, "BEGIN IMMEDIATE");
    if (!begin) return begin.error();
    w->begin_ = std::move(*begin);
    auto commit = sqlite_prepare(d, path, "COMMIT");
    if (!commit) return commit.error();
    w->commit_ = std::move(*commit);
    auto reg = sqlite_prepare(d, path, "INSERT OR IGNORE INTO sessions (session_id, created_ns) VALUES (?1, ?2)");
    if (!reg) return reg.error();
    {
      StmtReset reset{reg->get()};
      sqlite_bind_text(reg->get(), 1, session->id);
      sqlite3_bind_int64(reg->get(), 2, wall_clock_ns());
      if (sqlite3_step(reg->get()) != SQLITE_DONE) return sqlite_error(d, path, "register session '" + session->id + "'");
    }
    auto latest = sqlite_prepare(d, path,
                          "SELECT coalesce((SELECT max(sequence) FROM events WHERE session_id = ?1), 0), "
                          "(SELECT first_sequence FROM sessions WHERE session_id = ?1)");
    if (!latest) return latest.error();
    {
      StmtReset reset{latest->get()};
      sqlite_bind_text(latest->get(), 1, session->id);
      if (sqlite3_step(latest->get()) != SQLITE_ROW) return sqlite_error(d, path, "max(sequence)");
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
        auto p = sqlite_prepare(d, path, sql);
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
    if (Status st = check_batch_start(id, batch, written_); !st) return st;
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (batch.events[i].sequence_number != batch.first_sequence + i || !is_valid_event_type(static_cast<std::uint8_t>(batch.events[i].type)))
        return Status(Errc::validation_error, "session '" + id + "': append batch event " + std::to_string(i) +
                                                  " is not a valid event of sequence " +
                                                  std::to_string(batch.first_sequence + i));
    sqlite3* d = db_.get();
    {
      StmtReset reset{begin_.get()};
      if (sqlite3_step(begin_.get()) != SQLITE_DONE) return sqlite_error(d, store_->path, "BEGIN IMMEDIATE");
    }
    auto fail = [&](Error e) {
      sqlite3_exec(d, "ROLLBACK", nullptr, nullptr, nullptr);
      return Status(std::move(e));
    };
    sqlite3_stmt* s = insert_.get();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const EventView& v = batch.events[i];
      StmtReset reset{s};
      sqlite_bind_text(s, 1, id);
      sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(batch.first_sequence + i));
      sqlite_bind_text(s, 3, v.id);
      sqlite3_bind_int(s, 4, static_cast<int>(v.type));
      sqlite_bind_text(s, 5, v.run_id);
      sqlite3_bind_int64(s, 6, v.timestamp_ns);
      sqlite3_bind_int64(s, 7, v.schema_version);
      sqlite_bind_text(s, 8, v.correlation_id);
      sqlite_bind_text(s, 9, v.provider);
      sqlite_bind_text(s, 10, v.data);
      sqlite_bind_text(s, 11, v.metadata);
      const int rc = sqlite3_step(s);
      if (rc != SQLITE_DONE) {
        if ((sqlite3_extended_errcode(d) & 0xff) == SQLITE_CONSTRAINT)
          return fail(Error(Errc::validation_error, "session '" + id + "': append batch event " + std::to_string(i) +
                                                        " (sequence " + std::to_string(batch.first_sequence + i) +
                                                        ") repeats a stored id '" + std::string(v.id) +
                                                        "' or sequence: " + sqlite3_errmsg(d)));
        return fail(sqlite_error(d, store_->path, "insert into session '" + id + "'"));
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
      if (sqlite3_step(commit_.get()) != SQLITE_DONE) return fail(sqlite_error(d, store_->path, "COMMIT"));
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
    if (Status st = check_cursor_commit(session_->id, name, position, latest_sequence()); !st) return st;
    auto l = store_->lease();
    if (!l) return l.error();
    return sqlite_put_cursor(l->conn->db.get(), store_->path, session_->id, name, position);
  }
  Result<Sequence> read_cursor(std::string_view name) const override { return reader_.read_cursor(name); }
  Result<std::vector<CursorPosition>> list_cursors() const override { return reader_.list_cursors(); }
  Status delete_cursor(std::string_view name) override {
    if (Status st = validate_cursor_name(name); !st) return st;
    auto l = store_->lease();
    if (!l) return l.error();
    auto gone = sqlite_delete_cursor(l->conn->db.get(), store_->path, session_->id, name);
    if (!gone) return gone.error();
    if (!*gone) return cursor_not_found(session_->id, name);
    return {};
  }

 private:
  SqliteWriterLog(std::shared_ptr<SqliteStoreState> store, std::shared_ptr<SqliteSession> session, File lock)
      : store_(std::move(store)), session_(std::move(session)), lock_(std::move(lock)), reader_(store_, session_) {}

  std::shared_ptr<SqliteStoreState> store_;
  std::shared_ptr<SqliteSession> session_;
  File lock_;  // flock held: the writer role across processes
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
      const std::int64_t cutoff = wall_clock_ns() - std::chrono::duration_cast<std::chrono::nanoseconds>(policy_.max_age).count();
      StmtReset reset{young_.get()};
      sqlite_bind_text(young_.get(), 1, session_->id);
      sqlite3_bind_int64(young_.get(), 2, static_cast<sqlite3_int64>(to));
      sqlite3_bind_int64(young_.get(), 3, cutoff);
      const int rc = sqlite3_step(young_.get());
      if (rc == SQLITE_ROW)
        to = std::max(to, static_cast<Sequence>(sqlite3_column_int64(young_.get(), 0)));
      else if (rc == SQLITE_DONE)
        to = last + 1;  // every event is older than max_age
      else
        return sqlite_error(d, store_->path, "retention: find the first young event");
    }
    if (to > first_ && policy_.keep_cursor_positions) {
      // Inside the batch's transaction: the cursors as of now, consistent with the prune.
      auto low = sqlite_lowest_cursor(d, store_->path, session_->id);
      if (!low) return low.error();
      if (*low) to = std::min(to, **low + 1);
    }
    if (to <= first_) return first_;
    for (sqlite3_stmt* s : {prune_.get(), set_first_.get()}) {
      StmtReset reset{s};
      sqlite_bind_text(s, 1, session_->id);
      sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(to));
      if (sqlite3_step(s) != SQLITE_DONE) return sqlite_error(d, store_->path, "retention: prune session '" + session_->id + "'");
    }
    return to;
  }
};

}  // namespace

Result<std::shared_ptr<SessionLog>> open_sqlite_writer(std::shared_ptr<SqliteStoreState> store,
                                                       std::shared_ptr<SqliteSession> session, File lock) {
  auto w = SqliteWriterLog::start(store, std::move(session), std::move(lock));
  if (!w) return w.error();
  {
    std::lock_guard guard(store->mutex);
    (*w)->publish_open();
  }
  return std::shared_ptr<SessionLog>(std::move(*w));
}

}  // namespace sessionring::detail
