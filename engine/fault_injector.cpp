// FaultInjector: configuration under a mutex, a relaxed "armed" bit per operation so an
// unconfigured operation costs one load (docs/store.md "Faults and fault injection").
#include <sessionring/fault_injector.hpp>

#include <string>
#include <thread>

namespace sessionring {
namespace {

constexpr std::int64_t kMaxDelayNs = 3'600'000'000'000;  // 1 h

const char* op_name(FileOp op) noexcept {
  switch (op) {
    case FileOp::write: return "write";
    case FileOp::sync: return "sync";
    case FileOp::read: return "read";
    case FileOp::truncate: return "truncate";
  }
  return "invalid";
}

Status check_op(FileOp op) {
  if (static_cast<std::size_t>(op) >= kFileOpCount)
    return Status(Errc::validation_error, "FaultInjector: op " + std::to_string(static_cast<unsigned>(op)) +
                                              " is not a FileOp (write, sync, read, truncate)");
  return {};
}

Status check_error(FileOp op, int error) {
  if (error < 1 || error > 4095)
    return Status(Errc::validation_error, std::string("FaultInjector: error for ") + op_name(op) + " is " +
                                              std::to_string(error) + "; it must be an errno value in [1, 4095] (EIO, ENOSPC, ...)");
  return {};
}

}  // namespace

void FaultInjector::rearm_locked(std::size_t op) noexcept {
  const Rule& r = rules_[op];
  const std::uint32_t bit = 1u << op;
  const bool armed = r.mode != Mode::off || r.delay_ns > 0;
  // relaxed: see armed_'s declaration (mutex_ is held; before() decides under it).
  if (armed)
    armed_.fetch_or(bit, std::memory_order_relaxed);
  else
    armed_.fetch_and(~bit, std::memory_order_relaxed);
}

Status FaultInjector::fail(FileOp op, int error) {
  if (Status st = check_op(op); !st) return st;
  if (Status st = check_error(op, error); !st) return st;
  std::lock_guard lock(mutex_);
  Rule& r = rules_[static_cast<std::size_t>(op)];
  r.mode = Mode::all;
  r.error = error;
  r.budget = 0;
  rearm_locked(static_cast<std::size_t>(op));
  return {};
}

Status FaultInjector::fail_next(FileOp op, std::uint64_t count, int error) {
  if (Status st = check_op(op); !st) return st;
  if (Status st = check_error(op, error); !st) return st;
  if (count == 0)
    return Status(Errc::validation_error, std::string("FaultInjector::fail_next(") + op_name(op) +
                                              "): count must be at least 1 (heal() clears a rule)");
  std::lock_guard lock(mutex_);
  Rule& r = rules_[static_cast<std::size_t>(op)];
  r.mode = Mode::next;
  r.error = error;
  r.budget = count;
  rearm_locked(static_cast<std::size_t>(op));
  return {};
}

Status FaultInjector::fail_writes_after(std::uint64_t bytes, int error) {
  if (Status st = check_error(FileOp::write, error); !st) return st;
  std::lock_guard lock(mutex_);
  Rule& r = rules_[static_cast<std::size_t>(FileOp::write)];
  r.mode = Mode::after_bytes;
  r.error = error;
  r.budget = bytes;
  rearm_locked(static_cast<std::size_t>(FileOp::write));
  return {};
}

Status FaultInjector::delay(FileOp op, std::chrono::nanoseconds d) {
  if (Status st = check_op(op); !st) return st;
  if (d.count() < 0 || d.count() > kMaxDelayNs)
    return Status(Errc::validation_error, std::string("FaultInjector::delay(") + op_name(op) + "): " +
                                              std::to_string(d.count()) + " ns is outside [0, 1 h]");
  std::lock_guard lock(mutex_);
  rules_[static_cast<std::size_t>(op)].delay_ns = d.count();
  rearm_locked(static_cast<std::size_t>(op));
  return {};
}

Status FaultInjector::heal(FileOp op) {
  if (Status st = check_op(op); !st) return st;
  std::lock_guard lock(mutex_);
  Rule& r = rules_[static_cast<std::size_t>(op)];
  r.mode = Mode::off;
  r.error = 0;
  r.budget = 0;
  rearm_locked(static_cast<std::size_t>(op));
  return {};
}

void FaultInjector::heal_all() noexcept {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < kFileOpCount; ++i) {
    rules_[i] = Rule{};
    rearm_locked(i);
  }
}

std::uint64_t FaultInjector::injected(FileOp op) const noexcept {
  const auto i = static_cast<std::size_t>(op);
  return i < kFileOpCount ? injected_[i].load(std::memory_order_relaxed) : 0;  // relaxed: statistics
}

std::uint64_t FaultInjector::injected_total() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& c : injected_) sum += c.load(std::memory_order_relaxed);  // relaxed: statistics
  return sum;
}

std::uint64_t FaultInjector::delayed(FileOp op) const noexcept {
  const auto i = static_cast<std::size_t>(op);
  return i < kFileOpCount ? delayed_[i].load(std::memory_order_relaxed) : 0;  // relaxed: statistics
}

FaultInjector::Decision FaultInjector::before(FileOp op, std::size_t bytes) noexcept {
  const auto i = static_cast<std::size_t>(op);
  if (i >= kFileOpCount) return {};
  // relaxed: a filter only (see armed_); the rule itself is read under mutex_ below.
  if ((armed_.load(std::memory_order_relaxed) & (1u << i)) == 0) return {};
  std::int64_t delay_ns = 0;
  {
    std::lock_guard lock(mutex_);
    delay_ns = rules_[i].delay_ns;
  }
  if (delay_ns > 0) {
    delayed_[i].fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    std::this_thread::sleep_for(std::chrono::nanoseconds(delay_ns));
  }
  Decision d;
  {
    std::lock_guard lock(mutex_);
    Rule& r = rules_[i];
    switch (r.mode) {
      case Mode::off:
        return {};
      case Mode::all:
        d.error = r.error;
        break;
      case Mode::next:
        d.error = r.error;
        if (--r.budget == 0) {
          r.mode = Mode::off;
          r.error = 0;
          rearm_locked(i);
        }
        break;
      case Mode::after_bytes:
        if (op == FileOp::write && bytes <= r.budget) {
          r.budget -= bytes;
          return {};
        }
        d.error = r.error;
        d.allowed = op == FileOp::write ? static_cast<std::size_t>(r.budget) : 0;
        r.budget = 0;  // the disk stays full
        break;
    }
  }
  injected_[i].fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  return d;
}

}  // namespace sessionring
