// Helpers for the runtime tests (SessionServer, RunLimiter, SessionRegistry, telemetry):
// options with small engine knobs, a gate to hold tasks, and store reads. Tests sequence
// threads with gates and latches; the generous timeouts below are watchdogs only.
#pragma once
#include <sessionring/sessionring.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace sessionring::testing {

using namespace std::chrono_literals;

inline constexpr auto kWatchdog = std::chrono::seconds(60);

inline SessionServerOptions server_options(std::shared_ptr<SessionStore> store = MemoryStore::create(),
                                           std::uint32_t slots = 1, std::string id = "s1") {
  SessionServerOptions o;
  o.store = std::move(store);
  o.new_session = NewSession{std::move(id), "{\"title\":\"test\"}", ""};
  o.max_concurrent_runs = slots;
  o.engine.ring_capacity = 64;
  o.engine.ring_slot_bytes = 256;
  return o;
}

/// Options that attach to the existing session `id` of `store`.
inline SessionServerOptions attach_options(std::shared_ptr<SessionStore> store, std::string id) {
  SessionServerOptions o = server_options(std::move(store));
  o.new_session.reset();
  o.session_id = std::move(id);
  return o;
}

/// A one-shot gate: tasks wait() until the test open()s it. wait() fails the test after the
/// watchdog instead of hanging.
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    EXPECT_TRUE(cv_.wait_for(lock, kWatchdog, [&] { return open_; })) << "gate watchdog";
  }
  bool is_open() {
    std::lock_guard lock(mutex_);
    return open_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// Counts arrivals; wait_for(n) blocks until n have arrived (watchdog).
class Counter {
 public:
  int arrive() {
    std::lock_guard lock(mutex_);
    ++n_;
    cv_.notify_all();
    return n_;
  }
  void wait_for(int n) {
    std::unique_lock lock(mutex_);
    EXPECT_TRUE(cv_.wait_for(lock, kWatchdog, [&] { return n_ >= n; })) << "counter watchdog: " << n_ << " < " << n;
  }
  int value() {
    std::lock_guard lock(mutex_);
    return n_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int n_ = 0;
};

inline std::vector<Event> stored_events(SessionServer& server, EventFilter filter = {}) {
  EventQuery q;
  q.filter = std::move(filter);
  auto r = server.session().log().read(q);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : std::vector<Event>{};
}

inline std::vector<Event> stored_of_type(SessionServer& server, EventType type) {
  return stored_events(server, EventFilter().type(type));
}

/// A task that emits `n` message_streamed events carrying 0..n-1 and returns "done".
/// A task that arrives at `started`, then waits until `gate` opens, and returns "gated".
inline RunTask gated(Gate& gate, Counter& started) {
  return [&gate, &started](RunContext&) -> RunResult {
    started.arrive();
    gate.wait();
    return std::string("gated");
  };
}

inline RunTask emitting(int n) {
  return [n](RunContext& ctx) -> RunResult {
    for (int i = 0; i < n; ++i)
      if (Status st = ctx.emit(EventType::message_streamed, std::to_string(i)); !st) return st.error();
    return std::string("done");
  };
}

/// A task that waits until cancelled (or the watchdog) and returns "not cancelled" otherwise.
inline RunTask until_cancelled(Counter* started = nullptr) {
  return [started](RunContext& ctx) -> RunResult {
    if (started) started->arrive();
    if (!ctx.wait_for_cancel(kWatchdog)) return std::string("not cancelled");
    return Error(Errc::cancelled, "observed cancellation");
  };
}

/// Polls `sub` until it has delivered `n` events (no more; watchdog) and returns them.
inline std::vector<Event> collect(Subscription& sub, std::size_t n) {
  std::vector<Event> out;
  const auto deadline = std::chrono::steady_clock::now() + kWatchdog;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    auto r = sub.poll_wait([&](const EventView& v) { out.push_back(v.to_event()); }, deadline, n - out.size());
    if (!r.ok()) break;
    if (sub.state() == SubscriptionState::closed) break;
  }
  return out;
}

inline void expect_contiguous(const std::vector<Event>& events, Sequence first) {
  for (std::size_t i = 0; i < events.size(); ++i)
    ASSERT_EQ(events[i].sequence_number, first + i) << "gap or duplicate at index " << i;
}

}  // namespace sessionring::testing
