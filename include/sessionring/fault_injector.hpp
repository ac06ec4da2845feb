// FaultInjector: decides, per file operation of a store, whether it fails (with an errno of
// your choice), writes only part of its buffer (a disk that fills up), or is delayed (a slow
// fsync). For chaos tests of sessionring and of your own host: hand one to
// LogStoreOptions::fault_injector (every write, fdatasync, pread and truncate of the log's
// writer and readers consults it), or wrap any store in a FaultInjectingStore (append and read
// consult it). docs/store.md "Faults and fault injection".
//
// Threads: every member function from any thread, at any time, also while a store is using it.
// A configuration change applies to the operations that start after it returns.
#pragma once
#include <sessionring/result.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

namespace sessionring {

/// The file operations a FaultInjector can fail or delay.
enum class FileOp : std::uint8_t {
  write,     ///< pwrite of records or a segment header (LogStore); append (FaultInjectingStore)
  sync,      ///< fdatasync (LogStore); append, after the write decision (FaultInjectingStore)
  read,      ///< pread (LogStore readers); read and find_by_id (FaultInjectingStore)
  truncate,  ///< ftruncate that undoes a failed batch (LogStore writer)
};
inline constexpr std::size_t kFileOpCount = 4;

class FaultInjector {
 public:
  /// What a store must do with one operation: `error` 0 = go ahead with all bytes; otherwise
  /// do only the first `allowed` bytes (writes; 0 for other operations), then fail with `error`.
  struct Decision {
    int error = 0;
    std::size_t allowed = 0;
  };

  static std::shared_ptr<FaultInjector> create() { return std::make_shared<FaultInjector>(); }
  FaultInjector() = default;
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  // ---- configuration (any thread). Errc::validation_error for an `op` that is not a FileOp,
  // an `error` outside [1, 4095], a `count` of 0, a delay outside [0, 1 h]. ----

  /// Every `op` fails with `error` (EIO, ENOSPC, ...) until heal(op).
  Status fail(FileOp op, int error);
  /// The next `count` operations `op` fail with `error`; later ones succeed again.
  Status fail_next(FileOp op, std::uint64_t count, int error);
  /// Disk full after `bytes` more bytes: writes go through while they fit; the write that
  /// crosses the limit writes its first part to the file and then fails with `error` (a
  /// genuine short write); every later write fails, until heal(FileOp::write).
  Status fail_writes_after(std::uint64_t bytes, int error);
  /// Every `op` sleeps `delay` before it runs (FileOp::sync: a slow fsync). 0 = no delay.
  Status delay(FileOp op, std::chrono::nanoseconds delay);
  /// `op` no longer fails (its delay stays).
  Status heal(FileOp op);
  /// Nothing fails or is delayed any more.
  void heal_all() noexcept;

  // ---- counters (any thread) ----

  /// Operations `op` this injector failed (a short write counts once); 0 for an invalid op.
  std::uint64_t injected(FileOp op) const noexcept;
  /// Failures injected over all operations.
  std::uint64_t injected_total() const noexcept;
  /// Operations `op` this injector delayed.
  std::uint64_t delayed(FileOp op) const noexcept;

  // ---- the store's side (any thread): one call per operation, just before it runs ----

  /// Sleeps the configured delay of `op`, then decides. `bytes`: what the operation would
  /// write (FileOp::write), else ignored. Costs one relaxed load when `op` is not configured.
  Decision before(FileOp op, std::size_t bytes = 0) noexcept;

 private:
  enum class Mode : std::uint8_t { off, all, next, after_bytes };
  struct Rule {
    Mode mode = Mode::off;
    int error = 0;
    std::uint64_t budget = 0;  // next: failures left; after_bytes: bytes that still fit
    std::int64_t delay_ns = 0;
  };
  void rearm_locked(std::size_t op) noexcept;

  mutable std::mutex mutex_;                  // guards rules_; held for decisions, never while sleeping
  std::array<Rule, kFileOpCount> rules_{};    // guarded by mutex_
  // Bit i set: rules_[i] fails or delays something. Writer: configuration calls (relaxed, under
  // mutex_: before() re-reads the rule under mutex_, so the bit is only a fast "nothing to do"
  // filter and publishes no data). Reader: before() (relaxed).
  std::atomic<std::uint32_t> armed_{0};
  // Per operation: failures injected / operations delayed. Writer: before() (relaxed fetch_add:
  // counters only); readers: injected() / delayed() (relaxed: statistics).
  std::array<std::atomic<std::uint64_t>, kFileOpCount> injected_{};  // failures injected, per operation
  std::array<std::atomic<std::uint64_t>, kFileOpCount> delayed_{};   // operations delayed, per operation
};

}  // namespace sessionring
