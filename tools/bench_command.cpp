// `sessionring bench`: runs the engine end to end (bench_runner.hpp) and reports throughput,
// emit->deliver latency percentiles, lapped count and store fallbacks, CPU time, peak RSS and
// heap allocations per event. With --json: one JSON object on stdout whose field names match
// the peers' (../shared/peers/README.md), so `summarize.py` and bench/ratios.py read both.
#include "bench_command.hpp"

#include "bench_runner.hpp"
#include "commands.hpp"
#include "sessions_bench.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <sys/prctl.h>

namespace sessionring::tools {
namespace {

struct BenchCli {
  BenchConfig config;
  std::string queue = "moodycamel";
  std::string wait = "block";
  bool json = false;
  std::string format = "text";
  bool no_progress = false;
  bool no_thp = false;
  std::uint32_t sessions = 0;  // > 0: the many-sessions bench (sessions_bench.hpp)
  SessionsBenchConfig many;
};

std::string fmt_ns(std::uint64_t ns) {
  char b[32];
  if (ns >= 1'000'000) std::snprintf(b, sizeof b, "%.2f ms", static_cast<double>(ns) / 1e6);
  else if (ns >= 1'000) std::snprintf(b, sizeof b, "%.1f us", static_cast<double>(ns) / 1e3);
  else std::snprintf(b, sizeof b, "%llu ns", static_cast<unsigned long long>(ns));
  return b;
}

void print_human(const BenchConfig& c, const BenchResult& r) {
  std::printf("sessionring bench: engine %s, %u producers x %u subscribers, %llu events of %u B, ",
              c.engine.c_str(), r.producers, c.subscribers, static_cast<unsigned long long>(r.events),
              c.payload_bytes);
  if (c.engine == "mutex") std::printf("mutex + condition variable + vector\n");
  else
    std::printf("ring %u x %u B, queue %s, wait %s, store %s%s\n", c.ring_capacity, c.slot_bytes,
                queue_name(c.queue).c_str(), wait_name(c.wait).c_str(), c.store.c_str(),
                c.store == "memory" ? "" : (" (" + c.durability + ")").c_str());
  if (r.api == "server")
    std::printf("  api             SessionServer: %u runs, at most %u at once (run slots)\n", r.producers,
                c.run_slots != 0 ? c.run_slots : c.producers);
  else if (r.api == "session")
    std::printf("  api             Session: one producer thread each%s\n",
                c.run_slots != 0 && c.run_slots < c.producers ? " (run slots cap the producers)" : "");
  std::printf("  throughput      %.2f M events/s (%.3f s, %s)\n", r.events_per_sec / 1e6, r.seconds,
              c.rate > 0 ? ("paced at " + std::to_string(static_cast<long long>(c.rate)) + " events/s").c_str()
                         : "as fast as possible");
  std::printf("  latency         p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%llu samples, 1 in %llu)\n",
              fmt_ns(r.p50_ns).c_str(), fmt_ns(r.p90_ns).c_str(), fmt_ns(r.p99_ns).c_str(), fmt_ns(r.p999_ns).c_str(),
              fmt_ns(r.max_ns).c_str(), static_cast<unsigned long long>(r.lat_samples),
              static_cast<unsigned long long>(1ull << c.sample_shift));
  std::printf("  subscribers     lapped %llu, store fallbacks %llu, oversize events %llu, batches %llu\n",
              static_cast<unsigned long long>(r.lapped), static_cast<unsigned long long>(r.store_reads),
              static_cast<unsigned long long>(r.oversize_events), static_cast<unsigned long long>(r.batches));
  std::printf("  cpu             user %.2f s + sys %.2f s = %.0f ns per event; peak RSS %.1f MiB\n", r.cpu_user_s,
              r.cpu_sys_s, r.events > 0 ? (r.cpu_user_s + r.cpu_sys_s) * 1e9 / static_cast<double>(r.events) : 0.0,
              static_cast<double>(r.peak_rss_kb) / 1024.0);
  std::printf("  allocations     %llu during the measured round = %.4f per event\n",
              static_cast<unsigned long long>(r.allocations), r.allocs_per_event);
  if (r.catchup_events > 0)
    std::printf("  catch-up        a subscriber read %llu stored events at %.2f M events/s\n",
                static_cast<unsigned long long>(r.catchup_events), r.catchup_events_per_sec / 1e6);
  if (r.idle_s > 0)
    std::printf("  idle            %.1f s with every subscriber waiting and nothing appended: %.3f s CPU (process)\n",
                r.idle_s, r.idle_cpu_s);
  if (r.churn_subscribers > 0)
    std::printf("  soak            %u churning subscribers: %llu joins/resumes, %llu lags, %llu events received\n",
                r.churn_subscribers, static_cast<unsigned long long>(r.churn_joins),
                static_cast<unsigned long long>(r.churn_lags), static_cast<unsigned long long>(r.churn_received));
  std::string kept;  // what the store keeps, after the RSS figures
  if (c.retain_events > 0)
    kept = " (the store keeps the newest --retain-events; first available seq " + std::to_string(r.first_available) +
           ")";
  else if (c.store == "memory")
    kept = " (the memory store keeps every event)";
  std::printf("  memory          RSS %.1f MiB at the start of the measured round, %.1f MiB at its end%s\n",
              static_cast<double>(r.rss_start_kb) / 1024.0, static_cast<double>(r.rss_end_kb) / 1024.0, kept.c_str());
  std::printf("  delivery        lost %llu, duplicates %llu\n", static_cast<unsigned long long>(r.lost),
              static_cast<unsigned long long>(r.duplicates));
  std::printf("  errors          %llu%s\n", static_cast<unsigned long long>(r.errors),
              r.errors == 0 ? " (every subscriber received every event, in order)" : "  <-- FAILED");
}

}  // namespace

nlohmann::ordered_json bench_json(const BenchConfig& c, const BenchResult& r) {
  nlohmann::ordered_json j;
  const bool mutex = c.engine == "mutex";
  j["peer"] = mutex ? "engine-mutex" : "engine";
  j["producers"] = r.producers;
  j["subscribers"] = c.subscribers;
  j["events"] = r.events;
  j["payload_bytes"] = c.payload_bytes;
  j["events_per_sec"] = static_cast<std::uint64_t>(r.events_per_sec + 0.5);
  if (r.lat_samples > 0) {
    j["p50_ns"] = r.p50_ns;
    j["p90_ns"] = r.p90_ns;
    j["p99_ns"] = r.p99_ns;
    j["p999_ns"] = r.p999_ns;
    j["max_ns"] = r.max_ns;
    j["lat_samples"] = r.lat_samples;
  }
  j["rate_target"] = static_cast<std::uint64_t>(c.rate + 0.5);
  j["warmup"] = r.warmup;
  j["wait"] = mutex ? "mutex+condvar" : wait_name(c.wait);
  j["errors"] = r.errors;
  j["lost"] = r.lost;
  j["duplicates"] = r.duplicates;
  j["engine"] = c.engine;
  j["api"] = r.api;
  if (!mutex) {
    j["queue"] = queue_name(c.queue);
    j["store"] = c.store.rfind("log:", 0) == 0 ? "log" : c.store;
    if (c.store != "memory") j["durability"] = c.durability;
    j["retain_events"] = c.retain_events;
    j["rt_priority"] = c.rt_priority;
    j["first_available"] = r.first_available;
    j["ring_capacity"] = c.ring_capacity;
    j["slot_bytes"] = c.slot_bytes;
    j["run_slots"] = c.run_slots == 0 ? c.producers : c.run_slots;
    j["ingest_capacity"] = c.ingest_capacity;
    j["max_batch"] = c.max_batch;
  }
  j["sample_shift"] = c.sample_shift;
  j["seconds"] = r.seconds;
  if (c.duration_s > 0) j["duration_s"] = c.duration_s;
  j["lapped"] = r.lapped;
  j["store_fallbacks"] = r.store_reads;
  j["oversize_events"] = r.oversize_events;
  j["batches"] = r.batches;
  j["cpu_user_s"] = r.cpu_user_s;
  j["cpu_sys_s"] = r.cpu_sys_s;
  j["peak_rss_kb"] = r.peak_rss_kb;
  j["rss_start_kb"] = r.rss_start_kb;
  j["rss_end_kb"] = r.rss_end_kb;
  if (r.churn_subscribers > 0) {
    j["churn_subscribers"] = r.churn_subscribers;
    j["churn_joins"] = r.churn_joins;
    j["churn_lags"] = r.churn_lags;
    j["churn_received"] = r.churn_received;
  }
  j["allocations"] = r.allocations;
  j["allocs_per_event"] = r.allocs_per_event;
  if (r.catchup_events > 0) {
    j["catchup_events"] = r.catchup_events;
    j["catchup_events_per_sec"] = static_cast<std::uint64_t>(r.catchup_events_per_sec + 0.5);
  }
  if (r.idle_s > 0) {
    j["idle_s"] = r.idle_s;
    j["idle_cpu_s"] = r.idle_cpu_s;
  }
  j["checksum"] = r.checksum & 0xffff;
  j["thp_disabled"] = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1;
  return j;
}

void add_bench_options(CLI::App& cmd, BenchConfig& c, bool knobs) {
  cmd.add_option("--producers", c.producers, "Producer threads (P)")->check(CLI::Range(1u, 1024u));
  cmd.add_option("--subscribers", c.subscribers, "Subscriber threads (S); each receives every event")
      ->check(CLI::Range(1u, 1024u));
  cmd.add_option("--events", c.events, "Events in total (N), split over the producers")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  cmd.add_option("--payload-bytes", c.payload_bytes, "Payload bytes per event (B >= 8)")
      ->check(CLI::Range(8u, 1u << 20));
  if (knobs) {
    cmd.add_option("--ring-capacity", c.ring_capacity, "Ring slots (power of two)");
    cmd.add_option("--slot-bytes", c.slot_bytes, "Bytes per ring slot incl. its 16-byte header");
    cmd.add_option("--run-slots", c.run_slots,
                   "Run slots = max_concurrent_runs (0 = producers); --api session: caps the producer threads");
  }
  cmd.add_option("--ingest-capacity", c.ingest_capacity, "Events in flight per producer");
  cmd.add_option("--max-batch", c.max_batch, "Events per sequencer batch");
  cmd.add_option("--store", c.store, "memory | log:DIR");
  cmd.add_option("--retain-events", c.retain_events,
                 "The store keeps only the newest N events (RetentionPolicy::max_events; the memory store "
                 "reuses the pruned chunks); 0 = every event");
  cmd.add_option("--durability", c.durability, "Log store: none | buffered | fsync")
      ->check(CLI::IsMember({"none", "buffered", "fsync"}));
  cmd.add_option("--rate", c.rate, "Total events/s over all producers (0 = as fast as possible)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--duration", c.duration_s, "Seconds to emit for (replaces --events for the measured round)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--engine", c.engine, "sessionring | mutex (the plain mutex + condvar + vector design)")
      ->check(CLI::IsMember({"sessionring", "mutex"}));
  cmd.add_option("--api", c.api, "sessionring through SessionServer runs (server) or Session producer threads (session)")
      ->check(CLI::IsMember({"server", "session"}));
  cmd.add_option("--sample-shift", c.sample_shift, "Latency sample: 1 in 2^k events per producer (0 = every event)")
      ->check(CLI::Range(0u, 30u));
  cmd.add_option("--warmup", c.warmup, "Warm-up events (-1 = min(N/10, 2M))");
}

void add_bench_command(CLI::App& app, std::function<int()>& run) {
  auto cli = std::make_shared<BenchCli>();
  CLI::App* cmd = app.add_subcommand("bench", "Run the engine end to end: P producers x S subscribers");
  add_bench_options(*cmd, cli->config, true);
  cmd->add_option("--queue", cli->queue, "Ingest queue backend")->check(CLI::IsMember({"moodycamel", "boost"}));
  cmd->add_option("--wait", cli->wait, "Wait strategy")->check(CLI::IsMember({"block", "yield", "spin"}));
  cmd->add_option("--churn-subscribers", cli->config.churn_subscribers,
                  "Soak: extra subscribers that join, lag, leave and resume from their cursor during the "
                  "measured round, checking no loss and no duplicate (-1 = 2 with --duration, else 0)")
      ->check(CLI::Range(-1, 1024));
  cmd->add_flag("--catch-up", cli->config.catch_up,
                "Afterwards, a new subscriber reads the measured events from the store (lapped path)");
  cmd->add_option("--idle-seconds", cli->config.idle_s,
                  "Afterwards, every subscriber waits this long on the idle session; reports the process's CPU "
                  "time meanwhile (a wait that spins shows here)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--sessions", cli->sessions,
                  "Many sessions: start N SessionServers (default options, one subscriber each); --rate is then "
                  "per active session, --duration the active phase (docs/performance.md \"Many sessions\")")
      ->check(CLI::Range(0u, 1'000'000u));
  cmd->add_option("--active", cli->many.active, "Many sessions: K of the N sessions get --rate events/s each")
      ->check(CLI::Range(0u, 1'000'000u));
  cmd->add_option("--trickle-rate", cli->many.trickle_rate,
                  "Many sessions: events/s of the trickle session while another floods (fairness phase)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--fairness-seconds", cli->many.fairness_s, "Many sessions: fairness phase length (0: skip it)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--close-idle-after", cli->many.close_idle_after_ms,
                  "Many sessions: the registry closes unused sessions after this many ms; afterwards every session "
                  "is let go, closed, and reopened by find() (reports RSS per closed session and reopen latency)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--pool-threads", cli->many.pool_threads,
                  "Many sessions: a sequencer pool of this many threads instead of the default pool")
      ->check(CLI::Range(0u, 1024u));
  cmd->add_option("--rt-priority", cli->config.rt_priority,
                  "An own sequencer pool whose threads run SCHED_FIFO at this priority, and the subscribers at "
                  "this + 1 (many sessions: the fairness phase's trickle subscriber); needs CAP_SYS_NICE "
                  "(docs/tuning.md)")
      ->check(CLI::Range(1, 98));
  cmd->add_flag("--json", cli->json, "Print one JSON object on stdout (peers' field names); = --format json");
  cmd->add_option("--format", cli->format, "Output format: text (a report) or json (one JSON object, as --json)")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_flag("--no-progress", cli->no_progress, "No progress bar on stderr");
  cmd->add_flag("--no-thp", cli->no_thp,
                "Diagnostic: disable transparent huge pages for this process (prctl PR_SET_THP_DISABLE)");
  cmd->callback([&run, cli] {
    run = [cli] {
      BenchConfig c = cli->config;
      if (cli->sessions > 0) {
        SessionsBenchConfig m = cli->many;
        m.sessions = cli->sessions;
        if (c.rate > 0) m.rate = c.rate;
        if (c.duration_s > 0) m.duration_s = c.duration_s;
        m.store = c.store;
        m.rt_priority = c.rt_priority;
        if (m.store != "memory" && (m.store.rfind("log:", 0) != 0 || m.store.size() == 4)) {
          std::cerr << "sessionring bench: --store must be memory or log:DIR\n";
          return kExitUsage;
        }
        try {
          const SessionsBenchResult r = run_sessions_bench(m);
          if (cli->json || cli->format == "json") std::cout << sessions_bench_json(m, r).dump() << std::endl;
          else print_sessions_bench(m, r);
          return r.errors == 0 ? kExitOk : kExitFailure;
        } catch (const std::exception& e) {
          std::cerr << "sessionring bench: " << e.what() << "\n";
          return kExitFailure;
        }
      }
      parse_queue(cli->queue, c.queue);
      parse_wait(cli->wait, c.wait);
      c.progress = !cli->no_progress;
      if (cli->no_thp && prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0) {
        std::cerr << "sessionring bench: --no-thp: prctl failed\n";
        return kExitFailure;
      }
      if (std::string why = check(c); !why.empty()) {
        std::cerr << "sessionring bench: " << why << "\n";
        return kExitUsage;
      }
      const BenchResult r = run_bench(c);
      if (cli->json || cli->format == "json") std::cout << bench_json(c, r).dump() << std::endl;
      else print_human(c, r);
      return r.errors == 0 ? kExitOk : kExitFailure;
    };
  });
}

}  // namespace sessionring::tools
