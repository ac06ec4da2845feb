// CommitMark: the writer's "cannot be undone any more" sequence, shared with followers in
// other processes (engine/detail/log_commit_mark.hpp, docs/store.md "What a follower sees").
#include "detail/log_commit_mark.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sessionring::detail {

static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free,
              "the mark is shared between processes: it needs a lock-free 64-bit atomic");
static_assert(std::atomic_ref<std::uint64_t>::required_alignment <= 8,
              "the sequence field sits at offset 8 of a page-aligned mapping");

CommitMark::CommitMark(CommitMark&& other) noexcept
    : map_(std::exchange(other.map_, nullptr)), word_(std::exchange(other.word_, nullptr)) {}

CommitMark& CommitMark::operator=(CommitMark&& other) noexcept {
  if (this != &other) {
    if (map_ != nullptr) ::munmap(map_, kBytes);
    map_ = std::exchange(other.map_, nullptr);
    word_ = std::exchange(other.word_, nullptr);
  }
  return *this;
}

CommitMark::~CommitMark() {
  if (map_ != nullptr) ::munmap(map_, kBytes);
}

Result<CommitMark> CommitMark::create(const std::string& session_dir, Sequence initial) {
  const std::string path = session_dir + "/COMMIT";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error(Errc::storage_error, "cannot open " + path + ": " + std::strerror(errno));
  if (::ftruncate(fd, kBytes) != 0) {
    const int e = errno;
    ::close(fd);
    return Error(Errc::storage_error, "cannot size " + path + ": " + std::strerror(e));
  }
  void* p = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int e = errno;
  ::close(fd);  // the mapping keeps the file; no descriptor is held per session
  if (p == MAP_FAILED) return Error(Errc::storage_error, "cannot map " + path + ": " + std::strerror(e));
  CommitMark m;
  m.map_ = p;
  m.word_ = static_cast<std::uint64_t*>(p) + 1;
  // Sequence first, then the header: a follower that finds the header finds a sequence that
  // this writer recovered (never one past what the files hold).
  m.store(initial);
  auto* head = static_cast<std::uint32_t*>(p);
  std::atomic_ref<std::uint32_t>(head[1]).store(kVersion, std::memory_order_relaxed);  // relaxed: the magic orders it
  std::atomic_ref<std::uint32_t>(head[0]).store(kMagic, std::memory_order_release);  // (K1) as store()
  return m;
}

CommitMark CommitMark::open_existing(const std::string& session_dir) {
  CommitMark m;
  const std::string path = session_dir + "/COMMIT";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return m;
  struct stat st {};
  const bool sized = ::fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(kBytes);
  void* p = sized ? ::mmap(nullptr, kBytes, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
  ::close(fd);
  if (p == MAP_FAILED) return m;
  auto* head = static_cast<std::uint32_t*>(p);
  if (std::atomic_ref<std::uint32_t>(head[0]).load(std::memory_order_acquire) != kMagic ||  // (K2) as load()
      std::atomic_ref<std::uint32_t>(head[1]).load(std::memory_order_relaxed) != kVersion) {  // relaxed: after the magic
    ::munmap(p, kBytes);
    return m;
  }
  m.map_ = p;
  m.word_ = static_cast<std::uint64_t*>(p) + 1;
  return m;
}

void CommitMark::store(Sequence seq) noexcept {
  if (word_ != nullptr) std::atomic_ref<std::uint64_t>(*word_).store(seq, std::memory_order_release);  // (K1)
}

std::optional<Sequence> CommitMark::load() const noexcept {
  if (word_ == nullptr) return std::nullopt;
  return std::atomic_ref<std::uint64_t>(*word_).load(std::memory_order_acquire);  // (K2) pairs with (K1)
}

}  // namespace sessionring::detail
