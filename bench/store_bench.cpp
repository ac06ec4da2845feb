// LogStore benchmarks (docs/store.md "Measured"), each with a MemoryStore twin as baseline:
//   BM_LogAppend_1W/<level>/<batch>     one writer appending batches; level 0 none, 1 buffered,
//                                       2 fsync with the sync thread (group commit), 3 fsync inline
//   BM_MemoryAppend_1W/<batch>          the same into MemoryStore
//   BM_MemoryAppendRetention_1W/<0|1>   MemoryStore, retention off / on: events/s and page faults per event
//   BM_LogSequentialRead_1M             one read() over 1,000,000 stored events
//   BM_MemorySequentialRead_1M          the same from MemoryStore
//   BM_LogCatchUp_1M_Chunked            a lapped subscriber's reads: 4096 sequences per read()
//   BM_SessionBackfill_1M               Session::subscribe(from 1) + poll over 1,000,000 events
//   BM_SqliteAppend_1W/<level>/<batch>  the same appends into a SqliteStore (level 0 none, 1
//                                       buffered, 2 fsync: synchronous OFF / NORMAL / FULL, WAL)
//   BM_SqliteSequentialRead_1M, BM_SqliteCatchUp_1M_Chunked   the read twins on a SqliteStore
// Records are 48-byte headers + 32-byte id + run id + 128 bytes of data (~220 bytes; 252 on
// disk with the frame). The store lives under std::filesystem::temp_directory_path().
#include <sessionring/event_record.hpp>
#include <sessionring/log_store.hpp>
#include <sessionring/memory_store.hpp>
#include <sessionring/session.hpp>
#include <sessionring/sqlite_store.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

using namespace sessionring;

namespace {

constexpr Sequence kReadEvents = 1'000'000;

class TempRoot {
 public:
  TempRoot() {
    static int n = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("sessionring-bench-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(path_);
  }
  ~TempRoot() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Reusable batch: records re-stamped with their sequence and a unique id before each append.
class BenchBatch {
 public:
  explicit BenchBatch(std::size_t n) : bytes_(n), spans_(n), views_(n) {
    const std::string data(128, 'd');
    for (std::size_t i = 0; i < n; ++i) {
      EventView v;
      v.type = EventType::message_streamed;
      v.id = "00000000000000000000000000000000";
      v.run_id = "run-1";
      v.data = data;
      v.metadata = "{}";
      bytes_[i].resize(EventRecord::encoded_size(v));
      EventRecord::encode(bytes_[i].data(), v);
      spans_[i] = bytes_[i];
    }
  }
  AppendBatch stamp(Sequence first) {
    for (std::size_t i = 0; i < bytes_.size(); ++i) {
      std::byte* rec = bytes_[i].data();
      EventRecord::set_sequence(rec, first + i);
      char* id = reinterpret_cast<char*>(rec + EventRecord::kHeaderBytes);  // 32 hex digits of the sequence
      std::uint64_t x = first + i;
      for (int d = 31; d >= 16; --d, x >>= 4) id[d] = "0123456789abcdef"[x & 15];
      EventRecord::decode(bytes_[i], "", views_[i]);
    }
    AppendBatch b;
    b.first_sequence = first;
    b.events = views_;
    b.records = spans_;
    return b;
  }
  std::size_t bytes() const {
    std::size_t s = 0;
    for (const auto& b : bytes_) s += b.size();
    return s;
  }

 private:
  std::vector<std::vector<std::byte>> bytes_;
  std::vector<std::span<const std::byte>> spans_;
  std::vector<EventView> views_;
};

LogStoreOptions log_options(const TempRoot& root, int level) {
  LogStoreOptions o;
  o.root = root.path();
  o.durability = level == 0 ? Durability::none : level == 1 ? Durability::buffered : Durability::fsync;
  o.background_sync = level != 3;
  return o;
}

void run_appends(benchmark::State& state, SessionLog& log, std::size_t batch_size) {
  BenchBatch batch(batch_size);
  Sequence next = 1;
  for (auto _ : state) {
    Status st = log.append(batch.stamp(next));
    if (!st) {
      state.SkipWithError(st.error().describe().c_str());
      break;
    }
    next += batch_size;
  }
  (void)log.wait_for(next - 2, std::chrono::steady_clock::now() + std::chrono::seconds(30));  // secured, not just written
  state.SetItemsProcessed(static_cast<std::int64_t>(next - 1));
  state.SetBytesProcessed(static_cast<std::int64_t>((next - 1) / batch_size * batch.bytes()));
}

void BM_LogAppend_1W(benchmark::State& state) {
  TempRoot root;
  auto store = LogStore::open(log_options(root, static_cast<int>(state.range(0)))).value();
  auto log = store->open("bench", OpenMode::write).value();
  run_appends(state, *log, static_cast<std::size_t>(state.range(1)));
}
BENCHMARK(BM_LogAppend_1W)
    ->ArgNames({"level", "batch"})
    ->ArgsProduct({{0, 1, 2, 3}, {1, 16, 256, 1024}})
    ->UseRealTime();

void BM_MemoryAppend_1W(benchmark::State& state) {
  auto store = MemoryStore::create();
  auto log = store->open("bench", OpenMode::write).value();
  run_appends(state, *log, static_cast<std::size_t>(state.range(0)));
}
BENCHMARK(BM_MemoryAppend_1W)->ArgName("batch")->Arg(1)->Arg(16)->Arg(256)->Arg(1024);

/// MemoryStore appends with retention off (0) or on (1: keep the newest 100,000 events, about
/// 22 MB, in 8 MiB chunks), 2,000,000 events in batches of 16 (a fixed iteration count, so both
/// store the same events). `minflt_per_event`: minor page faults of the process (getrusage)
/// per event over the whole run: off, every new event touches fresh pages; on, pruned chunks
/// are reused, so only the first ~130,000 events fault.
void BM_MemoryAppendRetention_1W(benchmark::State& state) {
  MemoryStoreOptions o;
  if (state.range(0) == 1) o.retention.max_events = 100'000;
  auto store = MemoryStore::create(o).value();
  auto log = store->open("bench", OpenMode::write).value();
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  run_appends(state, *log, 16);
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  const double events = static_cast<double>(state.iterations()) * 16;
  state.counters["minflt_per_event"] = static_cast<double>(after.ru_minflt - before.ru_minflt) / events;
  state.counters["mapped_MiB"] = static_cast<double>(store->mapped_bytes_approx()) / (1 << 20);
  state.counters["first_seq"] = static_cast<double>(log->first_sequence());
}
BENCHMARK(BM_MemoryAppendRetention_1W)->ArgName("retention")->Arg(0)->Arg(1)->Iterations(125'000);

void fill(SessionLog& log, Sequence n) {
  BenchBatch batch(1024);
  for (Sequence s = 1; s <= n; s += 1024) (void)log.append(batch.stamp(s));
}

/// Just over 1,000,000 events (batches of 1024) in a buffered LogStore, written once per process.
struct Prefilled {
  TempRoot root;
  std::shared_ptr<LogStore> store;
  Prefilled() {
    store = LogStore::open(log_options(root, 1)).value();
    auto log = store->open("read", OpenMode::write).value();
    fill(*log, kReadEvents);
  }
  static Prefilled& get() {
    static Prefilled p;
    return p;
  }
};

void read_all(benchmark::State& state, const SessionLog& log) {
  std::uint64_t bytes = 0, events = 0;
  for (auto _ : state) {
    EventQuery q;
    q.before = kReadEvents + 1;
    Status st = log.read(q, [&](const EventView& v) {
      bytes += EventRecord::kHeaderBytes + v.id.size() + v.run_id.size() + v.data.size() + v.metadata.size();
      ++events;
      return true;
    });
    if (!st) state.SkipWithError(st.error().describe().c_str());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void BM_LogSequentialRead_1M(benchmark::State& state) {
  auto log = Prefilled::get().store->open("read", OpenMode::read).value();
  read_all(state, *log);
}
BENCHMARK(BM_LogSequentialRead_1M)->Unit(benchmark::kMillisecond);

void BM_MemorySequentialRead_1M(benchmark::State& state) {
  auto store = MemoryStore::create();
  auto log = store->open("read", OpenMode::write).value();
  fill(*log, kReadEvents);
  read_all(state, *log);
}
BENCHMARK(BM_MemorySequentialRead_1M)->Unit(benchmark::kMillisecond);

void catch_up(benchmark::State& state, const SessionLog& log) {
  std::uint64_t events = 0;
  for (auto _ : state) {
    Sequence cursor = 1;
    while (cursor <= kReadEvents) {  // as Subscriber::read_store: 4096 sequences per read
      EventQuery q;
      q.after = cursor - 1;
      q.before = std::min<Sequence>(cursor + 4096, kReadEvents + 1);
      Status st = log.read(q, [&](const EventView& v) {
        benchmark::DoNotOptimize(v.data.data());
        cursor = v.sequence_number + 1;
        ++events;
        return true;
      });
      if (!st) {
        state.SkipWithError(st.error().describe().c_str());
        return;
      }
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}

void BM_LogCatchUp_1M_Chunked(benchmark::State& state) {
  auto log = Prefilled::get().store->open("read", OpenMode::read).value();
  catch_up(state, *log);
}
BENCHMARK(BM_LogCatchUp_1M_Chunked)->Unit(benchmark::kMillisecond);

void BM_SessionBackfill_1M(benchmark::State& state) {
  TempRoot root;
  auto o = log_options(root, 1);
  {
    auto store = LogStore::open(o).value();
    auto log = store->open("backfill", OpenMode::write).value();
    fill(*log, kReadEvents);
  }
  auto store = LogStore::open(o).value();
  SessionOptions so;
  so.store = store;
  so.session_id = "backfill";
  auto session = Session::open(so);
  if (!session) {
    state.SkipWithError(session.error().describe().c_str());
    return;
  }
  std::uint64_t events = 0;
  for (auto _ : state) {
    auto sub = session->subscribe().value();
    std::size_t got = 0;
    while (got < kReadEvents) {
      auto n = sub.poll([&](const EventView& v) { benchmark::DoNotOptimize(v.data.data()); });
      if (!n) {
        state.SkipWithError(n.error().describe().c_str());
        break;
      }
      got += *n;
    }
    events += got;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}
BENCHMARK(BM_SessionBackfill_1M)->Unit(benchmark::kMillisecond)->UseRealTime();

SqliteStoreOptions sqlite_options(const TempRoot& root, int level) {
  SqliteStoreOptions o;
  o.path = root.path() / "bench.db";
  o.durability = level == 0 ? Durability::none : level == 1 ? Durability::buffered : Durability::fsync;
  return o;
}

void BM_SqliteAppend_1W(benchmark::State& state) {
  TempRoot root;
  auto store = SqliteStore::open(sqlite_options(root, static_cast<int>(state.range(0)))).value();
  auto log = store->open("bench", OpenMode::write).value();
  run_appends(state, *log, static_cast<std::size_t>(state.range(1)));
}
BENCHMARK(BM_SqliteAppend_1W)
    ->ArgNames({"level", "batch"})
    ->ArgsProduct({{0, 1, 2}, {1, 16, 256, 1024}})
    ->UseRealTime();

/// The same 1,000,000 events in a SqliteStore (buffered), written once per process.
struct SqlitePrefilled {
  TempRoot root;
  std::shared_ptr<SqliteStore> store;
  SqlitePrefilled() {
    store = SqliteStore::open(sqlite_options(root, 1)).value();
    auto log = store->open("read", OpenMode::write).value();
    fill(*log, kReadEvents);
  }
  static SqlitePrefilled& get() {
    static SqlitePrefilled p;
    return p;
  }
};

void BM_SqliteSequentialRead_1M(benchmark::State& state) {
  auto log = SqlitePrefilled::get().store->open("read", OpenMode::read).value();
  read_all(state, *log);
}
BENCHMARK(BM_SqliteSequentialRead_1M)->Unit(benchmark::kMillisecond);

void BM_SqliteCatchUp_1M_Chunked(benchmark::State& state) {
  auto log = SqlitePrefilled::get().store->open("read", OpenMode::read).value();
  catch_up(state, *log);
}
BENCHMARK(BM_SqliteCatchUp_1M_Chunked)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
