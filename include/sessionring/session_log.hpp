// SessionLog: one session's stored events, obtained from SessionStore::open.
//
// Threads: append() only on the handle opened with OpenMode::write, from one thread at a time
// (the session's sequencer). Everything else from any thread, concurrently with append().
// Contract for implementers (docs/store.md):
//  * append() accepts a batch only if batch.first_sequence == written_sequence() + 1
//    (Errc::sequence_conflict otherwise) and stores all of it or none of it.
//  * latest_sequence(), read(), find_by_id() and wait_for() expose only what the store has
//    secured at its durability level (INV-2).
//  * a store with retention removes whole units from the front; first_sequence() names the
//    lowest still stored, and a read() asking for less (after + 1 < first_sequence()) is
//    Errc::pruned naming it: never a silent skip. Sequences never restart (INV-1).
//  * read() calls `visit` with views valid only during the call, oldest first, and holds no
//    lock that append() needs while calling it (a slow reader never stalls the writer, INV-4).
//  * durable named cursors (docs/store.md "Durable named cursors"): commit_cursor() and
//    delete_cursor() on the writer handle only (validation_error on a read handle), from any
//    thread; read_cursor() and list_cursors() on any handle, any thread. A committed position
//    is secured at the store's durability level when commit_cursor() returns and survives a
//    restart in a durable store. A store without cursors answers Errc::unsupported.
#pragma once
#include <sessionring/append_batch.hpp>
#include <sessionring/cursor_position.hpp>
#include <sessionring/event.hpp>
#include <sessionring/event_query.hpp>
#include <sessionring/function_ref.hpp>
#include <sessionring/result.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace sessionring {

using Deadline = std::chrono::steady_clock::time_point;

class SessionLog {
 public:
  virtual ~SessionLog() = default;

  virtual std::string_view session_id() const noexcept = 0;

  /// Writer handle only. Appends a whole batch or nothing (see the class comment).
  virtual Status append(const AppendBatch& batch) = 0;

  /// Latest secured sequence (0 when empty). Any thread; may be stale by the time it returns.
  virtual Sequence latest_sequence() const noexcept = 0;

  /// The first available sequence: everything from it to latest_sequence() is stored (when
  /// latest_sequence() >= it); sequences below it were pruned by retention (docs/store.md
  /// "Retention"). 1 for a store that never prunes. Any thread; only grows.
  virtual Sequence first_sequence() const noexcept { return 1; }

  /// Writer handle: the highest sequence append() accepted. A store that secures in the
  /// background (group commit on a sync thread) may return from append() before the batch is
  /// secured; then written_sequence() runs ahead of latest_sequence() until the sync completes,
  /// and the sequencer publishes to subscribers only up to latest_sequence() (INV-2).
  virtual Sequence written_sequence() const noexcept { return latest_sequence(); }

  /// Writer handle, called by the session's sequencer when it has nothing to append, again and
  /// again while this returns true and nothing arrives: one small bounded step (tens of
  /// microseconds at most, never blocking) of preparing for future appends, e.g. taking page
  /// faults ahead of time (MemoryStore). Returns false when there is nothing more to prepare.
  virtual bool prepare_append() noexcept { return false; }
  /// Any thread, concurrently with the writer's append(): one small bounded step (like
  /// prepare_append) of preparing memory the writer will need soon, done on a thread that has
  /// nothing else to do — a pool thread helping the hot session another pool thread serves
  /// (docs/design.md §13). Never touches memory the writer uses. Returns false when there is
  /// nothing to prepare now.
  virtual bool prefault_ahead() noexcept { return false; }
  /// Visits the events matching `query`, oldest first; `visit` returns false to stop early.
  virtual Status read(const EventQuery& query, FunctionRef<bool(const EventView&)> visit) const = 0;

  /// The stored event with this id, or Errc::not_found.
  virtual Result<Event> find_by_id(std::string_view id) const = 0;

  /// Long poll: waits until latest_sequence() > after or the deadline passes; returns the
  /// latest sequence either way (compare with `after` to tell which).
  virtual Result<Sequence> wait_for(Sequence after, Deadline deadline) const = 0;

  /// Writer handle, called by the session's owner (the sequencer's pool thread) while the
  /// session is idle and no append is in flight: give back what the log holds for appending —
  /// descriptors, mappings — to be reacquired lazily by the next append (LogStore: the active
  /// segment file and the commit mark, docs/store.md "Descriptors"). Default: nothing.
  virtual void release_idle_resources() noexcept {}

  /// Writer handle, any thread: stores `position` (the last sequence its consumer processed;
  /// 0..latest_sequence()) as the cursor `name`, replacing any earlier position (it may move
  /// back). validation_error for a bad name (validate_cursor_name), a position above
  /// latest_sequence(), or a read handle; storage_error when it could not be stored (the old
  /// position stays).
  virtual Status commit_cursor(std::string_view name, Sequence position) {
    (void)name;
    (void)position;
    return cursors_unsupported();
  }
  /// Any handle, any thread: the committed position of `name`; not_found when it has none.
  virtual Result<Sequence> read_cursor(std::string_view name) const {
    (void)name;
    return cursors_unsupported().error();
  }
  /// Any handle, any thread: every cursor of the session, sorted by name (lag left 0).
  virtual Result<std::vector<CursorPosition>> list_cursors() const { return cursors_unsupported().error(); }
  /// Writer handle, any thread: removes the cursor; not_found when it has none.
  virtual Status delete_cursor(std::string_view name) {
    (void)name;
    return cursors_unsupported();
  }

  /// Convenience: the events matching `query` as owning copies.
  Result<std::vector<Event>> read(const EventQuery& query) const {
    std::vector<Event> out;
    Status st = read(query, [&](const EventView& v) {
      out.push_back(v.to_event());
      return true;
    });
    if (!st) return st.error();
    return out;
  }

 protected:
  Status cursors_unsupported() const {
    return Status(Errc::unsupported,
                  "the store of session '" + std::string(session_id()) + "' does not keep durable cursors");
  }
};

}  // namespace sessionring
