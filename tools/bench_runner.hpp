// The end-to-end benchmark shared by `sessionring bench` and `sessionring tune`
// (docs/performance.md "Method"). It follows the peers' method (../shared/peers/README.md):
//   * N events in total, split over P producer threads; each of S subscriber threads receives
//     all N and checks contiguity (sequence = previous + 1) and per-producer order;
//   * a warm-up round of min(N/10, 2M) events on the same session, not counted;
//   * throughput = N / (release of the producers -> the last subscriber received the last event);
//   * latency = subscriber's steady_clock now() - producer's now() taken just before append(),
//     carried in the first 8 payload bytes, on 1 in 2^sample_shift events of each producer;
//   * paced mode (rate > 0): producer p emits its i-th event no earlier than start + i*P/rate,
//     waiting with sched_yield, open loop.
// Engines: "sessionring" through SessionServer (each producer is a run; at most run_slots run at
// once) or through Session directly (--api session: one thread per producer), or "mutex"
// (MutexEngine, the plain design; mutex_engine.hpp).
#pragma once
#include <sessionring/session_options.hpp>

#include <cstdint>
#include <string>

namespace sessionring::tools {

struct BenchConfig {
  unsigned producers = 2;
  unsigned subscribers = 2;
  std::uint64_t events = 5'000'000;
  std::uint32_t payload_bytes = 64;     ///< >= 8: [0,8) emit timestamp, [8,16) producer tag when >= 16
  std::uint32_t ring_capacity = 4096;
  std::uint32_t slot_bytes = 256;
  std::uint32_t run_slots = 0;          ///< 0: = producers. server: max_concurrent_runs; else caps the producers
  std::uint32_t ingest_capacity = 4096;
  std::uint32_t max_batch = 1024;
  QueueBackend queue = QueueBackend::moodycamel;
  WaitStrategy wait = WaitStrategy::block;
  std::string store = "memory";         ///< "memory" or "log:DIR"
  std::string durability = "buffered";  ///< log store only: none | buffered | fsync
  std::uint64_t retain_events = 0;      ///< memory store: RetentionPolicy::max_events (0 = keep every event)
  double rate = 0;                      ///< total events/s over all producers; 0 = as fast as possible
  double duration_s = 0;                ///< > 0: producers emit for this long instead of `events`
  std::string engine = "sessionring";   ///< "sessionring" or "mutex"
  std::string api = "server";           ///< sessionring: "server" (SessionServer runs) or "session" (threads)
  unsigned sample_shift = 8;            ///< latency sample: 1 in 2^k events per producer
  std::int64_t warmup = -1;             ///< -1: min(events/10, 2M)
  bool catch_up = false;                ///< afterwards, a subscriber reads the measured round from the store
  double idle_s = 0;                    ///< afterwards, the subscribers wait this long on the idle session
  /// Soak: subscribers that join, lag, leave and resume during the measured round
  /// (churn_subscriber.hpp); -1 = 2 when duration_s > 0, else 0.
  int churn_subscribers = -1;
  bool progress = false;                ///< progress bar on stderr (only if it is a terminal)
  /// > 0: an own sequencer pool whose threads run SCHED_FIFO at this priority and subscribers
  /// at this + 1 (rt_priority.hpp; docs/tuning.md); the producers keep the normal policy.
  int rt_priority = 0;
};

struct BenchResult {
  std::string engine;
  std::string api;         ///< "server", "session" or "mutex"
  unsigned producers = 0;  ///< producers (runs) that emitted
  std::uint64_t events = 0;
  std::uint64_t warmup = 0;
  double seconds = 0;  ///< release -> last subscriber received the last event
  double events_per_sec = 0;
  std::uint64_t p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
  std::uint64_t lat_samples = 0;
  std::uint64_t errors = 0;            ///< contiguity / order / append failures (must be 0)
  std::uint64_t lost = 0;              ///< sequences a subscriber never received (must be 0)
  std::uint64_t duplicates = 0;        ///< sequences a subscriber received twice (must be 0)
  long rss_start_kb = 0;               ///< resident set when the measured round starts
  long rss_end_kb = 0;                 ///< ... and when it ends (before the engine stops)
  unsigned churn_subscribers = 0;      ///< soak subscribers that joined, lagged, left and resumed
  std::uint64_t churn_joins = 0;       ///< their subscriptions (first + resumes)
  std::uint64_t churn_lags = 0;        ///< their pauses without polling
  std::uint64_t churn_received = 0;    ///< events they received
  std::uint64_t lapped = 0;            ///< times a subscriber was lapped by the ring
  std::uint64_t store_reads = 0;       ///< subscriber reads from the store (lapped fallback, oversize)
  Sequence first_available = 0;        ///< the store's first available sequence at the end (> 1: retention pruned)
  std::uint64_t oversize_events = 0;   ///< events larger than a ring slot
  std::uint64_t batches = 0;           ///< sequencer batches in the measured round
  double cpu_user_s = 0, cpu_sys_s = 0;  ///< whole process during the measured round
  long peak_rss_kb = 0;                  ///< whole process, since it started
  std::uint64_t allocations = 0;         ///< operator new calls during the measured round
  double allocs_per_event = 0;
  std::uint64_t checksum = 0;
  double catchup_events_per_sec = 0;  ///< catch_up: events/s of a subscriber reading the store
  std::uint64_t catchup_events = 0;
  double idle_s = 0;                  ///< idle_s: how long the subscribers waited on the idle session
  double idle_cpu_s = 0;              ///< ... and the process's CPU time (user + sys) meanwhile
};

/// Checks the configuration; an empty string when it is usable, else what is wrong.
std::string check(const BenchConfig& c);

/// Runs the warm-up and the measured round. Throws std::runtime_error when the engine cannot be
/// set up (bad option, store error); append or order errors are counted in `errors`.
BenchResult run_bench(const BenchConfig& c);

/// Names as used on the command line and in the JSON ("block", "moodycamel", ...).
std::string wait_name(WaitStrategy w);
std::string queue_name(QueueBackend q);
bool parse_wait(const std::string& s, WaitStrategy& out);
bool parse_queue(const std::string& s, QueueBackend& out);

}  // namespace sessionring::tools
