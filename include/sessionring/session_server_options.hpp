// Options of one SessionServer (SessionServer::start validates every field and answers
// Errc::validation_error naming the option). docs/runtime.md explains each.
#pragma once
#include <sessionring/result.hpp>
#include <sessionring/run_limiter.hpp>
#include <sessionring/session_options.hpp>
#include <sessionring/session_store.hpp>
#include <sessionring/telemetry_sink.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sessionring {

/// Attributes of a session that start() creates; they go into its session_created event.
struct NewSession {
  std::string session_id;  ///< empty: generated ("session-" + 32 hex digits); else must not hold events yet
  std::string data;        ///< session_created data (JSON by convention)
  std::string metadata;    ///< session_created metadata
};

/// What stop() does with runs that are still queued or running.
enum class StopPolicy : std::uint8_t {
  drain,   ///< let them finish (up to stop_drain_timeout), then cancel what is left
  cancel,  ///< cancel queued runs and ask running ones to stop at once
};

/// Runs a job on a thread of the host's choosing. Must run every job it accepts, exactly once
/// (SessionServer::stop waits for the runs it handed over). May throw to refuse a job: the run
/// then fails with Errc::run_failed.
using RunExecutor = std::function<void(std::function<void()> job)>;

/// The host's interrupt hook for interrupt_run(session_id, run_id) (e.g. a signal to a
/// provider process); its status is interrupt_run's answer.
using InterruptHook = std::function<Status(std::string_view session_id, std::string_view run_id)>;

struct SessionServerOptions {
  /// Where the session lives. Null: default_session_store() (a LogStore under ./sessionring-data).
  std::shared_ptr<SessionStore> store;

  /// Exactly one of these: attach to an existing session of the store (continuing its
  /// sequence; nothing is appended), or create one (session_created + session_started).
  std::string session_id;
  std::optional<NewSession> new_session;

  std::uint32_t max_concurrent_runs = 1;  ///< run slots; [1, 1024]
  std::uint32_t max_queued_runs = 100;    ///< runs waiting for a slot; [0, 1'000'000]; 0: start at once or max_runs_exceeded
  /// Deadline of a run whose RunOptions::timeout is 0; 0: none. Not negative.
  std::chrono::nanoseconds default_run_timeout{0};

  /// Finished results kept for await_run / cancel_run: at most this many (oldest forgotten
  /// first; [0, 10'000'000]) and none older than result_retention_age (not negative; 0: a
  /// result is forgotten once its awaiters have it). A forgotten run is run_not_found.
  std::uint32_t result_retention_count = 1000;
  std::chrono::nanoseconds result_retention_age = std::chrono::minutes(10);

  /// Ring and queue knobs, wait strategy (docs/tuning.md). Its `store` and `session_id` are
  /// filled in by the server: leave them empty. max_producers must be > max_concurrent_runs
  /// (one producer per slot, one for the server's control events); max_event_bytes at least
  /// 512 (every lifecycle event must fit: docs/runtime.md "Lifecycle events").
  SessionOptions engine;

  /// Where runs execute. Empty: default_run_executor(), the process-wide pool that grows with
  /// the runs executing and shrinks when idle (an idle server holds no thread), unless
  /// dedicated_run_threads. Otherwise runs execute on this executor.
  RunExecutor executor;
  /// With an empty executor: start one thread per run slot for this server (held while the
  /// server lives), as before the shared executor.
  bool dedicated_run_threads = false;
  /// Shared between servers to bound runs across them; a permit is taken before a run leaves
  /// the queue and always given back.
  std::shared_ptr<RunLimiter> limiter;
  /// Receives the runtime's telemetry events; null: none emitted.
  std::shared_ptr<TelemetrySink> telemetry;
  /// How often the server samples subscribers for subscriber.lapped (only with a sink);
  /// [1 ms, 1 h].
  std::chrono::nanoseconds lapped_sample_interval = std::chrono::seconds(1);
  /// interrupt_run's hook; empty: interrupt_run cancels.
  InterruptHook interrupt;

  /// Publish this server's counters (session, runs, every subscriber's cursor, lag, laps, store
  /// reads) in a small memory-mapped file that `sessionring stat` and CountersReader read from
  /// another process (docs/telemetry.md "Counters file"). Off by default. On, one thread per
  /// process (started with the first such server, ended with the last) samples every server's
  /// statistics each counters_interval; the event path is never touched.
  bool publish_counters = false;
  /// Where the file goes: empty = <LogStore root>/<session>/COUNTERS (a LogStore only; start()
  /// answers validation_error for another store without a directory); else
  /// <counters_directory>/<session>.counters (the directory must exist).
  std::filesystem::path counters_directory;
  /// How often the counters file is refreshed; [1 ms, 1 min].
  std::chrono::nanoseconds counters_interval = std::chrono::milliseconds(100);

  StopPolicy stop_policy = StopPolicy::drain;
  std::chrono::nanoseconds stop_drain_timeout = std::chrono::seconds(30);  ///< not negative
};

/// Checks every field; Errc::validation_error naming the first bad option.
Status validate(const SessionServerOptions& options);

/// Directory of the default store, relative to the working directory.
inline constexpr const char* kDefaultStoreDirectory = "sessionring-data";

/// The store a server uses when SessionServerOptions::store is null: one process-wide LogStore
/// under ./sessionring-data (buffered durability), opened on first use; its error otherwise.
Result<std::shared_ptr<SessionStore>> default_session_store();

/// The executor of servers that name none (docs/runtime.md "Run threads"): one process-wide
/// pool whose threads are created when a run starts and no thread is idle, up to 1024 (runs
/// beyond that wait for a thread, in order), and exit after 5 s without work. Runs mostly wait
/// on I/O (a model call, a tool), so it is not capped at the number of cores.
RunExecutor default_run_executor();

}  // namespace sessionring
