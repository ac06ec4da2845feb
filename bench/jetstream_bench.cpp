// JetStreamStore next to raw libnats in the same run (issue 16 item 7; docs/performance.md
// "JetStream"). Not a test: prints a table. Starts its own nats-server (-js, loopback, a temporary
// store directory; stopped by pid at exit) unless --url is given.
//   jetstream_bench [--url nats://HOST:PORT] [--events N] [--rate EVENTS_PER_S]
//   jetstream_bench --sessions N     (only: N sessions of one event each, list, server RSS/fds)
//   jetstream_bench --ship-seconds S [--rate R]  (only: a Shipper from a local LogStore to
//                       JetStream while a Session appends R events/s for S seconds: the lag in
//                       events and the append -> shipped delay p50/p99/max)
// Rows:
//   raw async publish   js_PublishMsgAsync, one message per batch of B records, Nats-Msg-Id and
//                       Nats-Expected-Last-Sequence headers (the stream's own fence), all in flight
//   raw sync publish    js_PublishMsg of the same messages, one at a time
//   adapter append      JetStreamSessionLog::append of B-event batches (fenced per subject, Msg-Id)
//   adapter read        read() of every event by a read handle of another store instance
//   publish->deliver    a writer appends one event at a time at --rate; a reader on another
//                       connection follows with wait_for + read: p50/p99 of (delivered - appended)
#include <sessionring/event_record.hpp>
#include <sessionring/jet_stream_store.hpp>
#include <sessionring/log_store.hpp>
#include <sessionring/session.hpp>
#include <sessionring/shipper.hpp>

#include <nats/nats.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;
using namespace sessionring;
using Clock = std::chrono::steady_clock;

namespace {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// One encoded event of ~220 bytes (the store benchmarks' size).
std::vector<std::byte> record(Sequence seq, std::int64_t ts) {
  static const std::string data = "{\"delta\":\"" + std::string(120, 'x') + "\"}";
  char id[40];
  std::snprintf(id, sizeof id, "%032llx", static_cast<unsigned long long>(seq));
  EventView v;
  v.sequence_number = seq;
  v.type = EventType::message_streamed;
  v.id = id;
  v.run_id = "run-1";
  v.timestamp_ns = ts;
  v.data = data;
  v.metadata = "{\"m\":1}";
  v.provider = "bench";
  std::vector<std::byte> out(EventRecord::encoded_size(v));
  EventRecord::encode(out.data(), v);
  return out;
}

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Batch {
  std::vector<std::vector<std::byte>> bytes;
  std::vector<EventView> views;
  std::vector<std::span<const std::byte>> spans;
  AppendBatch batch(Sequence first) const { return AppendBatch{first, views, spans}; }
};

Batch make(Sequence first, std::size_t n) {
  Batch b;
  for (std::size_t i = 0; i < n; ++i) b.bytes.push_back(record(first + i, wall_ns()));
  for (auto& r : b.bytes) {
    EventView v;
    EventRecord::decode(r, "", v);
    b.views.push_back(v);
    b.spans.emplace_back(r.data(), r.size());
  }
  return b;
}

double raw_publish(const std::string& url, std::size_t events, std::size_t per_msg, bool async, int run,
                   bool subject_fence = false) {
  natsConnection* nc = nullptr;
  if (natsConnection_ConnectTo(&nc, url.c_str()) != NATS_OK) return -1;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = 4096;
  jsCtx* js = nullptr;
  natsConnection_JetStream(&js, nc, &jo);
  const std::string stream = "RAW" + std::to_string(run), subject = "raw." + std::to_string(run);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = stream.c_str();
  const char* subj[1] = {subject.c_str()};
  cfg.Subjects = subj;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  js_AddStream(nullptr, js, &cfg, nullptr, nullptr);
  std::vector<std::byte> payload;
  const std::size_t msgs = events / per_msg;
  const auto t0 = Clock::now();
  for (std::size_t m = 0; m < msgs; ++m) {
    payload.clear();
    for (std::size_t i = 0; i < per_msg; ++i) {
      auto r = record(m * per_msg + i + 1, wall_ns());
      payload.insert(payload.end(), r.begin(), r.end());
    }
    natsMsg* msg = nullptr;
    natsMsg_Create(&msg, subject.c_str(), nullptr, reinterpret_cast<const char*>(payload.data()),
                   static_cast<int>(payload.size()));
    const std::string id = "raw:" + std::to_string(m + 1), expect = std::to_string(m);
    natsMsgHeader_Set(msg, "Nats-Msg-Id", id.c_str());
    natsMsgHeader_Set(msg, subject_fence ? "Nats-Expected-Last-Subject-Sequence" : "Nats-Expected-Last-Sequence",
                      expect.c_str());
    if (async) {
      if (js_PublishMsgAsync(js, &msg, nullptr) != NATS_OK) natsMsg_Destroy(msg);
    } else {
      jsPubAck* ack = nullptr;
      js_PublishMsg(&ack, js, msg, nullptr, nullptr);
      jsPubAck_Destroy(ack);
      natsMsg_Destroy(msg);
    }
  }
  if (async) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 60000;
    js_PublishAsyncComplete(js, &po);
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  js_DeleteStream(js, stream.c_str(), nullptr, nullptr);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return static_cast<double>(msgs * per_msg) / s;
}

std::shared_ptr<JetStreamStore> store_at(const std::string& url, std::chrono::milliseconds poll = std::chrono::milliseconds(5)) {
  JetStreamStoreOptions o;
  o.url = url;
  o.stream = "BENCH";
  o.stream_count = 4;
  o.poll_interval = poll;
  auto s = JetStreamStore::open(o);
  if (!s) {
    std::cerr << s.error() << "\n";
    std::exit(1);
  }
  return *s;
}

double adapter_append(JetStreamStore& store, const std::string& session, std::size_t events, std::size_t per_batch) {
  auto log = store.open(session, OpenMode::write);
  if (!log) {
    std::cerr << log.error() << "\n";
    std::exit(1);
  }
  std::vector<Batch> batches;
  for (std::size_t done = 0; done < events; done += per_batch) batches.push_back(make(done + 1, per_batch));
  const auto t0 = Clock::now();
  Sequence next = 1;
  for (auto& b : batches) {
    // Records carry their sequence: the batches were made for 1.., the session is new.
    Status st = (*log)->append(b.batch(next));
    if (!st) {
      std::cerr << st.error() << "\n";
      std::exit(1);
    }
    next += b.views.size();
  }
  return static_cast<double>(next - 1) / std::chrono::duration<double>(Clock::now() - t0).count();
}

double adapter_read(const std::string& url, const std::string& session) {
  auto store = store_at(url);
  auto log = store->open(session, OpenMode::read);
  if (!log) return -1;
  std::size_t n = 0;
  const auto t0 = Clock::now();
  Status st = (*log)->read(EventQuery{}, [&](const EventView&) {
    ++n;
    return true;
  });
  if (!st) std::cerr << st.error() << "\n";
  return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - t0).count();
}

void latency(const std::string& url, double rate, std::chrono::milliseconds poll, std::size_t events) {
  auto writer_store = store_at(url);
  auto reader_store = store_at(url, poll);
  const std::string session = "lat-" + std::to_string(poll.count()) + "-" + std::to_string(::getpid());
  auto w = writer_store->open(session, OpenMode::write);
  if (!w) std::exit(1);
  std::vector<std::int64_t> lat;
  std::atomic<bool> done{false};  // writer: main thread when it stops; reader: its loop; no data
  std::thread reader([&] {
    std::shared_ptr<SessionLog> r;
    while (!r) {  // the session exists once the writer's claim is stored
      auto o = reader_store->open(session, OpenMode::read);
      if (o) r = *o;
    }
    Sequence cursor = 0;
    while (cursor < events) {
      auto l = r->wait_for(cursor, Clock::now() + std::chrono::milliseconds(200));
      if (!l || *l <= cursor) {
        if (done.load(std::memory_order_relaxed)) break;  // relaxed: only "stop soon"
        continue;
      }
      EventQuery q;
      q.after = cursor;
      (void)r->read(q, [&](const EventView& v) {
        lat.push_back(wall_ns() - v.timestamp_ns);
        cursor = v.sequence_number;
        return true;
      });
    }
  });
  const auto gap = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / rate));
  auto next = Clock::now();
  for (std::size_t i = 1; i <= events; ++i) {
    std::this_thread::sleep_until(next);
    next += gap;
    Batch b = make(i, 1);  // stamped now: the latency includes the append
    if (!(*w)->append(b.batch(i))) break;
  }
  done.store(true, std::memory_order_relaxed);
  reader.join();
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[static_cast<std::size_t>(p * (lat.size() - 1))] / 1e6; };
  std::printf("publish->deliver, %4.0f events/s, reader poll %2lld ms | %zu events | p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
              rate, static_cast<long long>(poll.count()), lat.size(), pct(0.5), pct(0.99), pct(1.0));
}

long server_status(pid_t pid, const char* key) {  // a /proc/<pid>/status field in kB
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (f == nullptr) return -1;
  char line[256];
  long v = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, key, std::strlen(key)) == 0) v = std::atol(line + std::strlen(key) + 1);
  std::fclose(f);
  return v;
}

long open_fds(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); ++it)
    ++n;
  return n;
}

// --sessions N: N sessions with one event each in the store's 4 shared streams, then
// list_sessions, and the server's RSS and open descriptors (the mapping's scaling claim).
void many_sessions(const std::string& url, std::size_t n, pid_t server) {
  auto store = store_at(url);
  const long rss0 = server > 0 ? server_status(server, "VmRSS:") : -1;
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    auto w = store->open("many-" + std::to_string(i), OpenMode::write);
    if (!w) {
      std::cerr << "session " << i << ": " << w.error() << "\n";
      std::exit(1);
    }
    Batch b = make(1, 1);
    if (Status st = (*w)->append(b.batch(1)); !st) {
      std::cerr << st.error() << "\n";
      std::exit(1);
    }
  }
  const double write_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto t1 = Clock::now();
  auto listed = store->list_sessions();
  const double list_s = std::chrono::duration<double>(Clock::now() - t1).count();
  std::printf("%zu sessions (open for write + 1 event + close each) in %.1f s (%.0f sessions/s); list_sessions: %zu in "
              "%.2f s",
              n, write_s, n / write_s, listed ? listed->size() : 0, list_s);
  if (server > 0)
    std::printf("; server RSS %ld -> %ld MiB, %ld open descriptors", rss0 / 1024, server_status(server, "VmRSS:") / 1024,
                open_fds(server));
  std::printf("\n");
  if (!listed) std::cerr << listed.error() << "\n";
}

// --ship-seconds S: a Session appends `rate` events/s (append_wait, paced) to a LogStore in a
// temporary directory; a Shipper ships it to JetStream. A sampler (every 200 µs) reads the
// shipper's watermark: the lag in events, and for every sequence the delay from its append's
// return to the first sample that saw it shipped.
void ship_lag(const std::string& url, double rate, double seconds, const std::filesystem::path& dir) {
  LogStoreOptions lo;
  lo.root = dir / "primary";
  auto primary = LogStore::open(lo).value();
  SessionOptions so;
  so.store = primary;
  so.session_id = "shipped-" + std::to_string(::getpid());
  Session session = Session::open(so).value();
  ShipperOptions sh;
  sh.source = primary;
  sh.destination = store_at(url);
  sh.sessions = {so.session_id};
  auto shipper = Shipper::start(sh).value();
  const auto n = static_cast<std::size_t>(rate * seconds);
  std::vector<Clock::time_point> appended(n + 1);
  std::atomic<Sequence> appended_up_to{0};  // writer: the appender; reader: the sampler (acquire: the times before it)
  std::atomic<bool> done{false};            // writer: main; reader: the sampler (relaxed: a stop flag)
  std::vector<double> delays_ms;
  std::vector<Sequence> lags;
  std::thread sampler([&] {
    Sequence seen = 0;
    while (!done.load(std::memory_order_relaxed) || seen < n) {
      const auto st = shipper->stats();
      const Sequence shipped = st.sessions.empty() ? 0 : st.sessions[0].shipped;
      const Sequence up_to = appended_up_to.load(std::memory_order_acquire);  // pairs with the release below
      const auto now = Clock::now();
      for (Sequence s = seen + 1; s <= std::min(shipped, up_to); ++s)
        delays_ms.push_back(std::chrono::duration<double, std::milli>(now - appended[s]).count());
      seen = std::max(seen, std::min(shipped, up_to));
      lags.push_back(up_to > shipped ? up_to - shipped : 0);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  EventInput e;
  e.type = EventType::message_streamed;
  e.data = "0123456789012345678901234567890123456789012345678901234567890123";  // 64 bytes
  const auto t0 = Clock::now();
  for (std::size_t i = 1; i <= n; ++i) {
    std::this_thread::sleep_until(t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / rate)));
    auto r = session.append_wait(e);
    if (!r) {
      std::cerr << r.error() << "\n";
      std::exit(1);
    }
    appended[r->sequence] = Clock::now();
    appended_up_to.store(r->sequence, std::memory_order_release);  // pairs with the sampler's acquire
  }
  done.store(true, std::memory_order_relaxed);
  sampler.join();
  auto pct = [](std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
  };
  std::vector<double> lag_d(lags.begin(), lags.end());
  std::printf("shipper LogStore -> JetStream at %.0f events/s for %.0f s (%zu events, %llu batches): append -> shipped "
              "p50 %.2f ms  p99 %.2f ms  max %.2f ms; lag p50 %.0f  p99 %.0f  max %.0f events\n",
              rate, seconds, n, static_cast<unsigned long long>(shipper->stats().batches), pct(delays_ms, 0.5),
              pct(delays_ms, 0.99), pct(delays_ms, 1.0), pct(lag_d, 0.5), pct(lag_d, 0.99), pct(lag_d, 1.0));
  shipper->stop();
  (void)session.stop();
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  std::size_t events = 50000;
  double rate = 1000;
  std::size_t sessions = 0;
  double ship_seconds = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--url") url = argv[i + 1];
    else if (k == "--events") events = std::stoul(argv[i + 1]);
    else if (k == "--rate") rate = std::stod(argv[i + 1]);
    else if (k == "--sessions") sessions = std::stoul(argv[i + 1]);
    else if (k == "--ship-seconds") ship_seconds = std::stod(argv[i + 1]);
  }
  pid_t server = -1;
  std::filesystem::path dir;
  if (url.empty()) {
    const int port = free_port();
    dir = std::filesystem::temp_directory_path() / ("sessionring-jsbench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::vector<std::string> args{"nats-server", "-js", "-a", "127.0.0.1", "-p", std::to_string(port), "-sd",
                                  (dir / "js").string(), "-l", (dir / "log").string()};
    std::vector<char*> av;
    for (auto& a : args) av.push_back(a.data());
    av.push_back(nullptr);
    if (::posix_spawnp(&server, "nats-server", nullptr, nullptr, av.data(), environ) != 0) {
      std::cerr << "cannot start nats-server (Debian package nats-server)\n";
      return 1;
    }
    url = "nats://127.0.0.1:" + std::to_string(port);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::printf("JetStream benchmark on %s, %zu events of ~%zu bytes, file storage R1\n", url.c_str(), events,
              record(1, 0).size());
  if (ship_seconds > 0) {
    const auto ship_dir = std::filesystem::temp_directory_path() / ("sessionring-shipbench-" + std::to_string(::getpid()));
    ship_lag(url, rate, ship_seconds, ship_dir);
    std::filesystem::remove_all(ship_dir);
  } else if (sessions > 0) {
    many_sessions(url, sessions, server);
  } else {
  auto store = store_at(url);
  int run = 0;
  for (std::size_t b : {1, 16, 256}) {
    const double raw_async = raw_publish(url, events, b, true, run++);
    const double raw_sync = raw_publish(url, b == 1 ? events / 5 : events, b, false, run++);
    // The same with the per-subject fence the adapter uses (one subject: the same sequences).
    const double raw_sync_subject = raw_publish(url, b == 1 ? events / 5 : events, b, false, run++, true);
    const std::string session = "append-" + std::to_string(b) + "-" + std::to_string(::getpid());
    const double adapter = adapter_append(*store, session, b == 1 ? events / 5 : events, b);
    std::printf("batch %3zu | raw async publish %9.0f ev/s | raw sync publish %9.0f ev/s | raw sync, subject fence "
                "%9.0f ev/s | adapter append %9.0f ev/s (%.0f %% of raw async, %.0f %% of raw sync)\n",
                b, raw_async, raw_sync, raw_sync_subject, adapter, 100 * adapter / raw_async, 100 * adapter / raw_sync);
    if (b == 256)
      std::printf("adapter read (another connection, %zu events in batches of 256) %9.0f ev/s\n", events,
                  adapter_read(url, session));
    if (b == 1)
      std::printf("adapter read (another connection, %zu events one per message) %9.0f ev/s\n", events / 5,
                  adapter_read(url, session));
  }
  latency(url, rate, std::chrono::milliseconds(5), static_cast<std::size_t>(rate * 3));
  latency(url, rate, std::chrono::milliseconds(1), static_cast<std::size_t>(rate * 3));
  }
  if (server > 0) {
    ::kill(server, SIGTERM);
    ::waitpid(server, nullptr, 0);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return 0;
}
