// CountersFile: writing one session's counters file (engine/detail/counters_file.hpp).
#include "detail/wall_clock.hpp"
#include "detail/str_cat.hpp"
#include "detail/counters_file.hpp"

#include "detail/counters_layout.hpp"

#include <sessionring/counters_reader.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sessionring::detail {

namespace cl = counters_layout;

static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free,
              "counters are shared between processes: they need lock-free 64-bit atomics");
static_assert(std::atomic_ref<std::uint64_t>::required_alignment <= 8,
              "every counter is an aligned word of a page-aligned mapping");

namespace {

using detail::str_cat;

Error os_error(const std::string& what, const std::filesystem::path& path, int err) {
  return Error(Errc::storage_error, str_cat(what, " '", path.string(), "': ", std::strerror(err)));
}

template <class T>
void put(void* base, std::size_t off, T v) noexcept {
  std::memcpy(static_cast<char*>(base) + off, &v, sizeof v);
}

}  // namespace

CountersFile::CountersFile(CountersFile&& o) noexcept
    : path_(std::move(o.path_)),
      words_(std::exchange(o.words_, nullptr)),
      round_(o.round_),
      published_(o.published_),
      dev_(o.dev_),
      ino_(o.ino_) {}

CountersFile& CountersFile::operator=(CountersFile&& o) noexcept {
  if (this != &o) {
    if (words_ != nullptr) ::munmap(words_, cl::kFileBytes);
    path_ = std::move(o.path_);
    words_ = std::exchange(o.words_, nullptr);
    round_ = o.round_;
    published_ = o.published_;
    dev_ = o.dev_;
    ino_ = o.ino_;
  }
  return *this;
}

CountersFile::~CountersFile() {
  if (words_ != nullptr) ::munmap(words_, cl::kFileBytes);
}

Result<CountersFile> CountersFile::create(const std::filesystem::path& path, std::string_view session_id,
                                          std::chrono::nanoseconds interval) {
  if (session_id.size() > cl::kSessionIdCapacity)
    return Error(Errc::validation_error, "session id is longer than a counters file holds");
  // Another writer still publishing here: refuse rather than take its file away.
  if (auto existing = CountersReader::open(path)) {
    if (auto snap = existing->read(); snap && snap->liveness == CountersLiveness::live)
      return Error(Errc::writer_conflict, str_cat("counters file '", path.string(), "' is being published by process ",
                                              std::to_string(snap->writer_pid), " (session '", snap->session_id,
                                              "'): one host per session publishes counters"));
  }
  std::filesystem::path tmp = path;
  tmp += str_cat(".tmp.", std::to_string(::getpid()));
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return os_error("cannot create counters file", tmp, errno);
  auto fail = [&](const char* what, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return os_error(what, tmp, err);
  };
  if (::ftruncate(fd, static_cast<off_t>(cl::kFileBytes)) != 0) return fail("cannot size counters file", errno);
  void* p = ::mmap(nullptr, cl::kFileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return fail("cannot map counters file", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::munmap(p, cl::kFileBytes);
    return fail("cannot stat counters file", e);
  }
  ::close(fd);  // the mapping keeps the file
  // The fixed header: plain stores into a file no reader can see yet (it has its temporary
  // name); rename() below makes it visible with these bytes in place.
  std::memcpy(p, cl::kMagic, sizeof cl::kMagic);
  put<std::uint32_t>(p, cl::kVersionOffset, cl::kFormatVersion);
  put<std::uint32_t>(p, cl::kHeaderBytesOffset, static_cast<std::uint32_t>(cl::kHeaderBytes));
  put<std::uint32_t>(p, cl::kSessionWordsOffset, cl::kSessionWords);
  put<std::uint32_t>(p, cl::kSubscriberWordsOffset, cl::kSubscriberWords);
  put<std::uint32_t>(p, cl::kSubscriberSlotsOffset, cl::kSubscriberSlots);
  put<std::uint32_t>(p, cl::kSessionIdBytesOffset, static_cast<std::uint32_t>(session_id.size()));
  put<std::uint64_t>(p, cl::kPidOffset, static_cast<std::uint64_t>(::getpid()));
  put<std::int64_t>(p, cl::kStartOffset, detail::wall_clock_ns());
  put<std::int64_t>(p, cl::kIntervalOffset, static_cast<std::int64_t>(interval.count()));
  std::memcpy(static_cast<char*>(p) + cl::kSessionIdOffset, session_id.data(), session_id.size());
  CountersFile f;
  f.path_ = path;
  f.words_ = static_cast<std::uint64_t*>(p);
  f.dev_ = st.st_dev;
  f.ino_ = st.st_ino;
  f.round(CountersSnapshot{}, cl::kStateLive);  // a first round before anyone can read it
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return os_error("cannot rename counters file into place as", path, e);
  }
  return f;
}

void CountersFile::round(const CountersSnapshot& v, std::uint64_t state) noexcept {
  auto word = [&](std::size_t index) { return std::atomic_ref<std::uint64_t>(words_[index]); };
  auto set = [&](std::size_t index, std::uint64_t value) {
    word(index).store(value, std::memory_order_release);  // (T2) pairs with (T5): a reader that sees it sees (T1)
  };
  word(cl::kRoundWord)
      .store(round_ + 1, std::memory_order_relaxed);  // (T1) odd: inside a round; ordered by (T2)'s release
  ++published_;
  set(cl::kHeartbeatWord, static_cast<std::uint64_t>(detail::wall_clock_ns()));
  set(cl::kPublishCountWord, published_);
  set(cl::kStateWord, state);
  const std::size_t s = cl::kSessionBlockOffset / 8;
  cl::for_each_session_counter(v, [&](std::size_t i, auto field) { set(s + i, static_cast<std::uint64_t>(field)); });
  const std::size_t n = std::min<std::size_t>(v.subscribers.size(), cl::kSubscriberSlots);
  for (std::size_t i = 0; i < n; ++i) {
    const SubscriptionStats& sub = v.subscribers[i];
    const std::size_t b = cl::kSubscriberBlockOffset / 8 + i * cl::kSubscriberWords;
    cl::for_each_subscriber_counter(sub, [&](std::size_t k, auto field) { set(b + k, static_cast<std::uint64_t>(field)); });
    set(b + cl::kSubState, static_cast<std::uint64_t>(sub.state) | (sub.reading_store ? 0x100u : 0u));
  }
  round_ += 2;
  word(cl::kRoundWord).store(round_, std::memory_order_release);  // (T3) even: the round is complete; pairs with (T4)
}

void CountersFile::publish(const CountersSnapshot& values) noexcept {
  if (words_ != nullptr) round(values, cl::kStateLive);
}

void CountersFile::close(const CountersSnapshot& values) noexcept {
  if (words_ == nullptr) return;
  round(values, cl::kStateClosed);
  // Remove the name only if it is still ours (a later writer may have renamed its file over it).
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) ::unlink(path_.c_str());
  ::munmap(words_, cl::kFileBytes);
  words_ = nullptr;
}

}  // namespace sessionring::detail
