// SessionRegistry: hosts many SessionServers, one per session id (the reference runtime's
// session supervisor plus `whereis`). Servers are shared: find() hands out shared_ptrs, and a
// server stopped through the registry answers Errc::stopped to holders that still call it.
// Destroying the registry stops every server it still hosts.
//
// Idle close (Options::close_idle_after, docs/runtime.md "Idle sessions"): a hosted session
// that nobody uses is closed (its SessionServer stopped: no ring, no queue, no store handle,
// no writer lock) and reopened transparently by the next find() or attach() (the store keeps
// every event; the sequence continues, INV-1). "Nobody uses it" is checked, not guessed: the
// registry holds the only reference to the server, no run is queued or running, no
// subscription is attached, no Producer is held besides the server's own, and nothing was
// sequenced for close_idle_after. A subscriber therefore never loses its session under it: a
// session with a subscriber is only parked (its pool releases the ring, design §13), and the
// subscriber gets new events when producers wake it.
//
// Threads: every member function from any thread. With close_idle_after set, one janitor thread
// per registry sweeps the hosted sessions (every close_idle_after / 4, at least 1 ms).
#pragma once
#include <sessionring/result.hpp>
#include <sessionring/session_server.hpp>
#include <sessionring/session_server_options.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sessionring {

class SessionRegistry {
 public:
  struct Options {
    /// Close a hosted session after it has been unused this long (see above); 0: never.
    /// Not negative (validation_error from create()).
    std::chrono::nanoseconds close_idle_after{0};
  };
  /// Counters since the registry was made (a consistent snapshot, taken under its lock).
  struct Stats {
    std::size_t hosted = 0;   ///< sessions the registry hosts, open or closed
    std::size_t open = 0;     ///< hosted sessions with a running SessionServer
    std::uint64_t closes = 0;   ///< idle closes
    std::uint64_t reopens = 0;  ///< transparent reopens of closed sessions
    std::uint64_t reopen_failures = 0;  ///< reopens the store refused (the session stays closed)
  };

  SessionRegistry() = default;
  /// A registry with options; validation_error for a negative close_idle_after.
  static Result<std::unique_ptr<SessionRegistry>> create(Options options);
  SessionRegistry(const SessionRegistry&) = delete;
  SessionRegistry& operator=(const SessionRegistry&) = delete;
  ~SessionRegistry();

  /// SessionServer::start, then registers the server under its session id.
  /// Errc::writer_conflict when the registry already hosts that session (open or closed).
  Result<std::shared_ptr<SessionServer>> start(SessionServerOptions options);

  /// The running server of this session (`whereis`), reopened first if it was closed idle;
  /// null if the registry does not host it or its reopen failed (attach() says why).
  std::shared_ptr<SessionServer> find(std::string_view session_id) const;
  /// As find(), with the reason: Errc::not_found when not hosted, the store's error when a
  /// closed session could not be reopened.
  Result<std::shared_ptr<SessionServer>> attach(std::string_view session_id) const;

  /// Stops one server (closed: forgets it) and forgets it; Errc::not_found if not hosted.
  Status stop(std::string_view session_id);
  /// Stops every server; returns the first error.
  Status stop_all();

  /// Ids of the hosted sessions (open or closed), sorted.
  std::vector<std::string> session_ids() const;
  std::size_t size() const;
  Stats stats() const;

 private:
  enum class State : std::uint8_t { open, closing, closed, opening };
  struct Entry {
    State state = State::open;
    std::shared_ptr<SessionServer> server;  // set while open (and while closing, for the closer)
    SessionServerOptions reopen;            // attach options (only with close_idle_after > 0)
    std::uint64_t handed_out = 0;           // references given by start/find/attach (activity)
    std::uint64_t seen_handed_out = 0;      // the janitor's last look
    Sequence seen_sequence = 0;
    std::chrono::steady_clock::time_point quiet_since{};
  };
  using Clock = std::chrono::steady_clock;

  explicit SessionRegistry(Options options);
  /// Under lock: waits while the entry is closing or opening; end() if it went away.
  std::map<std::string, Entry, std::less<>>::iterator settle(std::unique_lock<std::mutex>& lock,
                                                              std::string_view session_id) const;
  void janitor();
  void sweep();
  /// Closes `server` if it is still unused (called by the janitor, no lock held).
  void close_if_idle(const std::string& id, std::shared_ptr<SessionServer> server, Clock::time_point now);
  static bool replaceable(const Entry& e);

  Options options_;
  mutable std::mutex mutex_;
  mutable std::condition_variable settled_;  // an entry left closing/opening, or the janitor must stop
  mutable std::map<std::string, Entry, std::less<>> servers_;  // guarded by mutex_
  mutable Stats counts_;                                        // closes/reopens, guarded by mutex_
  bool stopping_ = false;                                       // janitor exit, guarded by mutex_
  std::thread janitor_;  // only with close_idle_after > 0
};

}  // namespace sessionring
