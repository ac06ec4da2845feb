// SessionServer: the per-session runtime a host uses (docs/runtime.md). It owns one Session
// (the core engine) and runs the session's runs: a FIFO run queue bounded by max_queued_runs
// in front of max_concurrent_runs run slots (INV-8), submit / await / cancel / interrupt,
// lifecycle events (run_started, run_completed, run_failed, run_cancelled, run_timeout),
// status, drain and stop, subscriptions and telemetry.
//
// Each run slot owns a Producer of the session; a run's events (RunContext::emit) and its
// terminal event go through its slot's producer, so they keep their order (INV-5).
//
// Movable handle; destroying it stops the server (as stop()). All member functions may be
// called from any thread, except stop() and drain() from inside a run of the same server
// (Errc::validation_error: they would wait for themselves); destroying the server from inside
// one of its runs is a programming error. A moved-from server answers every call with
// Errc::closed (observers: empty values, stopped() true).
#pragma once
#include <sessionring/push_subscription.hpp>
#include <sessionring/result.hpp>
#include <sessionring/run_context.hpp>
#include <sessionring/run_options.hpp>
#include <sessionring/run_result.hpp>
#include <sessionring/server_status.hpp>
#include <sessionring/session.hpp>
#include <sessionring/session_server_options.hpp>
#include <sessionring/subscribe_options.hpp>
#include <sessionring/subscription.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace sessionring {

class SessionServer {
 public:
  static constexpr std::chrono::nanoseconds kDefaultAwaitTimeout = std::chrono::seconds(60);

  /// Validates the options, then creates the session (appending session_created and
  /// session_started) or attaches to the existing one (Errc::not_found if the store does not
  /// hold it), opens its engine and starts the run slots.
  static Result<SessionServer> start(SessionServerOptions options);

  SessionServer(SessionServer&&) noexcept;
  SessionServer& operator=(SessionServer&&) noexcept;
  ~SessionServer();

  const std::string& session_id() const noexcept;
  const SessionServerOptions& options() const noexcept;
  /// The engine, for producers of the host's own, log() reads and stats().
  Session& session() noexcept;

  /// Queues a run and returns its id; it starts when a slot (and a limiter permit) is free,
  /// after every run submitted before it. Errors: max_runs_exceeded (queue full),
  /// validation_error (empty task, bad or duplicate run id, negative timeout), stopped.
  Result<std::string> submit_run(RunTask task, RunOptions options = {});

  /// Waits for the run to end: its output, or its error (the task's error, Errc::run_failed
  /// if it threw, Errc::cancelled, Errc::timeout for its deadline). Errc::run_not_found at once
  /// for an id that is not queued, running or retained; Errc::timeout when `timeout` passes
  /// first (the run goes on). When it returns, the run's terminal event is stored.
  RunResult await_run(std::string_view run_id, std::chrono::nanoseconds timeout = kDefaultAwaitTimeout);

  /// submit_run, then await_run.
  RunResult execute_run(RunTask task, std::chrono::nanoseconds timeout = kDefaultAwaitTimeout, RunOptions options = {});

  /// Queued: removed, run_cancelled appended, awaiters get Errc::cancelled. Running: its
  /// cancellation is requested; it ends with run_cancelled when the task returns. Finished
  /// (retained): Ok. Otherwise Errc::run_not_found.
  Status cancel_run(std::string_view run_id);

  /// A running run: the interrupt hook's answer when one is configured, else cancel_run.
  /// Not running: Errc::run_not_found.
  Status interrupt_run(std::string_view run_id);

  ServerStatus status() const;

  /// Ok once the run queue and the slots are empty (runs may still be submitted meanwhile);
  /// Errc::timeout if they are not empty when `timeout` passes.
  Status drain(std::chrono::nanoseconds timeout);

  /// Stops accepting runs, drains or cancels what is left (SessionServerOptions::stop_policy),
  /// waits for running tasks to return, then stops the session: everything accepted is stored
  /// and published, and every subscription ends in SubscriptionState::closed after delivering
  /// it. Idempotent; a concurrent call waits for the first. Returns the first error met.
  Status stop();
  Status stop(StopPolicy policy);
  /// True once stop() has ended the runs (or the engine was stopped through session()).
  bool stopped() const noexcept;

  /// Session::subscribe / subscribe_push, plus the subscribe telemetry event.
  Result<Subscription> subscribe(SubscribeOptions options = {});
  Result<PushSubscription> subscribe_push(SubscribeOptions options, PushSubscription::Handler handler);
  /// Unsubscribes, plus the unsubscribe telemetry event. A second call: Errc::closed.
  /// (Destroying a subscription also detaches it, without the telemetry event.)
  Status unsubscribe(Subscription& subscription);
  Status unsubscribe(PushSubscription& subscription);
  /// Session::cursors / delete_cursor: the session's durable named cursors with their lag.
  Result<std::vector<CursorPosition>> cursors() const;
  Status delete_cursor(std::string_view name);

 private:
  struct Impl;
  explicit SessionServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sessionring
