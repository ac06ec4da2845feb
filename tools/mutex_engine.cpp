#include "mutex_engine.hpp"

#include <chrono>
#include <random>
#include <thread>

namespace sessionring::tools {
namespace {

// A fresh 32-hex-digit id, as a user would generate one (a per-thread splitmix64 stream).
std::string new_id() {
  thread_local std::uint64_t state = [] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd() ^ std::hash<std::thread::id>{}(std::this_thread::get_id());
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    for (int i = 0; i < 16; ++i) out[static_cast<std::size_t>(half * 16 + i)] = kHex[(z >> (60 - 4 * i)) & 0xf];
  }
  return out;
}

}  // namespace

Result<Sequence> MutexEngine::append(const EventInput& in) {
  StoredEvent e;
  e.type = in.type;
  e.timestamp_ns = in.timestamp_ns != 0 ? in.timestamp_ns
                                        : std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count();
  e.id = in.id.empty() ? new_id() : std::string(in.id);
  e.run_id = in.run_id;
  e.data = in.data;
  Sequence seq = 0;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return Error(Errc::stopped, "mutex engine of session '" + session_id_ + "' is stopped");
    if (!in.id.empty()) {
      auto [it, inserted] = caller_ids_.try_emplace(e.id, log_.size() + 1);
      if (!inserted) return it->second;
    }
    seq = log_.size() + 1;
    e.sequence_number = seq;
    log_.push_back(std::move(e));
  }
  cv_.notify_all();
  return seq;
}

Sequence MutexEngine::latest_sequence() const {
  std::lock_guard lock(mutex_);
  return log_.size();
}

void MutexEngine::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  cv_.notify_all();
}

}  // namespace sessionring::tools
