// LogWriter: the append path of one session's log — framing, segment rolls, durability
// (none / buffered / fsync with group commit), undo of a failed batch — publishing into a
// LogState (docs/store.md "Append" and "Durability").
//
// Threads: append() from one thread at a time (the session's sequencer). A background thread
// runs for Durability::fsync with background_sync (the sync thread: one fdatasync covers
// every batch written since the previous one) and for Durability::none (the idle flush).
// Every field below is guarded by the state's publish mutex unless its comment says otherwise.
#pragma once
#include "detail/log_file.hpp"
#include "detail/log_lock.hpp"
#include "detail/log_state.hpp"

#include <sessionring/append_batch.hpp>
#include <sessionring/durability.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
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
    bool background_sync = true;
  };

  /// `state` holds the recovered log (its last segment, if any, is where appends continue);
  /// `lock` is the session's writer lock. Attaches to the state and starts the background thread.
  static Result<std::unique_ptr<LogWriter>> start(std::shared_ptr<LogState> state, Config config, WriterLock lock);

  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;
  ~LogWriter() override;

  /// The whole batch or nothing (an I/O error undoes what was written). SessionLog contract.
  Status append(const AppendBatch& batch);
  /// Highest sequence accepted by append(). Writer thread (any thread: it is atomic).
  Sequence written() const noexcept { return written_.load(std::memory_order_relaxed); }
  /// Hands everything to the OS, syncs (fsync), publishes, stops the background thread and
  /// detaches from the state. Idempotent.
  Status close();

  Status flush_locked() override;

 private:
  LogWriter(std::shared_ptr<LogState> state, Config config, WriterLock lock);

  /// What to restore when a batch fails part-way.
  struct Undo {
    std::shared_ptr<Segment> segment;
    std::shared_ptr<File> file;
    std::uint64_t file_end = 0;
    std::size_t pending = 0;
    Sequence last = 0;
    std::size_t created = 0;  // segments created by this batch
  };
  Status write_pending_locked();
  Status roll_locked(Sequence first, std::size_t& created);
  void undo_locked(const Undo& u);
  void append_frame(std::span<const std::byte> record, Sequence seq);
  void background_loop();

  std::shared_ptr<LogState> state_;
  const Config cfg_;
  WriterLock lock_;  // held for the writer's life (writer_conflict for anyone else)

  std::shared_ptr<Segment> segment_;  // current segment; null until the first append of an empty log
  std::shared_ptr<File> file_;        // its file, read-write (shared with the sync thread)
  std::uint64_t file_end_ = 0;        // bytes of the current segment handed to the OS
  std::unique_ptr<std::byte[]> pending_;  // frames built but not yet written
  std::size_t pending_size_ = 0;
  std::size_t pending_cap_ = 0;
  Sequence pending_last_ = 0;         // last sequence in pending_
  Sequence on_os_ = 0;                // last sequence handed to the OS
  Sequence synced_ = 0;               // last sequence made durable by fdatasync (fsync)
  std::chrono::steady_clock::time_point pending_since_{};  // none: oldest unflushed append
  bool stop_ = false;
  bool closed_ = false;
  std::condition_variable cv_;  // wakes the background thread (with the publish mutex)
  std::thread background_;
  // Writer: append (relaxed: only the writer thread relies on it, and it wrote it);
  // readers: written_sequence() as an approximate value.
  std::atomic<Sequence> written_{0};
};

}  // namespace sessionring::detail
