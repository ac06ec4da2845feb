// A small sessionring host, built against the installed package (examples/CMakeLists.txt).
// It starts a session on a LogStore in a temporary directory, appends the events of two runs
// from two threads, reads them through a subscription, and exits 0 only if it received every
// event exactly once, in sequence order, with each run's events in the order they were emitted.
#include <sessionring/log_store.hpp>
#include <sessionring/sessionring.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace sessionring;

namespace {

constexpr int kEventsPerRun = 500;

int fail(const char* what, const Error& e) {
  std::fprintf(stderr, "host: %s: %s\n", what, e.describe().c_str());
  return 1;
}

}  // namespace

int main() {
  char dir[] = "/tmp/sessionring-example-XXXXXX";
  if (::mkdtemp(dir) == nullptr) {
    std::perror("host: mkdtemp");
    return 1;
  }
  struct Cleanup {
    const char* path;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } cleanup{dir};

  LogStoreOptions store_options;
  store_options.root = dir;
  auto store = LogStore::open(store_options);
  if (!store) return fail("LogStore::open", store.error());

  SessionOptions options;
  options.store = *store;
  options.session_id = "example";
  auto session = Session::open(options);  // starts the sequencer
  if (!session) return fail("Session::open", session.error());

  auto sub = session->subscribe();  // from the first event
  if (!sub) return fail("subscribe", sub.error());

  // Two runs, one producing thread each (a Producer per thread keeps a run's order, INV-5).
  std::vector<std::thread> runs;
  for (const char* run_id : {"run-a", "run-b"}) {
    runs.emplace_back([&session, run_id] {
      auto producer = session->producer();
      if (!producer) return (void)fail("producer", producer.error());
      for (int i = 0; i < kEventsPerRun; ++i) {
        const std::string data = "{\"n\":" + std::to_string(i) + "}";
        EventInput e;
        e.type = i == 0 ? EventType::run_started
                        : i + 1 == kEventsPerRun ? EventType::run_completed : EventType::message_streamed;
        e.run_id = run_id;
        e.data = data;
        if (Status st = producer->append(e); !st) return (void)fail("append", st.error());
      }
    });
  }

  // Read until every event has arrived (or 30 s passed).
  const std::uint64_t total = 2 * kEventsPerRun;
  std::uint64_t received = 0;
  Sequence last = 0;
  bool in_order = true;
  std::map<std::string, int, std::less<>> next_n;  // per run: the `n` expected next
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (received < total && std::chrono::steady_clock::now() < deadline) {
    auto n = sub->poll_wait(
        [&](const EventView& e) {
          in_order = in_order && e.sequence_number == last + 1;
          last = e.sequence_number;
          int& expect = next_n[std::string(e.run_id)];
          in_order = in_order && e.data == "{\"n\":" + std::to_string(expect) + "}";
          ++expect;
          if (++received <= 3 || received == total)
            std::printf("#%llu %s %.*s %.*s\n", static_cast<unsigned long long>(e.sequence_number),
                        std::string(to_string(e.type)).c_str(), static_cast<int>(e.run_id.size()), e.run_id.data(),
                        static_cast<int>(e.data.size()), e.data.data());
        },
        std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
    if (!n) return fail("poll", n.error());
  }
  for (auto& t : runs) t.join();
  if (Status st = session->stop(); !st) return fail("stop", st.error());

  auto info = (*store)->info("example");
  if (!info) return fail("info", info.error());
  std::printf("stored %llu events in %u segment(s), %llu bytes; received %llu\n",
              static_cast<unsigned long long>(info->event_count), info->segment_count,
              static_cast<unsigned long long>(info->bytes), static_cast<unsigned long long>(received));

  const bool ok = received == total && in_order && info->event_count == total;
  std::printf("%s\n", ok ? "ok: every event received exactly once, in order" : "MISMATCH");
  return ok ? 0 : 1;
}
