// The `sessionring` program (tools/, docs/cli.md) run as a separate process on LogStores written
// by a test host: tail (text, jsonl, filters, --from, --follow against a store another process
// is appending to: no gap, no duplicate, clean exit on SIGTERM/SIGINT), sessions, verify (clean,
// torn tail, damage: exit 3 naming file and offset), --help and the exit codes of bad usage.
// SESSIONRING_CLI is the program, SESSIONRING_CLI_HELPER the appending host
// (tests/cli_append_helper.cpp).
#include "cli_test_support.hpp"

#include <sessionring/log_store.hpp>
#include <sessionring/sessionring.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>


namespace sessionring {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

using namespace cli_support;

// ---------------------------------------------------------------------------------------------
// tail

TEST(CliTail, jsonlHasEveryFieldOfEveryEventInOrder) {
  TempDir dir;
  write_session(dir.path(), "s1", 30);
  auto r = cli({"tail", "--store", dir.str(), "--session", "s1", "--format", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto events = parse_jsonl(r.out);
  ASSERT_EQ(events.size(), 30u);
  for (std::uint64_t i = 1; i <= 30; ++i) {
    const nlohmann::json& j = events[i - 1];
    const HostEvent h = host_event(i);
    SCOPED_TRACE(j.dump());
    EXPECT_EQ(j.at("seq").get<std::uint64_t>(), i);
    EXPECT_EQ(j.at("type").get<std::string>(), to_string(h.type));
    EXPECT_EQ(j.at("id").get<std::string>(), h.id);
    EXPECT_EQ(j.at("session_id").get<std::string>(), "s1");
    EXPECT_EQ(j.at("run_id").get<std::string>(), h.run);
    const std::string ts = j.at("timestamp").get<std::string>();
    EXPECT_TRUE(is_rfc3339_ns(ts)) << ts;
    if (i % 7 == 0) {
      EXPECT_EQ(j.at("data"), nlohmann::json(h.data));  // not JSON: the string as it is
      EXPECT_EQ(j.at("data_encoding"), "utf8");
    } else {
      EXPECT_EQ(j.at("data"), nlohmann::json::parse(h.data));  // JSON: embedded as JSON
      EXPECT_EQ(j.at("data_encoding"), "json");
    }
    if (i % 2 == 0) {
      EXPECT_EQ(j.at("metadata"), nlohmann::json::parse(h.metadata));
      EXPECT_EQ(j.at("metadata_encoding"), "json");
    } else {
      EXPECT_EQ(j.at("metadata"), nlohmann::json("not json"));
      EXPECT_EQ(j.at("metadata_encoding"), "utf8");
    }
    EXPECT_EQ(j.contains("correlation_id"), i % 5 == 0);
  }
  // Exact RFC 3339 rendering: base + 1 s for event 1, nanoseconds kept.
  EXPECT_EQ(events[0].at("timestamp").get<std::string>(), "2023-11-14T22:13:21.123456789Z");
}

TEST(CliTail, textPrintsExactlyOneLinePerEvent) {
  TempDir dir;
  write_session(dir.path(), "s1", 20);
  auto r = cli({"tail", "--store", dir.str(), "--session", "s1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = r.lines();
  ASSERT_EQ(lines.size(), 20u);  // event 7 and 14 hold a newline in data: escaped, not split
  EXPECT_EQ(lines[0].rfind("#1 2023-11-14T22:13:21.123456789Z message_streamed run=r1 id=evt-1 data={\"i\":1", 0), 0u)
      << lines[0];
  EXPECT_THAT(lines[6], HasSubstr("data=plain text\\nline two 7"));
  for (std::size_t i = 0; i < lines.size(); ++i)
    EXPECT_EQ(lines[i].rfind(std::string("#").append(std::to_string(i + 1)).append(" "), 0), 0u);
}

TEST(CliTail, fromRunAndTypeSelectExactlyTheMatchingEvents) {
  TempDir dir;
  write_session(dir.path(), "s1", 60);
  auto r = cli({"tail", "--store", dir.str(), "--session", "s1", "--format", "jsonl", "--from", "10", "--run", "r1",
                "--type", "run_started,message_streamed"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::uint64_t> want;
  for (std::uint64_t i = 10; i <= 60; ++i) {
    const HostEvent h = host_event(i);
    if (h.run == "r1" && (h.type == EventType::run_started || h.type == EventType::message_streamed)) want.push_back(i);
  }
  std::vector<std::uint64_t> got;
  for (const auto& j : parse_jsonl(r.out)) got.push_back(j.at("seq").get<std::uint64_t>());
  EXPECT_EQ(got, want);
  ASSERT_FALSE(want.empty());

  auto two_runs = cli({"tail", "--store", dir.str(), "--session", "s1", "--run", "r0", "--run", "r2"});
  ASSERT_EQ(two_runs.exit_code, 0) << two_runs.err;
  EXPECT_EQ(two_runs.lines().size(), 40u);

  auto past_end = cli({"tail", "--store", dir.str(), "--session", "s1", "--from", "61"});
  EXPECT_EQ(past_end.exit_code, 0) << past_end.err;
  EXPECT_EQ(past_end.out, "");
}

/// Reads jsonl lines from a following tail until it has printed `last`; checks that they are
/// exactly first, first + 1, ..., last.
void expect_contiguous(Child& tail, std::uint64_t first, std::uint64_t last, Clock::time_point deadline) {
  std::uint64_t expect = first;
  while (expect <= last) {
    auto line = tail.read_line(deadline);
    ASSERT_TRUE(line) << "tail stopped or timed out before sequence " << expect << "; stderr: " << tail.stderr_text();
    const auto seq = nlohmann::json::parse(*line).at("seq").get<std::uint64_t>();
    ASSERT_EQ(seq, expect) << (seq < expect ? "duplicate" : "gap") << " in the followed stream";
    ++expect;
  }
}

TEST(CliTail, followStreamsWhatAnotherProcessAppendsWithNoGapAndNoDuplicate) {
  TempDir dir;
  constexpr std::uint64_t kEvents = SESSIONRING_TEST_FULL ? 20000 : 3000;
  constexpr std::uint64_t kReadyAfter = 200;
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  // The appending host: 200 events at once (history), then one every ~300 us (live), in
  // 64 KiB segments so the followers cross segment rolls.
  Child helper({SESSIONRING_CLI_HELPER, dir.str(), "shared", std::to_string(kEvents), std::to_string(kReadyAfter), "300"});
  auto ready = helper.read_line(deadline);
  ASSERT_TRUE(ready) << helper.stderr_text();
  ASSERT_EQ(ready->rfind("ready ", 0), 0u) << *ready;

  // Two followers while the host appends: from the start (history, then live) and resuming
  // from the middle of what is still to come.
  constexpr std::uint64_t kResumeFrom = kEvents / 2;
  Child from_start({SESSIONRING_CLI, "tail", "--store", dir.str(), "--session", "shared", "--follow", "--format", "jsonl"});
  Child resumed({SESSIONRING_CLI, "tail", "--store", dir.str(), "--session", "shared", "--follow", "--format", "jsonl",
                 "--from", std::to_string(kResumeFrom)});
  expect_contiguous(from_start, 1, kEvents, deadline);
  expect_contiguous(resumed, kResumeFrom, kEvents, deadline);

  EXPECT_EQ(helper.read_line(deadline).value_or("(none)"), "done " + std::to_string(kEvents));
  EXPECT_EQ(helper.finish(deadline), 0) << helper.stderr_text();

  // Nothing more arrives after the last event (no duplicate at the end), and both exit 0 on
  // a stop signal.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  from_start.signal(SIGTERM);
  resumed.signal(SIGINT);
  EXPECT_EQ(from_start.finish(deadline), 0) << from_start.stderr_text();
  EXPECT_EQ(resumed.finish(deadline), 0) << resumed.stderr_text();
  EXPECT_EQ(from_start.rest_of_stdout(), "");
  EXPECT_EQ(resumed.rest_of_stdout(), "");
}

TEST(CliTail, followWaitsForAppendsAfterTheWriterFinishedAndResumesAcrossWriters) {
  // A follower started on an idle store picks up a later writer process's appends (a new
  // writer continues the sequence, INV-1).
  TempDir dir;
  write_session(dir.path(), "s1", 10);
  Child follower({SESSIONRING_CLI, "tail", "--store", dir.str(), "--session", "s1", "--follow", "--format", "jsonl",
                  "--from", "5"});
  const auto deadline = Clock::now() + std::chrono::minutes(2);
  expect_contiguous(follower, 5, 10, deadline);
  Child helper({SESSIONRING_CLI_HELPER, dir.str(), "s1", "50", "0", "0"});
  expect_contiguous(follower, 11, 60, deadline);
  EXPECT_EQ(helper.finish(deadline), 0) << helper.stderr_text();
  follower.signal(SIGTERM);
  EXPECT_EQ(follower.finish(deadline), 0) << follower.stderr_text();
}

// ---------------------------------------------------------------------------------------------
// sessions

TEST(CliSessions, listsEachSessionWithLatestSequenceCountSizeAndSegments) {
  TempDir dir;
  write_session(dir.path(), "alpha", 300, 4096);  // several segments
  write_session(dir.path(), "beta", 7);
  auto r = cli({"sessions", "--store", dir.str(), "--format", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_jsonl(r.out);
  ASSERT_EQ(rows.size(), 2u);
  LogStoreOptions lo;
  lo.root = dir.path();
  auto store = LogStore::open(lo);
  ASSERT_TRUE(store);
  for (const auto& row : rows) {
    const std::string id = row.at("session_id").get<std::string>();
    auto info = (*store)->info(id);
    ASSERT_TRUE(info) << info.error();
    EXPECT_EQ(row.at("latest_seq").get<std::uint64_t>(), info->latest_sequence);
    EXPECT_EQ(row.at("event_count").get<std::uint64_t>(), info->event_count);
    EXPECT_EQ(row.at("bytes").get<std::uint64_t>(), info->bytes);
    EXPECT_EQ(row.at("segment_count").get<std::uint32_t>(), info->segment_count);
  }
  EXPECT_EQ(rows[0].at("session_id"), "alpha");
  EXPECT_EQ(rows[0].at("latest_seq"), 300);
  EXPECT_GT(rows[0].at("segment_count").get<std::uint32_t>(), 1u);
  EXPECT_EQ(rows[1].at("session_id"), "beta");
  EXPECT_EQ(rows[1].at("event_count"), 7);

  auto text = cli({"sessions", "--store", dir.str()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  const auto lines = text.lines();
  ASSERT_EQ(lines.size(), 3u);  // header + 2 sessions
  EXPECT_THAT(lines[0], ::testing::MatchesRegex("session +first_seq +latest_seq +events +size +segments +writer +first_time +last_time"));
  EXPECT_THAT(lines[1], ::testing::StartsWith("alpha"));
  EXPECT_THAT(lines[2], ::testing::MatchesRegex("beta +1 +7 +7 +[0-9.]+ k?B +1 +- +20[0-9-]+T[0-9:]+Z +20[0-9-]+T[0-9:]+Z"));  // first_seq 1: a LogStore never prunes

  TempDir empty;
  LogStoreOptions fresh;
  fresh.root = empty.path();
  ASSERT_TRUE(LogStore::open(fresh));  // a store with no session yet
  auto none = cli({"sessions", "--store", empty.str()});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_THAT(none.out, HasSubstr("no sessions"));
}

// ---------------------------------------------------------------------------------------------
// verify

/// The segment files of a session, sorted by name (= by first sequence).
std::vector<fs::path> segments_of(const fs::path& session_dir) {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(session_dir))
    if (e.path().extension() == ".seg") v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

TEST(CliVerify, cleanStoreExitsZeroAndCountsEveryEvent) {
  TempDir dir;
  write_session(dir.path(), "a", 120, 4096);
  write_session(dir.path(), "b", 3);
  auto r = cli({"verify", "--store", dir.str()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("a: ok: 120 events (seq 1..120)"));
  EXPECT_THAT(r.out, HasSubstr("b: ok: 3 events"));
  EXPECT_THAT(r.out, HasSubstr("verified 2 sessions: 2 ok, 0 damaged"));

  auto one = cli({"verify", "--store", dir.str(), "--session", "a", "--format", "jsonl"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto rows = parse_jsonl(one.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("ok"), true);
  EXPECT_EQ(rows[0].at("latest_seq"), 120);
}

TEST(CliVerify, damagedRecordExitsThreeNamingFileAndOffset) {
  TempDir dir;
  write_session(dir.path(), "bad", 200, 4096);
  write_session(dir.path(), "good", 5);
  const auto segs = segments_of(dir.path() / "bad");
  ASSERT_GE(segs.size(), 3u);
  // Flip one byte inside a record of the first segment (not the last: always damage).
  {
    std::fstream f(segs[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(1000);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(1000);
    f.write(&c, 1);
  }
  auto r = cli({"verify", "--store", dir.str()});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("bad: DAMAGED: " + segs[0].string() + " offset "));
  EXPECT_THAT(r.err, HasSubstr(segs[0].string() + " offset "));
  EXPECT_THAT(r.out, HasSubstr("good: ok"));
  EXPECT_THAT(r.out, HasSubstr("1 ok, 1 damaged"));

  auto j = cli({"verify", "--store", dir.str(), "--session", "bad", "--format", "jsonl"});
  EXPECT_EQ(j.exit_code, 3);
  const auto rows = parse_jsonl(j.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("ok"), false);
  EXPECT_EQ(rows[0].at("file"), segs[0].string());
  EXPECT_LE(rows[0].at("offset").get<std::uint64_t>(), 1000u);

  // The other store commands meet the same damage with exit 3 too.
  auto tail = cli({"tail", "--store", dir.str(), "--session", "bad"});
  EXPECT_EQ(tail.exit_code, 3) << tail.err;
  EXPECT_THAT(tail.err, HasSubstr("damaged_store"));
}

TEST(CliVerify, tornTailIsReportedButIsNotDamage) {
  TempDir dir;
  write_session(dir.path(), "s", 10);
  const auto segs = segments_of(dir.path() / "s");
  ASSERT_EQ(segs.size(), 1u);
  const auto size = fs::file_size(segs[0]);
  {
    std::ofstream f(segs[0], std::ios::binary | std::ios::app);
    f << std::string(17, '\x7f');  // a crash in the middle of an append
  }
  auto r = cli({"verify", "--store", dir.str(), "--session", "s"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("s: ok: 10 events"));
  EXPECT_THAT(r.out, HasSubstr("torn tail: 17 bytes at " + segs[0].string() + " offset " + std::to_string(size)));
}

// ---------------------------------------------------------------------------------------------
// usage, help, runtime failures

TEST(CliUsage, badUsageExitsTwoWithAMessage) {
  TempDir dir;
  write_session(dir.path(), "s1", 3);
  const std::string store = dir.str();
  const std::vector<std::vector<std::string>> cases = {
      {},                                                                   // no subcommand
      {"nonsense"},                                                         // unknown subcommand
      {"tail", "--store", "memory", "--session", "s1"},                     // nothing to read in a MemoryStore
      {"tail", "--store", store},                                           // --session missing
      {"tail", "--store", store, "--session", "s1", "--bogus"},             // unknown option
      {"tail", "--store", store, "--session", "s1", "--type", "run_start"}, // unknown type
      {"tail", "--store", store, "--session", "../etc"},                    // invalid session id
      {"tail", "--store", store, "--session", "s1", "--format", "xml"},     // unknown format
      {"tail", "--store", store, "--session", "s1", "--from", "0"},         // sequences start at 1
      {"tail", "--store", store, "--session", "s1", "--from", "x"},         // not a number
      {"sessions", "--store", "log:"},                                      // no directory
      {"verify", "--store", store, "--session", ""},                        // invalid session id
  };
  for (const auto& args : cases) {
    auto r = cli(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, 2) << shown << "\n" << r.out << r.err;
    EXPECT_FALSE(r.err.empty()) << shown;
  }
}

TEST(CliUsage, everySubcommandHasHelpNamingItsExitCodes) {
  auto top = cli({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  for (const char* sub :
       {"demo", "bench", "tune", "tail", "sessions", "cursors", "verify", "stat", "help", "completion"}) {
    EXPECT_THAT(top.out, HasSubstr(sub));
    auto r = cli({sub, "--help"});
    EXPECT_EQ(r.exit_code, 0) << sub << r.err;
    EXPECT_THAT(r.out, HasSubstr("Usage")) << sub;
  }
  for (const char* sub : {"tail", "sessions", "cursors", "verify", "stat"}) {
    auto r = cli({sub, "--help"});
    EXPECT_THAT(r.out, HasSubstr("Exit codes: 0 ok, 1 runtime failure, 2 bad usage, 3 damaged store")) << sub;
  }
}

TEST(CliUsage, versionHelpSubcommandAndDidYouMean) {
  auto v = cli({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_THAT(v.out, ::testing::StartsWith("sessionring 0."));
  auto h = cli({"help", "tail"});
  EXPECT_EQ(h.exit_code, 0) << h.err;
  EXPECT_EQ(h.out, cli({"tail", "--help"}).out);
  auto top = cli({"help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_THAT(top.out, HasSubstr("sessions"));
  auto typo = cli({"tial", "--session", "s"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_THAT(typo.err, HasSubstr("did you mean 'tail'?"));
  auto flag = cli({"tail", "--session", "s", "--folow"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_THAT(flag.err, HasSubstr("did you mean '--follow'?"));
  auto help_typo = cli({"help", "sesions"});
  EXPECT_EQ(help_typo.exit_code, 2);
  EXPECT_THAT(help_typo.err, HasSubstr("did you mean 'sessions'?"));
  auto far = cli({"xyzzy"});
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_THAT(far.err, ::testing::Not(HasSubstr("did you mean")));
}

// The bash completion script, sourced in bash: subcommands, a subcommand's options, the formats.
TEST(CliUsage, bashCompletionCompletesSubcommandsOptionsAndValues) {
  TempDir dir;
  auto script = cli({"completion", "bash"});
  ASSERT_EQ(script.exit_code, 0) << script.err;
  const fs::path file = dir.path() / "completion.bash";
  std::ofstream(file) << script.out;
  auto complete = [&](const std::string& words, int cword) {
    const std::string cmd = "source " + file.string() + "; COMP_WORDS=(" + words + "); COMP_CWORD=" +
                            std::to_string(cword) + "; _sessionring; echo \"${COMPREPLY[*]}\"";
    Child c({"/bin/bash", "-c", cmd});
    EXPECT_EQ(c.finish(Clock::now() + std::chrono::seconds(30)), 0) << c.stderr_text();
    return c.rest_of_stdout();
  };
  EXPECT_EQ(complete("sessionring t", 1), "tune tail\n");
  EXPECT_THAT(complete("sessionring tail --fo", 2), HasSubstr("--follow"));
  EXPECT_THAT(complete("sessionring tail --fo", 2), HasSubstr("--format"));
  EXPECT_EQ(complete("sessionring tail --format j", 3), "jsonl\n");
  EXPECT_EQ(complete("sessionring tail --type run_st", 3), "run_started\n");
}

TEST(CliErrors, missingStoreOrSessionExitsOneNamingIt) {
  TempDir dir;
  write_session(dir.path(), "s1", 3);
  const std::string missing = (dir.path() / "no-such-store").string();
  for (const char* sub : {"tail", "sessions", "verify"}) {
    std::vector<std::string> args = {sub, "--store", missing};
    if (std::string(sub) == "tail") args.insert(args.end(), {"--session", "s1"});
    auto r = cli(args);
    EXPECT_EQ(r.exit_code, 1) << sub << r.err;
    EXPECT_THAT(r.err, HasSubstr("no store at '" + missing + "'")) << sub;
    EXPECT_FALSE(fs::exists(missing)) << sub << " created the store root";
  }
  auto tail = cli({"tail", "--store", dir.str(), "--session", "nobody"});
  EXPECT_EQ(tail.exit_code, 1);
  EXPECT_THAT(tail.err, HasSubstr("not_found"));
  auto verify = cli({"verify", "--store", dir.str(), "--session", "nobody"});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_THAT(verify.err, HasSubstr("not_found"));
}

TEST(CliDemo, smallDemoRunsAndEveryReaderGetsItsEvents) {
  auto r = cli({"demo", "--events", "4000", "--producers", "2", "--ring-capacity", "64", "--store", "memory"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("every subscriber received exactly its events, in order"));
}

// --store sqlite:PATH: the demo writes a SqliteStore, and sessions, verify and tail read it
// (read-only); a missing database file is not_found (exit 1), never created.
TEST(CliSqlite, demoWritesAndSessionsVerifyTailReadASqliteStore) {
  TempDir dir;
  const std::string store = "sqlite:" + (dir.path() / "s.db").string();
  auto demo = cli({"demo", "--events", "2000", "--producers", "2", "--session", "d1", "--store", store});
  ASSERT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  auto sessions = cli({"sessions", "--store", store, "--format", "jsonl"});
  ASSERT_EQ(sessions.exit_code, 0) << sessions.err;
  const auto row = nlohmann::json::parse(sessions.out);
  EXPECT_EQ(row.at("session_id"), "d1");
  EXPECT_EQ(row.at("first_seq"), 1);
  const auto latest = row.at("latest_seq").get<std::uint64_t>();
  EXPECT_GE(latest, 2000u);
  EXPECT_EQ(row.at("event_count").get<std::uint64_t>(), latest);
  auto verify = cli({"verify", "--store", store});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("verified 1 session: 1 ok, 0 damaged"));
  auto tail = cli({"tail", "--store", store, "--session", "d1", "--from", std::to_string(latest), "--format", "jsonl"});
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_EQ(nlohmann::json::parse(tail.out).at("seq").get<std::uint64_t>(), latest);
  const std::string missing = "sqlite:" + (dir.path() / "missing.db").string();
  auto none = cli({"sessions", "--store", missing});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_THAT(none.err, HasSubstr("not_found"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "missing.db"));
}

// A bench JSON report in which every subscriber received every event exactly once, in order.
void expect_every_event_once(const nlohmann::json& j) {
  EXPECT_EQ(j.at("errors").get<std::uint64_t>(), 0u);
  EXPECT_EQ(j.at("lost").get<std::uint64_t>(), 0u);
  EXPECT_EQ(j.at("duplicates").get<std::uint64_t>(), 0u);
}

TEST(CliBench, jsonCountsEveryEventDeliveredOnceUnderPeerFieldNames) {
  auto r = cli({"bench", "--events", "20000", "--ring-capacity", "16", "--warmup", "0", "--json", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("events").get<std::uint64_t>(), 20000u);
  expect_every_event_once(j);
  for (const char* f : {"events_per_sec", "p50_ns", "p99_ns", "p999_ns", "max_ns", "rss_start_kb", "rss_end_kb"})
    EXPECT_GT(j.at(f).get<std::uint64_t>(), 0u) << f;
  // --format json is the same output (every subcommand takes --format).
  auto f = cli({"bench", "--events", "2000", "--ring-capacity", "16", "--warmup", "0", "--format", "json", "--no-progress"});
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(nlohmann::json::parse(f.out).at("events").get<std::uint64_t>(), 2000u);
}

// --retain-events: the memory store prunes whole chunks behind the subscribers and reuses them
// (issue 14's "a store that reuses memory"). Paced so the subscribers stay far inside the
// retained window even under a sanitizer, on a 16-slot ring so they lap and read the store.
TEST(CliBench, retainedMemoryStorePrunesBehindSubscribersAndDeliversEveryEventOnce) {
  // 400,000 events of ~150 bytes fill 7 arena chunks of 8 MiB; 150,000 (1.5 s) are kept.
  auto r = cli({"bench", "--events", "400000", "--warmup", "0", "--rate", "100000", "--ring-capacity", "16",
                "--retain-events", "150000", "--json", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  expect_every_event_once(j);
  EXPECT_EQ(j.at("retain_events").get<std::uint64_t>(), 150000u);
  EXPECT_GT(j.at("first_available").get<std::uint64_t>(), 1u);  // whole chunks went
  EXPECT_GT(j.at("store_fallbacks").get<std::uint64_t>(), 0u);  // and the store was read under pruning
  // Without retention every event stays: the first available sequence is 1.
  auto keep = cli({"bench", "--events", "2000", "--warmup", "0", "--json", "--no-progress"});
  ASSERT_EQ(keep.exit_code, 0) << keep.err;
  EXPECT_EQ(nlohmann::json::parse(keep.out).at("first_available").get<std::uint64_t>(), 1u);
}

// The soak (issue 7): with --duration, subscribers join, lag, leave and resume from their cursor
// on a ring of 16 slots (so every lag laps them and they read the store) while two producers
// emit at a steady rate. Nothing may be lost or delivered twice.
TEST(CliBench, soakChurningSubscribersResumeWithoutLossOrDuplicate) {
  auto r = cli({"bench", "--duration", SESSIONRING_TEST_FULL ? "20" : "3", "--rate", "20000", "--ring-capacity", "16",
                "--churn-subscribers", "3", "--json", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  expect_every_event_once(j);
  EXPECT_EQ(j.at("churn_subscribers").get<unsigned>(), 3u);
  EXPECT_GT(j.at("churn_joins").get<std::uint64_t>(), 3u);  // at least one resume
  EXPECT_GT(j.at("churn_received").get<std::uint64_t>(), 0u);
  EXPECT_GT(j.at("lapped").get<std::uint64_t>(), 0u);  // the lags really fell off the ring
  EXPECT_GT(j.at("rss_start_kb").get<std::uint64_t>(), 0u);
  EXPECT_GT(j.at("rss_end_kb").get<std::uint64_t>(), 0u);
}

TEST(CliBench, retainEventsWithTheMutexEngineIsUsageError) {
  auto r = cli({"bench", "--engine", "mutex", "--retain-events", "1000", "--events", "10"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("--retain-events"));
}

TEST(CliBench, retainEventsAbove2To62IsUsageError) {
  auto r = cli({"bench", "--retain-events", "4611686018427387905", "--events", "10"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("--retain-events must be at most 2^62"));
}

TEST(CliBench, outOfRangeChurnSubscribersIsUsageError) {
  auto r = cli({"bench", "--churn-subscribers", "5000", "--events", "10"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("--churn-subscribers"));
}

TEST(CliBench, outOfRangeRtPriorityIsUsageError) {
  for (const char* p : {"0", "99", "-1"}) {
    auto r = cli({"bench", "--sessions", "2", "--rt-priority", p});
    EXPECT_EQ(r.exit_code, 2) << p << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("--rt-priority")) << p;
  }
}

// --rt-priority: the many-sessions bench on a pool whose threads the start hook made SCHED_FIFO
// (and the trickle's subscriber above them) still delivers every event once, in order. Where
// the process may not use SCHED_FIFO the bench says so and exits 1: skipped there.
TEST(CliBench, manySessionsOnARealTimePoolDeliverEveryEventOnce) {
  auto r = cli({"bench", "--sessions", "20", "--active", "2", "--rate", "1000", "--duration", "0.5",
                "--fairness-seconds", "1", "--rt-priority", "5", "--json"});
  if (r.exit_code == 1 && r.err.find("SCHED_FIFO") != std::string::npos) GTEST_SKIP() << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("errors").get<std::uint64_t>(), 0u);
  EXPECT_EQ(j.at("rt_priority").get<int>(), 5);
  EXPECT_GT(j.at("events").get<std::uint64_t>(), 0u);
  EXPECT_GT(j.at("trickle_events").get<std::uint64_t>(), 0u);
  EXPECT_GT(j.at("trickle_p99_ns").get<std::uint64_t>(), 0u);
}

// One paced session on a real-time pool with real-time subscribers: their waits park after the
// spin (design §8), and every event still arrives once, in order.
TEST(CliBench, pacedSessionWithRealTimePoolAndSubscribersDeliversEveryEventOnce) {
  auto r = cli({"bench", "--events", "20000", "--warmup", "0", "--rate", "50000", "--rt-priority", "5", "--json",
                "--no-progress"});
  if (r.exit_code == 1 && r.err.find("SCHED_FIFO") != std::string::npos) GTEST_SKIP() << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  expect_every_event_once(j);
  EXPECT_EQ(j.at("events").get<std::uint64_t>(), 20000u);
  EXPECT_EQ(j.at("rt_priority").get<int>(), 5);
}

TEST(CliBench, rtPriorityWithTheMutexEngineIsUsageError) {
  auto r = cli({"bench", "--engine", "mutex", "--rt-priority", "5", "--events", "10"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("--rt-priority"));
}

// `tune` measures every listed value (one CSV row per run), and recommends, for each knob, one
// of the values it measured, then measures that setting once more.
TEST(CliTune, sweepWritesEveryRunToCsvAndRecommendsAMeasuredValueOfEachKnob) {
  TempDir dir;
  auto r = cli({"tune", "--events", "20000", "--warmup", "0", "--repeat", "3", "--ring-capacities", "16,64",
                "--slot-bytes", "256", "--run-slots", "2", "--queues", "moodycamel,boost", "--waits", "block",
                "--latency-rate", "20000", "--latency-events", "2000", "--out", dir.str()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Settings: ring 16 (the base, also the queue group's moodycamel), ring 64, boost, and the
  // recommended one; 3 runs each.
  std::ifstream csv(dir.path() / "tune.csv");
  ASSERT_TRUE(csv.good());
  std::size_t rows = 0;
  for (std::string line; std::getline(csv, line);) rows += line.empty() ? 0 : 1;
  EXPECT_GE(rows, 1u + 3u * 3u);
  EXPECT_THAT(r.out, HasSubstr("| ring_capacity | 16 |"));
  EXPECT_THAT(r.out, HasSubstr("| ring_capacity | 64 |"));
  EXPECT_THAT(r.out, HasSubstr("| queue | boost |"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("- ring_capacity = (16|64)"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("- queue = (moodycamel|boost)"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("Recommended: ring (16|64) x 256 B, run slots 2, queue (moodycamel|boost), wait block"));
  EXPECT_THAT(r.out, HasSubstr("whose lowest p99 (paced) over the repeats is within 1.50x of the best median p99"));
  EXPECT_THAT(r.out, HasSubstr("Combined: "));
  EXPECT_THAT(r.out, HasSubstr("Run-to-run spread of the base setting: "));
}

// With too few repeats the spread of a setting is unknown: tune prints what it measured and
// refuses to recommend (issue 17, defect 12).
TEST(CliTune, fewerThanThreeRepeatsGiveNoRecommendationAndSayWhy) {
  TempDir dir;
  auto r = cli({"tune", "--events", "20000", "--warmup", "0", "--repeat", "1", "--ring-capacities", "16,64",
                "--slot-bytes", "256", "--run-slots", "2", "--queues", "moodycamel", "--waits", "block,yield",
                "--latency-rate", "0", "--out", dir.str()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("| ring_capacity | 64 |"));
  EXPECT_THAT(r.out, HasSubstr("No recommendation: 1 run per setting cannot separate the settings"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("Recommended:")));
}

// --quick: the small sweep; it recommends, and warns about a busy-waiting strategy when it
// recommends one. --help shows every default.
TEST(CliTune, quickModeRecommendsFromThreeRepeatsAndHelpShowsDefaults) {
  TempDir dir;
  auto r = cli({"tune", "--quick", "--warmup", "0", "--out", dir.str()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Recommended: "));
  EXPECT_THAT(r.out, HasSubstr("| wait | yield |"));
  // The note goes with the recommended setting (not with a combination that lost to the base).
  const auto rec = r.out.find("Recommended: ");
  const std::string recommended = rec == std::string::npos ? "" : r.out.substr(rec, r.out.find('\n', rec) - rec);
  if (recommended.find("wait yield") != std::string::npos) {
    EXPECT_THAT(r.out, HasSubstr("keeps one core busy per idle waiting thread"));
  }
  auto help = cli({"tune", "--help"});
  EXPECT_THAT(help.out, ::testing::ContainsRegex("--repeat [^\n]*=3"));  // CLI11 shows a default as =VALUE
  EXPECT_THAT(help.out, HasSubstr("--out TEXT=tune-out"));
  auto bench_help = cli({"bench", "--help"});
  EXPECT_THAT(bench_help.out, ::testing::ContainsRegex("--events [^\n]*=5000000"));
  EXPECT_THAT(cli({"demo", "--help"}).out, ::testing::ContainsRegex("--producers[^\n]*=4"));
}

}  // namespace
}  // namespace sessionring
