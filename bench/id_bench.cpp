// Per-event extras of a producer's path (engine/producer.cpp), one thread: the 32 hex digits of
// an engine-generated event id by a 16-entry table lookup per digit (the engine before
// 2026-12-07) against detail::write_hex16 (SWAR, engine/detail/hex_digits.hpp), and a wall-clock
// read. Results are kept alive so that no loop is optimised away.
#include "detail/hex_digits.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

namespace {

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void BM_GeneratedId_TableDigits(benchmark::State& state) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t s = 1;
  char out[32];
  for (auto _ : state) {
    for (int half = 0; half < 2; ++half) {
      const std::uint64_t z = splitmix(s);
      for (int i = 0; i < 16; ++i) out[half * 16 + i] = kHex[(z >> (60 - 4 * i)) & 0xf];
    }
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_GeneratedId_TableDigits);

void BM_GeneratedId_SwarDigits(benchmark::State& state) {
  std::uint64_t s = 1;
  char out[32];
  for (auto _ : state) {
    for (int half = 0; half < 2; ++half) sessionring::detail::write_hex16(splitmix(s), out + half * 16);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_GeneratedId_SwarDigits);

// What a per-event clock read costs (each producer read CLOCK_REALTIME for every event before
// 2026-12-07; the sequencer now reads it once per batch: docs/cli.md "Timestamps").
void BM_SystemClockNow(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::system_clock::now());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SystemClockNow);

}  // namespace

BENCHMARK_MAIN();
