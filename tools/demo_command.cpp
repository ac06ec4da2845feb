// `sessionring demo`: the main job behind ./run.sh demo. A SessionServer on the default store
// (./sessionring-data, a LogStore; running the demo again continues the same session's sequence,
// with run ids of its own) executes several runs concurrently, each emitting interleaved events
// as fast as it can (the burst: throughput), then one run at a fixed rate (the paced phase:
// delivery latency). Three subscribers read them: one live, one filtered by one run, one that
// joins late from sequence 1 behind a small ring and so must backfill from the store. Prints
// events/s, per-subscriber delivery, laps and store reads, the paced run's latency percentiles,
// and what the demo left on disk (docs/cli.md "demo").
#include "commands.hpp"
#include "latency_histogram.hpp"
#include "store_access.hpp"

#include <sessionring/sessionring.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace sessionring::tools {
namespace {

using Clock = std::chrono::steady_clock;

struct DemoOptions {
  std::uint64_t events = 2'000'000;
  unsigned producers = 4;  // runs executing concurrently, one slot each
  std::uint32_t ring_capacity = 1024;
  std::string session = "demo";
  std::string store = default_store();
  std::uint64_t paced_events = 20'000;  // the latency phase
  std::uint64_t paced_rate = 20'000;    // events per second in the latency phase
};

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

/// A duration in the unit that keeps it short: "850 ns", "12.3 us", "4.56 ms", "8.90 s".
std::string human_ns(std::uint64_t ns) {
  char buf[32];
  const double v = static_cast<double>(ns);
  if (ns < 1'000)
    std::snprintf(buf, sizeof buf, "%llu ns", static_cast<unsigned long long>(ns));
  else if (ns < 1'000'000)
    std::snprintf(buf, sizeof buf, "%.1f us", v / 1e3);
  else if (ns < 1'000'000'000)
    std::snprintf(buf, sizeof buf, "%.2f ms", v / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.2f s", v / 1e9);
  return buf;
}

/// Bytes as "812 B", "3.4 MB", "1.20 GB".
std::string human_bytes(std::uint64_t b) {
  char buf[32];
  const double v = static_cast<double>(b);
  if (b < 1'000'000)
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  else if (b < 1'000'000'000)
    std::snprintf(buf, sizeof buf, "%.1f MB", v / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.2f GB", v / 1e9);
  return buf;
}

/// Prints rows as a table whose columns are as wide as their widest cell (so any magnitude
/// stays aligned); the first column left-aligned, the others right-aligned.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], r[c].size());
    }
  for (const auto& r : rows) {
    std::cout << "  ";
    for (std::size_t c = 0; c < r.size(); ++c) {
      if (c == 0)
        std::cout << std::left << std::setw(static_cast<int>(width[c])) << r[c] << std::right;
      else
        std::cout << "  " << std::setw(static_cast<int>(width[c])) << r[c];
    }
    std::cout << "\n";
  }
}

struct Reader {
  std::string name;
  std::string error;  // why it stopped reading early (a poll or subscribe error), empty if it did not
  std::string paced_run;  // measure latency of this run's events only (empty: measure nothing)
  std::map<std::string, std::uint64_t> per_run;
  std::uint64_t delivered = 0;
  Sequence first = 0, last = 0;
  bool ordered = true;
  LatencyHistogram latency;
  SubscriptionStats stats;
  // Writer: the reader thread (release, after handling the event); reader: the main thread
  // (acquire), which waits for the subscribers to catch up before the paced phase. Publishes
  // only "delivered up to this sequence" (the counters above are read after join()).
  std::atomic<Sequence> seen{0};

  void on(const EventView& v) {
    if (v.sequence_number <= last) ordered = false;
    if (first == 0) first = v.sequence_number;
    last = v.sequence_number;
    seen.store(v.sequence_number, std::memory_order_release);  // pairs with the acquire in caught_up()
    ++delivered;
    ++per_run[v.run_id.empty() ? std::string("(session)") : std::string(v.run_id)];
    // Latency only for the paced run of this demo: events emitted now, at a rate the pipeline
    // keeps up with (never stored history, never an unpaced burst's queueing).
    if (paced_run.empty() || v.run_id != paced_run || v.type != EventType::message_streamed) return;
    std::int64_t t0 = 0;
    if (v.data.size() >= sizeof t0) std::memcpy(&t0, v.data.data(), sizeof t0);
    if (t0 != 0) latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, steady_ns() - t0)));
  }
};

// Runs on a reader thread: errors are recorded in the Reader (and fail the demo), never thrown.
void read_until_closed(Subscription& sub, Reader& r) {
  while (sub.state() != SubscriptionState::closed) {
    auto n = sub.poll_wait([&](const EventView& v) { r.on(v); }, Clock::now() + std::chrono::milliseconds(100));
    if (!n) {
      r.error = n.error().describe();
      return;
    }
    r.stats = sub.stats();
  }
}

Result<std::shared_ptr<SessionStore>> open_store(const std::string& text) {
  auto spec = parse_store_spec(text, true);
  if (!spec) return spec.error();
  switch (spec->kind) {
    case StoreSpec::Kind::memory: return std::shared_ptr<SessionStore>(MemoryStore::create());
    case StoreSpec::Kind::sqlite: {
      SqliteStoreOptions o;
      o.path = spec->path;
      auto s = SqliteStore::open(o);
      if (!s) return s.error();
      return std::shared_ptr<SessionStore>(*s);
    }
    case StoreSpec::Kind::nats: {  // JetStreamStore: docs/cli.md "Stores"
      auto o = parse_nats_url(spec->path);
      if (!o) return o.error();
      auto s = JetStreamStore::open(std::move(*o));
      if (!s) return s.error();
      return std::shared_ptr<SessionStore>(*s);
    }
    case StoreSpec::Kind::log: break;
  }
  LogStoreOptions o;
  o.root = spec->path;
  auto s = LogStore::open(o);
  if (!s) return s.error();
  return std::shared_ptr<SessionStore>(*s);
}

int fail(const Error& e) { return report_error("demo", e); }

int run_demo(const DemoOptions& o) {
  auto store = open_store(o.store);
  if (!store) return fail(store.error());
  SessionServerOptions so;
  so.store = *store;
  auto existing = (*store)->list_sessions();
  const bool attach = existing && std::find(existing->begin(), existing->end(), o.session) != existing->end();
  if (attach)
    so.session_id = o.session;
  else
    so.new_session = NewSession{o.session, R"({"title":"sessionring demo"})", ""};
  so.max_concurrent_runs = o.producers;
  so.engine.ring_capacity = o.ring_capacity;
  // The live view for `sessionring stat` (docs/cli.md "stat"): a LogStore has a session
  // directory to put the counters file in; --store memory has none.
  so.publish_counters = dynamic_cast<LogStore*>(store->get()) != nullptr;
  auto server = SessionServer::start(so);
  if (!server) return fail(server.error());
  const Sequence start_seq = server->session().latest_sequence();
  const std::uint64_t per_run = o.events / o.producers;
  // Run ids unique to this demo run: the sequence it started after is never reused (INV-1).
  const std::string run_prefix = "run-" + std::to_string(start_seq + 1) + "-";
  const std::string paced_run = run_prefix + "paced";
  std::cout << "sessionring demo: session '" << o.session << "' (" << (attach ? "continued" : "created")
            << " after sequence " << start_seq << ") on store " << o.store << "; runs " << run_prefix << "0.."
            << run_prefix << o.producers - 1 << ", ring " << o.ring_capacity << " slots" << std::endl;
  if (so.publish_counters)
    std::cout << "sessionring demo: watch it live from another terminal: sessionring stat --store " << o.store << " "
              << o.session << std::endl;

  SubscribeOptions live_opts;
  live_opts.from_sequence = start_seq + 1;
  SubscribeOptions run_opts = live_opts;
  const std::string first_run = run_prefix + "0";
  run_opts.filter.run_id(first_run);
  auto live = server->subscribe(live_opts);
  auto by_run = server->subscribe(run_opts);
  if (!live) return fail(live.error());
  if (!by_run) return fail(by_run.error());
  Reader r_live, r_run, r_late;
  r_live.name = "live (from this demo's first event)";
  r_live.paced_run = paced_run;
  r_run.name = "filtered (run " + first_run + " only)";
  r_run.paced_run = paced_run;  // not its run: records nothing, by design
  r_late.name = "late (joins half-way, from sequence 1)";
  std::vector<std::thread> readers;
  readers.emplace_back([&] { read_until_closed(*live, r_live); });
  readers.emplace_back([&] { read_until_closed(*by_run, r_run); });

  // Phase 1, burst: every run emits as fast as it can. Measures throughput only: an unpaced
  // burst's delivery delay is queueing (the backlog), not latency.
  auto burst = [per_run](RunContext& ctx) -> RunResult {
    char payload[64] = {};
    for (std::uint64_t i = 0; i < per_run; ++i) {
      std::memcpy(payload + 8, &i, sizeof i);  // bytes 0..7 zero: no emit time (see the paced run)
      if (Status st = ctx.emit(EventType::message_streamed, std::string_view(payload, sizeof payload)); !st)
        return st.error();
    }
    return std::string(R"({"ok":true})");
  };
  const auto t0 = Clock::now();
  std::vector<std::string> ids;
  for (unsigned i = 0; i < o.producers; ++i) {
    RunOptions ro;
    ro.run_id = run_prefix + std::to_string(i);
    auto id = server->submit_run(burst, ro);
    if (!id) return fail(id.error());
    ids.push_back(*id);
  }
  // The late reader joins half-way; the server is not stopped before it has subscribed
  // (a subscribe after stop() is `stopped`). Writer: the late thread (release); reader: the
  // main thread before stop() (acquire).
  std::atomic<bool> late_joined{false};
  // Writer: the main thread once the runs ended (release); reader: the late thread (acquire),
  // which then joins at once even if failed runs never got half-way.
  std::atomic<bool> runs_ended{false};
  std::thread late([&] {
    while (server->session().latest_sequence() < start_seq + o.events / 2 &&
           !runs_ended.load(std::memory_order_acquire))  // pairs with the main thread's release
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    SubscribeOptions from1;
    from1.from_sequence = 1;
    auto s = server->subscribe(from1);
    late_joined.store(true, std::memory_order_release);  // pairs with the acquire before stop()
    if (!s) {
      r_late.error = s.error().describe();
      return;
    }
    read_until_closed(*s, r_late);
  });
  bool runs_ok = true;
  for (const auto& id : ids)
    if (auto r = server->await_run(id, std::chrono::minutes(10)); !r) {
      std::cerr << "sessionring demo: run " << id << ": " << r.error() << "\n";
      runs_ok = false;
    }
  const double burst_secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const Sequence burst_end = server->session().latest_sequence();

  // Phase 2, paced: one run emits at a fixed rate the pipeline keeps up with; each event
  // carries its emit time (steady clock), and the live subscriber records receipt - emit.
  // It starts once the subscribers have caught up with the burst (at most 60 s), so that no
  // burst backlog is queued ahead of the paced events.
  {
    auto caught_up = [&](const Reader& r) { return r.seen.load(std::memory_order_acquire) >= burst_end; };  // pairs with on()
    const auto give_up = Clock::now() + std::chrono::seconds(60);
    while (!(caught_up(r_live) && caught_up(r_late)) && runs_ok && Clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::uint64_t paced_events = o.paced_events;
  const std::uint64_t rate = o.paced_rate;
  auto paced = [paced_events, rate](RunContext& ctx) -> RunResult {
    char payload[64] = {};
    const auto start = Clock::now();
    for (std::uint64_t i = 0; i < paced_events; ++i) {
      const auto due = start + std::chrono::nanoseconds(static_cast<std::int64_t>(i * 1'000'000'000ull / rate));
      while (Clock::now() < due) {
      }  // spin: a sleep's wake-up jitter would bunch the events
      const std::int64_t now = steady_ns();
      std::memcpy(payload, &now, sizeof now);
      std::memcpy(payload + 8, &i, sizeof i);
      if (Status st = ctx.emit(EventType::message_streamed, std::string_view(payload, sizeof payload)); !st)
        return st.error();
    }
    return std::string(R"({"ok":true})");
  };
  if (paced_events > 0) {
    RunOptions ro;
    ro.run_id = paced_run;
    auto id = server->submit_run(paced, ro);
    if (!id) return fail(id.error());
    if (auto r = server->await_run(*id, std::chrono::minutes(10)); !r) {
      std::cerr << "sessionring demo: run " << *id << ": " << r.error() << "\n";
      runs_ok = false;
    }
  }
  const Sequence end_seq = server->session().latest_sequence();
  runs_ended.store(true, std::memory_order_release);  // pairs with the late thread's acquire
  while (!late_joined.load(std::memory_order_acquire))  // pairs with the late thread's release
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (Status st = server->stop(); !st) {
    std::cerr << "sessionring demo: stop: " << st.error() << "\n";
    runs_ok = false;
  }
  for (auto& t : readers) t.join();
  late.join();

  char rate_buf[64];
  std::snprintf(rate_buf, sizeof rate_buf, "%.2f", static_cast<double>(per_run * o.producers) / burst_secs / 1e6);
  std::cout << std::fixed << std::setprecision(2) << "burst: " << o.producers << " runs x " << per_run
            << " events, unpaced: sequences " << start_seq + 1 << ".." << burst_end << " in " << burst_secs
            << " s = " << rate_buf << " M events/s end to end (emit to stored and published)\n";
  if (paced_events > 0)
    std::cout << "paced: run " << paced_run << ", " << paced_events << " events at " << rate << "/s: sequences "
              << burst_end + 1 << ".." << end_seq << "\n";
  std::vector<std::vector<std::string>> rows = {
      {"subscriber", "delivered", "lapped", "store reads", "ordered"}};
  for (Reader* r : {&r_live, &r_run, &r_late})
    rows.push_back({r->name, std::to_string(r->delivered), std::to_string(r->stats.lapped_count),
                    std::to_string(r->stats.store_reads), r->ordered ? "yes" : "NO"});
  print_table(rows);
  if (r_live.latency.count() > 0) {
    std::cout << "delivery latency of the paced run (live subscriber: receipt - emit, steady clock; "
              << r_live.latency.count() << " events):\n";
    print_table({{"p50", "p99", "p99.9", "max"},
                  {human_ns(r_live.latency.percentile(0.50)), human_ns(r_live.latency.percentile(0.99)),
                   human_ns(r_live.latency.percentile(0.999)), human_ns(r_live.latency.max())}});
  }
  for (Reader* r : {&r_live, &r_run, &r_late})
    if (!r->error.empty()) std::cerr << "sessionring demo: reader '" << r->name << "': " << r->error << "\n";
  std::cout << "events per run (live subscriber):";
  for (const auto& [run, n] : r_live.per_run) std::cout << " " << run << "=" << n;
  std::cout << "\n";
  // Each run: run_started + its events + run_completed; the live reader sees everything after
  // start_seq, the filtered one the first run's, the late one the whole history.
  const bool ok = runs_ok && r_live.error.empty() && r_run.error.empty() && r_late.error.empty() && r_live.ordered &&
                  r_run.ordered && r_late.ordered && r_live.delivered == end_seq - start_seq &&
                  r_late.delivered == end_seq && r_late.first == 1 && r_run.delivered == per_run + 2;
  std::cout << (ok ? "every subscriber received exactly its events, in order\n" : "MISMATCH\n");
  // What the demo leaves behind.
  if (auto log = std::dynamic_pointer_cast<LogStore>(*store)) {
    if (auto info = log->info(o.session))
      std::cout << "left behind: session '" << o.session << "' in " << log->options().root.string() << ": "
                << info->event_count << " events, " << human_bytes(info->bytes)
                << " (each demo run adds its events; remove with: rm -rf "
                << (log->options().root / o.session).string() << "; --store memory keeps nothing)\n";
  }
  return ok ? kExitOk : kExitFailure;
}

}  // namespace

void add_demo_command(CLI::App& app, std::function<int()>& run) {
  auto opts = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "Run concurrent runs on a SessionServer with three subscribers");
  cmd->add_option("--events", opts->events, "Events of the burst phase in total (split over the runs)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{100}, std::uint64_t{1} << 32));
  cmd->add_option("--producers,--runs", opts->producers, "Concurrent runs of the burst (one slot each)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  cmd->add_option("--ring-capacity", opts->ring_capacity, "Ring slots (power of two)")->capture_default_str();
  cmd->add_option("--session", opts->session, "Session id (continued if the store has it)")
      ->capture_default_str()
      ->check(session_id_validator());
  cmd->add_option("--store", opts->store, "Store: DIR or log:DIR (a LogStore), sqlite:PATH, nats://HOST:PORT, or memory. Default: $" +
                                              std::string(kStoreEnvironmentVariable) + " if set, else ./" +
                                              kDefaultStoreDirectory)
      ->type_name("STORE")
      ->capture_default_str();
  cmd->add_option("--paced-events", opts->paced_events, "Events of the paced (latency) phase; 0 skips it")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 32));
  cmd->add_option("--paced-rate", opts->paced_rate, "Events per second in the paced phase")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}));
  cmd->footer(std::string(kExitCodesFooter));
  cmd->callback([&run, opts] { run = [opts] { return run_demo(*opts); }; });
}

}  // namespace sessionring::tools
