#include <sessionring/session_registry.hpp>

namespace sessionring {

SessionRegistry::~SessionRegistry() { (void)stop_all(); }

Result<std::shared_ptr<SessionServer>> SessionRegistry::start(SessionServerOptions options) {
  // The session to host: the one to attach to, or the new one when its id is given.
  const std::string& wanted =
      options.session_id.empty() && options.new_session ? options.new_session->session_id : options.session_id;
  if (!wanted.empty() && find(wanted))
    return Error(Errc::writer_conflict, "session '" + wanted + "' is already hosted by this registry");
  auto server = SessionServer::start(std::move(options));
  if (!server) return server.error();
  auto shared = std::make_shared<SessionServer>(std::move(*server));
  std::lock_guard lock(mutex_);
  auto [it, inserted] = servers_.try_emplace(shared->session_id(), shared);
  if (!inserted && !it->second->stopped()) {
    // Unreachable with a store that enforces one writer per session (both stores do): the
    // second start would have failed with writer_conflict. Kept as a guard.
    (void)shared->stop(StopPolicy::cancel);
    return Error(Errc::writer_conflict, "session '" + shared->session_id() + "' is already hosted by this registry");
  }
  it->second = shared;
  return shared;
}

std::shared_ptr<SessionServer> SessionRegistry::find(std::string_view session_id) const {
  std::lock_guard lock(mutex_);
  auto it = servers_.find(session_id);
  if (it == servers_.end() || it->second->stopped()) return nullptr;
  return it->second;
}

Status SessionRegistry::stop(std::string_view session_id) {
  std::shared_ptr<SessionServer> server;
  {
    std::lock_guard lock(mutex_);
    auto it = servers_.find(session_id);
    if (it == servers_.end())
      return Status(Errc::not_found, "this registry does not host session '" + std::string(session_id) + "'");
    server = std::move(it->second);
    servers_.erase(it);
  }
  return server->stop();  // no registry lock held: stopping waits for runs
}

Status SessionRegistry::stop_all() {
  std::map<std::string, std::shared_ptr<SessionServer>, std::less<>> servers;
  {
    std::lock_guard lock(mutex_);
    servers.swap(servers_);
  }
  Status first;
  for (auto& [id, server] : servers)
    if (Status st = server->stop(); !st && first.ok()) first = st;
  return first;
}

std::vector<std::string> SessionRegistry::session_ids() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [id, server] : servers_)
    if (!server->stopped()) out.push_back(id);
  return out;
}

std::size_t SessionRegistry::size() const { return session_ids().size(); }

}  // namespace sessionring
