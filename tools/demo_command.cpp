// `sessionring demo`: the main job behind ./run.sh demo. A SessionServer on the default durable
// store (./sessionring-data; running the demo again continues the same session's sequence)
// executes several runs concurrently, each emitting interleaved events; three subscribers read
// them: one live, one filtered by one run, one that joins late from sequence 1 behind a small
// ring and so must backfill from the store. Prints per-run counts, events/s, latency percentiles
// and the lapped/store-fallback counts.
#include "commands.hpp"
#include "latency_histogram.hpp"
#include "store_access.hpp"

#include <sessionring/sessionring.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <map>
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
  std::string store = std::string("log:") + kDefaultStoreDirectory;
};

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

struct Reader {
  std::string name;
  std::string error;  // why it stopped reading early (a poll or subscribe error), empty if it did not
  std::map<std::string, std::uint64_t> per_run;
  std::uint64_t delivered = 0;
  Sequence first = 0, last = 0;
  bool ordered = true;
  LatencyHistogram latency;
  SubscriptionStats stats;

  void on(const EventView& v) {
    if (v.sequence_number <= last) ordered = false;
    if (first == 0) first = v.sequence_number;
    last = v.sequence_number;
    ++delivered;
    ++per_run[v.run_id.empty() ? std::string("(session)") : std::string(v.run_id)];
    std::int64_t t0 = 0;
    if (v.type == EventType::message_streamed && v.data.size() >= sizeof t0) std::memcpy(&t0, v.data.data(), sizeof t0);
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

Result<std::shared_ptr<SessionStore>> open_store(const std::string& spec) {
  if (spec == "memory") return std::shared_ptr<SessionStore>(MemoryStore::create());
  if (spec.rfind("log:", 0) == 0 && spec.size() > 4) {
    LogStoreOptions o;
    o.root = spec.substr(4);
    auto s = LogStore::open(o);
    if (!s) return s.error();
    return std::shared_ptr<SessionStore>(*s);
  }
  if (spec.rfind("sqlite:", 0) == 0 && spec.size() > 7) {
    SqliteStoreOptions o;
    o.path = spec.substr(7);
    auto s = SqliteStore::open(o);
    if (!s) return s.error();
    return std::shared_ptr<SessionStore>(*s);
  }
  if (is_nats_url(spec)) {  // JetStreamStore: docs/cli.md "Stores"
    auto o = parse_nats_url(spec);
    if (!o) return o.error();
    auto s = JetStreamStore::open(std::move(*o));
    if (!s) return s.error();
    return std::shared_ptr<SessionStore>(*s);
  }
  return Error(Errc::validation_error,
               "--store '" + spec + "' is not 'memory', 'log:DIR', 'sqlite:PATH' or 'nats://HOST:PORT'");
}

int run_demo(const DemoOptions& o) {
  auto store = open_store(o.store);
  if (!store) {
    std::cerr << "demo: " << store.error() << "\n";
    return kExitUsage;
  }
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
  auto server = SessionServer::start(so);
  if (!server) {
    std::cerr << "demo: " << server.error() << "\n";
    return server.code() == Errc::validation_error ? kExitUsage : kExitFailure;
  }
  const Sequence start_seq = server->session().latest_sequence();
  const std::uint64_t per_run = o.events / o.producers;
  std::cout << "sessionring demo: session '" << o.session << "' (" << (attach ? "continued" : "created") << " at sequence "
            << start_seq << ") on store " << o.store << "; " << o.producers << " concurrent runs x " << per_run
            << " events, ring " << o.ring_capacity << " slots\n";

  SubscribeOptions live_opts;
  live_opts.from_sequence = start_seq + 1;
  SubscribeOptions run_opts = live_opts;
  run_opts.filter.run_id("run-1");
  auto live = server->subscribe(live_opts);
  auto by_run = server->subscribe(run_opts);
  if (!live || !by_run) return kExitFailure;
  Reader r_live, r_run, r_late;
  r_live.name = "live";
  r_run.name = "run-1 only";
  r_late.name = "late from 1";
  std::vector<std::thread> readers;
  readers.emplace_back([&] { read_until_closed(*live, r_live); });
  readers.emplace_back([&] { read_until_closed(*by_run, r_run); });

  auto task = [per_run](RunContext& ctx) -> RunResult {
    char payload[64] = {};
    for (std::uint64_t i = 0; i < per_run; ++i) {
      const std::int64_t now = (i % 64 == 0) ? steady_ns() : 0;  // timestamp a sample, not every event
      std::memcpy(payload, &now, sizeof now);
      std::memcpy(payload + 8, &i, sizeof i);
      if (Status st = ctx.emit(EventType::message_streamed, std::string_view(payload, sizeof payload)); !st)
        return st.error();
    }
    return std::string(R"({"ok":true})");
  };
  const auto t0 = Clock::now();
  std::vector<std::string> ids;
  for (unsigned i = 0; i < o.producers; ++i) {
    RunOptions ro;
    ro.run_id = "run-" + std::to_string(i);
    auto id = server->submit_run(task, ro);
    if (!id) {
      std::cerr << "demo: " << id.error() << "\n";
      return kExitFailure;
    }
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
      std::cerr << "demo: " << id << ": " << r.error() << "\n";
      runs_ok = false;
    }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const Sequence end_seq = server->session().latest_sequence();
  runs_ended.store(true, std::memory_order_release);  // pairs with the late thread's acquire
  while (!late_joined.load(std::memory_order_acquire))  // pairs with the late thread's release
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (Status st = server->stop(); !st) {
    std::cerr << "demo: stop: " << st.error() << "\n";
    runs_ok = false;
  }
  for (auto& t : readers) t.join();
  late.join();

  std::cout << std::fixed << std::setprecision(2) << "sequenced " << end_seq - start_seq << " events (now at sequence "
            << end_seq << ") in " << secs << " s: " << static_cast<double>(per_run * o.producers) / secs / 1e6
            << " M events/s end to end\n";
  std::cout << "  subscriber      delivered   lapped  store-reads     p50 us     p99 us   p99.9 us  ordered\n";
  for (Reader* r : {&r_live, &r_run, &r_late})
    std::cout << "  " << std::left << std::setw(14) << r->name << std::right << std::setw(11) << r->delivered
              << std::setw(9) << r->stats.lapped_count << std::setw(13) << r->stats.store_reads << std::setw(11)
              << static_cast<double>(r->latency.percentile(0.50)) / 1e3 << std::setw(11)
              << static_cast<double>(r->latency.percentile(0.99)) / 1e3 << std::setw(11)
              << static_cast<double>(r->latency.percentile(0.999)) / 1e3 << "   " << (r->ordered ? "yes" : "NO") << "\n";
  for (Reader* r : {&r_live, &r_run, &r_late})
    if (!r->error.empty()) std::cerr << "demo: reader '" << r->name << "': " << r->error << "\n";
  std::cout << "  events per run (live subscriber):";
  for (const auto& [run, n] : r_live.per_run) std::cout << " " << run << "=" << n;
  std::cout << "\n";
  // Each run: run_started + per_run events + run_completed; the live reader sees everything
  // after start_seq, the filtered one run-1's, the late one the whole history.
  const bool ok = runs_ok && r_live.error.empty() && r_run.error.empty() && r_late.error.empty() && r_live.ordered && r_run.ordered && r_late.ordered &&
                  r_live.delivered == end_seq - start_seq && r_late.delivered == end_seq && r_late.first == 1 &&
                  r_run.delivered == (o.producers > 1 ? per_run + 2 : 0);
  std::cout << (ok ? "every subscriber received exactly its events, in order\n" : "MISMATCH\n");
  return ok ? kExitOk : kExitFailure;
}

}  // namespace

void add_demo_command(CLI::App& app, std::function<int()>& run) {
  auto opts = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "Run concurrent runs on a SessionServer with three subscribers");
  cmd->add_option("--events", opts->events, "Events in total (split over the runs)")
      ->check(CLI::Range(std::uint64_t{100}, std::uint64_t{1} << 32));
  cmd->add_option("--producers,--runs", opts->producers, "Concurrent runs (one slot each)")->check(CLI::Range(1u, 64u));
  cmd->add_option("--ring-capacity", opts->ring_capacity, "Ring slots (power of two)");
  cmd->add_option("--session", opts->session, "Session id (continued if the store has it)");
  cmd->add_option("--store", opts->store, "memory, log:DIR or sqlite:PATH (default log:sessionring-data)");
  cmd->footer("Exit codes: 0 ok, 1 runtime failure, 2 bad usage, 3 damaged store.");
  cmd->callback([&run, opts] { run = [opts] { return run_demo(*opts); }; });
}

}  // namespace sessionring::tools
