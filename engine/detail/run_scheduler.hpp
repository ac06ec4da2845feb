// RunScheduler: the run side of a SessionServer (docs/runtime.md "Concurrency"): the FIFO run
// queue, the run slots (each with its own Producer, INV-5), the optional shared limiter, the
// finished results, deadlines, drain and stop. The session itself belongs to the server.
//
// Control plane under one mutex (`mutex_`): queue, slots, live runs, results, flags. Starting
// runs is done by one "pump" at a time (pumping_), which takes runs off the queue in order and
// appends their run_started events one after the other, so run_started events are sequenced in
// submission order (INV-8) and precede each run's own events. Lock order: mutex_ -> the
// limiter's mutex (try_acquire); mutex_ -> the session's shared-producer mutex (cancel appends
// run_cancelled), never the reverse. The limiter calls pump() with none of its locks held.
// Telemetry and host callbacks (executor, interrupt hook) are called with no lock held.
#pragma once
#include <sessionring/run_limiter.hpp>
#include <sessionring/run_options.hpp>
#include <sessionring/server_status.hpp>
#include <sessionring/session.hpp>
#include <sessionring/session_server_options.hpp>

#include "detail/run_queue.hpp"
#include "detail/run_record.hpp"
#include "detail/run_results.hpp"
#include "detail/run_telemetry.hpp"
#include "detail/run_timer.hpp"

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace sessionring::detail {

class RunScheduler {
 public:
  /// `session` and `telemetry` must outlive the scheduler. `producers`: one per slot.
  RunScheduler(const SessionServerOptions& options, Session& session, RunTelemetry& telemetry,
               std::vector<Producer> producers);
  ~RunScheduler();
  RunScheduler(const RunScheduler&) = delete;
  RunScheduler& operator=(const RunScheduler&) = delete;

  /// Starts the slot threads (unless an executor is configured), the limiter listener and
  /// the lapped sampler (with a telemetry sink).
  void start();

  /// `record`, when given, receives the queued run: execute_run awaits it through that, so a
  /// run that finishes (and whose result is forgotten: retention 0) before the await still
  /// answers its own result.
  Result<std::string> submit(RunTask task, RunOptions options, std::shared_ptr<RunRecord>* record = nullptr);
  RunResult await(std::string_view run_id, std::chrono::nanoseconds timeout);
  RunResult await(const std::shared_ptr<RunRecord>& run, std::chrono::nanoseconds timeout);
  Status cancel(std::string_view run_id);
  Status interrupt(std::string_view run_id);
  Status drain(std::chrono::nanoseconds timeout);
  /// Stops the run side (not the session): no new runs; drain or cancel; waits for every
  /// running task to return; joins the slot threads. Idempotent; concurrent callers wait.
  Status stop(StopPolicy policy);
  bool stopped() const;
  /// Fills the run fields of a status snapshot.
  void fill(ServerStatus& status) const;
  /// True when the calling thread is executing a task of this scheduler.
  bool inside_run() const noexcept;

 private:
  struct Slot {
    std::optional<Producer> producer;  // used only by the thread executing this slot's run
    std::shared_ptr<RunRecord> run;    // guarded: the run holding this slot, dequeue to finish
    bool handed = false;               // guarded: the run may execute (thread mode: wakes the worker)
    bool exit = false;                 // guarded: the worker thread ends
    std::condition_variable wake;      // the slot's worker thread sleeps here
    std::thread thread;
  };
  struct Start {
    std::shared_ptr<RunRecord> run;
    std::size_t queue_length;
  };

  /// Waits (lock held on entry and exit) until `run` has finished or `timeout` from `now` passed.
  RunResult wait_result(std::unique_lock<std::mutex>& lock, const std::shared_ptr<RunRecord>& run,
                        Clock::time_point now, std::chrono::nanoseconds timeout);
  void pump();
  void begin_run(const Start& start);
  void worker(std::uint32_t slot);
  void execute(std::uint32_t slot, const std::shared_ptr<RunRecord>& run);
  void finish(std::uint32_t slot, const std::shared_ptr<RunRecord>& run, RunResult result);
  void job_returned();
  /// Under mutex_, for a run already taken off the queue: appends its run_cancelled (waiting
  /// until stored if asked) and records Errc::cancelled.
  void cancel_queued(const std::shared_ptr<RunRecord>& run, RunRecord::CancelReason reason, bool wait_stored);
  /// Under mutex_: asks an in-flight run to stop; false if it was already asked.
  bool request_cancel(RunRecord& run, RunRecord::CancelReason reason);
  void record(const std::shared_ptr<RunRecord>& run, RunResult result, Clock::time_point now);
  bool idle() const noexcept { return queue_.empty() && in_flight_ == 0; }
  void sample_lapped_periodically();
  std::string generate_run_id();

  const SessionServerOptions& options_;
  Session& session_;
  RunTelemetry& telemetry_;
  const std::string session_id_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;  // a run finished or left the queue, or stop progressed
  RunQueue queue_;                                                         // guarded
  std::map<std::string, std::shared_ptr<RunRecord>, std::less<>> live_;   // guarded: queued + in flight
  RunResults results_;                                                     // guarded
  std::vector<std::unique_ptr<Slot>> slots_;                               // vector fixed after construction
  std::uint32_t in_flight_ = 0;    // guarded: slots holding a run
  std::uint32_t executor_jobs_ = 0;  // guarded: jobs handed to the executor that have not returned yet
  std::uint64_t start_order_ = 0;  // guarded
  bool accepting_ = true;          // guarded: false once stop() began
  bool stop_begun_ = false;        // guarded
  bool stopped_ = false;           // guarded: stop() completed
  Status stop_status_;             // guarded
  bool pumping_ = false;           // guarded: a thread is in pump()
  bool repump_ = false;            // guarded: pump() again before leaving

  RunTimer timer_;
  std::shared_ptr<void> limiter_token_;  // on_release registration; reset by stop()
};

}  // namespace sessionring::detail
