#include <sessionring/session_registry.hpp>

#include <algorithm>
#include <optional>

namespace sessionring {

namespace {
constexpr std::chrono::nanoseconds kMinSweep = std::chrono::milliseconds(1);

Error not_hosted(std::string_view session_id) {
  return Error(Errc::not_found, "this registry does not host session '" + std::string(session_id) + "'");
}

/// The options that reopen a hosted session: attach to it by id, never create it again.
SessionServerOptions attach_options(const SessionServerOptions& started, const std::string& id) {
  SessionServerOptions o = started;
  o.session_id = id;
  o.new_session.reset();
  return o;
}
}  // namespace

Result<std::unique_ptr<SessionRegistry>> SessionRegistry::create(Options options) {
  if (options.close_idle_after.count() < 0)
    return Error(Errc::validation_error, "SessionRegistry::Options::close_idle_after must not be negative");
  return std::unique_ptr<SessionRegistry>(new SessionRegistry(options));
}

SessionRegistry::SessionRegistry(Options options) : options_(options) {
  if (options_.close_idle_after.count() > 0) janitor_ = std::thread([this] { janitor(); });
}

SessionRegistry::~SessionRegistry() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  settled_.notify_all();
  if (janitor_.joinable()) janitor_.join();
  (void)stop_all();
}

Result<std::shared_ptr<SessionServer>> SessionRegistry::start(SessionServerOptions options) {
  // The session to host: the one to attach to, or the new one when its id is given.
  const std::string& wanted =
      options.session_id.empty() && options.new_session ? options.new_session->session_id : options.session_id;
  if (!wanted.empty()) {
    std::unique_lock lock(mutex_);
    if (auto it = settle(lock, wanted); it != servers_.end() && !replaceable(it->second))
      return Error(Errc::writer_conflict, "session '" + wanted + "' is already hosted by this registry");
  }
  // The options to reopen it with, kept only when it may be closed.
  std::optional<SessionServerOptions> kept;
  if (options_.close_idle_after.count() > 0) kept = options;
  auto server = SessionServer::start(std::move(options));
  if (!server) return server.error();
  auto shared = std::make_shared<SessionServer>(std::move(*server));
  std::lock_guard lock(mutex_);
  auto [it, inserted] = servers_.try_emplace(shared->session_id());
  if (!inserted && !replaceable(it->second)) {
    // Two racing starts of the same id: the store's writer lock lets only one through, and a
    // store without one still meets this guard.
    (void)shared->stop(StopPolicy::cancel);
    return Error(Errc::writer_conflict, "session '" + shared->session_id() + "' is already hosted by this registry");
  }
  Entry& e = it->second;
  e.state = State::open;
  e.server = shared;
  if (kept) e.reopen = attach_options(*kept, shared->session_id());
  ++e.handed_out;
  e.quiet_since = Clock::now();
  return shared;
}

bool SessionRegistry::replaceable(const Entry& e) {
  return e.state == State::open && e.server->stopped();  // stopped by a holder: start() may host it again
}

std::map<std::string, SessionRegistry::Entry, std::less<>>::iterator SessionRegistry::settle(
    std::unique_lock<std::mutex>& lock, std::string_view session_id) const {
  auto it = servers_.find(session_id);
  while (it != servers_.end() && (it->second.state == State::closing || it->second.state == State::opening)) {
    settled_.wait(lock);
    it = servers_.find(session_id);  // stop() may have erased it meanwhile
  }
  return it;
}

Result<std::shared_ptr<SessionServer>> SessionRegistry::attach(std::string_view session_id) const {
  std::unique_lock lock(mutex_);
  auto it = settle(lock, session_id);
  if (it == servers_.end()) return not_hosted(session_id);
  Entry& e = it->second;
  if (e.state == State::open) {
    ++e.handed_out;
    return e.server;
  }
  // Closed idle: reopen it from the store, without the lock (a start takes a while); others
  // asking for it meanwhile wait in settle().
  e.state = State::opening;
  SessionServerOptions options = e.reopen;
  lock.unlock();
  auto server = SessionServer::start(std::move(options));
  lock.lock();
  Entry& again = servers_.find(session_id)->second;  // opening entries are never erased
  if (!server) {
    again.state = State::closed;
    ++counts_.reopen_failures;
    settled_.notify_all();
    return server.error();
  }
  again.server = std::make_shared<SessionServer>(std::move(*server));
  again.state = State::open;
  again.handed_out += 1;
  again.quiet_since = Clock::now();
  ++counts_.reopens;
  settled_.notify_all();
  return again.server;
}

std::shared_ptr<SessionServer> SessionRegistry::find(std::string_view session_id) const {
  auto server = attach(session_id);
  if (!server || (*server)->stopped()) return nullptr;
  return std::move(*server);
}

Status SessionRegistry::stop(std::string_view session_id) {
  std::shared_ptr<SessionServer> server;
  {
    std::unique_lock lock(mutex_);
    auto it = settle(lock, session_id);
    if (it == servers_.end()) return not_hosted(session_id);
    server = std::move(it->second.server);  // null when closed
    servers_.erase(it);
  }
  return server ? server->stop() : Status();  // no registry lock held: stopping waits for runs
}

Status SessionRegistry::stop_all() {
  std::vector<std::shared_ptr<SessionServer>> servers;
  {
    std::unique_lock lock(mutex_);
    // Let closes and reopens in progress end, so every server is seen (and stopped) here.
    settled_.wait(lock, [&] {
      return std::none_of(servers_.begin(), servers_.end(), [](const auto& kv) {
        return kv.second.state == State::closing || kv.second.state == State::opening;
      });
    });
    for (auto& [id, e] : servers_)
      if (e.server) servers.push_back(std::move(e.server));
    servers_.clear();
  }
  Status first;
  for (auto& server : servers)
    if (Status st = server->stop(); !st && first.ok()) first = st;
  return first;
}

std::vector<std::string> SessionRegistry::session_ids() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.reserve(servers_.size());
  for (const auto& [id, e] : servers_)
    if (e.state != State::open || !e.server->stopped()) out.push_back(id);
  return out;
}

std::size_t SessionRegistry::size() const { return session_ids().size(); }

SessionRegistry::Stats SessionRegistry::stats() const {
  std::lock_guard lock(mutex_);
  Stats s = counts_;
  s.hosted = servers_.size();
  s.open = static_cast<std::size_t>(std::count_if(servers_.begin(), servers_.end(), [](const auto& kv) {
    return kv.second.state == State::open || kv.second.state == State::closing;
  }));
  return s;
}

void SessionRegistry::janitor() {
  const auto period = std::max<std::chrono::nanoseconds>(options_.close_idle_after / 4, kMinSweep);
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    settled_.wait_for(lock, period, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    sweep();
    lock.lock();
  }
}

void SessionRegistry::sweep() {
  // Candidates: open servers only the registry refers to. Copies are taken under the lock, so
  // a candidate's use_count is then 2 unless someone else took it since.
  std::vector<std::pair<std::string, std::shared_ptr<SessionServer>>> candidates;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, e] : servers_) {
      if (e.state != State::open) continue;
      if (e.server.use_count() == 1) {
        candidates.emplace_back(id, e.server);
      } else {
        e.quiet_since = Clock::now();  // in use now
      }
    }
  }
  const auto now = Clock::now();
  for (auto& [id, server] : candidates) close_if_idle(id, std::move(server), now);
}

void SessionRegistry::close_if_idle(const std::string& id, std::shared_ptr<SessionServer> server,
                                    Clock::time_point now) {
  // Read without the registry lock: status() takes the server's own locks.
  const ServerStatus st = server->status();
  const bool busy = st.in_flight_count > 0 || st.queued_count > 0 || st.subscriber_count > 0 ||
                    st.ingest_depth_approx > 0 || st.producers > st.max_concurrent_runs || st.stopped;
  {
    std::lock_guard lock(mutex_);
    auto it = servers_.find(id);
    if (it == servers_.end() || it->second.state != State::open || it->second.server != server) return;
    Entry& e = it->second;
    const bool handed = e.handed_out != e.seen_handed_out;
    if (busy || handed || st.latest_sequence != e.seen_sequence) {
      e.seen_handed_out = e.handed_out;
      e.seen_sequence = st.latest_sequence;
      e.quiet_since = now;
      return;
    }
    // Still the registry's and this sweep's references only: nobody can take a new one
    // without the lock, and the closing state makes find()/attach() wait for the close.
    if (now - e.quiet_since < options_.close_idle_after || server.use_count() != 2) return;
    e.state = State::closing;
    e.server.reset();
  }
  // Idle: nothing to drain. A stop error is the store's; the reopen meets it again.
  (void)server->stop(StopPolicy::drain);
  server.reset();  // the last reference: the session's store handle (its writer lock) goes now
  {
    std::lock_guard lock(mutex_);
    auto it = servers_.find(id);  // closing entries are never erased
    it->second.state = State::closed;
    ++counts_.closes;
  }
  settled_.notify_all();
}

}  // namespace sessionring
