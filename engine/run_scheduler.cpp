// The run side of a SessionServer. docs/runtime.md "Concurrency" walks through these steps.
#include "detail/run_scheduler.hpp"
#include "detail/wall_clock.hpp"

#include <sessionring/event_input.hpp>
#include <sessionring/event_record.hpp>

#include "detail/run_events.hpp"

#include <algorithm>
#include <random>
#include <utility>

namespace sessionring::detail {
namespace {

thread_local const RunScheduler* t_running = nullptr;  // the scheduler whose task this thread executes
constexpr std::size_t kMaxRunIdBytes = 128;

template <class Pred>
bool wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, Deadline deadline, Pred pred) {
  if (deadline == Deadline::max()) {
    cv.wait(lock, pred);
    return true;
  }
  return cv.wait_until(lock, deadline, pred);
}

std::string ms(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

EventInput lifecycle(EventType type, std::string_view run_id, std::string_view data) {
  EventInput e;
  e.type = type;
  e.run_id = run_id;
  e.data = data;
  return e;
}

}  // namespace

std::string_view to_string(RunRecord::CancelReason reason) noexcept {
  switch (reason) {
    case RunRecord::CancelReason::none: return "none";
    case RunRecord::CancelReason::cancel_run: return "cancel_run";
    case RunRecord::CancelReason::interrupt: return "interrupt";
    case RunRecord::CancelReason::stop: return "stop";
  }
  return "invalid";
}

RunScheduler::RunScheduler(const SessionServerOptions& options, Session& session, RunTelemetry& telemetry,
                           std::vector<Producer> producers)
    : options_(options),
      session_(session),
      telemetry_(telemetry),
      session_id_(session.id()),
      results_(options.result_retention_count, options.result_retention_age) {
  slots_.reserve(producers.size());
  for (Producer& p : producers) {
    auto slot = std::make_unique<Slot>();
    slot->producer.emplace(std::move(p));
    slots_.push_back(std::move(slot));
  }
}

RunScheduler::~RunScheduler() { (void)stop(StopPolicy::cancel); }

void RunScheduler::start() {
  if (!options_.executor)
    for (std::uint32_t i = 0; i < slots_.size(); ++i) slots_[i]->thread = std::thread([this, i] { worker(i); });
  if (options_.limiter) limiter_token_ = options_.limiter->on_release([this] { pump(); });
  if (telemetry_.enabled())
    timer_.at(deadline_after(Clock::now(), options_.lapped_sample_interval), [this] { sample_lapped_periodically(); });
}

bool RunScheduler::inside_run() const noexcept { return t_running == this; }

std::string RunScheduler::generate_run_id() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (static_cast<std::uint64_t>(std::random_device{}()) << 32)};
  static constexpr char kHex[] = "0123456789abcdef";
  for (;;) {
    std::uint64_t v = rng();
    std::string id = "run-";
    for (int i = 0; i < 16; ++i, v >>= 4) id += kHex[v & 0xf];
    if (!live_.contains(id) && !results_.contains(id, Clock::now())) return id;
  }
}

Result<std::string> RunScheduler::submit(RunTask task, RunOptions run_options, std::shared_ptr<RunRecord>* record) {
  if (!task) return Error(Errc::validation_error, "submit_run: the task is empty");
  if (run_options.timeout.count() < 0)
    return Error(Errc::validation_error,
                 "RunOptions::timeout = " + std::to_string(run_options.timeout.count()) + " ns is negative");
  if (run_options.run_id.size() > kMaxRunIdBytes)
    return Error(Errc::validation_error, "RunOptions::run_id is longer than " + std::to_string(kMaxRunIdBytes) + " bytes");
  const auto timeout = run_options.timeout.count() > 0 ? run_options.timeout : options_.default_run_timeout;
  std::string id = std::move(run_options.run_id);
  std::size_t queue_length = 0;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    if (!accepting_) return Error(Errc::stopped, "the session server of '" + session_id_ + "' is stopped");
    if (id.empty())
      id = generate_run_id();
    else if (live_.contains(id) || results_.contains(id, now))
      return Error(Errc::validation_error, "run_id '" + id + "' is already in use in session '" + session_id_ + "'");
    // Admit while queued + running < max_queued_runs + max_concurrent_runs: with
    // max_queued_runs = 0 a run is admitted only if a slot is free (DESIGN §7).
    if (queue_.size() + in_flight_ >= std::size_t{options_.max_queued_runs} + options_.max_concurrent_runs)
      return Error(Errc::max_runs_exceeded,
                   "session '" + session_id_ + "': " + std::to_string(in_flight_) + " runs running and " +
                       std::to_string(queue_.size()) + " queued (max_concurrent_runs = " +
                       std::to_string(options_.max_concurrent_runs) +
                       ", max_queued_runs = " + std::to_string(options_.max_queued_runs) + ")");
    auto run = std::make_shared<RunRecord>(id, std::move(task), timeout, now);
    if (record) *record = run;
    queue_.push(run);
    live_.emplace(id, std::move(run));
    queue_length = queue_.size();
  }
  telemetry_.emit(telemetry::kQueueEnqueue, {{"queue_length", static_cast<std::int64_t>(queue_length)}},
                  {{"run_id", id}});
  pump();
  return id;
}

// Starts queued runs while slots (and limiter permits) are free. One thread pumps at a time;
// a caller that finds another pumping asks it to go round once more (repump_), so no start is
// missed and the pump never recurses (an inline executor runs whole runs inside begin_run).
void RunScheduler::pump() {
  std::unique_lock lock(mutex_);
  if (pumping_) {
    repump_ = true;
    return;
  }
  pumping_ = true;
  std::vector<Start> starts;
  do {
    repump_ = false;
    starts.clear();
    while (!queue_.empty() && in_flight_ < slots_.size()) {
      // No permit: the run stays at the head; the limiter's on_release calls pump() again.
      if (options_.limiter && !options_.limiter->try_acquire()) break;
      auto run = queue_.pop();
      const auto slot = static_cast<std::uint32_t>(
          std::find_if(slots_.begin(), slots_.end(), [](const auto& s) { return s->run == nullptr; }) - slots_.begin());
      run->slot = slot;
      run->state = RunRecord::State::starting;
      run->holds_permit = options_.limiter != nullptr;
      run->start_order = ++start_order_;
      run->started = Clock::now();
      run->deadline = run->timeout.count() > 0 ? deadline_after(run->started, run->timeout) : Deadline::max();
      slots_[slot]->run = run;
      ++in_flight_;
      starts.push_back(Start{std::move(run), queue_.size()});
    }
    if (starts.empty()) continue;
    lock.unlock();
    for (const Start& s : starts) begin_run(s);
    lock.lock();
  } while (repump_);
  pumping_ = false;
}

// Called by the pumping thread, in dequeue order, with no lock held.
void RunScheduler::begin_run(const Start& start) {
  RunRecord& run = *start.run;
  const auto queued = std::chrono::duration_cast<std::chrono::nanoseconds>(run.started - run.submitted);
  telemetry_.emit(telemetry::kQueueDequeue, {{"queue_length", static_cast<std::int64_t>(start.queue_length)}},
                  {{"run_id", run.id}});
  // Through the session's shared producer and waited for: run_started events are sequenced in
  // the order runs left the queue (INV-8), each before its run's first event (INV-5).
  const std::string data = run_started_data(queued);
  (void)session_.append_wait(lifecycle(EventType::run_started, run.id, data));
  if (run.deadline != Deadline::max())
    timer_.at(run.deadline, [weak = std::weak_ptr<RunRecord>(start.run)] {
      if (auto r = weak.lock()) r->stop.request_stop();  // the task sees cancel_requested()
    });
  if (telemetry_.enabled())
    telemetry_.emit(telemetry::kRunStart, {{"system_time_ns", wall_clock_ns()}, {"queued_ns", queued.count()}},
                    {{"run_id", run.id}});
  Slot& slot = *slots_[run.slot];
  {
    std::lock_guard lock(mutex_);
    run.state = RunRecord::State::running;
    slot.handed = true;
    if (options_.executor) ++executor_jobs_;
  }
  if (!options_.executor) {
    slot.wake.notify_one();
    return;
  }
  std::optional<Error> refused;
  try {
    options_.executor([this, s = run.slot, r = start.run] {
      execute(s, r);
      job_returned();
    });
  } catch (const std::exception& e) {
    refused.emplace(Errc::run_failed, "the executor refused run '" + run.id + "': " + e.what());
  } catch (...) {
    refused.emplace(Errc::run_failed, "the executor refused run '" + run.id + "'");
  }
  if (refused) {
    finish(run.slot, start.run, std::move(*refused));
    job_returned();
  }
}

// Last step of an executor job (finish() and its pump() are done): stop() waits for this, so
// the job no longer touches the scheduler once the count it waits for reaches zero.
void RunScheduler::job_returned() {
  std::lock_guard lock(mutex_);
  if (--executor_jobs_ == 0) changed_.notify_all();  // under the lock: stop() may destroy us after it
}

void RunScheduler::worker(std::uint32_t index) {
  Slot& slot = *slots_[index];
  std::unique_lock lock(mutex_);
  for (;;) {
    slot.wake.wait(lock, [&] { return slot.handed || slot.exit; });
    if (!slot.handed) return;  // exit
    auto run = slot.run;
    lock.unlock();
    execute(index, run);  // finish() clears slot.handed before this thread waits again
    lock.lock();
  }
}

void RunScheduler::execute(std::uint32_t index, const std::shared_ptr<RunRecord>& run) {
  RunTask task = std::exchange(run->task, nullptr);  // its captures are released when the run ends
  RunContext ctx(*run, *slots_[index]->producer, session_id_);
  std::optional<RunResult> result;
  t_running = this;
  try {
    result.emplace(task(ctx));
  } catch (const std::exception& e) {
    result.emplace(Error(Errc::run_failed, "run '" + run->id + "' threw: " + e.what()));
  } catch (...) {
    result.emplace(Error(Errc::run_failed, "run '" + run->id + "' threw a non-std::exception"));
  }
  t_running = nullptr;
  task = nullptr;
  finish(index, run, std::move(*result));
}

// Decides the outcome, appends the terminal event through the slot's producer (after the run's
// own events, INV-5), gives the permit back, then frees the slot and publishes the result.
void RunScheduler::finish(std::uint32_t index, const std::shared_ptr<RunRecord>& run, RunResult result) {
  const auto now = Clock::now();
  RunRecord::CancelReason reason;
  bool permit = false;
  {
    std::lock_guard lock(mutex_);
    reason = run->cancel_reason;
    permit = run->holds_permit;
    run->holds_permit = false;
    run->state = RunRecord::State::finishing;
  }
  const auto duration = std::chrono::duration_cast<std::chrono::nanoseconds>(now - run->started);
  EventType type;
  std::string data;
  if (reason != RunRecord::CancelReason::none) {
    run->outcome = RunOutcome::cancelled;
    type = EventType::run_cancelled;
    data = run_cancelled_data(duration, to_string(reason));
    result = Error(Errc::cancelled, "run '" + run->id + "' was cancelled (" + std::string(to_string(reason)) + ")");
  } else if (run->deadline != Deadline::max() && now >= run->deadline) {
    run->outcome = RunOutcome::timed_out;
    type = EventType::run_timeout;
    data = run_timeout_data(duration, run->timeout);
    result = Error(Errc::timeout, "run '" + run->id + "' passed its deadline of " + ms(run->timeout));
  } else if (!result.ok()) {
    run->outcome = RunOutcome::failed;
    type = EventType::run_failed;
    // What is left of max_event_bytes after the record header, the generated id and the run id.
    const std::size_t room = session_.options().max_event_bytes - EventRecord::kHeaderBytes - 32 - run->id.size();
    data = run_failed_data(duration, result.error(), room);
  } else {
    run->outcome = RunOutcome::completed;
    type = EventType::run_completed;
    data = run_completed_data(duration, result->size());
  }
  Slot& slot = *slots_[index];
  (void)slot.producer->append_wait(lifecycle(type, run->id, data));
  if (permit) options_.limiter->release();  // always, however the run ended
  telemetry_.emit(telemetry::kRunStop, {{"duration_ns", duration.count()}},
                  {{"run_id", run->id}, {"outcome", to_string(run->outcome)}});
  {
    std::lock_guard lock(mutex_);
    slot.run = nullptr;
    slot.handed = false;
    --in_flight_;
    live_.erase(run->id);
    record(run, std::move(result), Clock::now());
  }
  changed_.notify_all();
  pump();
}

void RunScheduler::record(const std::shared_ptr<RunRecord>& run, RunResult result, Clock::time_point now) {
  run->result.emplace(std::move(result));
  run->state = RunRecord::State::finished;
  run->finished_at = now;
  results_.add(run, now);
}

void RunScheduler::cancel_queued(const std::shared_ptr<RunRecord>& run, RunRecord::CancelReason reason,
                                 bool wait_stored) {
  live_.erase(run->id);
  run->task = nullptr;
  run->outcome = RunOutcome::cancelled;
  const std::string data = run_cancelled_data(std::chrono::nanoseconds::zero(), to_string(reason));
  const EventInput e = lifecycle(EventType::run_cancelled, run->id, data);
  // The shared producer is FIFO: waiting for the last of several cancels stores them all.
  if (wait_stored)
    (void)session_.append_wait(e);
  else
    (void)session_.append(e);
  record(run, Error(Errc::cancelled, "run '" + run->id + "' was cancelled while queued (" +
                                         std::string(to_string(reason)) + ")"),
         Clock::now());
}

bool RunScheduler::request_cancel(RunRecord& run, RunRecord::CancelReason reason) {
  if (run.cancel_reason != RunRecord::CancelReason::none) return false;
  run.cancel_reason = reason;
  run.stop.request_stop();  // wakes RunContext::wait_for_cancel through the stop_token
  return true;
}

RunResult RunScheduler::await(std::string_view run_id, std::chrono::nanoseconds timeout) {
  if (timeout.count() < 0)
    return Error(Errc::validation_error, "await_run: timeout = " + std::to_string(timeout.count()) + " ns is negative");
  const auto now = Clock::now();
  std::unique_lock lock(mutex_);
  std::shared_ptr<RunRecord> run;
  if (auto it = live_.find(run_id); it != live_.end())
    run = it->second;
  else
    run = results_.find(run_id, now);
  if (!run)  // at once, never a hang (DESIGN §7)
    return Error(Errc::run_not_found, "session '" + session_id_ + "' has no run '" + std::string(run_id) +
                                          "' (not queued, not running, no retained result)");
  return wait_result(lock, run, now, timeout);
}

RunResult RunScheduler::await(const std::shared_ptr<RunRecord>& run, std::chrono::nanoseconds timeout) {
  if (timeout.count() < 0)
    return Error(Errc::validation_error, "await_run: timeout = " + std::to_string(timeout.count()) + " ns is negative");
  const auto now = Clock::now();
  std::unique_lock lock(mutex_);
  return wait_result(lock, run, now, timeout);
}

RunResult RunScheduler::wait_result(std::unique_lock<std::mutex>& lock, const std::shared_ptr<RunRecord>& run,
                                    Clock::time_point now, std::chrono::nanoseconds timeout) {
  if (!wait_until(changed_, lock, deadline_after(now, timeout), [&] { return run->state == RunRecord::State::finished; }))
    return Error(Errc::timeout, "run '" + run->id + "' of session '" + session_id_ + "' did not finish within " + ms(timeout));
  return *run->result;
}

Status RunScheduler::cancel(std::string_view run_id) {
  std::unique_lock lock(mutex_);
  const auto it = live_.find(run_id);
  if (it == live_.end()) {
    if (results_.contains(run_id, Clock::now())) return {};  // already finished
    return Status(Errc::run_not_found, "session '" + session_id_ + "' has no run '" + std::string(run_id) +
                                           "' (not queued, not running, no retained result)");
  }
  const auto run = it->second;
  std::string_view event;
  if (run->state == RunRecord::State::queued) {
    (void)queue_.remove(run->id);
    cancel_queued(run, RunRecord::CancelReason::cancel_run, true);
    event = telemetry::kCancelQueued;
  } else if (run->in_flight() && request_cancel(*run, RunRecord::CancelReason::cancel_run)) {
    event = telemetry::kCancelActive;
  }
  lock.unlock();
  changed_.notify_all();
  if (!event.empty()) telemetry_.emit(event, {}, {{"run_id", run->id}, {"reason", "cancel_run"}});
  return {};
}

Status RunScheduler::interrupt(std::string_view run_id) {
  std::unique_lock lock(mutex_);
  const auto it = live_.find(run_id);
  if (it == live_.end() || !it->second->in_flight())
    return Status(Errc::run_not_found, "run '" + std::string(run_id) + "' is not running in session '" + session_id_ + "'");
  const auto run = it->second;
  if (options_.interrupt) {
    lock.unlock();
    return options_.interrupt(session_id_, run->id);
  }
  const bool first = request_cancel(*run, RunRecord::CancelReason::interrupt);
  lock.unlock();
  if (first) telemetry_.emit(telemetry::kCancelActive, {}, {{"run_id", run->id}, {"reason", "interrupt"}});
  return {};
}

Status RunScheduler::drain(std::chrono::nanoseconds timeout) {
  if (inside_run())
    return Status(Errc::validation_error, "drain() called from inside a run of session '" + session_id_ +
                                              "' would wait for itself");
  if (timeout.count() < 0)
    return Status(Errc::validation_error, "drain: timeout = " + std::to_string(timeout.count()) + " ns is negative");
  const auto begin = Clock::now();
  std::unique_lock lock(mutex_);
  if (!wait_until(changed_, lock, deadline_after(begin, timeout), [&] { return idle(); }))
    return Status(Errc::timeout, "drain: " + std::to_string(queue_.size()) + " queued and " + std::to_string(in_flight_) +
                                     " running runs remain in session '" + session_id_ + "' after " + ms(timeout));
  lock.unlock();
  telemetry_.emit(telemetry::kDrainComplete,
                  {{"duration_ns", std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - begin).count()}});
  return {};
}

Status RunScheduler::stop(StopPolicy policy) {
  if (inside_run())
    return Status(Errc::validation_error, "stop() called from inside a run of session '" + session_id_ +
                                              "' would wait for itself");
  std::unique_lock lock(mutex_);
  if (stop_begun_) {
    changed_.wait(lock, [&] { return stopped_; });
    return stop_status_;
  }
  stop_begun_ = true;
  accepting_ = false;
  if (policy == StopPolicy::drain)
    (void)wait_until(changed_, lock, deadline_after(Clock::now(), options_.stop_drain_timeout), [&] { return idle(); });
  // Cancel what is left: queued runs end here, running ones when their task returns.
  std::vector<std::pair<std::string, std::string_view>> cancelled;  // run id, telemetry name
  auto queued = queue_.take_all();
  for (std::size_t i = 0; i < queued.size(); ++i) {
    cancel_queued(queued[i], RunRecord::CancelReason::stop, i + 1 == queued.size());
    cancelled.emplace_back(queued[i]->id, telemetry::kCancelQueued);
  }
  for (auto& [id, run] : live_)
    if (run->in_flight() && request_cancel(*run, RunRecord::CancelReason::stop))
      cancelled.emplace_back(id, telemetry::kCancelActive);
  changed_.notify_all();
  lock.unlock();
  for (const auto& [id, name] : cancelled) telemetry_.emit(name, {}, {{"run_id", id}, {"reason", "stop"}});
  lock.lock();
  // Tasks must return (a thread cannot be killed), and executor jobs must leave our code.
  changed_.wait(lock, [&] { return in_flight_ == 0 && executor_jobs_ == 0; });
  for (auto& slot : slots_) slot->exit = true;
  lock.unlock();
  for (auto& slot : slots_) {
    slot->wake.notify_one();
    if (slot->thread.joinable()) slot->thread.join();
  }
  timer_.stop();
  limiter_token_.reset();  // waits for a pump() the limiter is running for us
  lock.lock();
  stopped_ = true;
  changed_.notify_all();
  return stop_status_;
}

bool RunScheduler::stopped() const {
  std::lock_guard lock(mutex_);
  return stopped_;
}

void RunScheduler::fill(ServerStatus& status) const {
  std::lock_guard lock(mutex_);
  status.queued_runs = queue_.ids();
  status.queued_count = status.queued_runs.size();
  std::vector<const RunRecord*> running;
  for (const auto& slot : slots_)
    if (slot->run) running.push_back(slot->run.get());
  std::sort(running.begin(), running.end(), [](auto* a, auto* b) { return a->start_order < b->start_order; });
  for (const RunRecord* r : running) status.in_flight_runs.push_back(r->id);
  status.in_flight_count = running.size();
  status.max_concurrent_runs = options_.max_concurrent_runs;
  status.max_queued_runs = options_.max_queued_runs;
}

void RunScheduler::sample_lapped_periodically() {
  telemetry_.sample_lapped(session_.stats());
  timer_.at(deadline_after(Clock::now(), options_.lapped_sample_interval), [this] { sample_lapped_periodically(); });
}

}  // namespace sessionring::detail
