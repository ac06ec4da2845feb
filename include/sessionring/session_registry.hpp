// SessionRegistry: hosts many SessionServers, one per session id (the reference runtime's
// session supervisor plus `whereis`). Servers are shared: find() hands out shared_ptrs, and a
// server stopped through the registry answers Errc::stopped to holders that still call it.
// Destroying the registry stops every server it still hosts.
//
// Threads: every member function from any thread.
#pragma once
#include <sessionring/result.hpp>
#include <sessionring/session_server.hpp>
#include <sessionring/session_server_options.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sessionring {

class SessionRegistry {
 public:
  SessionRegistry() = default;
  SessionRegistry(const SessionRegistry&) = delete;
  SessionRegistry& operator=(const SessionRegistry&) = delete;
  ~SessionRegistry();

  /// SessionServer::start, then registers the server under its session id.
  /// Errc::writer_conflict when the registry already hosts that session.
  Result<std::shared_ptr<SessionServer>> start(SessionServerOptions options);

  /// The running server of this session, or null (`whereis`).
  std::shared_ptr<SessionServer> find(std::string_view session_id) const;

  /// Stops one server and forgets it; Errc::not_found if the registry does not host it.
  Status stop(std::string_view session_id);
  /// Stops every server; returns the first error.
  Status stop_all();

  /// Ids of the hosted sessions, sorted.
  std::vector<std::string> session_ids() const;
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<SessionServer>, std::less<>> servers_;  // guarded by mutex_
};

}  // namespace sessionring
