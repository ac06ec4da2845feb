// LockTable: the writer locks of every session of one LogStore, held through at most 64
// descriptors: the store's lock files <root>/LOCKS.00 … <root>/LOCKS.3f (two hex digits), each
// created empty by the first writer whose session falls in it and never written. A session's
// writer lock is an OFD byte-range write lock (fcntl F_OFD_SETLK, Linux >= 3.15) on one byte of
// one of them, lock_slot(id): of XXH3-64 of the session id (seed 0, stable across xxHash
// versions since 0.8), the low 6 bits name the file and the value shifted right by 2 the byte,
// in [0, 2^62). 10,000 sessions open for writing hold 64 descriptors, not 10,000
// (docs/store.md "Writer lock").
//
// Why 64 files and not one: the kernel keeps an inode's POSIX/OFD locks in one list and walks
// all of it for every lock, unlock and test. bench/lock_list_bench.cpp: with 10,000 held, a
// lock took 293 µs on one file and 6.8 µs spread over 64 (docs/store.md "Writer lock").
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
// one open is k / 2^64 with k bytes held by others (k = 10,000: 5.4e-16).
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

#include <array>
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
  static constexpr std::string_view kFilePrefix = "LOCKS.";
  /// Bits of the lock offset: bytes [0, 2^kOffsetBits) of a lock file.
  static constexpr int kOffsetBits = 62;
  static constexpr unsigned kFiles = 64;

  /// A table on `root` (no file is opened before the first acquire). `offset_bits` <
  /// kOffsetBits only in tests: every id then uses file 00, so collisions are certain.
  static Result<std::shared_ptr<LockTable>> open(const std::string& root, int offset_bits = kOffsetBits);
  /// Where `session_id`'s lock is: the lock file's number and the byte in it.
  struct Slot {
    unsigned file = 0;
    std::uint64_t offset = 0;
    friend bool operator<(const Slot& a, const Slot& b) noexcept {
      return a.file != b.file ? a.file < b.file : a.offset < b.offset;
    }
  };
  static Slot lock_slot(std::string_view session_id, int offset_bits = kOffsetBits) noexcept;
  /// The byte of `session_id`'s lock in its file.
  static std::uint64_t lock_offset(std::string_view session_id, int offset_bits = kOffsetBits) noexcept {
    return lock_slot(session_id, offset_bits).offset;
  }
  /// <root>/LOCKS.<file as two hex digits>.
  static std::string file_path(const std::string& root, unsigned file);

  /// The writer lock of `session_id` (whose directory is `session_dir`), or
  /// Errc::writer_conflict (another holder), Errc::storage_error (the OS refused).
  Result<WriterLock> acquire(std::string_view session_id, const std::string& session_dir);

  /// Whether a writer holds `session_id`'s lock: this table's writers, another table's or
  /// another process's (F_OFD_GETLK: takes no lock, so it never makes a starting writer fail).
  Result<bool> held(std::string_view session_id) const;
  /// As held(), for a store this process does not lock (read-only): probes the session's lock
  /// file if it exists (false when it does not: no writer of this layout ever locked there).
  static Result<bool> held_by_anyone(const std::string& root, std::string_view session_id);

  /// Lock files this table has open (for tests and the descriptor budget).
  std::size_t open_files() const;

 private:
  friend class WriterLock;
  LockTable(std::string root, int offset_bits) noexcept : root_(std::move(root)), offset_bits_(offset_bits) {}
  /// Called by ~WriterLock.
  void release(std::uint64_t offset, const std::string& session_id) noexcept;
  /// Under mutex_: lock file `n`, opened read-write (created if missing) on first use.
  Result<const File*> file_locked(unsigned n);

  const std::string root_;
  const int offset_bits_;
  mutable std::mutex mutex_;  // guards files_ and holders_, and orders the fcntl calls of one byte
  // Lock files opened so far, read-write; every lock of this table is on their descriptions.
  std::array<std::unique_ptr<File>, kFiles> files_;
  // Slot -> ids holding it in this table (more than one only after a hash collision).
  std::map<Slot, std::set<std::string, std::less<>>> holders_;
};

}  // namespace sessionring::detail
