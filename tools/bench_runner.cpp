// The end-to-end benchmark: see bench_runner.hpp for the method. One driver, templated on the
// engine (bench_engines.hpp: SessionServer, Session or MutexEngine), so all run the same
// producer and subscriber loops.
#include "bench_runner.hpp"

#include "alloc_counter.hpp"
#include "bench_engines.hpp"
#include "churn_subscriber.hpp"
#include "latency_histogram.hpp"
#include "progress_bar.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace sessionring::tools {
namespace {

using namespace bench_detail;

// Events producer p emits when `total` are split over `np` producers (as the peers split them).
std::uint64_t share(std::uint64_t total, unsigned np, unsigned p) {
  return total / np + (p < total % np ? 1 : 0);
}

constexpr unsigned kTagShift = 40;  // payload bytes [8,16): producer << 40 | per-producer counter
constexpr std::uint64_t kCounterMask = (std::uint64_t{1} << kTagShift) - 1;

// ---- one round -----------------------------------------------------------------------------

struct alignas(64) SubState {  // one per subscriber thread, on its own cache lines
  LatencyHistogram hist;
  std::vector<std::uint64_t> next_counter;  // per producer: the counter expected next
  std::uint64_t errors = 0;
  std::uint64_t lost = 0, duplicates = 0;  // of `errors`: contiguity breaks, by kind
  std::uint64_t checksum = 0;
  std::uint64_t end_ns = 0;
  // Writer: this subscriber (relaxed, after each poll); reader: the progress bar.
  std::atomic<std::uint64_t> received{0};
};

struct RoundOut {
  double seconds = 0;
  std::uint64_t events = 0;
  LatencyHistogram hist;
  std::uint64_t errors = 0, checksum = 0, allocations = 0;
  std::uint64_t lost = 0, duplicates = 0;
  double cpu_user_s = 0, cpu_sys_s = 0;
  long rss_start_kb = 0, rss_end_kb = 0;
  std::vector<ChurnStats> churn;
};

// Current resident set of this process (/proc/self/statm), in KiB; 0 if unavailable.
long current_rss_kb() {
  std::ifstream in("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  if (!(in >> pages_total >> pages_resident)) return 0;
  return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

unsigned churners(const BenchConfig& c) {
  if (c.churn_subscribers >= 0) return static_cast<unsigned>(c.churn_subscribers);
  return c.duration_s > 0 ? 2u : 0u;
}

double tv_s(const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; }

template <class Eng>
RoundOut run_round(Eng& eng, std::vector<typename Eng::Sub>& subs, const BenchConfig& c, unsigned np,
                   unsigned running, std::uint64_t n, bool measured) {
  const bool timed = measured && c.duration_s > 0;
  const unsigned ns = static_cast<unsigned>(subs.size());
  const std::uint64_t mask = (std::uint64_t{1} << c.sample_shift) - 1;
  const double interval_ns = c.rate > 0 ? 1e9 * np / c.rate : 0;
  const auto stall_limit = std::chrono::seconds(60);

  std::vector<std::unique_ptr<SubState>> st;
  for (unsigned s = 0; s < ns; ++s) {
    st.push_back(std::make_unique<SubState>());
    st.back()->next_counter.assign(np, 0);
  }
  std::vector<std::uint64_t> emitted(np, 0), append_errors(np, 0);
  // Payload events each subscriber must receive. Writer: the control thread (duration mode:
  // after the producers finished; else before the threads start). Readers: subscribers
  // (acquire, pairs with the release store).
  std::atomic<std::uint64_t> target{timed ? ~std::uint64_t{0} : n};
  std::atomic<unsigned> ready{0};  // writers: every thread once set up (release); reader: control (acquire)
  std::atomic<bool> go{false};     // writer: control (release, after start_ns); readers: all threads (acquire)
  std::uint64_t start_ns = 0;      // written before `go`, read after it

  std::vector<std::thread> threads;
  for (unsigned s = 0; s < ns; ++s)
    threads.emplace_back([&, s] {
      SubState& me = *st[s];
      auto& sub = subs[s];
      Sequence expect = sub.cursor();  // contiguity is checked over every event, lifecycle ones too
      std::uint64_t got = 0;           // payload events received
      const bool record = measured;
      auto handler = [&](const EventView& v) {
        if (v.sequence_number != expect) {  // contiguity (INV-1, INV-3)
          ++me.errors;
          if (v.sequence_number < expect) {
            ++me.duplicates;
            return;
          }
          me.lost += v.sequence_number - expect;
        }
        expect = v.sequence_number + 1;
        if (v.type != EventType::message_streamed) return;  // SessionServer's lifecycle events
        ++got;
        std::uint64_t ts = 0, tag = 0, last = 0;
        std::memcpy(&ts, v.data.data(), 8);  // payload_bytes >= 8 (check())
        if (v.data.size() >= 16) {
          std::memcpy(&tag, v.data.data() + 8, 8);
          const std::uint64_t p = tag >> kTagShift;
          if (p < np) {
            if ((tag & kCounterMask) != me.next_counter[p]) ++me.errors;  // per-producer order (INV-5)
            me.next_counter[p] = (tag & kCounterMask) + 1;
          } else {
            ++me.errors;
          }
        }
        std::memcpy(&last, v.data.data() + v.data.size() - 8, 8);
        me.checksum += v.sequence_number ^ tag ^ last;
        if (ts != 0 && record) me.hist.record(now_ns() - ts);
      };
      if (c.rt_priority > 0) {
        if (std::string why = run_fifo(c.rt_priority + 1); !why.empty()) {
          std::fprintf(stderr, "sessionring bench: %s (a subscriber)\n", why.c_str());
          ++me.errors;
        }
      }
      ready.fetch_add(1, std::memory_order_release);  // pairs with the control thread's acquire
      Clock::time_point deadline{};  // reused while events flow: poll_wait only waits when idle
      auto last_progress = Clock::now();
      bool progressed = false;
      std::uint64_t last_batch_ns = 0;
      for (;;) {
        bool failed = false;
        const std::size_t k = sub.poll(handler, deadline, failed);
        if (failed) {
          ++me.errors;
          break;
        }
        if (k == 0) {
          const auto now = Clock::now();
          deadline = now + std::chrono::milliseconds(20);
          if (progressed) last_progress = now;
          progressed = false;
          if (now - last_progress > stall_limit && go.load(std::memory_order_acquire)) {
            ++me.errors;  // nothing arrived for a minute: report instead of hanging
            break;
          }
        } else {
          progressed = true;
          me.received.store(got, std::memory_order_relaxed);  // relaxed: progress display only
          if (timed) last_batch_ns = now_ns();
        }
        if (got >= target.load(std::memory_order_acquire)) {  // pairs with the store of the target
          me.end_ns = timed ? std::max(last_batch_ns, start_ns) : now_ns();
          break;
        }
      }
    });

  // The producers' loop: body(p, append) on a producer thread, or inside a run on the server.
  auto body = [&](unsigned p, auto&& append) {
    std::string payload(c.payload_bytes, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(p * 31 + i);
    const std::string run_id = "run-" + std::to_string(p);
    EventInput e;
    e.type = EventType::message_streamed;
    e.run_id = run_id;
    e.data = payload;
    ready.fetch_add(1, std::memory_order_release);  // pairs with the control thread's acquire
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();  // pairs with the release of `go`
    const std::uint64_t cnt = timed ? kCounterMask : share(n, np, p);
    const std::uint64_t stop_at = timed ? start_ns + static_cast<std::uint64_t>(c.duration_s * 1e9) : 0;
    std::uint64_t i = 0, errs = 0;
    for (; i < cnt; ++i) {
      if (timed && (i & 255) == 0 && now_ns() >= stop_at) break;
      if (interval_ns > 0) {
        const auto due = start_ns + static_cast<std::uint64_t>(static_cast<double>(i) * interval_ns);
        while (now_ns() < due) std::this_thread::yield();
      }
      const std::uint64_t ts = (i & mask) == 0 ? now_ns() : 0;  // just before append (peers' method)
      const std::uint64_t tag = (std::uint64_t{p} << kTagShift) | i;
      std::memcpy(payload.data(), &ts, 8);
      if (payload.size() >= 16) std::memcpy(payload.data() + 8, &tag, 8);
      if (!append(e)) ++errs;
    }
    emitted[p] = i - errs;
    append_errors[p] = errs;
  };
  eng.start_producers(np, body);

  // Soak subscribers (measured round only): they start when the producers are released.
  const unsigned nc = measured ? churners(c) : 0;
  std::vector<std::unique_ptr<ChurnSubscriber<Eng>>> churn;
  std::vector<ChurnStats> churn_stats(nc);
  std::vector<std::thread> churn_threads;
  for (unsigned k = 0; k < nc; ++k) churn.push_back(std::make_unique<ChurnSubscriber<Eng>>(eng, 0x5eed + k));

  // Producers that run before `go`: all of them, or only the occupied run slots.
  while (ready.load(std::memory_order_acquire) < ns + running) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ProgressBar bar(c.progress && measured, measured ? "bench" : "warm-up", [&] {
    if (timed) return static_cast<double>(now_ns() - start_ns) / (c.duration_s * 1e9);
    std::uint64_t lo = ~std::uint64_t{0};
    for (const auto& s : st) lo = std::min(lo, s->received.load(std::memory_order_relaxed));  // relaxed: display
    return static_cast<double>(lo) / static_cast<double>(n);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the subscribers block
  rusage r0{};
  getrusage(RUSAGE_SELF, &r0);
  const long rss0 = current_rss_kb();
  const std::uint64_t a0 = allocation_count();
  start_ns = now_ns();
  go.store(true, std::memory_order_release);  // pairs with the producers' and subscribers' acquire
  for (unsigned k = 0; k < nc; ++k) churn_threads.emplace_back([&, k] { churn_stats[k] = churn[k]->run(); });
  const bool producers_ok = eng.join_producers();
  std::uint64_t total = 0;
  for (unsigned p = 0; p < np; ++p) total += emitted[p];
  if (timed || !producers_ok) {
    // Everything the producers could append is in; the subscribers stop after it.
    target.store(std::max<std::uint64_t>(total, 1), std::memory_order_release);  // pairs with the subscribers' acquire
  }
  for (auto& t : threads) t.join();
  // The subscribers have every event: all of it is published, and the churners read up to it.
  const Sequence last = eng.latest();
  for (auto& ch : churn) ch->finish(last);
  for (auto& t : churn_threads) t.join();
  const std::uint64_t a1 = allocation_count();
  rusage r1{};
  getrusage(RUSAGE_SELF, &r1);
  bar.finish();

  RoundOut out;
  out.rss_start_kb = rss0;
  out.rss_end_kb = current_rss_kb();
  out.churn = churn_stats;
  out.events = total;
  std::uint64_t end = start_ns;
  for (const auto& s : st) {
    end = std::max(end, s->end_ns);
    out.hist.merge(s->hist);
    out.errors += s->errors;
    out.lost += s->lost;
    out.duplicates += s->duplicates;
    out.checksum += s->checksum;
  }
  for (unsigned p = 0; p < np; ++p) out.errors += append_errors[p];
  if (!producers_ok) ++out.errors;
  out.seconds = static_cast<double>(end - start_ns) / 1e9;
  out.allocations = a1 - a0;
  out.cpu_user_s = tv_s(r1.ru_utime) - tv_s(r0.ru_utime);
  out.cpu_sys_s = tv_s(r1.ru_stime) - tv_s(r0.ru_stime);
  return out;
}

// A fresh subscriber reads [from, to] (already stored, long gone from the ring): the store
// path a lapped subscriber takes. Returns events/s.
template <class Eng>
double catch_up(Eng& eng, Sequence from, Sequence to, std::uint64_t& errors) {
  auto sub = eng.subscribe(from);
  Sequence expect = from;
  auto handler = [&](const EventView& v) {
    if (v.sequence_number != expect) ++errors;
    expect = v.sequence_number + 1;
  };
  const std::uint64_t t0 = now_ns();
  while (expect <= to) {  // NOLINT(bugprone-infinite-loop): handler (by reference) advances `expect`
    bool failed = false;
    const std::size_t k = sub.poll(handler, Clock::now() + std::chrono::seconds(5), failed);
    if (failed || k == 0) {
      ++errors;
      break;
    }
  }
  const double secs = static_cast<double>(now_ns() - t0) / 1e9;
  return secs > 0 ? static_cast<double>(to - from + 1) / secs : 0;
}

// Every subscriber waits `seconds` for an event on the idle session (nothing is appended): the
// process's CPU time (user + sys) meanwhile, which waits that spin or never park would show.
template <class Sub>
double idle_cpu(std::vector<Sub>& subs, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  rusage r0{};
  getrusage(RUSAGE_SELF, &r0);
  std::vector<std::thread> waiters;
  for (auto& sub : subs)
    waiters.emplace_back([&sub, deadline] {
      bool failed = false;
      auto ignore = [](const EventView&) {};
      while (Clock::now() < deadline && !failed) sub.poll(ignore, deadline, failed);
    });
  for (auto& t : waiters) t.join();
  rusage r1{};
  getrusage(RUSAGE_SELF, &r1);
  return tv_s(r1.ru_utime) - tv_s(r0.ru_utime) + tv_s(r1.ru_stime) - tv_s(r0.ru_stime);
}

template <class Eng>
BenchResult run_with(const BenchConfig& c) {
  BenchResult r;
  r.engine = c.engine;
  r.api = c.engine == "mutex" ? "mutex" : c.api;
  // With the server, run_slots bounds the runs that execute at once (the others queue); the
  // thread-per-producer engines have no run slots, so there it caps the producers.
  const bool server = r.api == "server";
  const unsigned slots = c.run_slots != 0 ? c.run_slots : c.producers;
  const unsigned np = server ? c.producers : std::min(c.producers, slots);
  const unsigned running = std::min(np, slots);
  r.producers = np;
  // Default warm-up: a tenth of the measured events (of rate x duration when timed), at most 2 M.
  const double planned = c.duration_s > 0 && c.rate > 0 ? c.rate * c.duration_s : static_cast<double>(c.events);
  r.warmup = c.warmup >= 0 ? static_cast<std::uint64_t>(c.warmup)
                           : std::min<std::uint64_t>(static_cast<std::uint64_t>(planned / 10), 2'000'000);
  Eng eng(c);
  std::vector<typename Eng::Sub> subs;
  for (unsigned s = 0; s < c.subscribers; ++s) subs.push_back(eng.subscribe(eng.latest() + 1));
  if (r.warmup > 0) {
    const RoundOut w = run_round(eng, subs, c, np, running, r.warmup, false);
    r.errors += w.errors;
  }
  std::uint64_t lapped0 = 0, reads0 = 0;
  for (const auto& s : subs) {
    lapped0 += s.lapped();
    reads0 += s.store_reads();
  }
  const std::uint64_t batches0 = eng.batches(), oversize0 = eng.oversize();
  const Sequence first = eng.latest() + 1;

  const RoundOut m = run_round(eng, subs, c, np, running, c.events, true);
  const Sequence last = eng.latest();

  for (const auto& s : subs) {
    r.lapped += s.lapped();
    r.store_reads += s.store_reads();
  }
  r.lapped -= lapped0;
  r.store_reads -= reads0;
  r.batches = eng.batches() - batches0;
  r.first_available = eng.first_available();
  r.oversize_events = eng.oversize() - oversize0;
  r.events = m.events;
  r.seconds = m.seconds;
  r.events_per_sec = m.seconds > 0 ? static_cast<double>(m.events) / m.seconds : 0;
  r.p50_ns = m.hist.percentile(0.50);
  r.p90_ns = m.hist.percentile(0.90);
  r.p99_ns = m.hist.percentile(0.99);
  r.p999_ns = m.hist.percentile(0.999);
  r.max_ns = m.hist.max();
  r.lat_samples = m.hist.count();
  r.errors += m.errors;
  r.lost = m.lost;
  r.duplicates = m.duplicates;
  r.rss_start_kb = m.rss_start_kb;
  r.rss_end_kb = m.rss_end_kb;
  r.churn_subscribers = static_cast<unsigned>(m.churn.size());
  for (const ChurnStats& ch : m.churn) {
    r.lost += ch.lost;
    r.duplicates += ch.duplicates;
    r.errors += ch.failures + ch.lost + ch.duplicates;
    r.lapped += ch.lapped;
    r.store_reads += ch.store_reads;
    r.churn_joins += ch.joins;
    r.churn_lags += ch.lags;
    r.churn_received += ch.received;
  }
  r.checksum = m.checksum;
  r.cpu_user_s = m.cpu_user_s;
  r.cpu_sys_s = m.cpu_sys_s;
  r.allocations = m.allocations;
  r.allocs_per_event = m.events > 0 ? static_cast<double>(m.allocations) / static_cast<double>(m.events) : 0;
  if (c.catch_up && last >= first) {
    r.catchup_events = last - first + 1;
    r.catchup_events_per_sec = catch_up(eng, first, last, r.errors);
  }
  if (c.idle_s > 0) {
    r.idle_s = c.idle_s;
    r.idle_cpu_s = idle_cpu(subs, c.idle_s);
  }
  subs.clear();
  eng.stop();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  r.peak_rss_kb = ru.ru_maxrss;
  return r;
}

}  // namespace

std::string wait_name(WaitStrategy w) { return std::string(to_string(w)); }
std::string queue_name(QueueBackend q) { return q == QueueBackend::boost_lockfree ? "boost" : "moodycamel"; }

bool parse_wait(const std::string& s, WaitStrategy& out) {
  if (s == "block") out = WaitStrategy::block;
  else if (s == "yield") out = WaitStrategy::yield;
  else if (s == "spin") out = WaitStrategy::spin;
  else return false;
  return true;
}

bool parse_queue(const std::string& s, QueueBackend& out) {
  if (s == "moodycamel") out = QueueBackend::moodycamel;
  else if (s == "boost" || s == "boost_lockfree") out = QueueBackend::boost_lockfree;
  else return false;
  return true;
}

std::string check(const BenchConfig& c) {
  if (c.producers < 1 || c.subscribers < 1) return "--producers and --subscribers must be at least 1";
  if (c.events < 1 && c.duration_s <= 0) return "--events must be at least 1";
  if (c.payload_bytes < 8) return "--payload-bytes must be at least 8 (the emit timestamp)";
  if (c.sample_shift > 30) return "--sample-shift must be at most 30";
  if (c.engine != "sessionring" && c.engine != "mutex") return "--engine must be sessionring or mutex";
  if (c.store != "memory" && c.store.rfind("log:", 0) != 0) return "--store must be memory or log:DIR";
  if (c.store.rfind("log:", 0) == 0) {
    if (c.store.size() == 4) return "--store log:DIR needs a directory";
    if (c.engine == "mutex") return "--engine mutex keeps its log in a vector: use --store memory";
  }
  if (c.durability != "none" && c.durability != "buffered" && c.durability != "fsync")
    return "--durability must be none, buffered or fsync";
  if (c.rate < 0 || c.duration_s < 0) return "--rate and --duration must not be negative";
  if (c.api != "server" && c.api != "session") return "--api must be server or session";
  if (c.churn_subscribers > 1024) return "--churn-subscribers must be at most 1024";
  if (c.retain_events > (std::uint64_t{1} << 62)) return "--retain-events must be at most 2^62";
  if (c.retain_events > 0 && c.engine == "mutex") return "--engine mutex keeps every event: drop --retain-events";
  if (c.rt_priority > 0 && c.engine == "mutex") return "--engine mutex has no sequencer pool: drop --rt-priority";
  return {};
}

BenchResult run_bench(const BenchConfig& c) {
  if (std::string why = check(c); !why.empty()) throw std::runtime_error(why);
  if (c.engine == "mutex") return run_with<MutexEngineAdapter>(c);
  if (c.api == "session") return run_with<SessionEngine>(c);
  return run_with<ServerEngine>(c);
}

}  // namespace sessionring::tools
