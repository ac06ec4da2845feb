// Test helper for tests/cli_test.cpp: a separate host process that appends events to one
// session of a LogStore while `sessionring tail --follow` (another process) reads them.
//
//   cli_append_helper STORE SESSION COUNT [READY_AFTER [PAUSE_US [server]]]
//
// Opens the session (Session on a LogStore, Durability::buffered), appends COUNT events
// through one producer (event i: run "run-<i % 3>", data {"i":i}), waiting for each to be
// stored. After READY_AFTER events (default 0) it prints "ready <latest>" on stdout; then it
// sleeps PAUSE_US microseconds (default 200) between appends. At the end it stops the session
// and prints "done <latest>". Exit 0 on success, 1 on any error (printed on stderr).
// With `server`, the session is created by a SessionServer that publishes its counters
// (publish_counters, every 10 ms: tests/cli_stat_test.cpp kills it to see a dead writer).
#include <sessionring/log_store.hpp>
#include <sessionring/sessionring.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

using namespace sessionring;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s STORE SESSION COUNT [READY_AFTER [PAUSE_US]]\n", argv[0]);
    return 2;
  }
  const std::uint64_t count = std::strtoull(argv[3], nullptr, 10);
  const std::uint64_t ready_after = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 0;
  const long pause_us = argc > 5 ? std::strtol(argv[5], nullptr, 10) : 200;

  LogStoreOptions lo;
  lo.root = argv[1];
  lo.segment_bytes = 64 << 10;  // small segments: the reader must follow segment rolls too
  auto store = LogStore::open(lo);
  if (!store) {
    std::fprintf(stderr, "helper: %s\n", store.error().describe().c_str());
    return 1;
  }
  std::optional<SessionServer> server;
  std::optional<Session> own;
  if (argc > 6 && std::string(argv[6]) == "server") {
    SessionServerOptions o;
    o.store = *store;
    o.new_session = NewSession{argv[2], "{}", ""};
    o.publish_counters = true;
    o.counters_interval = std::chrono::milliseconds(10);
    auto started = SessionServer::start(o);
    if (!started) {
      std::fprintf(stderr, "helper: %s\n", started.error().describe().c_str());
      return 1;
    }
    server.emplace(std::move(*started));
  } else {
    SessionOptions so;
    so.store = *store;
    so.session_id = argv[2];
    auto opened = Session::open(so);
    if (!opened) {
      std::fprintf(stderr, "helper: %s\n", opened.error().describe().c_str());
      return 1;
    }
    own.emplace(std::move(*opened));
  }
  Session* session = server ? &server->session() : &*own;
  auto producer = session->producer();
  if (!producer) {
    std::fprintf(stderr, "helper: %s\n", producer.error().describe().c_str());
    return 1;
  }
  auto announce_ready = [&] {
    std::printf("ready %llu\n", static_cast<unsigned long long>(session->latest_sequence()));
    std::fflush(stdout);
  };
  if (ready_after == 0) announce_ready();
  for (std::uint64_t i = 1; i <= count; ++i) {
    const std::string run = "run-" + std::to_string(i % 3);
    const std::string data = "{\"i\":" + std::to_string(i) + "}";
    EventInput e;
    e.type = i % 10 == 0 ? EventType::tool_call_completed : EventType::message_streamed;
    e.run_id = run;
    e.data = data;
    auto r = producer->append_wait(e);
    if (!r) {
      std::fprintf(stderr, "helper: append %llu: %s\n", static_cast<unsigned long long>(i),
                   r.error().describe().c_str());
      return 1;
    }
    if (i == ready_after) announce_ready();
    if (i >= ready_after && pause_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
  }
  if (Status st = session->stop(); !st) {
    std::fprintf(stderr, "helper: stop: %s\n", st.error().describe().c_str());
    return 1;
  }
  std::printf("done %llu\n", static_cast<unsigned long long>(session->latest_sequence()));
  return 0;
}
