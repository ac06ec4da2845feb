// LockTable and WriterLock: the writer locks of a LogStore's sessions, one descriptor per
// store (engine/detail/log_lock_table.hpp, docs/store.md "Writer lock").
#include "detail/log_lock.hpp"
#include "detail/log_lock_table.hpp"

#include <xxhash.h>

#include <cerrno>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace sessionring::detail {
namespace {

struct flock one_byte(short type, std::uint64_t offset) noexcept {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(offset);
  fl.l_len = 1;
  fl.l_pid = 0;  // required by the OFD commands
  return fl;
}

int ofd_fcntl(int fd, int cmd, struct flock& fl) noexcept {
  int r;
  do {
    r = ::fcntl(fd, cmd, &fl);
  } while (r != 0 && errno == EINTR);
  return r;
}

/// F_OFD_GETLK on `fd`: whether another open file description holds `offset`.
Result<bool> probe(const File& file, std::uint64_t offset) {
  struct flock fl = one_byte(F_WRLCK, offset);
  if (ofd_fcntl(file.fd(), F_OFD_GETLK, fl) != 0) return io_error("cannot test the writer lock on", file.path(), errno);
  return fl.l_type != F_UNLCK;
}

/// An older build's lock of the session: flock on <session_dir>/LOCK, probed and dropped.
Status probe_legacy_lock(const std::string& session_dir, std::string_view session_id) {
  const std::string path = session_dir + "/LOCK";
  auto f = File::open(path, O_RDWR);
  if (!f) return f.code() == Errc::not_found ? Status{} : Status(f.error());
  int r;
  do {
    r = ::flock(f->fd(), LOCK_EX | LOCK_NB);
  } while (r != 0 && errno == EINTR);
  if (r == 0) return {};  // closing `f` drops it
  if (errno == EWOULDBLOCK)
    return Status(Errc::writer_conflict, "session '" + std::string(session_id) +
                                             "' already has a writer (an older sessionring holds '" + path + "')");
  return io_error("cannot test the lock", path, errno);
}

}  // namespace

// ---- WriterLock ----

WriterLock& WriterLock::operator=(WriterLock&& o) noexcept {
  if (this != &o) {
    release();
    table_ = std::move(o.table_);
    offset_ = o.offset_;
    session_id_ = std::move(o.session_id_);
  }
  return *this;
}

void WriterLock::release() noexcept {
  if (table_) table_->release(offset_, session_id_);
  table_.reset();
}

// ---- LockTable ----

std::uint64_t LockTable::lock_offset(std::string_view session_id, int offset_bits) noexcept {
  return XXH3_64bits(session_id.data(), session_id.size()) >> (64 - offset_bits);
}

Result<std::shared_ptr<LockTable>> LockTable::open(const std::string& root, int offset_bits) {
  auto f = File::open(root + "/" + std::string(kFileName), O_RDWR | O_CREAT, 0644);
  if (!f) return f.error();
  return std::shared_ptr<LockTable>(new LockTable(std::move(*f), offset_bits));
}

Result<WriterLock> LockTable::acquire(std::string_view session_id, const std::string& session_dir) {
  const std::uint64_t offset = lock_offset(session_id, offset_bits_);
  std::lock_guard lock(mutex_);
  auto it = holders_.find(offset);
  if (it != holders_.end() && it->second.count(session_id) != 0)
    return Error(Errc::writer_conflict, "session '" + std::string(session_id) +
                                            "' already has a writer in this process (lock on '" + path() + "')");
  if (it == holders_.end()) {
    struct flock fl = one_byte(F_WRLCK, offset);
    if (ofd_fcntl(file_.fd(), F_OFD_SETLK, fl) != 0) {
      const int e = errno;
      if (e == EAGAIN || e == EACCES)
        return Error(Errc::writer_conflict,
                     "session '" + std::string(session_id) + "' already has a writer (lock byte " +
                         std::to_string(offset) + " of '" + path() +
                         "' is held by another process or another LogStore on this root; "
                         "unless the holder writes a different session whose id hashes to the same byte, "
                         "probability k/2^62 for k sessions written elsewhere: docs/store.md \"Writer lock\")");
      if (e == EINVAL) return io_error("cannot lock (needs OFD locks, Linux 3.15 or later)", path(), e);
      return io_error("cannot lock", path(), e);
    }
  }
  // Held now (or shared with a colliding id of this table): an older build's lock last.
  if (Status st = probe_legacy_lock(session_dir, session_id); !st) {
    if (it == holders_.end()) {
      struct flock fl = one_byte(F_UNLCK, offset);
      (void)ofd_fcntl(file_.fd(), F_OFD_SETLK, fl);
    }
    return st.error();
  }
  holders_[offset].emplace(session_id);
  return WriterLock(shared_from_this(), offset, std::string(session_id));
}

void LockTable::release(std::uint64_t offset, const std::string& session_id) noexcept {
  std::lock_guard lock(mutex_);
  auto it = holders_.find(offset);
  if (it == holders_.end()) return;
  it->second.erase(session_id);
  if (!it->second.empty()) return;  // a colliding id of this table still holds the byte
  holders_.erase(it);
  struct flock fl = one_byte(F_UNLCK, offset);
  (void)ofd_fcntl(file_.fd(), F_OFD_SETLK, fl);  // cannot fail for a lock we hold (EBADF aside)
}

Result<bool> LockTable::held(std::string_view session_id) const {
  const std::uint64_t offset = lock_offset(session_id, offset_bits_);
  std::lock_guard lock(mutex_);
  if (auto it = holders_.find(offset); it != holders_.end()) {
    if (it->second.count(session_id) != 0) return true;
    return false;  // a colliding id of ours holds the byte: nobody else can hold it
  }
  return probe(file_, offset);
}

Result<bool> LockTable::held_by_anyone(const std::string& root, std::string_view session_id) {
  auto f = File::open(root + "/" + std::string(kFileName), O_RDONLY);
  if (!f) return f.code() == Errc::not_found ? Result<bool>(false) : Result<bool>(f.error());
  return probe(*f, lock_offset(session_id));
}

}  // namespace sessionring::detail
