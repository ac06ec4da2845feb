// `sessionring stat` (tools/stat_command.cpp): the live view of a running host from another
// process. The test process is the host (a SessionServer with publish_counters); the program
// runs as a child and reads the counters file. docs/cli.md "stat".
#include "cli_test_support.hpp"

#include <gmock/gmock.h>

#include <thread>

using namespace sessionring;
using namespace sessionring::cli_support;
using ::testing::HasSubstr;

namespace {

/// A host: a SessionServer on a LogStore at `root` publishing its counters every 10 ms.
SessionServer start_host(const fs::path& root, const std::string& id, std::uint32_t slots = 2) {
  LogStoreOptions lo;
  lo.root = root;
  auto store = LogStore::open(lo);
  EXPECT_TRUE(store) << store.error();
  SessionServerOptions o;
  o.store = *store;
  o.new_session = NewSession{id, "{}", ""};
  o.max_concurrent_runs = slots;
  o.publish_counters = true;
  o.counters_interval = std::chrono::milliseconds(10);
  auto server = SessionServer::start(o);
  EXPECT_TRUE(server) << server.error();
  return std::move(*server);
}

/// A run that emits `n` events and waits until `release` is set.
RunTask blocking_run(int n, std::atomic<bool>& release) {
  return [n, &release](RunContext& ctx) -> Result<RunOutput> {
    for (int i = 0; i < n; ++i)
      if (Status st = ctx.emit(EventType::message_streamed, "{}"); !st) return st.error();
    while (!release.load(std::memory_order_acquire))  // pairs with the test's release store
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return RunOutput{};
  };
}

/// Waits until the host has published `latest` (its own view; the file follows within 10 ms).
void wait_latest(SessionServer& s, Sequence latest) {
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (s.session().latest_sequence() < latest && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a few publish rounds
}

}  // namespace

TEST(CliStat, showsARunningHostsSequencesRunsAndSubscribersFromAnotherProcess) {
  TempDir dir;
  SessionServer host = start_host(dir.path(), "watched");
  auto sub = host.subscribe();
  ASSERT_TRUE(sub);
  std::atomic<bool> release{false};  // writer: the test; reader: the run (acquire)
  auto run = host.submit_run(blocking_run(20, release));
  ASSERT_TRUE(run);
  wait_latest(host, 23);  // session_created, session_started, run_started, 20 events

  auto r = cli({"stat", "--store", dir.str(), "watched", "--count", "1", "--format", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_jsonl(r.out);
  ASSERT_EQ(rows.size(), 1u) << r.out;
  const auto& j = rows[0];
  EXPECT_EQ(j.at("session_id"), "watched");
  EXPECT_EQ(j.at("liveness"), "live");
  EXPECT_EQ(j.at("writer_pid").get<std::uint64_t>(), static_cast<std::uint64_t>(::getpid()));
  EXPECT_EQ(j.at("latest_seq").get<std::uint64_t>(), 23u);
  EXPECT_EQ(j.at("stored_seq").get<std::uint64_t>(), 23u);
  EXPECT_EQ(j.at("runs_active").get<std::uint64_t>(), 1u);
  EXPECT_EQ(j.at("runs_queued").get<std::uint64_t>(), 0u);
  EXPECT_EQ(j.at("max_concurrent_runs").get<std::uint64_t>(), 2u);
  EXPECT_EQ(j.at("subscriber_count").get<std::uint64_t>(), 1u);
  ASSERT_EQ(j.at("subscribers").size(), 1u);
  EXPECT_EQ(j.at("subscribers")[0].at("cursor").get<std::uint64_t>(), 1u);
  EXPECT_EQ(j.at("subscribers")[0].at("lag").get<std::uint64_t>(), 23u);
  EXPECT_TRUE(is_rfc3339_ns(j.at("heartbeat").get<std::string>()));

  // The subscriber catches up: its cursor and lag change in the next view.
  ASSERT_TRUE(sub->poll([](std::string_view, const EventView&) {}));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto text = cli({"stat", "--store", dir.str(), "--session", "watched", "--count", "1"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr(std::string("session watched  live  pid ").append(std::to_string(::getpid()))));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("latest_seq +stored_seq +ingest"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("runs_active +runs_queued +ring +subscribers"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("1/2 +0/100 +4096 x 256 B +1"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("subscriber +state +source +cursor +lag"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("live +ring +24 +0 +4096"));

  release.store(true, std::memory_order_release);  // pairs with the run's acquire load
  ASSERT_TRUE(host.await_run(*run).ok());
}

TEST(CliStat, refreshesEveryIntervalAndSeesTheSessionAdvance) {
  TempDir dir;
  SessionServer host = start_host(dir.path(), "moving");
  std::atomic<bool> stop{false};  // writer: the test; reader: the appender (relaxed: a stop flag only)
  std::thread appender([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      EventInput e;
      e.type = EventType::message_streamed;
      e.data = "{}";
      (void)host.session().append_wait(e);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  auto r = cli({"stat", "--store", dir.str(), "moving", "--count", "4", "--interval", "100", "--format", "jsonl"});
  stop.store(true, std::memory_order_relaxed);
  appender.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_jsonl(r.out);
  ASSERT_EQ(rows.size(), 4u);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_GT(rows[i].at("publish_count").get<std::uint64_t>(), rows[i - 1].at("publish_count").get<std::uint64_t>());
    EXPECT_GT(rows[i].at("latest_seq").get<std::uint64_t>(), rows[i - 1].at("latest_seq").get<std::uint64_t>());
    EXPECT_TRUE(rows[i].contains("events_per_s")) << "a rate once two rounds were seen";
  }
}

TEST(CliStat, withoutASessionShowsEverySessionThatPublishesAndSaysWhenNoneDoes) {
  TempDir dir;
  {
    SessionServer a = start_host(dir.path(), "a");
    SessionServer b = start_host(dir.path(), "b");
    auto r = cli({"stat", "--store", dir.str(), "--count", "1", "--format", "jsonl"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto rows = parse_jsonl(r.out);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].at("session_id"), "a");
    EXPECT_EQ(rows[1].at("session_id"), "b");
  }
  // Stopped hosts removed their files: nothing publishes; one asked-for session is not_found.
  auto none = cli({"stat", "--store", dir.str(), "--count", "1"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_THAT(none.out, HasSubstr("no session here publishes counters"));
  auto gone = cli({"stat", "--store", dir.str(), "a", "--count", "1"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_THAT(gone.err, HasSubstr("sessionring stat: not_found: no counters file"));
  EXPECT_THAT(gone.err, HasSubstr("publish_counters"));
}

TEST(CliStat, stopsCleanlyOnSigintAndShowsAClosedWriterItWasWatching) {
  TempDir dir;
  std::optional<SessionServer> host = start_host(dir.path(), "ending");
  Child c({SESSIONRING_CLI, "stat", "--store", dir.str(), "ending", "--interval", "20", "--format", "jsonl"});
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  auto first = c.read_line(deadline);
  ASSERT_TRUE(first);
  EXPECT_EQ(nlohmann::json::parse(*first).at("liveness"), "live");
  ASSERT_TRUE(host->stop());
  bool saw_closed = false;
  while (!saw_closed) {
    auto line = c.read_line(deadline);
    ASSERT_TRUE(line) << "no closed round before the deadline; stderr: " << c.stderr_text();
    saw_closed = nlohmann::json::parse(*line).at("liveness") == "closed";
  }
  c.signal(SIGINT);
  EXPECT_EQ(c.finish(Clock::now() + std::chrono::seconds(10)), 0) << c.stderr_text();
}

TEST(CliStat, otherStoresAreRefusedAndACountersDirectoryServesAnyStore) {
  TempDir dir;
  auto sqlite = cli({"stat", "--store", std::string("sqlite:").append((dir.path() / "x.db").string()), "--count", "1"});
  EXPECT_EQ(sqlite.exit_code, 2);
  EXPECT_THAT(sqlite.err, HasSubstr("--counters-dir"));
  SessionServerOptions o;
  o.store = MemoryStore::create();
  o.new_session = NewSession{"mem", "{}", ""};
  o.publish_counters = true;
  o.counters_directory = dir.path();
  o.counters_interval = std::chrono::milliseconds(10);
  auto host = SessionServer::start(o);
  ASSERT_TRUE(host) << host.error();
  auto r = cli({"stat", "--counters-dir", dir.str(), "mem", "--count", "1", "--format", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_jsonl(r.out).at(0).at("latest_seq").get<std::uint64_t>(), 2u);
  auto all = cli({"stat", "--counters-dir", dir.str(), "--count", "1", "--format", "jsonl"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(parse_jsonl(all.out).size(), 1u);
}

TEST(CliStat, aHostKilledWhilePublishingIsReportedDead) {
  TempDir dir;
  Child host({SESSIONRING_CLI_HELPER, dir.str(), "killed", "1000000", "5", "1000", "server"});
  auto ready = host.read_line(Clock::now() + std::chrono::seconds(30));
  ASSERT_TRUE(ready) << host.stderr_text();
  // Live, and a round published after the first five events (rounds come every 10 ms).
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto live = cli({"stat", "--store", dir.str(), "killed", "--count", "1", "--format", "jsonl"});
    ASSERT_EQ(live.exit_code, 0) << live.err;
    const auto j = parse_jsonl(live.out).at(0);
    EXPECT_EQ(j.at("liveness"), "live");
    if (j.at("latest_seq").get<std::uint64_t>() >= 5u) break;
    ASSERT_LT(Clock::now(), deadline) << "the live writer's counters never showed its events";
  }
  host.signal(SIGKILL);
  host.finish(Clock::now() + std::chrono::seconds(10));
  auto dead = cli({"stat", "--store", dir.str(), "killed", "--count", "1", "--format", "jsonl"});
  ASSERT_EQ(dead.exit_code, 0) << dead.err;
  const auto j = parse_jsonl(dead.out).at(0);
  EXPECT_EQ(j.at("liveness"), "dead");
  EXPECT_GE(j.at("latest_seq").get<std::uint64_t>(), 5u) << "a dead writer's last values are still shown";
}
