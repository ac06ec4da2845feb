#include <sessionring/session_server.hpp>

#include "detail/wall_clock.hpp"
#include "detail/counters_publisher.hpp"
#include "detail/run_events.hpp"
#include "detail/run_scheduler.hpp"
#include "detail/run_telemetry.hpp"

#include <sessionring/counters_reader.hpp>
#include <sessionring/event_query.hpp>
#include <sessionring/log_store.hpp>

#include <map>
#include <mutex>
#include <random>
#include <vector>

namespace sessionring {
namespace {

std::string generate_session_id() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "session-";
  for (int word = 0; word < 4; ++word) {
    std::uint32_t v = rd();
    for (int i = 0; i < 8; ++i, v >>= 4) id += kHex[v & 0xf];
  }
  return id;
}

// The session to open: the existing one to attach to, or a new one (generated id, or a given
// id that holds no events yet).
Result<std::string> resolve_session(const SessionServerOptions& o) {
  SessionStore& store = *o.store;
  if (!o.new_session) {
    auto log = store.open(o.session_id, OpenMode::read);
    if (log) return o.session_id;
    if (log.code() == Errc::not_found)
      return Error(Errc::not_found, "session '" + o.session_id + "' does not exist in the " +
                                        std::string(store.kind()) + " store; start with new_session to create it");
    return log.error();
  }
  if (o.new_session->session_id.empty()) return generate_session_id();
  const std::string& id = o.new_session->session_id;
  if (auto log = store.open(id, OpenMode::read); log && (*log)->latest_sequence() > 0)
    return Error(Errc::validation_error, "new_session.session_id = '" + id + "' already holds " +
                                             std::to_string((*log)->latest_sequence()) +
                                             " events in the store; attach to it with session_id");
  return id;
}

/// On attach: closes the runs a previous host started but never ended (it crashed or was
/// killed), so that a session's history never holds a run without an end (docs/runtime.md
/// "Attaching"). For each run_started with no terminal event after it, appends run_failed
/// (code `stopped`, the reason in data) with that run id. Reads the run lifecycle events of
/// the whole session once (a filtered read of every stored record).
Status close_abandoned_runs(Session& session, SessionStore& store, const std::string& id) {
  auto log = store.open(id, OpenMode::read);
  if (!log) return log.error();
  EventQuery q;
  q.after = 0;
  q.before = session.latest_sequence() + 1;
  q.filter.types({EventType::run_started, EventType::run_completed, EventType::run_failed, EventType::run_cancelled,
                  EventType::run_timeout});
  std::map<std::string, std::uint64_t, std::less<>> open;  // run id -> starts not yet ended
  std::vector<std::string> order;                           // run ids in order of their first open start
  Status read = (*log)->read(q, [&](const EventView& e) {
    auto it = open.find(e.run_id);
    if (e.type == EventType::run_started) {
      if (it == open.end()) it = open.emplace(std::string(e.run_id), 0).first;
      if (it->second++ == 0) order.push_back(it->first);
    } else if (it != open.end() && it->second > 0) {
      --it->second;
    }
    return true;
  });
  if (!read) return read;
  const Error why(Errc::stopped,
                  "abandoned: the host running it stopped (crash or kill) before the run ended; closed when a "
                  "SessionServer attached to the session");
  const std::string data = detail::run_failed_data(std::chrono::nanoseconds(0), why, 4096);
  for (const std::string& run : order) {
    for (auto n = open[run]; n > 0; --n) {
      EventInput ended;
      ended.type = EventType::run_failed;
      ended.run_id = run;
      ended.data = data;
      if (auto r = session.append_wait(ended); !r) return r.error();
    }
    open[run] = 0;
  }
  return {};
}

}  // namespace

struct SessionServer::Impl {
  Impl(SessionServerOptions o, Session s)
      : options(std::move(o)), session(std::move(s)), telemetry(options.telemetry, session.id()) {}

  SessionServerOptions options;
  Session session;
  detail::RunTelemetry telemetry;
  std::unique_ptr<detail::RunScheduler> scheduler;  // declared last: destroyed (stopped) first

  std::mutex stop_mutex;
  bool stop_reported = false;  // guarded by stop_mutex: session_server.stop emitted
  std::uint64_t counters_id = 0;  // guarded by stop_mutex: the CountersPublisher registration (0: none)

  ~Impl() { stop_publishing_counters(); }

  /// One round of the counters file (run on the publisher thread): the engine's relaxed
  /// statistics and the scheduler's counts; never waits for the hot path.
  CountersSnapshot sample_counters() const {
    CountersSnapshot c;
    SessionStats st = session.stats();
    ServerStatus runs;
    scheduler->fill(runs);
    c.latest_sequence = st.latest_sequence;
    c.stored_sequence = session.log().latest_sequence();
    c.ingest_depth = st.ingest_depth_approx;
    c.events_sequenced = st.events_sequenced;
    c.duplicates = st.duplicates;
    c.batches = st.batches;
    c.oversize_events = st.oversize_events;
    c.store_failures = st.store_failures;
    c.store_failing = st.store_failing;
    c.abandoned_waits = st.abandoned_waits;
    c.runs_active = runs.in_flight_count;
    c.runs_queued = runs.queued_count;
    c.max_concurrent_runs = runs.max_concurrent_runs;
    c.max_queued_runs = runs.max_queued_runs;
    c.ring_capacity = st.ring_capacity;
    c.ring_slot_bytes = st.ring_slot_bytes;
    c.subscriber_count = st.subscribers.size();
    c.stopped = st.stopped || scheduler->stopped();
    c.subscribers = std::move(st.subscribers);
    return c;
  }

  /// publish_counters: creates the file and registers it with the process's publisher.
  Status start_publishing_counters() {
    if (!options.publish_counters) return {};
    std::filesystem::path path;
    if (!options.counters_directory.empty()) {
      path = counters_file_in_directory(options.counters_directory, session.id());
    } else if (auto* log = dynamic_cast<LogStore*>(options.store.get())) {
      path = counters_file_in_store(log->options().root, session.id());
    } else {
      return Status(Errc::validation_error, std::string("publish_counters: a ")
                                                .append(options.store->kind())
                                                .append(" store has no session directory; set counters_directory"));
    }
    auto file = detail::CountersFile::create(path, session.id(), options.counters_interval);
    if (!file) return file.error();
    const std::uint64_t id = detail::CountersPublisher::instance().add(
        std::move(*file), [this] { return sample_counters(); }, options.counters_interval);
    std::lock_guard lock(stop_mutex);
    counters_id = id;
    return {};
  }

  /// The final round (closed) and the file removed; idempotent.
  void stop_publishing_counters() {
    std::uint64_t id = 0;
    {
      std::lock_guard lock(stop_mutex);
      id = std::exchange(counters_id, 0);
    }
    if (id != 0) detail::CountersPublisher::instance().remove(id);
  }

  void emit_count(std::string_view name) {
    if (telemetry.enabled())
      telemetry.emit(name, {{"count", static_cast<std::int64_t>(session.stats().subscribers.size())}});
  }
};

Result<SessionServer> SessionServer::start(SessionServerOptions options) {
  if (Status st = validate(options); !st) return st.error();
  if (!options.store) {
    auto store = default_session_store();
    if (!store) return store.error();
    options.store = *store;
  }
  if (!options.executor && !options.dedicated_run_threads) options.executor = default_run_executor();
  auto id = resolve_session(options);
  if (!id) return id.error();
  SessionOptions engine = options.engine;
  engine.store = options.store;
  engine.session_id = *id;
  auto session = Session::open(std::move(engine));
  if (!session) return session.error();
  auto fail = [&](const Error& e) -> Result<SessionServer> {
    (void)session->stop();
    return e;
  };
  if (!options.new_session)
    if (Status st = close_abandoned_runs(*session, *options.store, *id); !st) return fail(st.error());
  if (options.new_session) {
    EventInput created;
    created.type = EventType::session_created;
    created.data = options.new_session->data;
    created.metadata = options.new_session->metadata;
    if (auto r = session->append_wait(created); !r) return fail(r.error());
    EventInput started;
    started.type = EventType::session_started;
    if (auto r = session->append_wait(started); !r) return fail(r.error());
  }
  std::vector<Producer> producers;  // one per run slot (INV-5)
  for (std::uint32_t i = 0; i < options.max_concurrent_runs; ++i) {
    auto p = session->producer();
    if (!p) return fail(p.error());
    producers.push_back(std::move(*p));
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(*session));
  impl->scheduler = std::make_unique<detail::RunScheduler>(impl->options, impl->session, impl->telemetry,
                                                           std::move(producers));
  impl->scheduler->start();
  if (Status st = impl->start_publishing_counters(); !st) {
    (void)impl->scheduler->stop(StopPolicy::cancel);
    (void)impl->session.stop();
    return st.error();
  }
  if (impl->telemetry.enabled())
    impl->telemetry.emit(telemetry::kServerStart, {{"system_time_ns", detail::wall_clock_ns()}});
  return SessionServer(std::move(impl));
}

SessionServer::SessionServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SessionServer::SessionServer(SessionServer&&) noexcept = default;
SessionServer& SessionServer::operator=(SessionServer&& other) noexcept {
  if (this != &other) {
    if (impl_) (void)stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
SessionServer::~SessionServer() {
  if (impl_) (void)stop();
}

namespace {
constexpr const char* kMovedFrom = "this SessionServer was moved from";
}

const std::string& SessionServer::session_id() const noexcept {
  static const std::string none;
  return impl_ ? impl_->session.id() : none;
}
const SessionServerOptions& SessionServer::options() const noexcept {
  static const SessionServerOptions none;
  return impl_ ? impl_->options : none;
}
Session& SessionServer::session() noexcept {
  static Session none{nullptr};  // moved-from: every call answers Errc::closed
  return impl_ ? impl_->session : none;
}

Result<std::string> SessionServer::submit_run(RunTask task, RunOptions options) {
  if (!impl_) return Error(Errc::closed, kMovedFrom);
  return impl_->scheduler->submit(std::move(task), std::move(options));
}

RunResult SessionServer::await_run(std::string_view run_id, std::chrono::nanoseconds timeout) {
  if (!impl_) return Error(Errc::closed, kMovedFrom);
  return impl_->scheduler->await(run_id, timeout);
}

RunResult SessionServer::execute_run(RunTask task, std::chrono::nanoseconds timeout, RunOptions options) {
  // Holds the run from submission: it may finish, and its result be forgotten (retention 0),
  // before an await by id could find it.
  if (!impl_) return Error(Errc::closed, kMovedFrom);
  std::shared_ptr<detail::RunRecord> run;
  auto id = impl_->scheduler->submit(std::move(task), std::move(options), &run);
  if (!id) return id.error();
  return impl_->scheduler->await(run, timeout);
}

Status SessionServer::cancel_run(std::string_view run_id) {
  return impl_ ? impl_->scheduler->cancel(run_id) : Status(Errc::closed, kMovedFrom);
}
Status SessionServer::interrupt_run(std::string_view run_id) {
  return impl_ ? impl_->scheduler->interrupt(run_id) : Status(Errc::closed, kMovedFrom);
}
Status SessionServer::drain(std::chrono::nanoseconds timeout) {
  return impl_ ? impl_->scheduler->drain(timeout) : Status(Errc::closed, kMovedFrom);
}

ServerStatus SessionServer::status() const {
  ServerStatus s;
  if (!impl_) {
    s.stopped = true;
    return s;
  }
  s.session_id = impl_->session.id();
  impl_->scheduler->fill(s);
  SessionStats stats = impl_->session.stats();
  impl_->telemetry.sample_lapped(stats);
  s.subscriber_count = stats.subscribers.size();
  s.latest_sequence = stats.latest_sequence;
  s.ingest_depth_approx = stats.ingest_depth_approx;
  s.producers = stats.producers;
  s.ring_capacity = stats.ring_capacity;
  s.ring_slot_bytes = stats.ring_slot_bytes;
  s.subscribers = std::move(stats.subscribers);
  s.stopped = impl_->scheduler->stopped() || stats.stopped;
  return s;
}

Status SessionServer::stop() { return impl_ ? stop(impl_->options.stop_policy) : Status(Errc::closed, kMovedFrom); }

Status SessionServer::stop(StopPolicy policy) {
  if (!impl_) return Status(Errc::closed, kMovedFrom);
  const auto begin = std::chrono::steady_clock::now();
  if (Status st = impl_->scheduler->stop(policy); !st) return st;  // only from inside a run
  // Every run has returned: stop the engine, which stores and publishes everything accepted
  // and closes the subscriptions once they have delivered it.
  Status st = impl_->session.stop();
  impl_->stop_publishing_counters();  // its final round shows the stopped session
  bool report = false;
  {
    std::lock_guard lock(impl_->stop_mutex);
    report = !std::exchange(impl_->stop_reported, true);
  }
  if (report && impl_->telemetry.enabled())
    impl_->telemetry.emit(
        telemetry::kServerStop,
        {{"duration_ns",
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - begin).count()},
         {"latest_sequence", static_cast<std::int64_t>(impl_->session.latest_sequence())}});
  return st;
}

bool SessionServer::stopped() const noexcept {
  return !impl_ || impl_->scheduler->stopped() || impl_->session.stopped();
}

Result<std::vector<CursorPosition>> SessionServer::cursors() const {
  if (!impl_) return Error(Errc::closed, kMovedFrom);
  return impl_->session.cursors();
}

Status SessionServer::delete_cursor(std::string_view name) {
  if (!impl_) return Status(Errc::closed, kMovedFrom);
  return impl_->session.delete_cursor(name);
}

Result<Subscription> SessionServer::subscribe(SubscribeOptions options) {
  if (!impl_) return Error(Errc::closed, kMovedFrom);
  auto sub = impl_->session.subscribe(std::move(options));
  if (sub) impl_->emit_count(telemetry::kSubscribe);
  return sub;
}

Result<PushSubscription> SessionServer::subscribe_push(SubscribeOptions options, PushSubscription::Handler handler) {
  if (!impl_) return Error(Errc::closed, kMovedFrom);
  auto sub = impl_->session.subscribe_push(std::move(options), std::move(handler));
  if (sub) impl_->emit_count(telemetry::kSubscribe);
  return sub;
}

Status SessionServer::unsubscribe(Subscription& subscription) {
  Status st = subscription.unsubscribe();
  if (st && impl_) impl_->emit_count(telemetry::kUnsubscribe);
  return st;
}

Status SessionServer::unsubscribe(PushSubscription& subscription) {
  Status st = subscription.unsubscribe();
  if (st && impl_) impl_->emit_count(telemetry::kUnsubscribe);
  return st;
}

}  // namespace sessionring
