#include <sessionring/run_context.hpp>

#include "detail/run_record.hpp"

#include <algorithm>

namespace sessionring {
namespace {

// The five run_* types the runtime appends itself.
bool is_lifecycle(EventType t) noexcept { return t >= EventType::run_started && t <= EventType::run_timeout; }

Status lifecycle_error(EventType t) {
  return Status(Errc::validation_error,
                "event type " + std::string(to_string(t)) + " is appended by the runtime; a task may not emit it");
}

EventInput input(EventType type, std::string_view data, std::string_view metadata) {
  EventInput e;
  e.type = type;
  e.data = data;
  e.metadata = metadata;
  return e;
}

}  // namespace

std::string_view to_string(RunOutcome outcome) noexcept {
  switch (outcome) {
    case RunOutcome::completed: return "completed";
    case RunOutcome::failed: return "failed";
    case RunOutcome::cancelled: return "cancelled";
    case RunOutcome::timed_out: return "timed_out";
  }
  return "invalid";
}

const std::string& RunContext::run_id() const noexcept { return run_.id; }

Status RunContext::emit(EventType type, std::string_view data, std::string_view metadata) {
  return emit(input(type, data, metadata));
}

Status RunContext::emit(EventInput event, const AppendOptions& options) {
  if (is_lifecycle(event.type)) return lifecycle_error(event.type);
  event.run_id = run_.id;
  Status st = producer_.append(event, options);
  if (st) ++emitted_;
  return st;
}

Result<Sequence> RunContext::emit_wait(EventType type, std::string_view data, std::string_view metadata) {
  auto r = emit_wait(input(type, data, metadata));
  if (!r) return r.error();
  return r->sequence;
}

Result<AppendResult> RunContext::emit_wait(EventInput event, const AppendOptions& options) {
  if (is_lifecycle(event.type)) return lifecycle_error(event.type).error();
  event.run_id = run_.id;
  auto r = producer_.append_wait(event, options);
  if (r) ++emitted_;
  return r;
}

bool RunContext::cancel_requested() const noexcept {
  if (run_.stop.stop_requested()) return true;
  if (!deadline_passed()) return false;
  run_.stop.request_stop();  // the deadline passed before the timer fired: keep stop_token() in step
  return true;
}

bool RunContext::deadline_passed() const noexcept {
  return run_.deadline != Deadline::max() && detail::Clock::now() >= run_.deadline;
}

Deadline RunContext::deadline() const noexcept { return run_.deadline; }

std::stop_token RunContext::stop_token() const noexcept { return run_.stop.get_token(); }

bool RunContext::wait_for_cancel(Deadline until) const {
  const Deadline limit = std::min(until, run_.deadline);
  std::unique_lock lock(run_.wait_mutex);
  const std::stop_token token = run_.stop.get_token();
  if (limit == Deadline::max())
    run_.wait_cv.wait(lock, token, [] { return false; });
  else
    run_.wait_cv.wait_until(lock, token, limit, [] { return false; });
  return cancel_requested();
}

}  // namespace sessionring
