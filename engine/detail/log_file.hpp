// File: an owned file descriptor with the positional I/O the log store needs. Every failure
// is Errc::storage_error naming the operation, the path and the OS reason (errno text);
// opening a missing file is Errc::not_found. Not thread-safe itself; pread/pwrite on one File
// from several threads are fine (positional, no shared offset).
#pragma once
#include <sessionring/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sessionring::detail {

class File {
 public:
  File() = default;
  File(int fd, std::string path) noexcept : fd_(fd), path_(std::move(path)) {}
  File(File&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  File& operator=(File&& o) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() { close(); }

  /// open(2) with O_CLOEXEC added.
  static Result<File> open(const std::string& path, int flags, unsigned mode = 0644);

  bool is_open() const noexcept { return fd_ >= 0; }
  int fd() const noexcept { return fd_; }
  const std::string& path() const noexcept { return path_; }
  void close() noexcept;

  /// Reads up to n bytes at `offset`, fewer only at end of file. Returns the count.
  Result<std::size_t> read_at(void* buf, std::size_t n, std::uint64_t offset) const;
  /// Writes all n bytes at `offset` (retries short writes).
  Status write_at(const void* buf, std::size_t n, std::uint64_t offset) const;
  Status datasync() const;
  Status truncate(std::uint64_t size) const;
  Result<std::uint64_t> size() const;

 private:
  int fd_ = -1;
  std::string path_;
};

/// "No space left on device (errno 28)"
std::string errno_text(int e);
/// Errc::storage_error: "<what> '<path>': <errno text>".
Error io_error(const std::string& what, const std::string& path, int e);
/// fsync of a directory, making created/removed entries durable.
Status sync_directory(const std::string& dir);

}  // namespace sessionring::detail
