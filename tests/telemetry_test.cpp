// Telemetry (engine/telemetry_counters.cpp, engine/run_telemetry.cpp): the names the runtime
// emits, their fields, the counters adapter and its histogram, and docs/telemetry.md.
#include "run_test_support.hpp"

#include <fstream>
#include <map>
#include <cctype>
#include <set>
#include <sstream>
#include <thread>

using namespace sessionring;
using namespace sessionring::testing;

namespace {

struct Recorded {
  std::string name;
  std::map<std::string, std::int64_t> measurements;
  std::map<std::string, std::string> metadata;
};

class RecordingSink final : public TelemetrySink {
 public:
  void on_event(std::string_view name, const Measurements& m, const Metadata& meta) override {
    Recorded r{std::string(name), {}, {}};
    for (const Measurement& x : m) r.measurements[std::string(x.name)] = x.value;
    for (const MetadataEntry& e : meta) r.metadata[std::string(e.key)] = std::string(e.value);
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(r));
  }
  std::vector<Recorded> named(std::string_view name) {
    std::lock_guard lock(mutex_);
    std::vector<Recorded> out;
    for (const auto& e : events_)
      if (e.name == name) out.push_back(e);
    return out;
  }
  std::set<std::string> names() {
    std::lock_guard lock(mutex_);
    std::set<std::string> out;
    for (const auto& e : events_) out.insert(e.name);
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<Recorded> events_;
};

// Drives a server through every telemetry event: start, enqueue/dequeue, run start/stop,
// cancel of a queued and of an active run, subscribe/unsubscribe, a lapped subscriber, drain,
// stop.
void exercise(std::shared_ptr<TelemetrySink> sink) {
  auto o = server_options();
  o.engine.ring_capacity = 16;
  o.telemetry = std::move(sink);
  auto server = SessionServer::start(o);
  ASSERT_TRUE(server.ok());
  SubscribeOptions from_start;
  from_start.from_sequence = 1;
  auto slow = server->subscribe(from_start);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(slow->poll([](const EventView&) {}, 1).ok());  // in the ring now
  ASSERT_TRUE(server->execute_run(emitting(200), kWatchdog).ok());
  ASSERT_TRUE(slow->poll([](const EventView&) {}).ok());  // lapped: falls back to the store
  EXPECT_GE(slow->lapped_count(), 1u);
  (void)server->status();  // samples subscriber.lapped
  Counter started;
  auto active = *server->submit_run(until_cancelled(&started));
  auto queued = *server->submit_run(emitting(1));
  started.wait_for(1);
  ASSERT_TRUE(server->cancel_run(queued).ok());
  ASSERT_TRUE(server->cancel_run(active).ok());
  ASSERT_TRUE(server->drain(kWatchdog).ok());
  ASSERT_TRUE(server->unsubscribe(*slow).ok());
  ASSERT_TRUE(server->stop().ok());
}

}  // namespace

TEST(Telemetry, everyNameIsEmittedWithItsDocumentedFields) {
  auto sink = std::make_shared<RecordingSink>();
  exercise(sink);
  std::set<std::string> all(telemetry::kAllNames.begin(), telemetry::kAllNames.end());
  EXPECT_EQ(sink->names(), all);  // each name emitted, and no other (DESIGN §7: names drifted)

  auto one = [&](std::string_view name) {
    auto v = sink->named(name);
    EXPECT_FALSE(v.empty()) << name;
    for (const auto& e : v) EXPECT_EQ(e.metadata.at("session_id"), "s1") << name;
    return v.empty() ? Recorded{} : v.front();
  };
  EXPECT_TRUE(one(telemetry::kServerStart).measurements.contains("system_time_ns"));
  EXPECT_TRUE(one(telemetry::kServerStop).measurements.contains("duration_ns"));
  EXPECT_TRUE(one(telemetry::kQueueEnqueue).measurements.contains("queue_length"));
  EXPECT_TRUE(one(telemetry::kQueueEnqueue).metadata.contains("run_id"));
  EXPECT_TRUE(one(telemetry::kQueueDequeue).measurements.contains("queue_length"));
  EXPECT_TRUE(one(telemetry::kRunStart).measurements.contains("queued_ns"));
  const Recorded stop = one(telemetry::kRunStop);
  EXPECT_TRUE(stop.measurements.contains("duration_ns"));
  EXPECT_EQ(stop.metadata.at("outcome"), "completed");
  EXPECT_EQ(one(telemetry::kCancelQueued).metadata.at("reason"), "cancel_run");
  EXPECT_EQ(one(telemetry::kCancelActive).metadata.at("reason"), "cancel_run");
  EXPECT_EQ(one(telemetry::kSubscribe).measurements.at("count"), 1);
  EXPECT_EQ(one(telemetry::kUnsubscribe).measurements.at("count"), 0);
  const Recorded lapped = one(telemetry::kSubscriberLapped);
  EXPECT_GE(lapped.measurements.at("lapped"), 1);
  EXPECT_TRUE(lapped.metadata.contains("subscriber_id"));
  EXPECT_TRUE(one(telemetry::kDrainComplete).measurements.contains("duration_ns"));
  EXPECT_EQ(sink->named(telemetry::kRunStop).size(), 2u);  // the queued run never started
}

TEST(Telemetry, countersAdapterCountsEventsAndRecordsLatencies) {
  auto counters = std::make_shared<TelemetryCounters>();
  exercise(counters);
  for (std::string_view name : telemetry::kAllNames) EXPECT_GE(counters->count(name), 1u) << name;
  EXPECT_EQ(counters->count(telemetry::kQueueEnqueue), 3u);
  EXPECT_EQ(counters->count(telemetry::kRunStart), 2u);
  EXPECT_EQ(counters->runs(RunOutcome::completed), 1u);
  EXPECT_EQ(counters->runs(RunOutcome::cancelled), 1u);
  EXPECT_EQ(counters->run_duration().count(), 2u);
  EXPECT_EQ(counters->queue_wait().count(), 2u);
  EXPECT_GE(counters->lapped(), 1u);
  EXPECT_EQ(counters->subscribers(), 0);
  EXPECT_EQ(counters->unknown_events(), 0u);
  EXPECT_EQ(counters->count("not.a.name"), 0u);
  EXPECT_NE(counters->report().find("run duration"), std::string::npos);
}

TEST(Telemetry, histogramBucketsBoundEveryValueWithinAnEighth) {
  for (std::uint64_t v : {0ull, 1ull, 7ull, 8ull, 9ull, 1000ull, 123456789ull, ~0ull}) {
    const unsigned i = TelemetryHistogram::index(v);
    ASSERT_LT(i, TelemetryHistogram::kBuckets);
    EXPECT_GE(TelemetryHistogram::upper_bound(i), v);
    if (i > 0) {
      EXPECT_LT(TelemetryHistogram::upper_bound(i - 1), v);
    }
    EXPECT_LE(TelemetryHistogram::upper_bound(i) - v, v / 8);
  }
  TelemetryHistogram h;
  EXPECT_EQ(h.percentile(0.5), 0u);
  for (std::uint64_t v = 1; v <= 1000; ++v) h.record(v);
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.max(), 1000u);
  EXPECT_EQ(h.sum(), 500500u);
  EXPECT_GE(h.percentile(0.5), 500u);
  EXPECT_LE(h.percentile(0.5), 500u + 500u / 8);
  EXPECT_EQ(h.percentile(1.0), 1000u);
}

TEST(Telemetry, histogramCountsEveryRecordFromManyThreads) {
  TelemetryHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < 10000; ++i) h.record(i * (t + 1));
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.count(), 40000u);
  EXPECT_EQ(h.max(), 9999u * 4);
}

TEST(Telemetry, docsListEveryNameAndNoOther) {  // DESIGN §7: docs and code disagreed
  std::ifstream in(std::string(SESSIONRING_DOCS_DIR) + "/telemetry.md");
  ASSERT_TRUE(in.good()) << "docs/telemetry.md is missing";
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  std::set<std::string> documented;  // every "sessionring.runtime.session_server.<a.b_c>" in the doc
  const std::string prefix = "sessionring.runtime.session_server";
  for (auto at = doc.find(prefix); at != std::string::npos; at = doc.find(prefix, at + 1)) {
    auto end = at + prefix.size();
    while (end < doc.size() && (std::islower(static_cast<unsigned char>(doc[end])) || doc[end] == '_' || doc[end] == '.'))
      ++end;
    while (doc[end - 1] == '.') --end;  // a sentence's full stop
    documented.insert(doc.substr(at, end - at));
  }
  std::set<std::string> all(telemetry::kAllNames.begin(), telemetry::kAllNames.end());
  EXPECT_EQ(documented, all);
}

TEST(Telemetry, aServerWithoutASinkWorksAndEmitsNothing) {
  auto server = SessionServer::start(server_options());
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(server->options().telemetry, nullptr);
  EXPECT_EQ(*server->execute_run(emitting(1), kWatchdog), "done");
}
