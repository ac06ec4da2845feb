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

/// As probe(), on a lock file this table does not hold open: false when it does not exist (no
/// writer ever locked a session of that file). The probe's own description is closed at once:
/// it held no lock, so closing it drops nobody's.
Result<bool> probe_file(const std::string& path, std::uint64_t offset) {
  auto f = File::open(path, O_RDONLY);
  if (!f) return f.code() == Errc::not_found ? Result<bool>(false) : Result<bool>(f.error());
  return probe(*f, offset);
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

LockTable::Slot LockTable::lock_slot(std::string_view session_id, int offset_bits) noexcept {
  const std::uint64_t h = XXH3_64bits(session_id.data(), session_id.size());
  return Slot{offset_bits < kOffsetBits ? 0u : static_cast<unsigned>(h & (kFiles - 1)), h >> (64 - offset_bits)};
}

std::string LockTable::file_path(const std::string& root, unsigned file) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string(root).append("/").append(kFilePrefix).append(1, kHex[(file >> 4) & 15]).append(1, kHex[file & 15]);
}

Result<std::shared_ptr<LockTable>> LockTable::open(const std::string& root, int offset_bits) {
  return std::shared_ptr<LockTable>(new LockTable(root, offset_bits));
}

Result<const File*> LockTable::file_locked(unsigned n) {
  if (!files_[n]) {
    auto f = File::open(file_path(root_, n), O_RDWR | O_CREAT, 0644);
    if (!f) return f.error();
    files_[n] = std::make_unique<File>(std::move(*f));
  }
  return files_[n].get();
}

std::size_t LockTable::open_files() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& f : files_) n += f ? 1 : 0;
  return n;
}

Result<WriterLock> LockTable::acquire(std::string_view session_id, const std::string& session_dir) {
  const Slot slot = lock_slot(session_id, offset_bits_);
  std::lock_guard lock(mutex_);
  auto it = holders_.find(slot);
  if (it != holders_.end() && it->second.count(session_id) != 0)
    return Error(Errc::writer_conflict, "session '" + std::string(session_id) +
                                            "' already has a writer in this process (lock on '" +
                                            file_path(root_, slot.file) + "')");
  auto file = file_locked(slot.file);
  if (!file) return file.error();
  const File& f = **file;
  if (it == holders_.end()) {
    struct flock fl = one_byte(F_WRLCK, slot.offset);
    if (ofd_fcntl(f.fd(), F_OFD_SETLK, fl) != 0) {
      const int e = errno;
      if (e == EAGAIN || e == EACCES)
        return Error(Errc::writer_conflict,
                     "session '" + std::string(session_id) + "' already has a writer (lock byte " +
                         std::to_string(slot.offset) + " of '" + f.path() +
                         "' is held by another process or another LogStore on this root; "
                         "unless the holder writes a different session whose id hashes to the same byte, "
                         "probability k/2^64 for k sessions written elsewhere: docs/store.md \"Writer lock\")");
      if (e == EINVAL) return io_error("cannot lock (needs OFD locks, Linux 3.15 or later)", f.path(), e);
      return io_error("cannot lock", f.path(), e);
    }
  }
  // Held now (or shared with a colliding id of this table): an older build's lock last.
  if (Status st = probe_legacy_lock(session_dir, session_id); !st) {
    if (it == holders_.end()) {
      struct flock fl = one_byte(F_UNLCK, slot.offset);
      (void)ofd_fcntl(f.fd(), F_OFD_SETLK, fl);
    }
    return st.error();
  }
  holders_[slot].emplace(session_id);
  return WriterLock(shared_from_this(), slot.offset, std::string(session_id));
}

void LockTable::release(std::uint64_t offset, const std::string& session_id) noexcept {
  const Slot slot{lock_slot(session_id, offset_bits_).file, offset};
  std::lock_guard lock(mutex_);
  auto it = holders_.find(slot);
  if (it == holders_.end()) return;
  it->second.erase(session_id);
  if (!it->second.empty()) return;  // a colliding id of this table still holds the byte
  holders_.erase(it);
  struct flock fl = one_byte(F_UNLCK, offset);
  (void)ofd_fcntl(files_[slot.file]->fd(), F_OFD_SETLK, fl);  // cannot fail for a lock we hold (EBADF aside)
}

Result<bool> LockTable::held(std::string_view session_id) const {
  const Slot slot = lock_slot(session_id, offset_bits_);
  std::lock_guard lock(mutex_);
  if (auto it = holders_.find(slot); it != holders_.end()) {
    if (it->second.count(session_id) != 0) return true;
    return false;  // a colliding id of ours holds the byte: nobody else can hold it
  }
  if (files_[slot.file]) return probe(*files_[slot.file], slot.offset);
  return probe_file(file_path(root_, slot.file), slot.offset);
}

Result<bool> LockTable::held_by_anyone(const std::string& root, std::string_view session_id) {
  const Slot slot = lock_slot(session_id);
  return probe_file(file_path(root, slot.file), slot.offset);
}

}  // namespace sessionring::detail
