// Test helpers shared by the engine tests: stress sizing (quick/full, sanitizers), a watchdog that
// turns a hang (a lost wake-up) into a failure, a SessionStore wrapper whose appends can be
// blocked, failed or "secured later", and the oracle that compares a subscriber's stream with the
// store's filtered stream (INV-3).
#pragma once
#include <sessionring/sessionring.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sessionring::test {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Sizing. Stress sizes are given for Release quick mode; full mode (SESSIONRING_TEST_MODE=full)
// multiplies them, sanitizers divide them (TSan runs 10-20x slower, ASan about 2-3x).

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kTsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif
#else
inline constexpr bool kTsan = false;
#endif

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAsan = true;
#else
inline constexpr bool kAsan = false;
#endif
#else
inline constexpr bool kAsan = false;
#endif

inline constexpr bool kFull = SESSIONRING_TEST_FULL != 0;
/// Slow-down factor of the build: stress sizes are divided by it, watchdogs multiplied.
inline constexpr std::size_t kSlow = kTsan ? 10 : (kAsan ? 3 : 1);

/// `quick` in quick mode, `full` in full mode, divided by the sanitizer factor (at least `floor`).
constexpr std::size_t scaled(std::size_t quick, std::size_t full, std::size_t floor = 1) {
  return std::max(floor, (kFull ? full : quick) / kSlow);
}

/// A generous bound for anything that should finish "soon": a hang past it is a bug (lost
/// wake-up, gating), never a slow machine.
inline std::chrono::seconds patience() { return std::chrono::seconds(120 * kSlow); }

/// Polls `pred` every millisecond until it holds (true) or patience() ran out (false).
template <class Pred>
bool eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + patience();
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// Threads of this process now (/proc/self/task).
inline std::size_t thread_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Watchdog: aborts the test binary (ctest reports the failure) if the scope is not left within
// the limit. A lost wake-up would otherwise hang the suite instead of failing it.
class Watchdog {
 public:
  explicit Watchdog(std::string what, std::chrono::seconds limit = patience())
      : what_(std::move(what)), thread_([this, limit] {
          std::unique_lock lock(m_);
          if (!cv_.wait_for(lock, limit, [&] { return done_; })) {
            std::fprintf(stderr, "\nWATCHDOG: '%s' did not finish within %lld s (hang: lost wake-up or gating?)\n",
                         what_.c_str(), static_cast<long long>(limit.count()));
            std::fflush(stderr);
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(m_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::string what_;
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------
// Event helpers.

inline EventInput ev(EventType t, std::string_view run, std::string_view data, std::string_view id = {}) {
  EventInput e;
  e.type = t;
  e.run_id = run;
  e.data = data;
  e.id = id;
  return e;
}

inline SessionOptions options(std::shared_ptr<SessionStore> store = MemoryStore::create(), std::string id = "s1",
                              std::uint32_t ring_capacity = 16, std::uint32_t slot_bytes = 256) {
  SessionOptions o;
  o.store = std::move(store);
  o.session_id = std::move(id);
  o.ring_capacity = ring_capacity;
  o.ring_slot_bytes = slot_bytes;
  return o;
}

/// Polls (poll_wait) until `expect` events arrived or the deadline passed; owning copies.
inline std::vector<Event> drain(Subscription& sub, std::size_t expect, std::chrono::seconds limit = patience()) {
  std::vector<Event> out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (out.size() < expect && std::chrono::steady_clock::now() < deadline) {
    auto r = sub.poll_wait([&](const EventView& v) { out.push_back(v.to_event()); }, deadline);
    EXPECT_TRUE(r.ok()) << r.error();
    if (!r.ok()) break;
  }
  return out;
}

inline std::vector<Sequence> sequences(const std::vector<Event>& events) {
  std::vector<Sequence> out;
  out.reserve(events.size());
  for (const Event& e : events) out.push_back(e.sequence_number);
  return out;
}

/// The sequences of the stored events matching `filter` in [from, to] (the oracle of INV-3).
inline std::vector<Sequence> stored_sequences(const SessionLog& log, Sequence from, Sequence to,
                                              const EventFilter& filter = {}) {
  std::vector<Sequence> out;
  EventQuery q;
  q.after = from == 0 ? 0 : from - 1;
  q.before = to + 1;
  q.filter = filter;
  Status st = log.read(q, [&](const EventView& v) {
    out.push_back(v.sequence_number);
    return true;
  });
  EXPECT_TRUE(st.ok()) << st.error();
  return out;
}

/// A content fingerprint of an event (every field but session_id), to compare what a
/// subscriber got through the ring with what the store holds.
inline std::uint64_t fingerprint(const EventView& v) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::string_view s) {
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  };
  mix(v.id);
  mix(v.run_id);
  mix(v.data);
  mix(v.metadata);
  mix(v.correlation_id);
  mix(v.provider);
  h ^= static_cast<std::uint64_t>(v.type) * 0x9e3779b97f4a7c15ull;
  h ^= static_cast<std::uint64_t>(v.timestamp_ns) + v.schema_version + (v.sequence_number << 7);
  return h;
}

// ---------------------------------------------------------------------------------------------
// ControlledStore: wraps a store; its writer logs can be blocked inside append (the sequencer
// then stalls between pop and publish), made to fail the next appends, or made to secure
// appended batches only when the test says so (a background group commit: written_sequence()
// runs ahead of latest_sequence(), INV-2).
struct StoreControl {
  std::mutex m;
  std::condition_variable cv;
  bool block = false;      // guarded by m: appends wait while true
  int entered_blocked = 0; // guarded by m: appends that found `block` set
  std::atomic<int> fail_next{0};          // the next N appends fail with storage_error ...
  std::atomic<int> pass_first{0};         // ... after this many more appends went through
  std::atomic<int> fail_reads{0};         // the next N reads fail with storage_error
  std::atomic<std::uint64_t> appends{0};  // successful appends
  std::atomic<std::size_t> largest_batch{0};  // events in the largest batch offered to append
  std::atomic<bool> manual_secure{false}; // latest_sequence() = min(written, secured)
  std::atomic<Sequence> secured{0};
  std::atomic<int> append_delay_us{0};           // every append sleeps this long first (a slow store)
  std::atomic<std::uint64_t> prefault_calls{0};  // prefault_ahead() calls (forwarded to the inner log)

  void block_appends() {
    std::lock_guard lock(m);
    block = true;
  }
  void unblock_appends() {
    {
      std::lock_guard lock(m);
      block = false;
    }
    cv.notify_all();
  }
  /// Waits until `n` appends are parked on the block.
  bool wait_blocked(int n, std::chrono::seconds limit = patience()) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, limit, [&] { return entered_blocked >= n; });
  }
  void secure(Sequence up_to) {
    {
      std::lock_guard lock(m);
      secured.store(up_to, std::memory_order_seq_cst);
    }
    cv.notify_all();
  }
};

class ControlledLog final : public SessionLog {
 public:
  ControlledLog(std::shared_ptr<SessionLog> inner, std::shared_ptr<StoreControl> c)
      : inner_(std::move(inner)), c_(std::move(c)) {}

  std::string_view session_id() const noexcept override { return inner_->session_id(); }

  Status append(const AppendBatch& batch) override {
    {
      std::unique_lock lock(c_->m);
      if (c_->block) {
        ++c_->entered_blocked;
        c_->cv.notify_all();
        c_->cv.wait(lock, [&] { return !c_->block; });
      }
    }
    if (const int us = c_->append_delay_us.load(); us > 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
    if (batch.size() > c_->largest_batch.load()) c_->largest_batch.store(batch.size());  // one writer
    if (c_->pass_first.load() > 0) {
      c_->pass_first.fetch_sub(1);
    } else if (c_->fail_next.load() > 0) {
      c_->fail_next.fetch_sub(1);
      return Status(Errc::storage_error, "injected failure");
    }
    Status st = inner_->append(batch);
    if (st) c_->appends.fetch_add(1);
    return st;
  }
  Sequence latest_sequence() const noexcept override {
    const Sequence w = inner_->latest_sequence();
    return c_->manual_secure.load() ? std::min(w, c_->secured.load()) : w;
  }
  Sequence written_sequence() const noexcept override { return inner_->latest_sequence(); }
  bool prefault_ahead() noexcept override {
    c_->prefault_calls.fetch_add(1);
    return inner_->prefault_ahead();
  }
  Status read(const EventQuery& q, FunctionRef<bool(const EventView&)> visit) const override {
    if (c_->fail_reads.load() > 0) {
      c_->fail_reads.fetch_sub(1);
      return Status(Errc::storage_error, "injected read failure");
    }
    EventQuery clamped = q;
    clamped.before = std::min(q.before, latest_sequence() + 1);  // only what is secured
    return inner_->read(clamped, visit);
  }
  Result<Event> find_by_id(std::string_view id) const override {
    auto r = inner_->find_by_id(id);
    if (r && r->sequence_number > latest_sequence()) return Error(Errc::not_found, "not secured yet");
    return r;
  }
  Result<Sequence> wait_for(Sequence after, Deadline deadline) const override {
    if (!c_->manual_secure.load()) return inner_->wait_for(after, deadline);
    std::unique_lock lock(c_->m);
    c_->cv.wait_until(lock, deadline, [&] { return latest_sequence() > after; });
    return latest_sequence();
  }

 private:
  std::shared_ptr<SessionLog> inner_;
  std::shared_ptr<StoreControl> c_;
};

class ControlledStore final : public SessionStore {
 public:
  explicit ControlledStore(std::shared_ptr<SessionStore> inner = MemoryStore::create())
      : inner_(std::move(inner)), control_(std::make_shared<StoreControl>()) {}
  std::string_view kind() const noexcept override { return inner_->kind(); }
  Result<std::shared_ptr<SessionLog>> open(std::string_view session_id, OpenMode mode) override {
    auto log = inner_->open(session_id, mode);
    if (!log) return log.error();
    return std::shared_ptr<SessionLog>(std::make_shared<ControlledLog>(std::move(*log), control_));
  }
  Result<std::vector<std::string>> list_sessions() const override { return inner_->list_sessions(); }
  StoreControl& control() { return *control_; }

 private:
  std::shared_ptr<SessionStore> inner_;
  std::shared_ptr<StoreControl> control_;
};

// ---------------------------------------------------------------------------------------------
// BatchBuilder: owning events + their EventRecords, as an AppendBatch for direct store tests.
class BatchBuilder {
 public:
  explicit BatchBuilder(Sequence first) : first_(first) {}

  BatchBuilder& add(EventType type, std::string run, std::string data, std::string id = {}) {
    Event e;
    e.sequence_number = first_ + events_.size();
    e.type = type;
    e.id = id.empty() ? "id-" + std::to_string(e.sequence_number) : std::move(id);
    e.run_id = std::move(run);
    e.data = std::move(data);
    e.timestamp_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(e.sequence_number);
    events_.push_back(std::move(e));
    return *this;
  }

  /// The batch; valid while this builder lives and is not modified.
  AppendBatch batch() {
    views_.clear();
    records_.clear();
    spans_.clear();
    for (const Event& e : events_) {
      views_.push_back(e.view());
      auto& r = records_.emplace_back(EventRecord::encoded_size(views_.back()));
      EventRecord::encode(r.data(), views_.back());
    }
    for (const auto& r : records_) spans_.emplace_back(r.data(), r.size());
    return AppendBatch{first_, views_, spans_};
  }
  const std::vector<Event>& events() const { return events_; }

 private:
  Sequence first_;
  std::vector<Event> events_;
  std::vector<EventView> views_;
  std::vector<std::vector<std::byte>> records_;
  std::vector<std::span<const std::byte>> spans_;
};

}  // namespace sessionring::test
