// WriterLock: the exclusive writer role of one session across processes: flock(LOCK_EX |
// LOCK_NB) on <root>/<session>/LOCK, held until destruction (the OS drops it when the process
// dies, so a crashed writer never blocks the next one). A second holder — another process or
// another open in this one (flock locks belong to the open file description) — gets
// Errc::writer_conflict.
#pragma once
#include "detail/log_file.hpp"

#include <sessionring/result.hpp>

#include <string>

namespace sessionring::detail {

class WriterLock {
 public:
  WriterLock() = default;
  static Result<WriterLock> acquire(const std::string& session_dir, std::string_view session_id);
  bool held() const noexcept { return file_.is_open(); }

 private:
  explicit WriterLock(File f) noexcept : file_(std::move(f)) {}
  File file_;
};

}  // namespace sessionring::detail
