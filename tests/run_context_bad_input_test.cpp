// Bad input of RunContext::emit / emit_wait (engine/run_context.cpp), docs/errors.md
// "Bad-input table": the five run_* lifecycle types are the runtime's own (validation_error);
// everything else is refused as Producer::append refuses it. Each test has known events stored
// first, makes the bad calls from inside a run, checks the exact Errc and message, that
// emitted() did not count them, that the store holds exactly what was accepted (nothing lost,
// altered or added), and that the run still ends normally. Runs on a MemoryStore and a LogStore.
#include "oracle.hpp"
#include "server_bad_input_fixture.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

using namespace sessionring;
using sessionring::test::ControlledStore;
using sessionring::test::KnownEvent;
using sessionring::test::StoreKind;
using sessionring::test::StoreSnapshot;
using sessionring::test::StoreUnderTest;
using sessionring::test::keeps_contents;
using sessionring::test::names;
using sessionring::test::take_snapshot;
using sessionring::testing::Counter;
using sessionring::testing::Gate;
using sessionring::testing::emitting;
using sessionring::testing::kWatchdog;
using sessionring::testing::server_options;
using namespace std::chrono_literals;

namespace {

// start_seeded(): a server on s1 with known events stored and one completed run.
class RunContextBadInput : public sessionring::test::ServerFixture {
 protected:
  /// The events stored after `before` (which must all still be there, unaltered).
  std::vector<Event> added_since(const StoreSnapshot& before, SessionServer& server) {
    const StoreSnapshot now = take_snapshot(server.session().log());
    EXPECT_TRUE(keeps_contents(before, now));
    return {now.events.begin() + static_cast<std::ptrdiff_t>(std::min(before.events.size(), now.events.size())),
            now.events.end()};
  }

  static std::vector<EventType> types_of(const std::vector<Event>& events) {
    std::vector<EventType> out;
    for (const Event& e : events) out.push_back(e.type);
    return out;
  }
};

/// The four emit calls, each given the same event.
struct EmitCall {
  const char* name;
  std::function<Errc(RunContext&, const EventInput&, const AppendOptions&, std::string*)> call;
};

std::vector<EmitCall> emit_calls() {
  auto fail = [](const Error& e, std::string* m) {
    *m = e.message();
    return e.code();
  };
  return {
      {"emit(type, data, metadata)",
       [=](RunContext& c, const EventInput& e, const AppendOptions&, std::string* m) {
         Status st = c.emit(e.type, e.data, e.metadata);
         return st ? Errc::ok : fail(st.error(), m);
       }},
      {"emit(EventInput)",
       [=](RunContext& c, const EventInput& e, const AppendOptions& o, std::string* m) {
         Status st = c.emit(e, o);
         return st ? Errc::ok : fail(st.error(), m);
       }},
      {"emit_wait(type, data, metadata)",
       [=](RunContext& c, const EventInput& e, const AppendOptions&, std::string* m) {
         auto r = c.emit_wait(e.type, e.data, e.metadata);
         return r ? Errc::ok : fail(r.error(), m);
       }},
      {"emit_wait(EventInput)",
       [=](RunContext& c, const EventInput& e, const AppendOptions& o, std::string* m) {
         auto r = c.emit_wait(e, o);
         return r ? Errc::ok : fail(r.error(), m);
       }},
  };
}

/// What a task found wrong, collected on the run's thread and asserted on the test thread.
struct Findings {
  std::vector<std::string> problems;
  void expect(bool ok, const std::string& what) {
    if (!ok) problems.push_back(what);
  }
};

}  // namespace

TEST_P(RunContextBadInput, emitOfALifecycleTypeIsValidationErrorInEveryEmitCallAndNothingIsStored) {
  auto server = start_seeded(server_options(st_.store()));
  ASSERT_TRUE(server.ok()) << server.error();
  const StoreSnapshot before = take_snapshot(server->session().log());
  Findings f;
  std::uint64_t emitted = 99;
  RunOptions ro;
  ro.run_id = "r";
  auto out = server->execute_run(
      [&](RunContext& ctx) -> RunResult {
        for (EventType t : {EventType::run_started, EventType::run_completed, EventType::run_failed,
                            EventType::run_cancelled, EventType::run_timeout}) {
          EventInput e;
          e.type = t;
          e.id = "refused";
          for (const EmitCall& c : emit_calls()) {
            std::string m;
            const std::string where = std::string(c.name) + " " + std::string(to_string(t));
            f.expect(c.call(ctx, e, {}, &m) == Errc::validation_error, where + ": code");
            f.expect(m.find("event type " + std::string(to_string(t)) + " is appended by the runtime") !=
                         std::string::npos,
                     where + ": message '" + m + "'");
          }
        }
        emitted = ctx.emitted();
        return std::string("done");
      },
      kWatchdog, ro);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_TRUE(f.problems.empty()) << ::testing::PrintToString(f.problems);
  EXPECT_EQ(emitted, 0u);
  const auto added = added_since(before, *server);
  EXPECT_EQ(types_of(added), (std::vector<EventType>{EventType::run_started, EventType::run_completed}));
  EXPECT_EQ(server->session().log().find_by_id("refused").code(), Errc::not_found);
}

TEST_P(RunContextBadInput, emitRefusesWhatProducerAppendRefusesAndTheRunStillEmitsAndCompletes) {
  auto o = server_options(st_.store());
  o.engine.max_event_bytes = 1024;
  auto server = start_seeded(o);
  ASSERT_TRUE(server.ok()) << server.error();
  const StoreSnapshot before = take_snapshot(server->session().log());
  Findings f;
  std::uint64_t emitted = 99;
  const std::string too_long(EventRecord::kMaxShortField + 1, 'x');
  const std::string big(2000, 'b');
  struct Bad {
    std::string what;
    EventInput input;
    Errc code;
    std::string shown;
  };
  std::vector<Bad> bad;
  {
    EventInput e;
    e.type = static_cast<EventType>(28);
    bad.push_back({"type 28", e, Errc::validation_error, "event type value 28"});
    e.type = static_cast<EventType>(255);
    bad.push_back({"type 255", e, Errc::validation_error, "event type value 255"});
  }
  for (auto [field, member] : {std::pair{"id", &EventInput::id}, std::pair{"correlation_id", &EventInput::correlation_id},
                               std::pair{"provider", &EventInput::provider}}) {
    EventInput e;
    e.type = EventType::message_sent;
    e.*member = too_long;
    bad.push_back({field, e, Errc::validation_error, std::string("EventInput::") + field + " is 65536 bytes long"});
  }
  {
    EventInput e;
    e.type = EventType::message_sent;
    e.data = big;
    bad.push_back({"data above max_event_bytes", e, Errc::event_too_large, "exceeds max_event_bytes = 1024"});
  }
  RunOptions ro;
  ro.run_id = "r";
  auto out = server->execute_run(
      [&](RunContext& ctx) -> RunResult {
        for (const Bad& b : bad) {
          for (const EmitCall& c : emit_calls()) {
            if (b.input.id.size() > 0 || !b.input.correlation_id.empty() || !b.input.provider.empty())
              if (std::string_view(c.name).find("EventInput") == std::string_view::npos) continue;  // type/data only
            std::string m;
            const std::string where = std::string(c.name) + " " + b.what;
            f.expect(c.call(ctx, b.input, {}, &m) == b.code, where + ": code, message '" + m + "'");
            f.expect(m.find(b.shown) != std::string::npos, where + ": message '" + m + "'");
          }
        }
        if (!ctx.emit(EventType::message_sent, "accepted")) return Error(Errc::run_failed, "valid emit refused");
        emitted = ctx.emitted();
        return std::string("done");
      },
      kWatchdog, ro);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_TRUE(f.problems.empty()) << ::testing::PrintToString(f.problems);
  EXPECT_EQ(emitted, 1u);
  const auto added = added_since(before, *server);
  ASSERT_EQ(types_of(added), (std::vector<EventType>{EventType::run_started, EventType::message_sent,
                                                     EventType::run_completed}));
  EXPECT_EQ(added[1].data, "accepted");
  EXPECT_EQ(added[1].run_id, "r");
}

TEST_P(RunContextBadInput, emitWhenTheIngestQueueIsFullIsQueueFullAndTheRefusedEventIsNeverStored) {
  auto controlled = std::make_shared<ControlledStore>(st_.store());
  auto o = server_options(controlled);
  o.engine.ingest_capacity = 1;
  auto server = start_seeded(o);
  ASSERT_TRUE(server.ok()) << server.error();
  const StoreSnapshot before = take_snapshot(server->session().log());
  auto& ctl = controlled->control();
  Findings f;
  Gate gate;
  Counter started;
  std::uint64_t emitted = 99;
  RunOptions ro;
  ro.run_id = "r";
  ASSERT_TRUE(server
                  ->submit_run(
                      [&](RunContext& ctx) -> RunResult {
                        started.arrive();  // run_started is stored (append_wait) before the task runs
                        gate.wait();       // the test blocks the store's appends meanwhile
                        f.expect(ctx.emit(EventType::message_sent, "a1").ok(), "a1");
                        f.expect(ctl.wait_blocked(1), "the sequencer took a1 and is stuck storing it");
                        f.expect(ctx.emit(EventType::message_sent, "a2").ok(), "a2 fills the slot's one credit");
                        EventInput refused;
                        refused.type = EventType::message_sent;
                        refused.data = "refused";
                        for (AppendOptions ao : {AppendOptions::fail_fast(), AppendOptions::wait_for(0ns),
                                                 AppendOptions::wait_for(1ms)}) {
                          for (const EmitCall& c : emit_calls()) {
                            if (std::string_view(c.name).find("EventInput") == std::string_view::npos) continue;
                            std::string m;
                            f.expect(c.call(ctx, refused, ao, &m) == Errc::queue_full,
                                     std::string(c.name) + ": code, message '" + m + "'");
                            f.expect(m.find("ingest queue of session 's1' is full") != std::string::npos,
                                     std::string(c.name) + ": message '" + m + "'");
                          }
                        }
                        emitted = ctx.emitted();
                        ctl.unblock_appends();
                        return std::string("done");
                      },
                      ro)
                  .ok());
  started.wait_for(1);
  ctl.block_appends();
  gate.open();
  EXPECT_EQ(server->await_run("r", kWatchdog).value(), "done");
  EXPECT_TRUE(f.problems.empty()) << ::testing::PrintToString(f.problems);
  EXPECT_EQ(emitted, 2u);
  const auto added = added_since(before, *server);
  ASSERT_EQ(added.size(), 4u);
  EXPECT_EQ(added[0].type, EventType::run_started);
  EXPECT_EQ(added[1].data, "a1");
  EXPECT_EQ(added[2].data, "a2");
  EXPECT_EQ(added[3].type, EventType::run_completed);
}

TEST_P(RunContextBadInput, emitAfterTheEngineStoppedIsStoppedAndNothingIsStored) {
  auto server = start_seeded(server_options(st_.store()));
  ASSERT_TRUE(server.ok()) << server.error();
  Findings f;
  Gate gate;
  Counter started;
  RunOptions ro;
  ro.run_id = "r";
  ASSERT_TRUE(server
                  ->submit_run(
                      [&](RunContext& ctx) -> RunResult {
                        started.arrive();
                        gate.wait();
                        EventInput e;
                        e.type = EventType::message_sent;
                        e.data = "refused";
                        for (const EmitCall& c : emit_calls()) {
                          std::string m;
                          f.expect(c.call(ctx, e, {}, &m) == Errc::stopped, std::string(c.name) + ": '" + m + "'");
                          f.expect(m.find("session 's1' is stopped") != std::string::npos,
                                   std::string(c.name) + ": message '" + m + "'");
                        }
                        f.expect(ctx.emitted() == 0, "emitted() counted a refused event");
                        return std::string("done");
                      },
                      ro)
                  .ok());
  started.wait_for(1);
  const StoreSnapshot before = take_snapshot(server->session().log());  // run_started is stored
  ASSERT_TRUE(server->session().stop().ok());
  gate.open();
  (void)server->await_run("r", kWatchdog);
  EXPECT_TRUE(f.problems.empty()) << ::testing::PrintToString(f.problems);
  (void)server->stop();
  EXPECT_TRUE(sessionring::test::same_contents(before, take_snapshot(server->session().log())));
}

INSTANTIATE_TEST_SUITE_P(Stores, RunContextBadInput, ::testing::Values(StoreKind::memory, StoreKind::log),
                         sessionring::test::kind_name);
