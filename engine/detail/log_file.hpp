// File: an owned file descriptor with the positional I/O the log store needs. Every failure
// is Errc::storage_error naming the operation, the path and the OS reason (errno text);
// opening a missing file is Errc::not_found. Not thread-safe itself; pread/pwrite on one File
// from several threads are fine (positional, no shared offset).
// With a FaultInjector attached (LogStoreOptions::fault_injector) read_at, write_at, datasync
// and truncate consult it first and may fail (a write may first write part of its buffer: a
// genuine short write); without one they cost one pointer check more.
#pragma once
#include <sessionring/fault_injector.hpp>
#include <sessionring/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sessionring::detail {

class File {
 public:
  File() = default;
  File(int fd, std::string path) noexcept : fd_(fd), path_(std::move(path)) {}
  File(File&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)), faults_(o.faults_) { o.fd_ = -1; }
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
  /// Operations consult `faults` (may be null: none) from now on. The injector must outlive
  /// the File (LogState and LogWriter keep it alive through their config).
  void set_fault_injector(FaultInjector* faults) noexcept { faults_ = faults; }

  /// Reads up to n bytes at `offset`, fewer only at end of file. Returns the count.
  Result<std::size_t> read_at(void* buf, std::size_t n, std::uint64_t offset) const;
  /// Writes all n bytes at `offset` (retries short writes). On an error some prefix of the
  /// bytes may have reached the file.
  Status write_at(const void* buf, std::size_t n, std::uint64_t offset) const { return write(buf, n, offset, n); }
  /// Rewrites n bytes the file already holds at `offset` (needs no new space): as write_at,
  /// but a FaultInjector's "disk full" rule (fail_writes_after) lets it through; its other
  /// write faults apply.
  Status overwrite_at(const void* buf, std::size_t n, std::uint64_t offset) const { return write(buf, n, offset, 0); }
  Status datasync() const;
  Status truncate(std::uint64_t size) const;
  Result<std::uint64_t> size() const;

 private:
  /// `new_bytes`: how many bytes of new space the write takes (the injector's disk-full budget).
  Status write(const void* buf, std::size_t n, std::uint64_t offset, std::size_t new_bytes) const;

  int fd_ = -1;
  std::string path_;
  FaultInjector* faults_ = nullptr;  // not owned; null: no fault injection
};

/// "No space left on device (errno 28)"
std::string errno_text(int e);
/// Errc::storage_error: "<what> '<path>': <errno text>".
Error io_error(const std::string& what, const std::string& path, int e);
/// As io_error, marked as injected by a FaultInjector ("..., injected by FaultInjector").
Error injected_io_error(const std::string& what, const std::string& path, int e);
/// fsync of a directory, making created/removed entries durable.
Status sync_directory(const std::string& dir);

}  // namespace sessionring::detail
