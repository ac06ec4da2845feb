// Ring publish and read, with a plain mutex+vector twin (STYLE.md: each benchmark has a baseline).
//   BM_Ring_Write_1W0R        sequencer-side cost of writing + publishing a slot, no reader
//   BM_Ring_WriteRead_1W1R    one writer thread, one reader copying every slot (real time)
//   BM_MutexVector_WriteRead_1W1R  the same hand-off through a mutex-guarded vector
#include <sessionring/event_record.hpp>

#include "detail/ring_buffer.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

using sessionring::EventRecord;
using sessionring::EventView;
using sessionring::detail::RingBuffer;

namespace {

std::vector<std::byte> make_record(std::size_t payload) {
  std::string data(payload, 'x');
  EventView v;
  v.id = "0123456789abcdef0123456789abcdef";
  v.run_id = "run-1";
  v.data = data;
  std::vector<std::byte> rec(EventRecord::encoded_size(v));
  EventRecord::encode(rec.data(), v);
  return rec;
}

void BM_Ring_Write_1W0R(benchmark::State& state) {
  RingBuffer ring(4096, 256, 0);
  const auto rec = make_record(static_cast<std::size_t>(state.range(0)));
  std::uint64_t seq = 0;
  for (auto _ : state) {
    ring.write(++seq, rec);
    if ((seq & 63) == 0) ring.publish(seq);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(seq));
}
BENCHMARK(BM_Ring_Write_1W0R)->Arg(64)->Arg(160);

void BM_Ring_WriteRead_1W1R(benchmark::State& state) {
  constexpr std::uint64_t kEvents = 1 << 20;
  const auto rec = make_record(64);
  std::uint64_t lapped = 0;
  for (auto _ : state) {
    RingBuffer ring(4096, 256, 0);
    std::thread reader([&] {
      std::vector<std::uint64_t> buf(32);
      std::uint64_t next = 1;
      while (next <= kEvents) {
        const std::uint64_t head = ring.cursor();
        for (; next <= head; ++next) {
          std::size_t size = 0;
          if (ring.read(next, buf.data(), size) != RingBuffer::Read::ok) {
            ++lapped;
            next = ring.cursor() + 1;  // a real subscriber would read the store here
            break;
          }
        }
        if (next <= kEvents && next > ring.cursor()) std::this_thread::yield();
      }
    });
    for (std::uint64_t s = 1; s <= kEvents; ++s) {
      ring.write(s, rec);
      if ((s & 63) == 0) ring.publish(s);
    }
    ring.publish(kEvents);
    reader.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kEvents));
  state.counters["lapped"] = static_cast<double>(lapped);
}
BENCHMARK(BM_Ring_WriteRead_1W1R)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_MutexVector_WriteRead_1W1R(benchmark::State& state) {
  constexpr std::uint64_t kEvents = 1 << 20;
  const auto rec = make_record(64);
  for (auto _ : state) {
    std::mutex m;
    std::vector<std::vector<std::byte>> log;
    log.reserve(kEvents);
    std::atomic<bool> done{false};  // writer: the writing loop; reader: the reader thread (end of input)
    std::thread reader([&] {
      std::size_t next = 0;
      std::vector<std::byte> copy;
      while (next < kEvents) {
        std::lock_guard lock(m);
        for (; next < log.size(); ++next) copy = log[next];
      }
      (void)done.load(std::memory_order_relaxed);
    });
    for (std::uint64_t s = 1; s <= kEvents; ++s) {
      std::lock_guard lock(m);
      log.push_back(rec);
    }
    done.store(true, std::memory_order_relaxed);
    reader.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kEvents));
}
BENCHMARK(BM_MutexVector_WriteRead_1W1R)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
