// The ingest stage: P producer threads -> 1 consumer (the sequencer's side), 256-byte
// IngestItems, with the engine's per-producer credit bound (ingest_capacity = 4096 in flight
// per producer, as SessionOptions' default). Each benchmark has a raw-library twin without the
// engine's wrapper and credits (STYLE.md: every benchmark has a baseline).
//   BM_Ingest_Moodycamel_{1,2}P1C           detail::IngestQueue, moodycamel backend (bulk pop 1024)
//   BM_Ingest_BoostLockfree_{1,2}P1C        detail::IngestQueue, Boost.Lockfree backend
//   BM_Ingest_RawMoodycamel_{1,2}P1C        moodycamel::ConcurrentQueue<IngestItem>, tokens, bulk 1024
//   BM_Ingest_RawBoostLockfree_{1,2}P1C     boost::lockfree::queue<IngestItem>, capacity 4096, pop one at a time
// Producers and the consumer are threads: real time (UseRealTime()).
#include "detail/ingest_queue.hpp"

#include <concurrentqueue/concurrentqueue.h>

#include <boost/lockfree/queue.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

using sessionring::QueueBackend;
using sessionring::detail::IngestItem;
using sessionring::detail::IngestQueue;

namespace {

constexpr std::uint64_t kPerProducer = 1 << 18;
constexpr std::uint64_t kCredits = 4096;  // events in flight per producer (SessionOptions::ingest_capacity)
constexpr std::size_t kBulk = 1024;       // SessionOptions::max_batch

struct alignas(64) Credit {
  // Writer: the consumer (release, after popping); reader: the owning producer (acquire) before
  // it pushes more, as ProducerSlot::consumed in the engine.
  std::atomic<std::uint64_t> consumed{0};
};

IngestItem make_item(std::uint32_t producer) {
  IngestItem it{};
  it.size = 149;  // a 64-byte payload event's EventRecord (docs/performance.md)
  it.reserved = producer;
  return it;
}

void yield_wait(std::uint64_t pushed, const Credit& c) {
  while (pushed - c.consumed.load(std::memory_order_acquire) >= kCredits) std::this_thread::yield();  // pairs with the consumer's release
}

void BM_Ingest_Engine(benchmark::State& state, QueueBackend backend, unsigned producers) {
  auto q = IngestQueue::create(backend, static_cast<std::uint32_t>(kCredits));
  std::vector<IngestItem> out(kBulk);
  for (auto _ : state) {
    std::vector<Credit> credits(producers);
    std::vector<std::thread> threads;
    for (unsigned p = 0; p < producers; ++p)
      threads.emplace_back([&, p] {
        auto token = q->make_token();
        IngestItem it = make_item(p);
        for (std::uint64_t i = 0; i < kPerProducer; ++i) {
          yield_wait(i, credits[p]);
          std::memcpy(it.inline_record, &i, sizeof i);
          while (!q->push(*token, it)) std::this_thread::yield();  // Boost: full
        }
      });
    std::uint64_t got = 0;
    const std::uint64_t total = kPerProducer * producers;
    while (got < total) {
      const std::size_t n = q->pop_bulk(out.data(), out.size());
      if (n == 0) {
        std::this_thread::yield();
        continue;
      }
      for (std::size_t i = 0; i < n; ++i)
        credits[out[i].reserved].consumed.fetch_add(1, std::memory_order_release);  // pairs with yield_wait
      got += n;
    }
    for (auto& t : threads) t.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPerProducer * producers));
}

void BM_Ingest_RawMoodycamel(benchmark::State& state, unsigned producers) {
  moodycamel::ConcurrentQueue<IngestItem> q(kCredits * 2);
  moodycamel::ConsumerToken ct(q);
  std::vector<IngestItem> out(kBulk);
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (unsigned p = 0; p < producers; ++p)
      threads.emplace_back([&, p] {
        moodycamel::ProducerToken tok(q);
        IngestItem it = make_item(p);
        for (std::uint64_t i = 0; i < kPerProducer; ++i) {
          std::memcpy(it.inline_record, &i, sizeof i);
          while (!q.enqueue(tok, it)) std::this_thread::yield();  // only on allocation failure
        }
      });
    std::uint64_t got = 0;
    while (got < kPerProducer * producers) {
      const std::size_t n = q.try_dequeue_bulk(ct, out.data(), out.size());
      if (n == 0) std::this_thread::yield();
      got += n;
    }
    for (auto& t : threads) t.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPerProducer * producers));
}

void BM_Ingest_RawBoostLockfree(benchmark::State& state, unsigned producers) {
  auto q = std::make_unique<boost::lockfree::queue<IngestItem, boost::lockfree::fixed_sized<true>>>(kCredits);
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (unsigned p = 0; p < producers; ++p)
      threads.emplace_back([&, p] {
        IngestItem it = make_item(p);
        for (std::uint64_t i = 0; i < kPerProducer; ++i) {
          std::memcpy(it.inline_record, &i, sizeof i);
          while (!q->bounded_push(it)) std::this_thread::yield();
        }
      });
    std::uint64_t got = 0;
    IngestItem it;
    while (got < kPerProducer * producers) {
      if (q->pop(it)) ++got;
      else std::this_thread::yield();
    }
    for (auto& t : threads) t.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPerProducer * producers));
}

void BM_Ingest_Moodycamel_1P1C(benchmark::State& s) { BM_Ingest_Engine(s, QueueBackend::moodycamel, 1); }
void BM_Ingest_Moodycamel_2P1C(benchmark::State& s) { BM_Ingest_Engine(s, QueueBackend::moodycamel, 2); }
void BM_Ingest_BoostLockfree_1P1C(benchmark::State& s) { BM_Ingest_Engine(s, QueueBackend::boost_lockfree, 1); }
void BM_Ingest_BoostLockfree_2P1C(benchmark::State& s) { BM_Ingest_Engine(s, QueueBackend::boost_lockfree, 2); }
void BM_Ingest_RawMoodycamel_1P1C(benchmark::State& s) { BM_Ingest_RawMoodycamel(s, 1); }
void BM_Ingest_RawMoodycamel_2P1C(benchmark::State& s) { BM_Ingest_RawMoodycamel(s, 2); }
void BM_Ingest_RawBoostLockfree_1P1C(benchmark::State& s) { BM_Ingest_RawBoostLockfree(s, 1); }
void BM_Ingest_RawBoostLockfree_2P1C(benchmark::State& s) { BM_Ingest_RawBoostLockfree(s, 2); }

BENCHMARK(BM_Ingest_Moodycamel_1P1C)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ingest_RawMoodycamel_1P1C)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ingest_Moodycamel_2P1C)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ingest_RawMoodycamel_2P1C)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ingest_BoostLockfree_1P1C)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ingest_RawBoostLockfree_1P1C)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ingest_BoostLockfree_2P1C)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ingest_RawBoostLockfree_2P1C)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
