// LogWriter: the append path of one session's log — framing, segment rolls, durability
// (none / buffered / fsync with group commit), undo of a failed batch — publishing into a
// LogState (docs/store.md "Append", "Durability" and "Faults and fault injection").
//
// Threads: append() from one thread at a time (the session's sequencer). A background thread
// runs for Durability::fsync with background_sync (the sync thread: one fdatasync covers
// every batch written since the previous one, and a failed one is retried) and for
// Durability::none (the idle flush).
// Every field below is guarded by the state's publish mutex unless its comment says otherwise.
//
// Failure rules (docs/store.md "Faults and fault injection"):
//  * A batch whose write (or, inline fsync, whose fdatasync) fails is undone: the segment is
//    truncated back to where the batch began, segments it created are removed, its index
//    entries are forgotten; written() does not move. The writer stays usable.
//  * If that truncate fails too, the writer zeroes the batch's first frame header (so a
//    reopen sees a torn tail there) and refuses every later append (sticky failure).
//  * A failed background fdatasync: the page cache may have lost the unsynced bytes, so the
//    writer keeps its own copy of them (`unsynced_`); appends are refused (transient failure)
//    while the sync thread rewrites that copy in place and syncs again, with back-off, until
//    one succeeds. Nothing is published before it does (INV-2).
//
// Descriptors (docs/store.md "Descriptors"): the writer holds its segment file open only while
// it needs it. start() opens nothing; append() opens the current segment when it is closed;
// release_idle() (the sequencer pool's idle release) closes it and unmaps the commit mark;
// and a writer of a store whose FileBudget is over its cap closes its file after each append,
// background flush or group commit. A file is closed only when nothing waits to be written or
// synced through it (release_file_locked), so file_ is open whenever pending_size_ > 0 or the
// accepted records run ahead of what is synced.
#pragma once
#include "detail/cursor_file.hpp"
#include "detail/log_commit_mark.hpp"
#include "detail/log_file.hpp"
#include "detail/log_file_budget.hpp"
#include "detail/log_lock.hpp"
#include "detail/log_state.hpp"

#include <sessionring/append_batch.hpp>
#include <sessionring/durability.hpp>
#include <sessionring/fault_injector.hpp>
#include <sessionring/retention_policy.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace sessionring::detail {

class LogWriter final : public TailFlusher {
 public:
  struct Config {
    Durability durability = Durability::buffered;
    std::uint64_t segment_bytes = 64ull << 20;
    std::uint32_t buffer_bytes = 256u << 10;
    std::chrono::milliseconds flush_interval{20};
    std::chrono::milliseconds flusher_idle_exit{1000};  // the background thread exits after this long idle
    bool background_sync = true;
    std::shared_ptr<FaultInjector> faults;  // consulted by every file operation; null: none
    RetentionPolicy retention;              // this session's (docs/store.md "Retention")
    std::shared_ptr<FileBudget> budget;     // the store's open segment files; null: no cap
    std::shared_ptr<CursorFile> cursors;    // the session's CURSORS (retention keep_cursor_positions)
  };

  /// Bytes written but not yet covered by a background fdatasync that the writer keeps a copy
  /// of; an append that would pass it waits for the sync thread first.
  static constexpr std::size_t kMaxUnsyncedBytes = std::size_t{64} << 20;

  /// `state` holds the recovered log (its last segment, if any, is where appends continue);
  /// `lock` is the session's writer lock. Attaches to the state; the background thread (none,
  /// background fsync) starts at the first append that needs it and exits after
  /// `flusher_idle_exit` with nothing to do (docs/store.md "Threads").
  static Result<std::unique_ptr<LogWriter>> start(std::shared_ptr<LogState> state, Config config, WriterLock lock);

  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;
  ~LogWriter() override;

  /// The whole batch or nothing (an I/O error undoes what was written). SessionLog contract.
  Status append(const AppendBatch& batch);
  /// Highest sequence accepted by append(). Writer thread (any thread: it is atomic).
  Sequence written() const noexcept { return written_.load(std::memory_order_relaxed); }
  /// Hands everything to the OS, syncs (fsync), publishes, stops the background thread and
  /// detaches from the state. Idempotent. With a background fdatasync still failing it tries
  /// once more, and otherwise cuts the never-secured records off the segment.
  Status close();
  /// The session's owner (the sequencer's thread), no append in flight: hands what is pending
  /// to the OS (none), then closes the segment file and unmaps the commit mark if nothing
  /// needs them now; the next append reopens both. noexcept: a failure keeps them open.
  void release_idle() noexcept;
  /// Whether the writer holds its segment file open now (tests, statistics).
  bool holds_file() const;

  Status flush_locked() override;

 private:
  LogWriter(std::shared_ptr<LogState> state, Config config, WriterLock lock);

  /// What to restore when a batch fails part-way.
  struct Undo {
    std::shared_ptr<Segment> segment;
    std::shared_ptr<File> file;
    std::uint64_t file_end = 0;
    std::size_t pending = 0;
    Sequence last = 0;   // pending_last_
    Sequence on_os = 0;
  };
  Undo capture() const;
  Status write_pending_locked();
  Status roll_locked(Sequence first, std::unique_lock<std::mutex>& lock);
  /// Restores the state captured before the batch (see the failure rules above).
  void undo_locked(const Undo& u, const Error& cause);
  /// Cuts `file` back to `size` after a failed write; if that fails, zeroes the frame header at
  /// `size` (a torn tail for the next open) and fails the state for good. Returns the result.
  Status cut_locked(const File& file, std::uint64_t size, const Error& cause);
  /// fsync + background: rewrites unsynced_ in place (it may have been lost with the page
  /// cache after a failed fdatasync).
  Status rewrite_unsynced_locked();
  void sync_failed_locked(const Error& e);
  void append_frame(std::span<const std::byte> record, Sequence seq);
  /// Stores the commit mark (what can no longer be undone: fsync synced_, else the accepted
  /// records on the OS) for followers in other processes. After every step that moves it.
  void mark_locked() noexcept;
  /// Creates <session>/COMMIT before the session's first append (storage_error if it cannot).
  Status ensure_mark_locked();
  /// Retention, when `secured` is secured (just before it is published, so that a reader woken
  /// by the publication also sees the new first sequence): removes the whole segments the
  /// policy no longer keeps, holding records up to `secured` only, and writes <session>/FIRST
  /// before any file goes.
  void retain_locked(Sequence secured);
  Status append_locked(const AppendBatch& batch, std::unique_lock<std::mutex>& lock);
  /// Opens the current segment's file if it was closed (release_idle, the budget).
  Status ensure_file_locked();
  /// Closes the segment file if nothing needs it now (see the header comment); true if closed.
  bool release_file_locked() noexcept;
  /// Keeps the budget's count in step with file_, then closes the file if the store is over its cap.
  void shed_if_over_locked() noexcept;
  void count_file_locked() noexcept;
  /// The value the commit mark holds (see mark_locked).
  Sequence mark_value_locked() const noexcept;
  void background_loop();
  void sync_loop(std::unique_lock<std::mutex>& lock);
  /// Wakes the background thread, starting it if it exited idle (or never ran). storage_error
  /// if the thread cannot be created: the caller fails its batch (nothing stored).
  Status wake_background_locked();

  std::shared_ptr<LogState> state_;
  const Config cfg_;
  const bool keep_unsynced_;  // fsync + background_sync: unsynced_ is kept
  WriterLock lock_;  // held for the writer's life (writer_conflict for anyone else)
  CommitMark mark_;  // <session>/COMMIT: followers in other processes read no further

  std::shared_ptr<Segment> segment_;  // current segment; null until the first append of an empty log
  std::shared_ptr<File> file_;        // its file, read-write (shared with the sync thread)
  std::uint64_t file_end_ = 0;        // bytes of the current segment handed to the OS
  std::unique_ptr<std::byte[]> pending_;  // frames built but not yet written
  std::size_t pending_size_ = 0;
  std::size_t pending_cap_ = 0;
  Sequence pending_last_ = 0;         // last sequence in pending_
  Sequence on_os_ = 0;                // last sequence handed to the OS
  Sequence synced_ = 0;               // last sequence made durable by fdatasync (fsync)
  std::vector<std::byte> unsynced_;   // keep_unsynced_: copy of the current segment's bytes [synced_end_, file_end_)
  std::uint64_t synced_end_ = 0;      // keep_unsynced_: current segment bytes covered by a completed fdatasync
  bool sync_retrying_ = false;        // keep_unsynced_: the last fdatasync failed; the sync thread retries
  bool syncing_ = false;              // the sync thread is inside fdatasync (without the mutex)
  std::size_t batch_created_ = 0;     // during append: segments this batch created
  bool rolled_old_ = false;           // during append: a roll wrote the batch's start into the previous segment
  bool synced_old_ = false;           // ... and synced that segment
  std::chrono::steady_clock::time_point pending_since_{};  // none: oldest unflushed append
  bool appending_ = false;            // append() is running (a roll may release the mutex meanwhile)
  std::chrono::steady_clock::time_point next_age_check_{};  // retention: max_age checked at most once a second
  bool stop_ = false;
  bool closed_ = false;
  const bool needs_thread_;           // none, or fsync + background_sync: a background thread does the flushing
  bool running_ = false;              // background_ is live and has not decided to exit (under the mutex)
  bool counted_ = false;              // file_ is counted in cfg_.budget
  std::condition_variable cv_;  // with the publish mutex: wakes the background thread and appends waiting for it
  std::thread background_;      // joined by the next start (it left the mutex for good) or by close()
  // Writer: append (relaxed: only the writer thread relies on it, and it wrote it);
  // readers: written_sequence() as an approximate value.
  std::atomic<Sequence> written_{0};
};

}  // namespace sessionring::detail
