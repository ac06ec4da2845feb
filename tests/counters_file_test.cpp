// The counters file (engine/counters_file.cpp, counters_reader.cpp, counters_publisher.cpp):
// what a writer publishes a reader gets back exactly and never mixed across rounds; versions,
// foreign files, closed, stale and dead writers; one publisher thread for many servers; and a
// SessionServer's counters with publish_counters (docs/telemetry.md "Counters file").
#include "detail/counters_file.hpp"
#include "detail/counters_layout.hpp"
#include "detail/counters_publisher.hpp"

#include "log_test_util.hpp"
#include "oracle.hpp"
#include "run_test_support.hpp"

#include <sessionring/counters_reader.hpp>

#include <gmock/gmock.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

using namespace sessionring;
using namespace sessionring::testing;
using sessionring::test::TempDir;
namespace cl = sessionring::detail::counters_layout;

namespace {

CountersSnapshot values(std::uint64_t k, std::size_t subscribers) {
  CountersSnapshot v;
  v.latest_sequence = k + 1;
  v.stored_sequence = k + 2;
  v.ingest_depth = k + 3;
  v.events_sequenced = k + 4;
  v.duplicates = k + 5;
  v.batches = k + 6;
  v.oversize_events = k + 7;
  v.store_failures = k + 8;
  v.store_failing = k % 2 == 1;
  v.abandoned_waits = k + 9;
  v.runs_active = k + 10;
  v.runs_queued = k + 11;
  v.max_concurrent_runs = k + 12;
  v.max_queued_runs = k + 13;
  v.ring_capacity = k + 14;
  v.ring_slot_bytes = k + 15;
  v.subscriber_count = subscribers;
  v.stopped = k % 3 == 0;
  for (std::size_t i = 0; i < subscribers; ++i) {
    SubscriptionStats s;
    s.id = k + 100 + i;
    s.cursor = k + 200 + i;
    s.lag = k + 300 + i;
    s.lead = k + 400 + i;
    s.lapped_count = k + 500 + i;
    s.store_reads = k + 600 + i;
    s.delivered = k + 700 + i;
    s.state = static_cast<SubscriptionState>(i % 4);
    s.reading_store = i % 2 == 0;
    v.subscribers.push_back(s);
  }
  return v;
}

void expect_values(const CountersSnapshot& got, std::uint64_t k, std::size_t subscribers) {
  const CountersSnapshot want = values(k, subscribers);
  EXPECT_EQ(got.latest_sequence, want.latest_sequence);
  EXPECT_EQ(got.stored_sequence, want.stored_sequence);
  EXPECT_EQ(got.ingest_depth, want.ingest_depth);
  EXPECT_EQ(got.events_sequenced, want.events_sequenced);
  EXPECT_EQ(got.duplicates, want.duplicates);
  EXPECT_EQ(got.batches, want.batches);
  EXPECT_EQ(got.oversize_events, want.oversize_events);
  EXPECT_EQ(got.store_failures, want.store_failures);
  EXPECT_EQ(got.store_failing, want.store_failing);
  EXPECT_EQ(got.abandoned_waits, want.abandoned_waits);
  EXPECT_EQ(got.runs_active, want.runs_active);
  EXPECT_EQ(got.runs_queued, want.runs_queued);
  EXPECT_EQ(got.max_concurrent_runs, want.max_concurrent_runs);
  EXPECT_EQ(got.max_queued_runs, want.max_queued_runs);
  EXPECT_EQ(got.ring_capacity, want.ring_capacity);
  EXPECT_EQ(got.ring_slot_bytes, want.ring_slot_bytes);
  EXPECT_EQ(got.subscriber_count, want.subscriber_count);
  EXPECT_EQ(got.stopped, want.stopped);
  ASSERT_EQ(got.subscribers.size(), std::min<std::size_t>(subscribers, cl::kSubscriberSlots));
  for (std::size_t i = 0; i < got.subscribers.size(); ++i) {
    const auto &a = got.subscribers[i], &b = want.subscribers[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.cursor, b.cursor);
    EXPECT_EQ(a.lag, b.lag);
    EXPECT_EQ(a.lead, b.lead);
    EXPECT_EQ(a.lapped_count, b.lapped_count);
    EXPECT_EQ(a.store_reads, b.store_reads);
    EXPECT_EQ(a.delivered, b.delivered);
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.reading_store, b.reading_store);
  }
}

/// A pid that no process has: a child that exited and was reaped.
std::uint64_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return static_cast<std::uint64_t>(child);
}

void patch(const std::filesystem::path& file, std::size_t offset, const void* bytes, std::size_t n) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(n));
}

}  // namespace

TEST(CountersFile, readerGetsBackExactlyWhatTheWriterPublished) {
  TempDir dir;
  const auto path = dir.path() / "s.counters";
  auto w = detail::CountersFile::create(path, "chat-42", std::chrono::milliseconds(100));
  ASSERT_TRUE(w) << w.error();
  auto r = CountersReader::open(path);
  ASSERT_TRUE(r) << r.error();
  for (std::size_t subs : {std::size_t{0}, std::size_t{3}, std::size_t{300}}) {
    w->publish(values(1000 * subs + 1, subs));
    auto s = r->read();
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->format_version, 1u);
    EXPECT_EQ(s->session_id, "chat-42");
    EXPECT_EQ(s->writer_pid, static_cast<std::uint64_t>(::getpid()));
    EXPECT_EQ(s->interval_ns, 100'000'000);
    EXPECT_EQ(s->liveness, CountersLiveness::live);
    expect_values(*s, 1000 * subs + 1, subs);  // 300 subscribers: the first 256 are in the file
  }
  EXPECT_EQ(std::filesystem::file_size(path), cl::kFileBytes);
}

// Litmus (seqlock T1–T6): a writer publishes rounds in which every word equals the round's k;
// a reader copying concurrently must see one k in every word of a snapshot.
//   outcome                          | expected
//   every word of a snapshot equal   | ACCEPTABLE
//   words from two rounds mixed      | FORBIDDEN (a torn snapshot)
TEST(CountersFile, readerNeverSeesWordsOfTwoRoundsInOneSnapshot) {
  TempDir dir;
  const auto path = dir.path() / "s.counters";
  auto w = detail::CountersFile::create(path, "s", std::chrono::milliseconds(1));
  ASSERT_TRUE(w);
  auto r = CountersReader::open(path);  // its own mapping of the same page, as another process has
  ASSERT_TRUE(r);
  std::atomic<bool> done{false};  // writer: the test thread; reader: the publishing thread (stop)
  std::thread writer([&] {
    for (std::uint64_t k = 1; !done.load(std::memory_order_relaxed); ++k) {  // relaxed: only a stop flag
      CountersSnapshot v;
      v.latest_sequence = v.stored_sequence = v.ingest_depth = v.events_sequenced = v.batches = k;
      v.runs_active = v.runs_queued = v.ring_capacity = k;
      v.subscriber_count = 4;
      v.subscribers.assign(4, SubscriptionStats{});
      for (auto& s : v.subscribers) s.id = s.cursor = s.lag = s.delivered = k;
      w->publish(v);
      // A short gap between rounds (a real publisher waits an interval): a reader that never
      // finds the round word even would starve, which is a timeout, not the property checked.
      const auto gap = std::chrono::steady_clock::now() + std::chrono::microseconds(2);
      while (std::chrono::steady_clock::now() < gap) {
      }
    }
  });
  std::uint64_t consistent = 0, torn = 0, distinct = 0, last = 0, starved = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(SESSIONRING_TEST_FULL ? 3000 : 500);
  while (std::chrono::steady_clock::now() < until) {
    auto s = r->read();
    if (!s) {
      ++starved;  // no complete round within 100 ms: not a torn one
      continue;
    }
    const std::uint64_t k = s->latest_sequence;
    bool same = s->stored_sequence == k && s->ingest_depth == k && s->events_sequenced == k && s->batches == k &&
                s->runs_active == k && s->runs_queued == k && s->ring_capacity == k;
    for (const auto& sub : s->subscribers)
      same = same && sub.id == k && sub.cursor == k && sub.lag == k && sub.delivered == k;
    (same ? consistent : torn) += 1;
    if (k != last) ++distinct;
    last = k;
  }
  done.store(true, std::memory_order_relaxed);
  writer.join();
  EXPECT_EQ(torn, 0u) << "FORBIDDEN: a snapshot mixed two rounds";
  EXPECT_GT(consistent, 0u);
  EXPECT_GT(distinct, 1u) << "the reader should have raced many rounds";
  EXPECT_LE(starved, consistent) << "mostly complete rounds";
}

TEST(CountersFile, newerVersionIsUnsupportedFormatAndAForeignFileIsRefusedSayingWhy) {
  TempDir dir;
  EXPECT_EQ(CountersReader::open(dir.path() / "none.counters").code(), Errc::not_found);
  const auto path = dir.path() / "s.counters";
  ASSERT_TRUE(detail::CountersFile::create(path, "s", std::chrono::milliseconds(100)));
  const std::uint32_t v2 = 2;
  patch(path, cl::kVersionOffset, &v2, sizeof v2);
  auto newer = CountersReader::open(path);
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.code(), Errc::unsupported_format);
  EXPECT_THAT(newer.error().message(),
              ::testing::HasSubstr("newer sessionring: counters format version 2, this build reads 1"));
  { std::ofstream(dir.path() / "foreign") << "hello, not a counters file"; }
  auto foreign = CountersReader::open(dir.path() / "foreign");
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.code(), Errc::validation_error);
  EXPECT_THAT(foreign.error().message(), ::testing::HasSubstr("not a sessionring counters file"));
}

TEST(CountersFile, closedWriterReadsClosedAndItsFileIsRemoved) {
  TempDir dir;
  const auto path = dir.path() / "s.counters";
  auto w = detail::CountersFile::create(path, "s", std::chrono::milliseconds(100));
  ASSERT_TRUE(w);
  auto r = CountersReader::open(path);
  ASSERT_TRUE(r);
  w->close(values(7, 1));
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(r->replaced());
  auto s = r->read();  // the mapping outlives the name: the final round is still there
  ASSERT_TRUE(s);
  EXPECT_EQ(s->liveness, CountersLiveness::closed);
  expect_values(*s, 7, 1);
}

TEST(CountersFile, writerThatStopsPublishingIsStaleAndAWriterWhoseProcessIsGoneIsDead) {
  TempDir dir;
  const auto path = dir.path() / "s.counters";
  auto w = detail::CountersFile::create(path, "s", std::chrono::milliseconds(10));
  ASSERT_TRUE(w);
  auto r = CountersReader::open(path);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->read()->liveness, CountersLiveness::live);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // > max(3 intervals, 1 s)
  EXPECT_EQ(r->read()->liveness, CountersLiveness::stale);
  const std::uint64_t gone = dead_pid();
  patch(path, cl::kPidOffset, &gone, sizeof gone);
  EXPECT_EQ(r->read()->liveness, CountersLiveness::dead);
}

TEST(CountersFile, secondWriterOfALiveFileIsWriterConflictButMayReplaceADeadOne) {
  TempDir dir;
  const auto path = dir.path() / "s.counters";
  auto first = detail::CountersFile::create(path, "s", std::chrono::milliseconds(100));
  ASSERT_TRUE(first);
  auto second = detail::CountersFile::create(path, "s", std::chrono::milliseconds(100));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.code(), Errc::writer_conflict);
  auto r = CountersReader::open(path);
  ASSERT_TRUE(r);
  const std::uint64_t gone = dead_pid();
  patch(path, cl::kPidOffset, &gone, sizeof gone);  // the first writer "crashed"
  auto third = detail::CountersFile::create(path, "s", std::chrono::milliseconds(100));
  ASSERT_TRUE(third) << third.error();
  EXPECT_TRUE(r->replaced()) << "a reader notices the new writer's file and reopens";
  auto fresh = CountersReader::open(path);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->read()->writer_pid, static_cast<std::uint64_t>(::getpid()));
}

TEST(CountersPublisher, countersOfManyServersArePublishedByOneThreadThatEndsWithTheLast) {
  TempDir dir;
  auto name = [](int i) { return std::string("c").append(std::to_string(i)); };
  auto options = [&](int i) {
    auto o = server_options(MemoryStore::create(), 1, name(i));
    o.publish_counters = true;
    o.counters_directory = dir.path();
    o.counters_interval = std::chrono::milliseconds(5);
    return o;
  };
  std::vector<SessionServer> servers;
  auto first = SessionServer::start(options(0));
  ASSERT_TRUE(first) << first.error();
  servers.push_back(std::move(*first));
  const std::size_t with_one = test::thread_count();
  for (int i = 1; i < 20; ++i) {
    auto s = SessionServer::start(options(i));
    ASSERT_TRUE(s) << s.error();
    servers.push_back(std::move(*s));
  }
  EXPECT_EQ(test::thread_count(), with_one) << "19 more publishing servers added threads";
  EXPECT_EQ(detail::CountersPublisher::instance().size_approx(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(std::filesystem::exists(counters_file_in_directory(dir.path(), name(i))));
  servers.clear();
  EXPECT_EQ(detail::CountersPublisher::instance().size_approx(), 0u);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(std::filesystem::exists(counters_file_in_directory(dir.path(), name(i))));
}

TEST(SessionServerCounters, publishedCountersFollowRunsSubscribersAndSequences) {
  TempDir dir;
  auto o = server_options(MemoryStore::create(), 2, "live");
  o.publish_counters = true;
  o.counters_directory = dir.path();
  o.counters_interval = std::chrono::milliseconds(5);
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server) << server.error();
  auto sub = server->subscribe();
  ASSERT_TRUE(sub);
  Gate gate;
  auto run = server->submit_run([&](RunContext& ctx) -> Result<RunOutput> {
    for (int i = 0; i < 10; ++i)
      if (Status st = ctx.emit(EventType::message_streamed, "{}"); !st) return st.error();
    gate.wait();
    return RunOutput{};
  });
  ASSERT_TRUE(run);
  auto reader = CountersReader::open(counters_file_in_directory(dir.path(), "live"));
  ASSERT_TRUE(reader) << reader.error();
  // session_created, session_started, run_started, 10 emitted: 13 once the run is waiting.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  CountersSnapshot s;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto got = reader->read();
    ASSERT_TRUE(got) << got.error();
    s = *got;
  } while ((s.latest_sequence < 13 || s.runs_active != 1) && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(s.session_id, "live");
  EXPECT_EQ(s.liveness, CountersLiveness::live);
  EXPECT_EQ(s.latest_sequence, 13u);
  EXPECT_EQ(s.stored_sequence, 13u);
  EXPECT_EQ(s.runs_active, 1u);
  EXPECT_EQ(s.runs_queued, 0u);
  EXPECT_EQ(s.max_concurrent_runs, 2u);
  EXPECT_EQ(s.ring_capacity, 64u);
  EXPECT_EQ(s.subscriber_count, 1u);
  ASSERT_EQ(s.subscribers.size(), 1u);
  EXPECT_EQ(s.subscribers[0].cursor, 1u) << "nothing polled yet";
  EXPECT_EQ(s.subscribers[0].lag, 13u);
  EXPECT_GE(s.events_sequenced, 13u);
  gate.open();
  ASSERT_TRUE(server->await_run(*run).ok());
  ASSERT_TRUE(server->stop());
  auto last = reader->read();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->liveness, CountersLiveness::closed);
  EXPECT_TRUE(last->stopped);
  EXPECT_EQ(last->runs_active, 0u);
  EXPECT_EQ(last->latest_sequence, 14u) << "the final round shows run_completed";
}

TEST(SessionServerCounters, storeWithoutSessionDirectoryNeedsACountersDirectory) {
  auto o = server_options(MemoryStore::create(), 1, "m");
  o.publish_counters = true;
  auto server = SessionServer::start(o);
  ASSERT_FALSE(server);
  EXPECT_EQ(server.code(), Errc::validation_error);
  EXPECT_THAT(server.error().message(), ::testing::HasSubstr("set counters_directory"));
  o.counters_interval = std::chrono::microseconds(10);
  EXPECT_EQ(SessionServer::start(o).code(), Errc::validation_error);
}

TEST(SessionServerCounters, logStoreSessionsPublishBesideTheirSegments) {
  TempDir dir;
  LogStoreOptions lo;
  lo.root = dir.path();
  auto store = LogStore::open(lo);
  ASSERT_TRUE(store);
  auto o = server_options(*store, 1, "beside");
  o.publish_counters = true;
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server) << server.error();
  const auto path = dir.path() / "beside" / "COUNTERS";
  EXPECT_EQ(counters_file_in_store(dir.path(), "beside"), path);
  auto reader = CountersReader::open(path);
  ASSERT_TRUE(reader) << reader.error();
  EXPECT_EQ(reader->read()->latest_sequence, 2u);
  auto list = (*store)->list_sessions();
  ASSERT_TRUE(list);
  EXPECT_EQ(*list, std::vector<std::string>{"beside"});
  ASSERT_TRUE((*store)->verify("beside")->damaged == false) << "the counters file is not a segment";
  ASSERT_TRUE(server->stop());
  EXPECT_FALSE(std::filesystem::exists(path));
}
