// CountersReader: reading a counters file from any process (include/sessionring/counters_reader.hpp,
// format: engine/detail/counters_layout.hpp, docs/telemetry.md "Counters file").
#include <sessionring/counters_reader.hpp>

#include "detail/wall_clock.hpp"
#include "detail/str_cat.hpp"
#include "detail/counters_layout.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sessionring {

namespace cl = detail::counters_layout;

std::string_view to_string(CountersLiveness l) noexcept {
  switch (l) {
    case CountersLiveness::live: return "live";
    case CountersLiveness::stale: return "stale";
    case CountersLiveness::dead: return "dead";
    case CountersLiveness::closed: return "closed";
  }
  return "?";
}

std::filesystem::path counters_file_in_store(const std::filesystem::path& store_root, std::string_view session_id) {
  return store_root / std::string(session_id) / "COUNTERS";
}

std::filesystem::path counters_file_in_directory(const std::filesystem::path& directory, std::string_view session_id) {
  std::string name(session_id);
  name.append(".counters");
  return directory / name;
}

namespace {

using detail::str_cat;

template <class T>
T get(const void* base, std::size_t off) noexcept {
  T v;
  std::memcpy(&v, static_cast<const char*>(base) + off, sizeof v);
  return v;
}

/// False only when no process `pid` exists (in this pid namespace).
bool process_exists(std::uint64_t pid) noexcept {
  if (pid == 0 || pid > static_cast<std::uint64_t>(INT32_MAX)) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
}

}  // namespace

CountersReader::CountersReader(CountersReader&& o) noexcept
    : path_(std::move(o.path_)), map_(std::exchange(o.map_, nullptr)), bytes_(o.bytes_), dev_(o.dev_), ino_(o.ino_) {}

CountersReader& CountersReader::operator=(CountersReader&& o) noexcept {
  if (this != &o) {
    if (map_ != nullptr) ::munmap(const_cast<void*>(map_), bytes_);
    path_ = std::move(o.path_);
    map_ = std::exchange(o.map_, nullptr);
    bytes_ = o.bytes_;
    dev_ = o.dev_;
    ino_ = o.ino_;
  }
  return *this;
}

CountersReader::~CountersReader() {
  if (map_ != nullptr) ::munmap(const_cast<void*>(map_), bytes_);
}

Result<CountersReader> CountersReader::open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT)
      return Error(Errc::not_found, str_cat("no counters file '", path.string(),
                                        "': no host publishes this session's counters (SessionServerOptions::"
                                        "publish_counters), or it stopped"));
    return Error(Errc::storage_error, str_cat("cannot open counters file '", path.string(), "': ", std::strerror(e)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Error(Errc::storage_error, str_cat("cannot stat counters file '", path.string(), "': ", std::strerror(e)));
  }
  char head[cl::kHeaderBytes] = {};
  const ssize_t got = ::pread(fd, head, sizeof head, 0);
  auto refuse = [&](Errc code, const std::string& why) {
    ::close(fd);
    return Error(code, str_cat("'", path.string(), "' ", why));
  };
  if (got < 16 || std::memcmp(head, cl::kMagic, sizeof cl::kMagic) != 0)
    return refuse(Errc::validation_error, "is not a sessionring counters file (no 'SRCOUNTR' magic)");
  const auto version = get<std::uint32_t>(head, cl::kVersionOffset);
  if (version != cl::kFormatVersion)
    return refuse(version > cl::kFormatVersion ? Errc::unsupported_format : Errc::validation_error,
                  str_cat("was written by ", version > cl::kFormatVersion ? "a newer" : "another",
                      " sessionring: counters format version ", std::to_string(version), ", this build reads ",
                      std::to_string(cl::kFormatVersion)));
  if (got != static_cast<ssize_t>(cl::kHeaderBytes) ||
      get<std::uint32_t>(head, cl::kHeaderBytesOffset) != cl::kHeaderBytes ||
      get<std::uint32_t>(head, cl::kSessionWordsOffset) != cl::kSessionWords ||
      get<std::uint32_t>(head, cl::kSubscriberWordsOffset) != cl::kSubscriberWords ||
      get<std::uint32_t>(head, cl::kSubscriberSlotsOffset) != cl::kSubscriberSlots ||
      get<std::uint32_t>(head, cl::kSessionIdBytesOffset) > cl::kSessionIdCapacity ||
      st.st_size != static_cast<off_t>(cl::kFileBytes))
    return refuse(Errc::validation_error,
                  str_cat("has a version 1 header but not the version 1 layout (", std::to_string(st.st_size),
                      " bytes, expected ", std::to_string(cl::kFileBytes), ")"));
  void* p = ::mmap(nullptr, cl::kFileBytes, PROT_READ, MAP_SHARED, fd, 0);
  const int e = errno;
  ::close(fd);
  if (p == MAP_FAILED)
    return Error(Errc::storage_error, str_cat("cannot map counters file '", path.string(), "': ", std::strerror(e)));
  CountersReader r;
  r.path_ = path;
  r.map_ = p;
  r.bytes_ = cl::kFileBytes;
  r.dev_ = st.st_dev;
  r.ino_ = st.st_ino;
  return r;
}

bool CountersReader::replaced() const noexcept {
  struct stat st {};
  return ::stat(path_.c_str(), &st) != 0 || st.st_dev != dev_ || st.st_ino != ino_;
}

Result<CountersSnapshot> CountersReader::read() const {
  // The mapping is read-only; std::atomic_ref needs a non-const object but only loads here.
  auto* words = static_cast<std::uint64_t*>(const_cast<void*>(map_));
  auto word = [&](std::size_t index) { return std::atomic_ref<std::uint64_t>(words[index]); };
  auto get_word = [&](std::size_t index) {
    return word(index).load(std::memory_order_acquire);  // (T5) pairs with (T2): seeing a round's word sees its (T1)
  };
  CountersSnapshot s;
  s.format_version = get<std::uint32_t>(map_, cl::kVersionOffset);
  s.session_id.assign(static_cast<const char*>(map_) + cl::kSessionIdOffset,
                      get<std::uint32_t>(map_, cl::kSessionIdBytesOffset));
  s.writer_pid = get<std::uint64_t>(map_, cl::kPidOffset);
  s.writer_start_ns = get<std::int64_t>(map_, cl::kStartOffset);
  s.interval_ns = get<std::int64_t>(map_, cl::kIntervalOffset);
  std::uint64_t state = 0;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  for (unsigned attempt = 0;; ++attempt) {
    const std::uint64_t before = word(cl::kRoundWord).load(std::memory_order_acquire);  // (T4) pairs with (T3)
    if (before % 2 == 0) {
      s.heartbeat_ns = static_cast<std::int64_t>(get_word(cl::kHeartbeatWord));
      s.publish_count = get_word(cl::kPublishCountWord);
      state = get_word(cl::kStateWord);
      const std::size_t b = cl::kSessionBlockOffset / 8;
      cl::for_each_session_counter(s, [&](std::size_t i, auto& field) {
        field = static_cast<std::remove_reference_t<decltype(field)>>(get_word(b + i));
      });
      const std::size_t n = std::min<std::uint64_t>(s.subscriber_count, cl::kSubscriberSlots);
      s.subscribers.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t w = cl::kSubscriberBlockOffset / 8 + i * cl::kSubscriberWords;
        SubscriptionStats& sub = s.subscribers[i];
        cl::for_each_subscriber_counter(sub, [&](std::size_t k, auto& field) {
          field = static_cast<std::remove_reference_t<decltype(field)>>(get_word(w + k));
        });
        const std::uint64_t st = get_word(w + cl::kSubState);
        sub.state = static_cast<SubscriptionState>(std::min<std::uint64_t>(st & 0xff, 3));
        sub.reading_store = (st & 0x100) != 0;
      }
      // (T6) relaxed: program order after the (T5) acquires keeps it after them; it sees the
      // (T1) of any round whose words (T5) saw, so equal values mean one round.
      if (word(cl::kRoundWord).load(std::memory_order_relaxed) == before) break;
    }
    if (std::chrono::steady_clock::now() >= give_up)
      return Error(Errc::timeout, str_cat("counters file '", path_.string(),
                                      "': no complete publish round for 100 ms (the writer stopped inside an update)"));
    if (attempt > 16) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  if (state == cl::kStateClosed) {
    s.liveness = CountersLiveness::closed;
  } else if (!process_exists(s.writer_pid)) {
    s.liveness = CountersLiveness::dead;
  } else {
    const std::int64_t limit = std::max<std::int64_t>(3 * s.interval_ns, 1'000'000'000);
    s.liveness = detail::wall_clock_ns() - s.heartbeat_ns > limit ? CountersLiveness::stale : CountersLiveness::live;
  }
  return s;
}

}  // namespace sessionring
