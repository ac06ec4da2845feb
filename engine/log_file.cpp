// File and directory helpers of the log store.
#include "detail/log_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sessionring::detail {

std::string errno_text(int e) {
  char buf[256];
  // GNU strerror_r returns the message (possibly not in buf).
  const char* msg = strerror_r(e, buf, sizeof buf);
  return std::string(msg) + " (errno " + std::to_string(e) + ")";
}

Error io_error(const std::string& what, const std::string& path, int e) {
  return Error(Errc::storage_error, what + " '" + path + "': " + errno_text(e));
}

Error injected_io_error(const std::string& what, const std::string& path, int e) {
  std::string text = errno_text(e);
  text.insert(text.size() - 1, ", injected by FaultInjector");  // inside the "(errno N)" parenthesis
  return Error(Errc::storage_error, what + " '" + path + "': " + text);
}

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    faults_ = o.faults_;
    o.fd_ = -1;
  }
  return *this;
}

void File::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<File> File::open(const std::string& path, int flags, unsigned mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode));
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) return Error(Errc::not_found, "cannot open '" + path + "': " + errno_text(e));
    return io_error("cannot open", path, e);
  }
  return File(fd, path);
}

Result<std::size_t> File::read_at(void* buf, std::size_t n, std::uint64_t offset) const {
  if (faults_ != nullptr) [[unlikely]] {
    if (const auto d = faults_->before(FileOp::read); d.error != 0) return injected_io_error("cannot read", path_, d.error);
  }
  std::size_t done = 0;
  auto* p = static_cast<char*>(buf);
  while (done < n) {
    const ssize_t r = ::pread(fd_, p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot read", path_, errno);
    }
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  return done;
}

Status File::write(const void* buf, std::size_t n, std::uint64_t offset, std::size_t new_bytes) const {
  std::size_t limit = n;
  int injected = 0;
  if (faults_ != nullptr) [[unlikely]] {
    const auto d = faults_->before(FileOp::write, new_bytes);
    if (d.error != 0) {
      injected = d.error;
      limit = std::min(n, d.allowed);  // a short write: this much reaches the file, then the error
    }
  }
  std::size_t done = 0;
  const auto* p = static_cast<const char*>(buf);
  while (done < limit) {
    const ssize_t r = ::pwrite(fd_, p + done, limit - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return io_error("cannot write", path_, errno);
    }
    done += static_cast<std::size_t>(r);
  }
  if (injected != 0) return injected_io_error("cannot write", path_, injected);
  return {};
}

Status File::datasync() const {
  if (faults_ != nullptr) [[unlikely]] {
    // Delays (a slow fsync) happen inside before(). An injected failure skips the real call:
    // what reached the disk is then unknown, as after a real failed fdatasync.
    if (const auto d = faults_->before(FileOp::sync); d.error != 0)
      return injected_io_error("fdatasync failed on", path_, d.error);
  }
  if (::fdatasync(fd_) != 0) return io_error("fdatasync failed on", path_, errno);
  return {};
}

Status File::truncate(std::uint64_t size) const {
  if (faults_ != nullptr) [[unlikely]] {
    if (const auto d = faults_->before(FileOp::truncate); d.error != 0)
      return injected_io_error("cannot truncate", path_, d.error);
  }
  int r;
  do {
    r = ::ftruncate(fd_, static_cast<off_t>(size));
  } while (r != 0 && errno == EINTR);
  if (r != 0) return io_error("cannot truncate", path_, errno);
  return {};
}

Result<std::uint64_t> File::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return io_error("cannot stat", path_, errno);
  return static_cast<std::uint64_t>(st.st_size);
}

Status sync_directory(const std::string& dir) {
  auto f = File::open(dir, O_RDONLY | O_DIRECTORY);
  if (!f) return f.error();
  if (::fsync(f->fd()) != 0) return io_error("fsync failed on directory", dir, errno);
  return {};
}

}  // namespace sessionring::detail
