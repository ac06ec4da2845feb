// The engines `sessionring bench` drives, behind one shape (bench_runner.cpp's run_round):
//   subscribe(from) -> Sub: poll(handler, deadline, failed), cursor(), lapped(), store_reads()
//   start_producers(np, body): body(p, append) for p in [0, np), on producer threads or as runs
//   join_producers() -> false if a producer could not start; latest(), batches(), oversize(), stop()
// SessionEngine: Session, one thread per producer. ServerEngine: SessionServer, each producer a
// run (at most run_slots at once). MutexEngineAdapter: the plain mutex design (mutex_engine.hpp).
#pragma once
#include "bench_runner.hpp"
#include "mutex_engine.hpp"
#include "rt_priority.hpp"

#include <sessionring/log_store.hpp>
#include <sessionring/session_server.hpp>
#include <sessionring/sessionring.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace sessionring::tools::bench_detail {

using Clock = std::chrono::steady_clock;

inline std::uint64_t now_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

// ---- engine adapters -----------------------------------------------------------------------
// Each: subscribe(from) -> Sub (poll(handler, deadline, failed), cursor(), lapped(),
// store_reads()); start_producers(np, body) runs body(p, append) for p in [0, np) on producer
// threads (or as runs); join_producers(); latest(), batches(), oversize(), stop().

inline std::string fresh_session_id() {
  return "bench-" + std::to_string(getpid()) + "-" + std::to_string(now_ns() % 1'000'000'007);
}

inline SessionOptions engine_options(const BenchConfig& c) {
  SessionOptions o;
  o.ring_capacity = c.ring_capacity;
  o.ring_slot_bytes = c.slot_bytes;
  o.ingest_capacity = c.ingest_capacity;
  o.max_batch = c.max_batch;
  o.queue = c.queue;
  o.wait = c.wait;
  o.max_producers = std::max<std::uint32_t>(256, std::max(c.producers, c.run_slots) + 2);
  if (c.rt_priority > 0) o.pool = make_rt_pool(c.rt_priority, 0);  // throws, naming the reason
  return o;
}

// Opens the store named by --store, with --retain-events as its retention; for a log store,
// remembers the session directory this run creates so that it can be removed afterwards.
inline std::shared_ptr<SessionStore> open_store(const BenchConfig& c, const std::string& session_id,
                                         std::filesystem::path& created_dir) {
  if (c.store == "memory") {
    MemoryStoreOptions mo;
    mo.retention.max_events = c.retain_events;
    auto st = MemoryStore::create(mo);
    if (!st) throw std::runtime_error("MemoryStore::create: " + st.error().describe());
    return *st;
  }
  LogStoreOptions lo;
  lo.root = c.store.substr(4);
  lo.retention.max_events = c.retain_events;
  auto d = parse_durability(c.durability);
  if (!d) throw std::runtime_error(d.error().describe());
  lo.durability = *d;
  auto st = LogStore::open(lo);
  if (!st) throw std::runtime_error("LogStore::open: " + st.error().describe());
  created_dir = lo.root / session_id;
  return *st;
}

// The session's first available sequence in `store` (above what retention pruned), or 0 if the
// store cannot open it for reading.
inline Sequence first_available(SessionStore& store, const std::string& session_id) {
  auto log = store.open(session_id, OpenMode::read);
  return log ? (*log)->first_sequence() : 0;
}

inline void remove_dir(const std::filesystem::path& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // only the session directory this run created
}

struct SubBase {
  Subscription s;
  template <class H>
  std::size_t poll(H& handler, Clock::time_point deadline, bool& failed) {
    auto r = s.poll_wait(handler, deadline);
    if (!r) {
      // e.g. Errc::pruned: --retain-events removed events this subscriber had not read yet
      std::fprintf(stderr, "sessionring bench: a subscriber stopped: %s\n", r.error().describe().c_str());
      failed = true;
      return 0;
    }
    return *r;
  }
  Sequence cursor() const { return s.cursor(); }
  std::uint64_t lapped() const { return s.stats().lapped_count; }
  std::uint64_t store_reads() const { return s.stats().store_reads; }
};

// Producer threads, each with its own Producer handle (SessionServer's run slots do the same).
class ThreadProducers {
 public:
  template <class MakeProducer, class Body>
  void start(unsigned np, MakeProducer make, Body& body) {
    for (unsigned p = 0; p < np; ++p)
      threads_.emplace_back([this, p, make, &body] {
        auto prod = make();
        if (!prod) failed_.store(true, std::memory_order_relaxed);  // relaxed: read after join
        body(p, [&](const EventInput& e) { return prod && prod->append(e).ok(); });
      });
  }
  void join() {
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  bool failed() const { return failed_.load(std::memory_order_relaxed); }  // after join()

 private:
  std::vector<std::thread> threads_;
  std::atomic<bool> failed_{false};  // writers: producer threads that got no handle; reader: after join
};

// api "session": the core engine directly, P producer threads.
class SessionEngine {
 public:
  using Sub = SubBase;
  explicit SessionEngine(const BenchConfig& c) {
    SessionOptions o = engine_options(c);
    o.session_id = fresh_session_id();
    o.store = open_store(c, o.session_id, dir_);
    store_ = o.store;
    id_ = o.session_id;
    auto s = Session::open(o);
    if (!s) throw std::runtime_error("Session::open: " + s.error().describe());
    session_ = std::make_unique<Session>(std::move(*s));
  }
  ~SessionEngine() {
    if (session_) (void)session_->stop();
    session_.reset();
    remove_dir(dir_);
  }
  SessionEngine(const SessionEngine&) = delete;
  SessionEngine& operator=(const SessionEngine&) = delete;

  Sub subscribe(Sequence from) {
    SubscribeOptions so;
    so.from_sequence = from;
    auto s = session_->subscribe(so);
    if (!s) throw std::runtime_error("Session::subscribe: " + s.error().describe());
    return Sub{std::move(*s)};
  }
  template <class Body>
  void start_producers(unsigned np, Body& body) {
    producers_.start(np, [this]() -> std::optional<Producer> {
      auto p = session_->producer();
      if (!p) return std::nullopt;
      return std::move(*p);
    }, body);
  }
  bool join_producers() {
    producers_.join();
    return !producers_.failed();
  }
  Sequence latest() const { return session_->latest_sequence(); }
  Sequence first_available() const { return bench_detail::first_available(*store_, id_); }
  std::uint64_t batches() const { return session_->stats().batches; }
  std::uint64_t oversize() const { return session_->stats().oversize_events; }
  void stop() {
    if (Status st = session_->stop(); !st) throw std::runtime_error("Session::stop: " + st.error().describe());
  }

 private:
  std::filesystem::path dir_;
  std::shared_ptr<SessionStore> store_;
  std::string id_;
  std::unique_ptr<Session> session_;
  ThreadProducers producers_;
};

// api "server": SessionServer with max_concurrent_runs = run slots; each producer is a run
// that emits its share through RunContext::emit. The server adds lifecycle events
// (session_created/started, run_started/completed per run) that subscribers skip.
class ServerEngine {
 public:
  using Sub = SubBase;
  explicit ServerEngine(const BenchConfig& c) {
    SessionServerOptions o;
    id_ = fresh_session_id();
    o.store = open_store(c, id_, dir_);
    store_ = o.store;
    o.new_session = NewSession{id_, {}, {}};
    o.max_concurrent_runs = c.run_slots != 0 ? c.run_slots : c.producers;
    o.max_queued_runs = c.producers + 1;
    o.engine = engine_options(c);
    auto s = SessionServer::start(std::move(o));
    if (!s) throw std::runtime_error("SessionServer::start: " + s.error().describe());
    server_ = std::make_unique<SessionServer>(std::move(*s));
  }
  ~ServerEngine() {
    if (server_) (void)server_->stop(StopPolicy::cancel);
    server_.reset();
    remove_dir(dir_);
  }
  ServerEngine(const ServerEngine&) = delete;
  ServerEngine& operator=(const ServerEngine&) = delete;

  Sub subscribe(Sequence from) {
    SubscribeOptions so;
    so.from_sequence = from;
    auto s = server_->subscribe(so);
    if (!s) throw std::runtime_error("SessionServer::subscribe: " + s.error().describe());
    return Sub{std::move(*s)};
  }
  template <class Body>
  void start_producers(unsigned np, Body& body) {
    ++round_;
    for (unsigned p = 0; p < np; ++p) {
      RunOptions ro;
      ro.run_id = "bench-" + std::to_string(round_) + "-" + std::to_string(p);
      auto id = server_->submit_run(
          [p, &body](RunContext& ctx) -> RunResult {
            body(p, [&](const EventInput& e) { return ctx.emit(e).ok(); });
            return RunOutput{};
          },
          ro);
      if (!id) throw std::runtime_error("SessionServer::submit_run: " + id.error().describe());
      runs_.push_back(std::move(*id));
    }
  }
  bool join_producers() {
    bool ok = true;
    for (const auto& id : runs_) ok = server_->await_run(id, std::chrono::hours(24)).ok() && ok;
    runs_.clear();
    return ok;
  }
  Sequence latest() const { return server_->session().latest_sequence(); }
  Sequence first_available() const { return bench_detail::first_available(*store_, id_); }
  std::uint64_t batches() const { return server_->session().stats().batches; }
  std::uint64_t oversize() const { return server_->session().stats().oversize_events; }
  void stop() {
    if (Status st = server_->stop(); !st) throw std::runtime_error("SessionServer::stop: " + st.error().describe());
  }

 private:
  std::filesystem::path dir_;
  std::shared_ptr<SessionStore> store_;
  std::string id_;
  std::unique_ptr<SessionServer> server_;
  std::vector<std::string> runs_;
  unsigned round_ = 0;
};

class MutexEngineAdapter {
 public:
  struct Prod {
    MutexEngine* e;
    Result<Sequence> append(const EventInput& in) { return e->append(in); }
  };
  struct Sub {
    MutexEngine::Subscriber s;
    template <class H>
    std::size_t poll(H& handler, Clock::time_point deadline, bool&) {
      return s.poll_wait(handler, deadline);
    }
    Sequence cursor() const { return s.cursor(); }
    std::uint64_t lapped() const { return 0; }
    std::uint64_t store_reads() const { return 0; }
  };
  explicit MutexEngineAdapter(const BenchConfig&) : engine_("bench") {}
  Sub subscribe(Sequence from) { return Sub{engine_.subscribe(from)}; }
  template <class Body>
  void start_producers(unsigned np, Body& body) {
    producers_.start(np, [this]() -> std::optional<Prod> { return Prod{&engine_}; }, body);
  }
  bool join_producers() {
    producers_.join();
    return true;
  }
  Sequence latest() const { return engine_.latest_sequence(); }
  Sequence first_available() const { return 1; }  // keeps every event
  std::uint64_t batches() const { return 0; }
  std::uint64_t oversize() const { return 0; }
  void stop() { engine_.stop(); }

 private:
  MutexEngine engine_;
  ThreadProducers producers_;
};

}  // namespace sessionring::tools::bench_detail
