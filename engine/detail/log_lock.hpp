// WriterLock: the exclusive writer role of one session across processes, held until
// destruction: one byte of its store's LockTable (an OFD lock on one of <root>/LOCKS.xx, see
// detail/log_lock_table.hpp). Holding one costs no descriptor of its own: every session of
// the store shares the table's 64 files. A second holder — another process, another LogStore on the
// root, or another open through the same store — gets Errc::writer_conflict.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace sessionring::detail {

class LockTable;

class WriterLock {
 public:
  WriterLock() = default;
  WriterLock(WriterLock&& o) noexcept = default;
  WriterLock& operator=(WriterLock&& o) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock() { release(); }

  bool held() const noexcept { return table_ != nullptr; }
  /// Gives the lock back (idempotent).
  void release() noexcept;

 private:
  friend class LockTable;
  WriterLock(std::shared_ptr<LockTable> table, std::uint64_t offset, std::string session_id) noexcept
      : table_(std::move(table)), offset_(offset), session_id_(std::move(session_id)) {}

  std::shared_ptr<LockTable> table_;  // null: not held
  std::uint64_t offset_ = 0;
  std::string session_id_;
};

}  // namespace sessionring::detail
