// `sessionring demo`: the main job behind ./run.sh demo. Producers emit interleaved events of
// several runs; three subscribers read them: one live, one filtered by a run, one that joins
// late from sequence 1 behind a small ring and so must backfill from the store.
#include "commands.hpp"
#include "latency_histogram.hpp"

#include <sessionring/sessionring.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <thread>
#include <vector>

namespace sessionring::tools {
namespace {

struct DemoOptions {
  std::uint64_t events = 2'000'000;
  unsigned producers = 2;
  std::uint32_t ring_capacity = 1024;
  std::string session = "demo";
};

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Reader {
  std::string name;
  std::uint64_t delivered = 0;
  Sequence last = 0;
  bool ordered = true;
  LatencyHistogram latency;
  SubscriptionStats stats;
};

void read_until(Subscription& sub, Reader& r, Sequence last_seq) {
  auto handler = [&](const EventView& v) {
    if (v.sequence_number <= r.last) r.ordered = false;
    r.last = v.sequence_number;
    ++r.delivered;
    std::int64_t t0 = 0;
    if (v.data.size() >= sizeof t0) std::memcpy(&t0, v.data.data(), sizeof t0);
    if (t0 != 0) r.latency.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, steady_ns() - t0)));
  };
  while (sub.cursor() <= last_seq) {
    auto n = sub.poll_wait(handler, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
    if (!n) throw std::runtime_error(n.error().describe());
  }
  r.stats = sub.stats();
}

int run_demo(const DemoOptions& o) {
  SessionOptions so;
  so.store = MemoryStore::create();
  so.session_id = o.session;
  so.ring_capacity = o.ring_capacity;
  auto session = Session::open(so);
  if (!session) {
    std::cerr << "demo: " << session.error() << "\n";
    return kExitUsage;
  }
  const Sequence first = session->latest_sequence() + 1;
  const Sequence last = first + o.events - 1;
  std::cout << "sessionring demo: session '" << o.session << "', " << o.producers << " producers x "
            << o.events / o.producers << " events, ring " << o.ring_capacity << " slots, store "
            << so.store->kind() << "\n";

  SubscribeOptions live_opts;
  live_opts.from_sequence = first;
  SubscribeOptions run_opts = live_opts;
  run_opts.filter.run_id("run-1");
  auto live = session->subscribe(live_opts);
  auto by_run = session->subscribe(run_opts);
  if (!live || !by_run) return kExitFailure;

  Reader r_live, r_run, r_late;
  r_live.name = "live";
  r_run.name = "run-1 only";
  r_late.name = "late from 1";
  std::atomic<std::uint64_t> emitted{0};  // writer: producers (relaxed counter); reader: the late joiner's start
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < o.producers; ++p)
    threads.emplace_back([&, p] {
      auto prod = session->producer();
      if (!prod) throw std::runtime_error(prod.error().describe());
      const std::string run = "run-" + std::to_string(p);
      char payload[64] = {};
      EventInput e;
      e.type = EventType::message_streamed;
      e.run_id = run;
      for (std::uint64_t i = 0; i < o.events / o.producers; ++i) {
        const std::int64_t now = (i % 64 == 0) ? steady_ns() : 0;  // timestamp a sample, not every event
        std::memcpy(payload, &now, sizeof now);
        std::memcpy(payload + 8, &i, sizeof i);
        e.data = std::string_view(payload, sizeof payload);
        if (Status st = prod->append(e); !st) throw std::runtime_error(st.error().describe());
        emitted.fetch_add(1, std::memory_order_relaxed);
      }
    });
  threads.emplace_back([&] { read_until(*live, r_live, last); });
  threads.emplace_back([&] { read_until(*by_run, r_run, last); });
  threads.emplace_back([&] {
    while (emitted.load(std::memory_order_relaxed) < o.events / 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    SubscribeOptions late_opts;
    late_opts.from_sequence = 1;
    auto late = session->subscribe(late_opts);
    if (!late) throw std::runtime_error(late.error().describe());
    read_until(*late, r_late, last);
  });
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto stats = session->stats();

  std::cout << std::fixed << std::setprecision(2) << "sequenced " << stats.events_sequenced << " events in " << secs
            << " s: " << static_cast<double>(o.events) / secs / 1e6 << " M events/s end to end (" << stats.batches
            << " batches)\n";
  std::cout << "  subscriber      delivered   lapped  store-reads  p50 us   p99 us   ordered\n";
  for (Reader* r : {&r_live, &r_run, &r_late}) {
    std::cout << "  " << std::left << std::setw(14) << r->name << std::right << std::setw(11) << r->delivered
              << std::setw(9) << r->stats.lapped_count << std::setw(13) << r->stats.store_reads << std::setw(9)
              << static_cast<double>(r->latency.percentile(0.50)) / 1e3 << std::setw(9)
              << static_cast<double>(r->latency.percentile(0.99)) / 1e3 << "   " << (r->ordered ? "yes" : "NO")
              << "\n";
  }
  const bool ok = r_live.ordered && r_run.ordered && r_late.ordered && r_live.delivered == o.events &&
                  r_run.delivered == (o.producers > 1 ? o.events / o.producers : 0) && r_late.delivered == last;
  if (Status st = session->stop(); !st) {
    std::cerr << "demo: stop: " << st.error() << "\n";
    return kExitFailure;
  }
  std::cout << (ok ? "every subscriber received exactly its events, in order\n" : "MISMATCH\n");
  return ok ? kExitOk : kExitFailure;
}

}  // namespace

void add_demo_command(CLI::App& app, std::function<int()>& run) {
  auto opts = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "Run producers, the sequencer and three subscribers on one session");
  cmd->add_option("--events", opts->events, "Events in total")->check(CLI::Range(std::uint64_t{1000}, std::uint64_t{1} << 32));
  cmd->add_option("--producers", opts->producers, "Producer threads (one run each)")->check(CLI::Range(1u, 64u));
  cmd->add_option("--ring-capacity", opts->ring_capacity, "Ring slots (power of two)");
  cmd->add_option("--session", opts->session, "Session id");
  cmd->callback([&run, opts] { run = [opts] { return run_demo(*opts); }; });
}

}  // namespace sessionring::tools
