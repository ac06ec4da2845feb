// Durable named cursors (docs/performance.md "Durable cursors"): raw store commits
// (SessionLog::commit_cursor) per store, and Subscription::commit() through the coalescing
// DurableCursor (SubscribeOptions::commit_interval 0: write-through, 20 ms: the default).
#include <sessionring/log_store.hpp>
#include <sessionring/memory_store.hpp>
#include <sessionring/session.hpp>
#include <sessionring/sqlite_store.hpp>

#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <unistd.h>

using namespace sessionring;

namespace {

struct Dir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("sessionring-cursor-bench-" + std::to_string(::getpid()));
  Dir() { std::filesystem::create_directories(path); }
  ~Dir() { std::filesystem::remove_all(path); }
};

// 0: MemoryStore, 1: LogStore buffered, 2: LogStore fsync, 3: SqliteStore buffered, 4: SqliteStore fsync.
std::shared_ptr<SessionStore> make_store(int kind, const Dir& d) {
  if (kind == 0) return MemoryStore::create();
  if (kind <= 2) {
    LogStoreOptions o;
    o.root = d.path / "log";
    o.durability = kind == 1 ? Durability::buffered : Durability::fsync;
    return LogStore::open(o).value();
  }
  SqliteStoreOptions o;
  o.path = d.path / "s.db";
  o.durability = kind == 3 ? Durability::buffered : Durability::fsync;
  return SqliteStore::open(o).value();
}

/// Session "b" of `store` holding 100 events (cursor positions 0..99 are valid).
Session session_of_100(const std::shared_ptr<SessionStore>& store) {
  SessionOptions so;
  so.store = store;
  so.session_id = "b";
  auto s = Session::open(so).value();
  for (int i = 0; i < 100; ++i) (void)s.append_wait(EventInput{.type = EventType::message_streamed});
  return s;
}

const char* kKinds[] = {"memory", "log_buffered", "log_fsync", "sqlite_buffered", "sqlite_fsync"};

void BM_CursorCommit_Store(benchmark::State& state) {
  Dir d;
  auto store = make_store(static_cast<int>(state.range(0)), d);
  auto s = session_of_100(store);
  const SessionLog& log = s.log();
  auto& writer = const_cast<SessionLog&>(log);  // the session's writer handle
  Sequence p = 0;
  for (auto _ : state) {
    if (Status st = writer.commit_cursor("c", p++ % 100); !st) state.SkipWithError(st.error().describe().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(kKinds[state.range(0)]);
}
BENCHMARK(BM_CursorCommit_Store)->ArgName("store")->DenseRange(0, 4)->UseRealTime();

void BM_SubscriptionCommit_1S(benchmark::State& state) {
  Dir d;
  auto store = make_store(static_cast<int>(state.range(0)), d);
  auto s = session_of_100(store);
  SubscribeOptions o;
  o.durable_name = "c";
  o.commit_interval = std::chrono::milliseconds(state.range(1));
  auto sub = s.subscribe(o).value();
  Sequence p = 0;
  for (auto _ : state) {
    if (Status st = sub.commit(p++ % 100); !st) state.SkipWithError(st.error().describe().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["store_writes"] = static_cast<double>(sub.commit_writes());
  state.SetLabel(kKinds[state.range(0)]);
}
BENCHMARK(BM_SubscriptionCommit_1S)
    ->ArgNames({"store", "interval_ms"})
    ->ArgsProduct({{0, 1, 2, 3, 4}, {0, 20}})
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
