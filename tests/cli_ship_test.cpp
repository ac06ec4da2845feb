// `sessionring ship` (tools/ship_command.cpp; docs/cli.md "ship"): copies every session of one
// store to another with the same sequences, continues where the destination ends, reports the
// lag as a table or JSON lines, leaves the source untouched, and answers bad input with the
// exit codes of docs/cli.md.
#include "cli_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sessionring {
namespace {

using namespace cli_support;
using ::testing::HasSubstr;

TEST(CliShip, onceCopiesEverySessionWithTheSameEventsAndReportsNoLag) {
  TempDir from, to;
  write_session(from.path(), "a", 40);
  write_session(from.path(), "b", 7);
  const auto before = cli({"tail", "--store", from.str(), "--session", "a", "--format", "jsonl"});
  ASSERT_EQ(before.exit_code, 0) << before.err;

  auto r = cli({"ship", "--from", from.str(), "--to", to.str(), "--once", "--format", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = parse_jsonl(r.out);
  ASSERT_EQ(report.size(), 2u) << r.out;
  EXPECT_EQ(report[0]["session_id"], "a");
  EXPECT_EQ(report[0]["shipped"], 40);
  EXPECT_EQ(report[0]["lag"], 0);
  EXPECT_TRUE(report[0]["error"].is_null());
  EXPECT_EQ(report[1]["session_id"], "b");
  EXPECT_EQ(report[1]["shipped"], 7);

  for (const char* id : {"a", "b"}) {
    const auto src = cli({"tail", "--store", from.str(), "--session", id, "--format", "jsonl"});
    const auto dst = cli({"tail", "--store", to.str(), "--session", id, "--format", "jsonl"});
    ASSERT_EQ(dst.exit_code, 0) << dst.err;
    EXPECT_EQ(dst.out, src.out) << id;
  }
  // The source is only read.
  EXPECT_EQ(cli({"tail", "--store", from.str(), "--session", "a", "--format", "jsonl"}).out, before.out);
}

TEST(CliShip, secondRunShipsOnlyWhatTheDestinationLacks) {
  TempDir from, to;
  write_session(from.path(), "a", 10);
  ASSERT_EQ(cli({"ship", "--from", from.str(), "--to", to.str(), "--once"}).exit_code, 0);
  write_log_session(from.path(), "a", 64ull << 20, [](Producer& p) {
    EventInput e;
    e.type = EventType::message_streamed;
    e.data = "later";
    ASSERT_TRUE(p.append_wait(e));
  });
  auto r = cli({"ship", "--from", from.str(), "--to", to.str(), "--once"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1 events shipped"));  // only the new one
  const auto dst = cli({"tail", "--store", to.str(), "--session", "a", "--format", "jsonl"});
  const auto lines = parse_jsonl(dst.out);
  ASSERT_EQ(lines.size(), 11u);
  EXPECT_EQ(lines.back()["seq"], 11);
}

TEST(CliShip, badInputGetsTheExitCodeOfDocsCli) {
  TempDir from, to;
  write_session(from.path(), "a", 3);
  EXPECT_EQ(cli({"ship", "--from", from.str()}).exit_code, 2);  // --to is required
  auto missing = cli({"ship", "--from", (from.path() / "nope").string(), "--to", to.str(), "--once"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("not_found"));
  EXPECT_EQ(cli({"ship", "--from", from.str(), "--to", to.str(), "--session", "bad id!"}).exit_code, 2);
  EXPECT_EQ(cli({"ship", "--from", from.str(), "--to", "memory", "--once"}).exit_code, 2);
  EXPECT_FALSE(fs::exists(to.path() / "a"));  // nothing shipped by a refused command
}

}  // namespace
}  // namespace sessionring
