#include "sessions_bench.hpp"

#include "latency_histogram.hpp"
#include "rt_priority.hpp"

#include <sessionring/log_store.hpp>
#include <sessionring/memory_store.hpp>
#include <sessionring/sequencer_pool.hpp>
#include <sessionring/session_registry.hpp>

#include <dirent.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sessionring::tools {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

std::uint32_t entries(const char* dir) {
  std::uint32_t n = 0;
  if (DIR* d = ::opendir(dir)) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

std::uint32_t thread_count() { return entries("/proc/self/task"); }
std::uint32_t fd_count() { return entries("/proc/self/fd") - 1; }  // minus the one opendir holds

/// Heap bytes in use (glibc mallinfo2: allocated and not freed), in KiB. RSS does not shrink
/// when memory is freed into malloc's arenas; this does.
long heap_kb() { return static_cast<long>(::mallinfo2().uordblks / 1024); }

long rss_kb() {
  std::ifstream in("/proc/self/statm");
  long total = 0, resident = 0;
  if (!(in >> total >> resident)) return 0;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::string fmt_ns(std::uint64_t ns) {
  char b[32];
  if (ns >= 1'000'000) std::snprintf(b, sizeof b, "%.2f ms", static_cast<double>(ns) / 1e6);
  else if (ns >= 1'000) std::snprintf(b, sizeof b, "%.1f us", static_cast<double>(ns) / 1e3);
  else std::snprintf(b, sizeof b, "%llu ns", static_cast<unsigned long long>(ns));
  return b;
}

// One subscription read by the poller: checks contiguity (every event once, in order) and
// records emit->deliver from the timestamp the driver put in the event's data.
struct Reader {
  Subscription sub;
  Sequence next = 0;  // 0: not yet seen an event
  std::uint64_t received = 0;
  std::uint64_t errors = 0;

  /// Without a deadline: poll(); with one: poll_wait() (parks until an event or the deadline).
  std::size_t poll(LatencyHistogram* h, std::size_t max_events = Subscription::kAll,
                   std::optional<Deadline> deadline = std::nullopt) {
    auto on_event = [&](const EventView& v) {
      if (next != 0 && v.sequence_number != next) ++errors;
      next = v.sequence_number + 1;
      if (v.type != EventType::message_streamed) return;  // session_created / session_started
      ++received;
      std::uint64_t t = 0;
      std::from_chars(v.data.data(), v.data.data() + v.data.size(), t);
      if (h != nullptr && t != 0) h->record(now_ns() - t);
    };
    auto r = deadline ? sub.poll_wait(on_event, *deadline, max_events) : sub.poll(on_event, max_events);
    if (!r) {
      ++errors;
      return 0;
    }
    return *r;
  }
};

EventInput timed_event(char* buf, std::size_t cap) {
  EventInput e;
  e.type = EventType::message_streamed;
  const auto res = std::to_chars(buf, buf + cap, now_ns());
  e.data = std::string_view(buf, static_cast<std::size_t>(res.ptr - buf));
  return e;
}

}  // namespace

namespace {
/// The close phase: every session is let go (the caller dropped its handles and subscribers);
/// waits until the registry has closed them all (or 60 s), measures RSS and descriptors, then
/// reopens each with find() (timed) and appends one event, whose sequence must be the next.
void close_and_reopen(const SessionsBenchConfig& c, SessionRegistry& registry, const std::string& prefix,
                      SessionsBenchResult& r) {
  const std::uint64_t hosted = registry.stats().hosted;
  const auto until = Clock::now() + std::chrono::seconds(60);
  while (registry.stats().open > 0 && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto closed = registry.stats();
  r.closed = static_cast<std::uint32_t>(closed.hosted - closed.open);
  if (closed.open > 0) ++r.errors;  // some session was not closed although nobody used it
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  r.heap_closed_kb = heap_kb();
  ::malloc_trim(0);  // give freed arena pages back, so RSS shows what the closed sessions still hold
  r.rss_closed_kb = rss_kb();
  r.fds_closed = fd_count();
  r.rss_per_closed_session_kb =
      hosted > 0 ? static_cast<double>(r.rss_closed_kb - r.rss_before_kb) / static_cast<double>(hosted) : 0.0;
  r.heap_per_closed_session_kb =
      hosted > 0 ? static_cast<double>(r.heap_closed_kb - r.heap_before_kb) / static_cast<double>(hosted) : 0.0;
  LatencyHistogram reopens;
  EventInput e;
  e.type = EventType::message_streamed;
  e.data = "after reopen";
  for (std::uint32_t i = 0; i < c.sessions; ++i) {
    const std::string id = prefix + std::to_string(i);
    const auto t0 = Clock::now();
    auto server = registry.find(id);
    reopens.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
    if (!server) {
      ++r.errors;
      continue;
    }
    const Sequence before = server->session().latest_sequence();
    auto seq = server->session().append_wait(e);
    if (!seq || seq->sequence != before + 1 || before == 0) ++r.errors;  // the sequence continues (INV-1)
  }
  r.reopen_p50_ns = reopens.percentile(0.50);
  r.reopen_p99_ns = reopens.percentile(0.99);
  r.reopen_max_ns = reopens.max();
}
}  // namespace

SessionsBenchResult run_sessions_bench(const SessionsBenchConfig& c) {
  SessionsBenchResult r;
  r.sessions = c.sessions;
  r.active = c.active;
  std::shared_ptr<SessionStore> store;
  if (c.store == "memory") {
    store = MemoryStore::create();
  } else {
    LogStoreOptions lo;
    lo.root = c.store.substr(4);
    auto st = LogStore::open(lo);
    if (!st) throw std::runtime_error("LogStore::open: " + st.error().describe());
    store = *st;
  }
  std::shared_ptr<SequencerPool> pool;
  if (c.rt_priority > 0) {
    pool = make_rt_pool(c.rt_priority, c.pool_threads);
  } else if (c.pool_threads != 0) {
    SequencerPool::Options po;
    po.threads = c.pool_threads;
    pool = SequencerPool::create(po).value();
  }
  const std::string prefix = "bench-" + std::to_string(::getpid()) + "-";
  auto server_options = [&](const std::string& id) {
    SessionServerOptions o;
    o.store = store;
    o.new_session = NewSession{id, {}, {}};
    o.engine.pool = pool;
    return o;
  };

  r.threads_before = thread_count();
  r.fds_before = fd_count();
  r.rss_before_kb = rss_kb();
  r.heap_before_kb = heap_kb();
  SessionRegistry::Options ro;
  ro.close_idle_after = std::chrono::nanoseconds(static_cast<std::int64_t>(c.close_idle_after_ms * 1e6));
  auto made = SessionRegistry::create(ro);
  if (!made) throw std::runtime_error("SessionRegistry::create: " + made.error().describe());
  SessionRegistry& registry = **made;
  std::vector<std::shared_ptr<SessionServer>> servers;
  std::vector<Reader> readers;
  servers.reserve(c.sessions);
  readers.reserve(c.sessions);
  LatencyHistogram starts;
  const auto t_start = Clock::now();
  for (std::uint32_t i = 0; i < c.sessions; ++i) {
    const std::string id = prefix + std::to_string(i);
    const auto t0 = Clock::now();
    auto s = registry.start(server_options(id));
    starts.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
    if (!s) throw std::runtime_error("start '" + id + "': " + s.error().describe());
    auto sub = (*s)->subscribe();
    if (!sub) throw std::runtime_error("subscribe '" + id + "': " + sub.error().describe());
    servers.push_back(*s);
    readers.push_back(Reader{std::move(*sub)});
    if (i % 64 == 0) r.fds_peak_start = std::max(r.fds_peak_start, fd_count());
  }
  r.fds_peak_start = std::max(r.fds_peak_start, fd_count());
  r.start_total_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  r.start_p50_ns = starts.percentile(0.50);
  r.start_p99_ns = starts.percentile(0.99);
  r.start_max_ns = starts.max();
  for (auto& rd : readers) rd.poll(nullptr);  // each subscriber reads its session_created/started
  // Idle: the pool parks every session and, after its idle period, gives ring pages back.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  r.threads_idle = thread_count();
  r.rss_idle_kb = rss_kb();
  r.heap_idle_kb = heap_kb();
  r.fds_idle = fd_count();
  r.rss_per_idle_session_kb =
      c.sessions > 0 ? static_cast<double>(r.rss_idle_kb - r.rss_before_kb) / static_cast<double>(c.sessions) : 0.0;
  r.pool_threads = pool ? pool->threads() : SequencerPool::default_pool()->threads();

  // Active phase: K sessions at R events/s each, one paced driver, one poller.
  const std::uint32_t k = std::min(c.active, c.sessions);
  if (k > 0 && c.duration_s > 0) {
    std::vector<Producer> producers;
    for (std::uint32_t i = 0; i < k; ++i) producers.push_back(servers[i]->session().producer().value());
    std::atomic<bool> driving{true};
    std::atomic<std::uint64_t> sent{0};
    LatencyHistogram lat;
    std::uint64_t received = 0;
    std::thread poller([&] {
      for (;;) {
        std::size_t got = 0;
        for (std::uint32_t i = 0; i < k; ++i) got += readers[i].poll(&lat);
        received = 0;
        for (std::uint32_t i = 0; i < k; ++i) received += readers[i].received;
        if (!driving.load(std::memory_order_acquire) && received >= sent.load(std::memory_order_relaxed)) break;
        if (got == 0) std::this_thread::yield();
      }
    });
    const auto t0 = Clock::now();
    std::vector<std::uint64_t> per(k, 0);
    char buf[32];
    for (;;) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
      if (elapsed >= c.duration_s) break;
      const auto due = static_cast<std::uint64_t>(c.rate * elapsed);
      for (std::uint32_t i = 0; i < k; ++i)
        for (; per[i] < due; ++per[i]) {
          if (!producers[i].append(timed_event(buf, sizeof buf)).ok()) ++r.errors;
          sent.fetch_add(1, std::memory_order_relaxed);  // relaxed: the poller's stop test, after the acquire below
        }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    driving.store(false, std::memory_order_release);
    poller.join();
    r.events = received;
    r.events_per_sec = static_cast<double>(received) / seconds;
    r.target_events_per_sec = c.rate * k;
    r.lat_p50_ns = lat.percentile(0.50);
    r.lat_p99_ns = lat.percentile(0.99);
    r.lat_max_ns = lat.max();
  }

  // Fairness: one session floods unpaced, another gets trickle_rate events/s.
  if (c.fairness_s > 0) {
    auto flood = registry.start(server_options(prefix + "flood")).value();
    auto trickle = registry.start(server_options(prefix + "trickle")).value();
    Reader flood_reader{flood->subscribe().value()};
    Reader trickle_reader{trickle->subscribe().value()};
    std::atomic<bool> running{true};
    std::thread flooder([&] {
      Producer p = flood->session().producer().value();
      AppendOptions ao;
      ao.on_full = FullPolicy::wait;
      EventInput e;
      e.type = EventType::message_streamed;
      e.data = "0";
      while (running.load(std::memory_order_relaxed))  // relaxed: a stop flag
        if (p.append(e, ao).ok()) ++r.flood_events;
    });
    // Each session's subscriber on its own thread, as a host would have them: one thread for
    // both would make the trickle's events wait behind the flood's reads (the bench's own
    // queueing, not the engine's). The flood's reads are bounded so that it keeps up in turns.
    LatencyHistogram tl;
    std::thread poller([&] {
      while (running.load(std::memory_order_relaxed))  // relaxed: a stop flag
        if (flood_reader.poll(nullptr, 4096) == 0) std::this_thread::yield();
    });
    // Written by main once it has sent the last trickle event; the trickle's poller stops when it
    // has read that many (or after 10 s more). kAll: still sending.
    std::atomic<std::uint64_t> trickle_sent{Subscription::kAll};
    std::string trickle_fifo_failed;  // written by the trickle poller, read after its join
    std::thread trickle_poller([&] {
      if (c.rt_priority > 0) trickle_fifo_failed = run_fifo(c.rt_priority + 1);
      std::optional<Clock::time_point> until;
      for (;;) {
        const std::uint64_t sent_all = trickle_sent.load(std::memory_order_acquire);  // pairs with main's release
        if (trickle_reader.received >= sent_all) break;
        if (sent_all != Subscription::kAll && !until) until = Clock::now() + std::chrono::seconds(10);
        if (until && Clock::now() >= *until) break;
        trickle_reader.poll(&tl, Subscription::kAll, Clock::now() + std::chrono::milliseconds(10));
      }
    });
    Producer tp = trickle->session().producer().value();
    const auto t0 = Clock::now();
    std::uint64_t n = 0;
    char buf[32];
    for (;;) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
      if (elapsed >= c.fairness_s) break;
      for (; n < static_cast<std::uint64_t>(c.trickle_rate * elapsed); ++n)
        if (!tp.append(timed_event(buf, sizeof buf)).ok()) ++r.errors;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    // Let the trickle's last events arrive, then stop the flood.
    trickle_sent.store(n, std::memory_order_release);  // pairs with the trickle poller's acquire
    trickle_poller.join();
    running = false;
    flooder.join();
    poller.join();
    if (!trickle_fifo_failed.empty()) throw std::runtime_error(trickle_fifo_failed + " (the trickle subscriber)");
    if (trickle_reader.received != n) ++r.errors;
    r.trickle_events = n;
    r.trickle_p50_ns = tl.percentile(0.50);
    r.trickle_p99_ns = tl.percentile(0.99);
    r.trickle_max_ns = tl.max();
    r.errors += flood_reader.errors + trickle_reader.errors;
  }
  for (auto& rd : readers) r.errors += rd.errors;
  readers.clear();
  servers.clear();
  if (c.close_idle_after_ms > 0) close_and_reopen(c, registry, prefix, r);
  const auto t_stop = Clock::now();
  if (Status st = registry.stop_all(); !st) ++r.errors;
  r.stop_total_s = std::chrono::duration<double>(Clock::now() - t_stop).count();
  return r;
}

void print_sessions_bench(const SessionsBenchConfig& c, const SessionsBenchResult& r) {
  const std::string pool = c.rt_priority > 0 ? "own pool, SCHED_FIFO " + std::to_string(c.rt_priority) +
                                                   ", trickle subscriber " + std::to_string(c.rt_priority + 1)
                           : c.pool_threads == 0 ? "default sequencer pool"
                                                 : "own pool";
  std::printf("sessionring bench --sessions %u --active %u --rate %.0f: store %s, default options (%s)\n", r.sessions,
              r.active, c.rate, c.store.c_str(), pool.c_str());
  std::printf("  threads         %u before, %u with %u idle sessions: %d engine threads (sequencer pool %u)\n",
              r.threads_before, r.threads_idle, r.sessions, static_cast<int>(r.threads_idle) - static_cast<int>(r.threads_before),
              r.pool_threads);
  std::printf("  memory          RSS %.1f MiB before, %.1f MiB idle: %.1f KiB per idle session (one subscriber each)\n",
              static_cast<double>(r.rss_before_kb) / 1024.0, static_cast<double>(r.rss_idle_kb) / 1024.0,
              r.rss_per_idle_session_kb);
  std::printf("  descriptors     %u open before, at most %u while starting, %u with the idle sessions\n", r.fds_before,
              r.fds_peak_start, r.fds_idle);
  std::printf("  start           p50 %s  p99 %s  max %s  (SessionRegistry::start, new session; %.2f s for all)\n",
              fmt_ns(r.start_p50_ns).c_str(), fmt_ns(r.start_p99_ns).c_str(), fmt_ns(r.start_max_ns).c_str(),
              r.start_total_s);
  if (r.active > 0)
    std::printf("  active          %u sessions: %.0f events/s delivered (target %.0f); emit->deliver p50 %s  p99 %s  max %s\n",
                r.active, r.events_per_sec, r.target_events_per_sec, fmt_ns(r.lat_p50_ns).c_str(),
                fmt_ns(r.lat_p99_ns).c_str(), fmt_ns(r.lat_max_ns).c_str());
  if (r.trickle_events > 0)
    std::printf("  fairness        trickle %llu events at %.0f/s while a session flooded %llu: p50 %s  p99 %s  max %s\n",
                static_cast<unsigned long long>(r.trickle_events), c.trickle_rate,
                static_cast<unsigned long long>(r.flood_events), fmt_ns(r.trickle_p50_ns).c_str(),
                fmt_ns(r.trickle_p99_ns).c_str(), fmt_ns(r.trickle_max_ns).c_str());
  if (c.close_idle_after_ms > 0) {
    std::printf("  idle close      %u closed (after %.0f ms unused): heap in use %.1f KiB per session (%.1f while idle "
                "open); RSS after malloc_trim %.1f MiB, %.1f KiB per session; %u descriptors\n",
                r.closed, c.close_idle_after_ms, r.heap_per_closed_session_kb,
                r.sessions > 0 ? static_cast<double>(r.heap_idle_kb - r.heap_before_kb) / r.sessions : 0.0,
                static_cast<double>(r.rss_closed_kb) / 1024.0, r.rss_per_closed_session_kb, r.fds_closed);
    std::printf("  reopen          p50 %s  p99 %s  max %s  (SessionRegistry::find of a closed session)\n",
                fmt_ns(r.reopen_p50_ns).c_str(), fmt_ns(r.reopen_p99_ns).c_str(), fmt_ns(r.reopen_max_ns).c_str());
  }
  std::printf("  stop            %.2f s for all\n", r.stop_total_s);
  std::printf("  errors          %llu%s\n", static_cast<unsigned long long>(r.errors),
              r.errors == 0 ? " (every subscriber received every event once, in order)" : "  <-- FAILED");
}

nlohmann::ordered_json sessions_bench_json(const SessionsBenchConfig& c, const SessionsBenchResult& r) {
  nlohmann::ordered_json j;
  j["sessions"] = r.sessions;
  j["active"] = r.active;
  j["rate_per_session"] = c.rate;
  j["store"] = c.store.rfind("log:", 0) == 0 ? "log" : c.store;
  j["threads_before"] = r.threads_before;
  j["threads_idle"] = r.threads_idle;
  j["pool_threads"] = r.pool_threads;
  j["rt_priority"] = c.rt_priority;
  j["rss_before_kb"] = r.rss_before_kb;
  j["rss_idle_kb"] = r.rss_idle_kb;
  j["rss_per_idle_session_kb"] = r.rss_per_idle_session_kb;
  j["fds_before"] = r.fds_before;
  j["fds_idle"] = r.fds_idle;
  j["fds_peak_start"] = r.fds_peak_start;
  j["start_p50_ns"] = r.start_p50_ns;
  j["start_p99_ns"] = r.start_p99_ns;
  j["start_max_ns"] = r.start_max_ns;
  j["events"] = r.events;
  j["events_per_sec"] = r.events_per_sec;
  j["p50_ns"] = r.lat_p50_ns;
  j["p99_ns"] = r.lat_p99_ns;
  j["trickle_events"] = r.trickle_events;
  j["flood_events"] = r.flood_events;
  j["trickle_p50_ns"] = r.trickle_p50_ns;
  j["trickle_p99_ns"] = r.trickle_p99_ns;
  j["trickle_max_ns"] = r.trickle_max_ns;
  if (c.close_idle_after_ms > 0) {
    j["close_idle_after_ms"] = c.close_idle_after_ms;
    j["closed"] = r.closed;
    j["rss_closed_kb"] = r.rss_closed_kb;
    j["rss_per_closed_session_kb"] = r.rss_per_closed_session_kb;
    j["heap_before_kb"] = r.heap_before_kb;
    j["heap_idle_kb"] = r.heap_idle_kb;
    j["heap_closed_kb"] = r.heap_closed_kb;
    j["heap_per_closed_session_kb"] = r.heap_per_closed_session_kb;
    j["fds_closed"] = r.fds_closed;
    j["reopen_p50_ns"] = r.reopen_p50_ns;
    j["reopen_p99_ns"] = r.reopen_p99_ns;
    j["reopen_max_ns"] = r.reopen_max_ns;
  }
  j["stop_s"] = r.stop_total_s;
  j["errors"] = r.errors;
  return j;
}

}  // namespace sessionring::tools
