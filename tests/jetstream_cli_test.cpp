// The `sessionring` program with --store nats://HOST:PORT (docs/cli.md "Stores"), against a
// real nats-server started by the test: a demo written through JetStream is listed, verified,
// printed and followed from another process, as a user on host B would watch host A; its
// durable cursors are listed and deleted (`cursors`, `cursors --delete`).
#include "nats_server.hpp"

#include <sessionring/jet_stream_store.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace sessionring::test {
namespace {

using namespace std::chrono_literals;

/// Runs the program, returns (exit code, stdout + stderr).
std::pair<int, std::string> run(const std::string& args) {
  const std::string cmd = std::string(SESSIONRING_CLI) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::size_t count_lines_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::size_t n = 0;
  for (std::string l; std::getline(in, l);) n += l.rfind(prefix, 0) == 0;
  return n;
}

TEST(JetStreamCli, demoOnHostAIsListedVerifiedPrintedAndFollowedFromHostB) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  const std::string store = "--store 'nats://127.0.0.1:" + std::to_string(server.port()) + "?stream=CLI&streams=2'";
  auto [rc, out] = run("demo " + store + " --session demo1 --events 2000 --runs 2");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("exactly its events"), std::string::npos) << out;

  auto [rc2, listed] = run("sessions " + store);
  ASSERT_EQ(rc2, 0) << listed;
  EXPECT_NE(listed.find("demo1"), std::string::npos) << listed;

  auto [rc3, verified] = run("verify " + store);
  ASSERT_EQ(rc3, 0) << verified;
  EXPECT_NE(verified.find("1 ok, 0 damaged"), std::string::npos) << verified;

  auto [rc4, printed] = run("tail " + store + " --session demo1 --from 5");
  ASSERT_EQ(rc4, 0) << printed.substr(0, 2000);
  EXPECT_GE(count_lines_starting(printed, "#"), 1996u);
  EXPECT_EQ(printed.rfind("#5 ", 0), 0u) << printed;

  // tail --follow on "host B" while a second demo on "host A" continues the session.
  TempDir dir;
  const std::string follow_out = (dir.path() / "follow.txt").string();
  const std::string cmd = std::string(SESSIONRING_CLI) + " tail " + store + " --session demo1 --follow > " + follow_out +
                          " 2>&1 & echo $!";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  int follow_pid = 0;
  ASSERT_EQ(std::fscanf(p, "%d", &follow_pid), 1);
  ::pclose(p);
  auto [rc5, out5] = run("demo " + store + " --session demo1 --events 1000 --runs 1");
  EXPECT_EQ(rc5, 0) << out5;
  // The demo continued at the old latest + 1; the follower must print up to the new latest.
  std::size_t lines = 0;
  std::string text;
  for (int i = 0; i < 200; ++i) {
    std::ifstream f(follow_out);
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
    lines = count_lines_starting(text, "#");
    if (lines >= 3000) break;
    std::this_thread::sleep_for(50ms);
  }
  ::kill(follow_pid, SIGTERM);
  for (int i = 0; i < 100 && ::kill(follow_pid, 0) == 0; ++i) std::this_thread::sleep_for(20ms);
  if (::kill(follow_pid, 0) == 0) ::kill(follow_pid, SIGKILL);
  // 2000 + lifecycle events of the first demo, 1000 + lifecycle of the second: every one once.
  EXPECT_GE(lines, 3000u) << text.substr(0, 2000);
  std::istringstream in(text);
  Sequence expect = 1;
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("#", 0) != 0) continue;
    EXPECT_EQ(std::stoull(l.substr(1)), expect) << "gap or duplicate in tail --follow";
    ++expect;
  }
}

TEST(JetStreamCli, cursorsAreListedFromHostBAndDeletedOnlyWhenNoLiveWriterHoldsTheSession) {
  NatsServer server;
  ASSERT_TRUE(server.running());
  const std::string url = "nats://127.0.0.1:" + std::to_string(server.port()) + "?stream=CUR&streams=2";
  const std::string store = "--store '" + url + "'";
  auto [rc, out] = run("demo " + store + " --session c-1 --events 100 --runs 1");
  ASSERT_EQ(rc, 0) << out;

  JetStreamStoreOptions o;
  o.url = "nats://127.0.0.1:" + std::to_string(server.port());
  o.stream = "CUR";
  o.stream_count = 2;
  auto js = JetStreamStore::open(o);
  ASSERT_TRUE(js.ok()) << js.error();
  Sequence latest = 0;
  {
    auto live = (*js)->open("c-1", OpenMode::write);  // a live host writing the session
    ASSERT_TRUE(live.ok()) << live.error();
    latest = (*live)->latest_sequence();
    ASSERT_GE(latest, 100u);
    ASSERT_TRUE((*live)->commit_cursor("indexer", latest - 10));
    ASSERT_TRUE((*live)->commit_cursor("ui", latest));

    auto [rc2, listed] = run("cursors " + store + " c-1");
    ASSERT_EQ(rc2, 0) << listed;
    EXPECT_NE(listed.find("indexer"), std::string::npos) << listed;
    EXPECT_NE(listed.find("ui"), std::string::npos) << listed;
    EXPECT_LT(listed.find("indexer"), listed.find("ui")) << "not sorted by name: " << listed;

    auto [rc3, refused] = run("cursors " + store + " c-1 --delete indexer");
    EXPECT_EQ(rc3, 1) << refused;
    EXPECT_NE(refused.find("writer_conflict"), std::string::npos) << refused;
    EXPECT_EQ((*live)->read_cursor("indexer").value(), latest - 10) << "the refused delete removed the cursor";
  }
  auto [rc4, deleted] = run("cursors " + store + " c-1 --delete indexer");  // the host stopped
  ASSERT_EQ(rc4, 0) << deleted;
  EXPECT_NE(deleted.find("it was at position " + std::to_string(latest - 10)), std::string::npos) << deleted;
  auto reader = (*js)->open("c-1", OpenMode::read);
  ASSERT_TRUE(reader.ok()) << reader.error();
  EXPECT_EQ((*reader)->read_cursor("indexer").code(), Errc::not_found);
  EXPECT_EQ((*reader)->read_cursor("ui").value(), latest);
  auto [rc5, again] = run("cursors " + store + " c-1 --delete indexer");
  EXPECT_EQ(rc5, 1) << again;
  EXPECT_NE(again.find("not_found"), std::string::npos) << again;
}

TEST(JetStreamCli, badNatsUrlParameterIsUsageErrorNamingIt) {
  auto [rc, out] = run("sessions --store 'nats://127.0.0.1:1?bogus=1'");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("bogus"), std::string::npos) << out;
  auto [rc2, out2] = run("sessions --store 'nats://127.0.0.1:1?streams=x'");
  EXPECT_EQ(rc2, 2) << out2;
}

}  // namespace
}  // namespace sessionring::test
