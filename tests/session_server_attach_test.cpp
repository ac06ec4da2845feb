// SessionServer::start attaching to a session whose previous host crashed (issue 17, defect 8):
// every run_started without a terminal event gets one (run_failed, code `stopped`, with the
// reason), exactly once, so a session's history never holds a run without an end; runs that did
// end are untouched, and attaching again adds nothing (docs/runtime.md "Attaching").
#include "run_test_support.hpp"

#include <map>

using namespace sessionring;
using namespace sessionring::testing;

namespace {

/// What a crashed host leaves: a session created, then run "open-1" started twice (as the old
/// demo reused run ids) with one end, "done" started and completed, "open-2" started only.
void write_crashed_host_history(const std::shared_ptr<SessionStore>& store) {
  SessionOptions so;
  so.store = store;
  so.session_id = "s1";
  auto session = Session::open(so);
  ASSERT_TRUE(session) << session.error();
  auto add = [&](EventType t, std::string_view run) {
    EventInput e;
    e.type = t;
    e.run_id = run;
    ASSERT_TRUE(session->append_wait(e));
  };
  add(EventType::session_created, "");
  add(EventType::run_started, "open-1");
  add(EventType::run_started, "done");
  add(EventType::message_streamed, "done");
  add(EventType::run_completed, "done");
  add(EventType::run_started, "open-2");
  add(EventType::message_streamed, "open-1");
  add(EventType::run_completed, "open-1");
  add(EventType::run_started, "open-1");  // started again, never ended
  ASSERT_TRUE(session->stop());
}

/// run id -> (starts, terminal events) over the whole stored session.
std::map<std::string, std::pair<int, int>> run_balance(const std::vector<Event>& events) {
  std::map<std::string, std::pair<int, int>> m;
  for (const Event& e : events) {
    if (e.type == EventType::run_started) ++m[e.run_id].first;
    if (e.type == EventType::run_completed || e.type == EventType::run_failed ||
        e.type == EventType::run_cancelled || e.type == EventType::run_timeout)
      ++m[e.run_id].second;
  }
  return m;
}

TEST(SessionServerAttach, runsACrashedHostLeftOpenGetOneTerminalEventWithTheReasonAndNothingElseDoes) {
  auto store = MemoryStore::create();
  write_crashed_host_history(store);
  {
    auto server = SessionServer::start(attach_options(store, "s1"));
    ASSERT_TRUE(server) << server.error();
    const auto events = stored_events(*server);
    ASSERT_EQ(events.size(), 11u);  // 9 + run_failed for open-1 and open-2
    expect_contiguous(events, 1);
    for (const auto& [run, balance] : run_balance(events))
      EXPECT_EQ(balance.first, balance.second) << "run " << run << " has a start without an end";
    std::vector<std::string> closed;
    for (std::size_t i = 9; i < events.size(); ++i) {
      EXPECT_EQ(events[i].type, EventType::run_failed);
      closed.push_back(events[i].run_id);
      EXPECT_NE(events[i].data.find(R"("code":"stopped")"), std::string::npos) << events[i].data;
      EXPECT_NE(events[i].data.find(R"("error":"abandoned: )"), std::string::npos) << events[i].data;
    }
    EXPECT_EQ(closed, (std::vector<std::string>{"open-1", "open-2"}));  // in order of their start
    ASSERT_TRUE(server->stop());
  }  // the server and its session released: another may attach

  // Attaching again finds nothing open: nothing is appended.
  auto again = SessionServer::start(attach_options(store, "s1"));
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->session().latest_sequence(), 11u);
  ASSERT_TRUE(again->stop());
}

TEST(SessionServerAttach, aCleanlyStoppedServerLeavesNoRunToClose) {
  auto store = MemoryStore::create();
  Sequence before = 0;
  {
    auto first = SessionServer::start(server_options(store));
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(first->execute_run(emitting(3), kWatchdog).ok());
    ASSERT_TRUE(first->stop().ok());
    before = first->session().latest_sequence();
  }
  auto second = SessionServer::start(attach_options(store, "s1"));
  ASSERT_TRUE(second) << second.error();
  EXPECT_EQ(second->session().latest_sequence(), before);
}

}  // namespace
