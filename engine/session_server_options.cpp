#include <sessionring/memory_store.hpp>
#include <sessionring/session_id.hpp>
#include <sessionring/log_store.hpp>
#include <sessionring/session_server_options.hpp>

#include "detail/run_events.hpp"

#include <string>

namespace sessionring {

Result<std::shared_ptr<SessionStore>> default_session_store() {
  // One process-wide store, so a server can attach to a session another server created: the
  // durable LogStore under ./sessionring-data (docs/store.md), buffered durability.
  static const Result<std::shared_ptr<LogStore>> store = [] {
    LogStoreOptions o;
    o.root = kDefaultStoreDirectory;
    return LogStore::open(o);
  }();
  if (!store) return store.error();
  return std::shared_ptr<SessionStore>(*store);
}

Status validate(const SessionServerOptions& o) {
  auto bad = [](const std::string& option, const std::string& why) {
    return Status(Errc::validation_error, option + " " + why);
  };
  auto range = [&](const char* option, std::uint64_t v, std::uint64_t lo, std::uint64_t hi) -> Status {
    if (v < lo || v > hi)
      return bad(option, "= " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
    return {};
  };
  auto not_negative = [&](const char* option, std::chrono::nanoseconds d) -> Status {
    if (d.count() < 0) return bad(option, "= " + std::to_string(d.count()) + " ns is negative");
    return {};
  };
  if (o.session_id.empty() == !o.new_session.has_value())
    return bad("session_id / new_session", o.session_id.empty()
                                               ? "are both empty: give the id of an existing session or a new_session"
                                               : "are both set: give one of them");
  if (!o.session_id.empty())
    if (Status st = validate_session_id(o.session_id); !st) return bad("session_id", st.error().message());
  if (o.new_session && !o.new_session->session_id.empty())
    if (Status st = validate_session_id(o.new_session->session_id); !st)
      return bad("new_session.session_id", st.error().message());
  if (Status st = range("max_concurrent_runs", o.max_concurrent_runs, 1, 1024); !st) return st;
  if (Status st = range("max_queued_runs", o.max_queued_runs, 0, 1'000'000); !st) return st;
  if (Status st = not_negative("default_run_timeout", o.default_run_timeout); !st) return st;
  if (Status st = range("result_retention_count", o.result_retention_count, 0, 10'000'000); !st) return st;
  if (Status st = not_negative("result_retention_age", o.result_retention_age); !st) return st;
  if (o.lapped_sample_interval < std::chrono::milliseconds(1) || o.lapped_sample_interval > std::chrono::hours(1))
    return bad("lapped_sample_interval", "= " + std::to_string(o.lapped_sample_interval.count()) +
                                             " ns is out of range [1 ms, 1 h]");
  if (Status st = not_negative("stop_drain_timeout", o.stop_drain_timeout); !st) return st;
  if (o.counters_interval < std::chrono::milliseconds(1) || o.counters_interval > std::chrono::minutes(1))
    return bad("counters_interval", "= " + std::to_string(o.counters_interval.count()) +
                                        " ns is out of range [1 ms, 1 min]");
  if (static_cast<unsigned>(o.stop_policy) > static_cast<unsigned>(StopPolicy::cancel))
    return bad("stop_policy", "is not a StopPolicy value");
  if (o.engine.store && o.engine.store != o.store)
    return bad("engine.store", "must be empty: set SessionServerOptions::store instead");
  if (!o.engine.session_id.empty())
    return bad("engine.session_id", "must be empty: set session_id or new_session instead");
  if (o.engine.follow)
    return bad("engine.follow", "must be false: a SessionServer writes its session (follow one with Session::open)");
  if (o.engine.max_producers <= o.max_concurrent_runs)
    return bad("engine.max_producers", "= " + std::to_string(o.engine.max_producers) +
                                           " must exceed max_concurrent_runs = " + std::to_string(o.max_concurrent_runs) +
                                           " (one producer per run slot plus one for control events)");
  // The engine's own knobs: validated with a placeholder store and id, reported as engine.<knob>.
  SessionOptions engine = o.engine;
  engine.store = o.store ? o.store : MemoryStore::create();  // only the knobs are validated here
  engine.session_id = "validate";
  if (Status st = validate(engine); !st) return Status(Errc::validation_error, "engine." + st.error().message());
  if (o.engine.max_event_bytes < detail::kMinServerEventBytes)
    return bad("engine.max_event_bytes", "= " + std::to_string(o.engine.max_event_bytes) + " is below " +
                                             std::to_string(detail::kMinServerEventBytes) +
                                             ", the size the runtime's run lifecycle events need");
  return {};
}

}  // namespace sessionring
