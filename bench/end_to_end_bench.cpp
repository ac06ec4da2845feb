// End to end through the public API: P producer threads append 64-byte events, S subscriber
// threads each poll every event (contiguity checked), in-memory store, default options.
//   BM_EndToEnd_{1P1S,2P2S}      Session (ingest queue -> sequencer -> store + ring -> subscribers)
//   BM_MutexEngine_{1P1S,2P2S}   the twin: one mutex, a condition variable, a vector as the log
//                                (tools/mutex_engine.hpp, also `sessionring bench --engine mutex`)
// Items = events delivered to one subscriber. Threads: real time (UseRealTime()).
#include <sessionring/sessionring.hpp>

#include "mutex_engine.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace sessionring;

namespace {

constexpr std::uint64_t kEvents = 1 << 19;  // per iteration, split over the producers

template <class Sub>
void consume(Sub& sub, Sequence last, std::atomic<std::uint64_t>& errors) {
  Sequence expect = sub.cursor();
  auto handler = [&](const EventView& v) {
    if (v.sequence_number != expect) errors.fetch_add(1, std::memory_order_relaxed);  // relaxed: counter
    expect = v.sequence_number + 1;
    benchmark::DoNotOptimize(v.data.data());
  };
  while (expect <= last) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
    if constexpr (requires { sub.poll_wait(handler, deadline).ok(); }) {
      if (!sub.poll_wait(handler, deadline)) errors.fetch_add(1, std::memory_order_relaxed);
    } else {
      sub.poll_wait(handler, deadline);
    }
  }
}

void BM_EndToEnd(benchmark::State& state, unsigned producers, unsigned subscribers) {
  SessionOptions o;
  o.store = MemoryStore::create();
  o.session_id = "bench";
  auto session = Session::open(o).value();
  std::vector<Subscription> subs;
  SubscribeOptions from_first;
  from_first.from_sequence = 1;
  for (unsigned s = 0; s < subscribers; ++s) subs.push_back(session.subscribe(from_first).value());
  std::atomic<std::uint64_t> errors{0};  // writers: subscriber threads (relaxed counter); reader: after join
  const std::string payload(64, 'x');
  for (auto _ : state) {
    const Sequence last = session.latest_sequence() + kEvents;
    std::vector<std::thread> threads;
    for (unsigned s = 0; s < subscribers; ++s) threads.emplace_back([&, s] { consume(subs[s], last, errors); });
    for (unsigned p = 0; p < producers; ++p)
      threads.emplace_back([&, p] {
        auto prod = session.producer().value();
        const std::string run = "run-" + std::to_string(p);
        EventInput e;
        e.type = EventType::message_streamed;
        e.run_id = run;
        e.data = payload;
        for (std::uint64_t i = 0; i < kEvents / producers; ++i)
          if (!prod.append(e)) errors.fetch_add(1, std::memory_order_relaxed);
      });
    for (auto& t : threads) t.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kEvents));
  state.counters["errors"] = static_cast<double>(errors.load());
  state.counters["lapped"] = static_cast<double>(subs[0].lapped_count());
  (void)session.stop();
}

void BM_MutexEngine(benchmark::State& state, unsigned producers, unsigned subscribers) {
  tools::MutexEngine engine("bench");
  std::vector<tools::MutexEngine::Subscriber> subs;
  for (unsigned s = 0; s < subscribers; ++s) subs.push_back(engine.subscribe(1));
  std::atomic<std::uint64_t> errors{0};  // writers: subscriber threads (relaxed counter); reader: after join
  const std::string payload(64, 'x');
  for (auto _ : state) {
    const Sequence last = engine.latest_sequence() + kEvents;
    std::vector<std::thread> threads;
    for (unsigned s = 0; s < subscribers; ++s) threads.emplace_back([&, s] { consume(subs[s], last, errors); });
    for (unsigned p = 0; p < producers; ++p)
      threads.emplace_back([&, p] {
        const std::string run = "run-" + std::to_string(p);
        EventInput e;
        e.type = EventType::message_streamed;
        e.run_id = run;
        e.data = payload;
        for (std::uint64_t i = 0; i < kEvents / producers; ++i)
          if (!engine.append(e)) errors.fetch_add(1, std::memory_order_relaxed);
      });
    for (auto& t : threads) t.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kEvents));
  state.counters["errors"] = static_cast<double>(errors.load());
  engine.stop();
}

void BM_EndToEnd_1P1S(benchmark::State& s) { BM_EndToEnd(s, 1, 1); }
void BM_EndToEnd_2P2S(benchmark::State& s) { BM_EndToEnd(s, 2, 2); }
void BM_MutexEngine_1P1S(benchmark::State& s) { BM_MutexEngine(s, 1, 1); }
void BM_MutexEngine_2P2S(benchmark::State& s) { BM_MutexEngine(s, 2, 2); }

BENCHMARK(BM_EndToEnd_1P1S)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MutexEngine_1P1S)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EndToEnd_2P2S)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MutexEngine_2P2S)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
