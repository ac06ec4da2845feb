// How long this machine takes a running thread away: the floor under any tail latency
// (docs/performance.md "The machine's own tail"). T threads (default 2, one per core here) each
// read the clock in a loop, pausing (default) or calling sched_yield between reads, and record
// every gap between two reads longer than 20 µs: the thread was not running, whatever it did.
// An event whose path crosses a thread while it is away waits the rest of the gap, so the share
// of wall time that lies more than L into such a gap bounds from below the share of evenly
// emitted events that wait longer than L, for any design that hands events through that thread
// (a sequencer, a subscriber; not the emitter, which stamps an event only when it runs again).
// With --sleeper, one more thread sleeps until the next whole millisecond, over and over, and
// records how late it woke (as cyclictest does): what a parked waiter pays for a core while the
// T threads keep them busy.
// A plain program (no Google Benchmark, like jHiccup), one line per thread and a total:
//   hiccup_probe [--threads T] [--seconds S] [--yield] [--sleeper]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <thread>
#include <vector>

#include "detail/spin.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kRecordNs = 20'000;                       // gaps shorter than this are not kept
constexpr std::int64_t kBounds[] = {100'000, 500'000, 1'000'000};  // the latencies reported

struct Probe {
  std::uint64_t gaps = 0;                    // gaps > kRecordNs
  std::int64_t worst = 0;                    // ns
  std::uint64_t over[std::size(kBounds)] = {};      // gaps > kBounds[i]
  std::int64_t beyond_ns[std::size(kBounds)] = {};  // the time past kBounds[i] inside those gaps
  std::int64_t ran_ns = 0;

  void add(std::int64_t gap) noexcept {
    ++gaps;
    worst = std::max(worst, gap);
    for (std::size_t i = 0; i < std::size(kBounds); ++i)
      if (gap > kBounds[i]) {
        ++over[i];
        beyond_ns[i] += gap - kBounds[i];
      }
  }
  void merge(const Probe& o) noexcept {
    gaps += o.gaps;
    worst = std::max(worst, o.worst);
    for (std::size_t i = 0; i < std::size(kBounds); ++i) {
      over[i] += o.over[i];
      beyond_ns[i] += o.beyond_ns[i];
    }
    ran_ns += o.ran_ns;
  }
};

void run(Probe& p, std::int64_t seconds, bool yield) {
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::seconds(seconds);
  auto prev = t0;
  for (;;) {
    const auto now = Clock::now();
    const std::int64_t gap = std::chrono::duration_cast<std::chrono::nanoseconds>(now - prev).count();
    if (gap > kRecordNs) p.add(gap);
    prev = now;
    if (now >= end) break;
    if (yield)
      std::this_thread::yield();
    else
      sessionring::detail::cpu_relax();
  }
  p.ran_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(prev - t0).count();
}

/// Wakes at every whole millisecond from its start; returns how late each wake-up was (ns).
std::vector<std::int64_t> sleep_ticks(std::int64_t seconds) {
  std::vector<std::int64_t> late;
  late.reserve(static_cast<std::size_t>(seconds) * 1000);
  const auto t0 = Clock::now();
  for (std::int64_t tick = 1; tick <= seconds * 1000; ++tick) {
    const auto due = t0 + std::chrono::milliseconds(tick);
    std::this_thread::sleep_until(due);
    late.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - due).count());
  }
  return late;
}

void print_late(std::vector<std::int64_t> late) {
  std::sort(late.begin(), late.end());
  auto at = [&](double q) {
    return static_cast<double>(late[std::min(late.size() - 1, static_cast<std::size_t>(q * static_cast<double>(late.size())))]) / 1e3;
  };
  std::printf("sleeper  %zu wake-ups, late by: p50 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us\n", late.size(),
              at(0.5), at(0.99), at(0.999), static_cast<double>(late.back()) / 1e3);
}

void print(const char* who, const Probe& p) {
  std::printf("%-8s gaps > 20 us: %6llu  max %7.3f ms", who, static_cast<unsigned long long>(p.gaps),
              static_cast<double>(p.worst) / 1e6);
  for (std::size_t i = 0; i < std::size(kBounds); ++i) {
    const double share = p.ran_ns > 0 ? static_cast<double>(p.beyond_ns[i]) / static_cast<double>(p.ran_ns) : 0;
    std::printf("  | > %4lld us: %5llu gaps, %.4f%% of time beyond", static_cast<long long>(kBounds[i] / 1000),
                static_cast<unsigned long long>(p.over[i]), 100 * share);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  unsigned threads = 2;
  std::int64_t seconds = 10;
  bool yield = false;
  bool sleeper = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::strtoll(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--yield") == 0) {
      yield = true;
    } else if (std::strcmp(argv[i], "--sleeper") == 0) {
      sleeper = true;
    } else {
      std::fprintf(stderr, "usage: hiccup_probe [--threads T] [--seconds S] [--yield] [--sleeper]\n");
      return 2;
    }
  }
  if ((threads == 0 && !sleeper) || seconds <= 0) {
    std::fprintf(stderr, "hiccup_probe: --seconds must be positive, and --threads too unless --sleeper\n");
    return 2;
  }
  std::vector<Probe> probes(threads);
  std::vector<std::thread> running;
  for (Probe& p : probes) running.emplace_back([&p, seconds, yield] { run(p, seconds, yield); });
  std::vector<std::int64_t> late;
  if (sleeper) late = sleep_ticks(seconds);
  for (std::thread& t : running) t.join();
  std::printf("hiccup_probe: %u threads %s for %lld s%s\n", threads, yield ? "yielding" : "spinning",
              static_cast<long long>(seconds), sleeper ? ", and a sleeper" : "");
  if (sleeper) print_late(std::move(late));
  Probe all;
  char who[24];
  for (unsigned i = 0; i < threads; ++i) {
    std::snprintf(who, sizeof who, "thread %u", i);
    print(who, probes[i]);
    all.merge(probes[i]);
  }
  if (threads > 1) print("all", all);
  return 0;
}
