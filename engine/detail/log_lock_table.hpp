// LockTable: the writer locks of every session of one LogStore, held through one descriptor:
// the store's <root>/LOCKS file, created empty by a writable LogStore::open and never written.
// A session's writer lock is an OFD byte-range write lock (fcntl F_OFD_SETLK, Linux >= 3.15)
// on one byte of that file, at lock_offset(id): XXH3-64 of the session id (seed 0, stable
// across xxHash versions since 0.8) shifted right by 2, so a byte in [0, 2^62). 10,000
// sessions open for writing hold one descriptor, not 10,000 (docs/store.md "Writer lock").
//
// OFD locks belong to the open file description, as flock did: another process or another
// LockTable (another LogStore on the same root, in this process too) that holds the byte makes
// acquire() answer Errc::writer_conflict, and the kernel drops every byte when the last
// descriptor of the description closes (a killed writer never blocks the next one). Within one
// table the kernel cannot tell two holders apart, so the table keeps its own map: a second
// acquire of a held id is writer_conflict; two different ids whose bytes collide share the
// byte (reference-counted, unlocked when the last of them releases), so a collision inside one
// process never refuses anyone. Across tables a collision is indistinguishable from a real
// writer (the kernel says "held", not by whom): the error message says so. Its probability for
// one open is k / 2^62 with k bytes held by others (k = 10,000: 2.2e-15).
//
// A session directory of the previous layout may hold <root>/<id>/LOCK (flock). acquire()
// probes it when it exists (flock LOCK_EX | LOCK_NB, then closed at once): an older build
// writing the session gets writer_conflict; nothing else uses the file.
//
// Threads: any; every member takes the table's mutex (acquire and release are rare: session
// open and close).
#pragma once
#include "detail/log_file.hpp"

#include <sessionring/result.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace sessionring::detail {

class WriterLock;

class LockTable : public std::enable_shared_from_this<LockTable> {
 public:
  static constexpr std::string_view kFileName = "LOCKS";
  /// Bits of the lock offset: bytes [0, 2^kOffsetBits) of the LOCKS file.
  static constexpr int kOffsetBits = 62;

  /// Opens (creating it if missing) <root>/LOCKS read-write. `offset_bits` < kOffsetBits only
  /// in tests (to make collisions certain).
  static Result<std::shared_ptr<LockTable>> open(const std::string& root, int offset_bits = kOffsetBits);
  /// The byte of `session_id`'s lock.
  static std::uint64_t lock_offset(std::string_view session_id, int offset_bits = kOffsetBits) noexcept;

  /// The writer lock of `session_id` (whose directory is `session_dir`), or
  /// Errc::writer_conflict (another holder), Errc::storage_error (the OS refused).
  Result<WriterLock> acquire(std::string_view session_id, const std::string& session_dir);

  /// Whether a writer holds `session_id`'s lock: this table's writers, another table's or
  /// another process's (F_OFD_GETLK: takes no lock, so it never makes a starting writer fail).
  Result<bool> held(std::string_view session_id) const;
  /// As held(), for a store this process does not lock (read-only): probes <root>/LOCKS if it
  /// exists (false when it does not: no writer of this layout ever ran).
  static Result<bool> held_by_anyone(const std::string& root, std::string_view session_id);

  const std::string& path() const noexcept { return file_.path(); }

 private:
  friend class WriterLock;
  LockTable(File file, int offset_bits) noexcept : file_(std::move(file)), offset_bits_(offset_bits) {}
  /// Called by ~WriterLock.
  void release(std::uint64_t offset, const std::string& session_id) noexcept;

  const File file_;  // <root>/LOCKS, read-write; every lock of this table is on its description
  const int offset_bits_;
  mutable std::mutex mutex_;  // guards holders_ and orders the fcntl calls of one byte
  // Byte -> ids holding it in this table (more than one only after a hash collision).
  std::map<std::uint64_t, std::set<std::string, std::less<>>> holders_;
};

}  // namespace sessionring::detail
