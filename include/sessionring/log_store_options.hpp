// Options of a LogStore (the embedded durable log). LogStore::open validates every field and
// answers Errc::validation_error naming the option. docs/store.md explains each.
#pragma once
#include <sessionring/durability.hpp>
#include <sessionring/fault_injector.hpp>
#include <sessionring/result.hpp>
#include <sessionring/retention_policy.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace sessionring {

struct LogStoreOptions {
  std::filesystem::path root;                  ///< required; created (with parents) if missing, unless read_only
  /// Read-only open (tools that only look: `sessionring tail/sessions/verify`): the root must
  /// already be a store (its SESSIONRING marker, docs/store.md "Layout"); nothing is created,
  /// locked or written (no root, no marker, no LOCKS file, no recovery truncation), so it works on
  /// a store the process cannot write. OpenMode::write is then refused (validation_error).
  bool read_only = false;
  Durability durability = Durability::buffered;
  std::uint64_t segment_bytes = 64ull << 20;   ///< roll a segment at this size; [4096, 2^40]
  std::uint32_t index_every_records = 4096;    ///< sparse index: one entry per this many records ... [1, 2^24]
  std::uint32_t index_every_bytes = 64u << 10; ///< ... or per this many bytes, whichever first; [512, 2^30]
  std::uint32_t read_chunk_bytes = 1u << 20;   ///< largest pread of a sequential read; [4096, 2^30]
  /// Segment files the store's writers keep open between appends; a writer over it closes its
  /// file after each append and reopens it at the next (docs/store.md "Descriptors"); [1, 2^20]
  std::uint32_t max_open_writer_files = 256;
  /// fsync only: true = group commit on a sync thread (append() returns after write(),
  /// latest_sequence() advances when the fdatasync completes: pipelined); false = append()
  /// calls fdatasync itself before returning.
  bool background_sync = true;
  std::uint32_t buffer_bytes = 256u << 10;     ///< none only: user-space buffer handed to the OS when this full; [4096, 2^30]
  std::chrono::milliseconds flush_interval{20};///< none only: longest time an append stays in user space; [1 ms, 1 h]
  /// none, and fsync with background_sync: the session's flush (none) or sync (fsync) thread
  /// exits after this long with nothing to flush or sync, and the next append starts it again:
  /// an idle open session holds no thread (docs/store.md "Threads"); [1 ms, 1 h]
  std::chrono::milliseconds flusher_idle_exit{1000};
  std::chrono::milliseconds poll_interval{10}; ///< read handles with no writer in this process: wait_for() re-checks the files this often; [1 ms, 1 min]
  /// When the last segment holds damage followed by records that prove it was secured, a writer
  /// open fails with Errc::damaged_store; true truncates the segment at the damage instead
  /// (the records after it are lost). Torn tails left by a crash are always truncated.
  bool repair_damaged_tail = false;
  /// Chaos testing: every write, fdatasync, pread and truncate of the sessions' writers and
  /// readers consults it (docs/store.md "Faults and fault injection"). Null (default): none,
  /// at the cost of one pointer check per file operation. Opening a session (its recovery scan)
  /// does not consult it.
  std::shared_ptr<FaultInjector> fault_injector;
  /// Store-wide default retention (default: keep everything), applied by each session's writer
  /// after each secured batch: whole segment files are removed from the front and the first
  /// available sequence is kept in <session>/FIRST (docs/store.md "Retention").
  RetentionPolicy retention;
  /// Per-session retention, replacing `retention` for the sessions named (valid session ids).
  std::map<std::string, RetentionPolicy, std::less<>> session_retention;
};

/// Checks every field; Errc::validation_error naming the first bad option.
Status validate(const LogStoreOptions& options);

}  // namespace sessionring
