// The in-memory store on its own, single thread (the sequencer appends, a subscriber reads).
// The LogStore's benchmarks are in store_bench.cpp.
//   BM_MemoryStore_Append_Batch{1,64,1024}   SessionLog::append of pre-encoded 64-byte-payload events
//   BM_MutexVector_Append_Batch{1,64,1024}   twin: a mutex-guarded std::vector of owning byte vectors
//   BM_MemoryStore_Read_1M                   SessionLog::read of 1 M stored events, in order
//   BM_MutexVector_Read_1M                   twin: copy each record out under the mutex
// Items = events.
#include <sessionring/event_record.hpp>
#include <sessionring/memory_store.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

using namespace sessionring;

namespace {

constexpr std::uint64_t kRollEvery = 1 << 21;  // open a fresh log every 2 M events (bounds memory)

struct Batch {
  std::vector<std::vector<std::byte>> bytes;
  std::vector<EventView> views;
  std::vector<std::span<const std::byte>> records;
  std::string data = std::string(64, 'x');
  std::string id = "0123456789abcdef0123456789abcdef";

  explicit Batch(std::size_t n) {
    EventView v;
    v.type = EventType::message_streamed;
    v.id = id;
    v.session_id = "bench";
    v.run_id = "run-0";
    v.data = data;
    for (std::size_t i = 0; i < n; ++i) {
      bytes.emplace_back(EventRecord::encoded_size(v));
      EventRecord::encode(bytes.back().data(), v);
      views.push_back(v);
    }
    for (const auto& b : bytes) records.emplace_back(b.data(), b.size());
  }
  // Re-stamps the sequence numbers (views and record bytes) for a batch starting at `first`.
  AppendBatch at(Sequence first) {
    for (std::size_t i = 0; i < views.size(); ++i) {
      views[i].sequence_number = first + i;
      EventRecord::set_sequence(bytes[i].data(), first + i);
    }
    return AppendBatch{first, views, records};
  }
};

std::shared_ptr<SessionLog> fresh_log(MemoryStore& store, int n) {
  return store.open("bench-" + std::to_string(n), OpenMode::write).value();
}

void BM_MemoryStore_Append(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto store = MemoryStore::create();
  int logs = 0;
  auto log = fresh_log(*store, logs++);
  Batch b(n);
  Sequence next = 1;
  for (auto _ : state) {
    if (next > kRollEvery) {
      state.PauseTiming();
      log = fresh_log(*store, logs++);
      next = 1;
      state.ResumeTiming();
    }
    if (!log->append(b.at(next))) state.SkipWithError("append failed");
    next += n;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_MemoryStore_Append)->Name("BM_MemoryStore_Append_Batch")->Arg(1)->Arg(64)->Arg(1024);

void BM_MutexVector_Append(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Batch b(n);
  std::mutex m;
  std::vector<std::vector<std::byte>> log;
  for (auto _ : state) {
    if (log.size() > kRollEvery) {
      state.PauseTiming();
      log = {};
      state.ResumeTiming();
    }
    std::lock_guard lock(m);
    for (const auto& r : b.records) log.emplace_back(r.begin(), r.end());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_MutexVector_Append)->Name("BM_MutexVector_Append_Batch")->Arg(1)->Arg(64)->Arg(1024);

constexpr Sequence kReadEvents = 1 << 20;

void BM_MemoryStore_Read_1M(benchmark::State& state) {
  auto store = MemoryStore::create();
  auto log = fresh_log(*store, 0);
  Batch b(1024);
  for (Sequence s = 1; s <= kReadEvents; s += 1024) (void)log->append(b.at(s));
  for (auto _ : state) {
    std::uint64_t sum = 0;
    (void)log->read(EventQuery{}, [&](const EventView& v) {
      sum += v.sequence_number + v.data.size();
      return true;
    });
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kReadEvents));
}
BENCHMARK(BM_MemoryStore_Read_1M)->Unit(benchmark::kMillisecond);

void BM_MutexVector_Read_1M(benchmark::State& state) {
  Batch b(1);
  std::mutex m;
  std::vector<std::vector<std::byte>> log;
  for (Sequence s = 0; s < kReadEvents; ++s) log.emplace_back(b.bytes[0]);
  std::vector<std::byte> copy;
  for (auto _ : state) {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < log.size(); ++i) {
      std::lock_guard lock(m);
      copy.assign(log[i].begin(), log[i].end());
      sum += copy.size();
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kReadEvents));
}
BENCHMARK(BM_MutexVector_Read_1M)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
