// `sessionring bench --sessions N --active K --rate R`: many sessions in one process
// (docs/performance.md "Many sessions"). N SessionServers with default options (the shared
// sequencer pool, the shared run executor) in one SessionRegistry, each with one subscriber;
// K of them get R events/s each from a paced driver thread while one poller thread reads every
// active subscription; then one session floods unpaced while a trickle session gets a few
// events, measuring the trickle's emit->deliver latency. Reports engine threads, RSS per idle
// session, start latency, aggregate events/s, emit->deliver p50/p99 and the trickle's p99.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace sessionring::tools {

struct SessionsBenchConfig {
  std::uint32_t sessions = 1000;      ///< N: sessions started
  std::uint32_t active = 0;           ///< K: sessions receiving events (<= N)
  double rate = 1000;                 ///< R: events/s per active session
  double duration_s = 3;              ///< active phase length
  double trickle_rate = 1000;         ///< events/s of the trickle session in the fairness phase
  double fairness_s = 2;              ///< fairness phase length (0: skipped)
  std::string store = "memory";       ///< memory | log:DIR
  std::uint32_t pool_threads = 0;     ///< 0: the default pool
  /// > 0: an own pool whose threads run SCHED_FIFO at this priority (SequencerPool::Options::
  /// on_thread_start), and the fairness phase's trickle subscriber at this + 1: what a host does
  /// for a latency-critical reader on a shared machine (docs/tuning.md). Needs CAP_SYS_NICE.
  int rt_priority = 0;
  /// > 0: the registry closes unused sessions after this many ms; afterwards the idle sessions
  /// are let go (handles and subscribers dropped), closed, measured, and reopened one by one
  /// (find(), one append each: their sequence must continue).
  double close_idle_after_ms = 0;
};

struct SessionsBenchResult {
  std::uint32_t sessions = 0, active = 0;
  std::uint32_t threads_before = 0, threads_idle = 0, pool_threads = 0;
  long rss_before_kb = 0, rss_idle_kb = 0;
  std::uint32_t fds_before = 0, fds_idle = 0;  ///< open descriptors (/proc/self/fd)
  std::uint32_t fds_peak_start = 0;            ///< most descriptors seen while starting (sampled every 64 starts)
  double rss_per_idle_session_kb = 0;
  std::uint64_t start_p50_ns = 0, start_p99_ns = 0, start_max_ns = 0;
  double start_total_s = 0;
  std::uint64_t events = 0;
  double events_per_sec = 0, target_events_per_sec = 0;
  std::uint64_t lat_p50_ns = 0, lat_p99_ns = 0, lat_max_ns = 0;
  std::uint64_t trickle_events = 0, flood_events = 0;
  std::uint64_t trickle_p50_ns = 0, trickle_p99_ns = 0, trickle_max_ns = 0;
  std::uint32_t closed = 0;              ///< idle sessions the registry closed
  long rss_closed_kb = 0;                ///< RSS with them closed (after malloc_trim)
  long heap_before_kb = 0, heap_idle_kb = 0, heap_closed_kb = 0;  ///< heap in use (mallinfo2)
  double heap_per_closed_session_kb = 0;  ///< (heap_closed - heap_before) / sessions
  double rss_per_closed_session_kb = 0;  ///< (rss_closed - rss_before) / sessions
  std::uint32_t fds_closed = 0;
  std::uint64_t reopen_p50_ns = 0, reopen_p99_ns = 0, reopen_max_ns = 0;  ///< find() of a closed session
  double stop_total_s = 0;
  std::uint64_t errors = 0;  ///< append failures, gaps or duplicates (must be 0)
};

SessionsBenchResult run_sessions_bench(const SessionsBenchConfig& c);
void print_sessions_bench(const SessionsBenchConfig& c, const SessionsBenchResult& r);
nlohmann::ordered_json sessions_bench_json(const SessionsBenchConfig& c, const SessionsBenchResult& r);

}  // namespace sessionring::tools
