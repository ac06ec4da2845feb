// `sessionring cursors` (tools/cursors_command.cpp; docs/cli.md "cursors"): every durable
// cursor of a session with its position and lag, as a table or JSON lines; typed exit codes.
#include "cli_test_support.hpp"

#include <sessionring/log_store.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sessionring {
namespace {

using namespace cli_support;
using ::testing::HasSubstr;

void commit(const fs::path& root, const std::string& id, std::string_view name, Sequence position) {
  LogStoreOptions o;
  o.root = root;
  auto store = LogStore::open(o).value();
  auto log = store->open(id, OpenMode::write).value();
  ASSERT_TRUE(log->commit_cursor(name, position));
}

TEST(CliCursors, listsEveryCursorSortedByNameWithPositionAndLagBehindTheLatestEvent) {
  TempDir dir;
  write_session(dir.path(), "s", 10);
  commit(dir.path(), "s", "ui", 10);
  commit(dir.path(), "s", "indexer", 4);
  auto r = cli({"cursors", "--store", dir.path().string(), "s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = r.lines();
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_THAT(lines[0], HasSubstr("cursor"));
  EXPECT_THAT(lines[1], ::testing::MatchesRegex("indexer +4 +6"));
  EXPECT_THAT(lines[2], ::testing::MatchesRegex("ui +10 +0"));

  auto j = cli({"cursors", "--store", dir.path().string(), "--format", "jsonl", "s"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto jl = j.lines();
  ASSERT_EQ(jl.size(), 2u);
  auto first = nlohmann::json::parse(jl[0]);
  EXPECT_EQ(first["name"], "indexer");
  EXPECT_EQ(first["position"], 4);
  EXPECT_EQ(first["lag"], 6);
  EXPECT_EQ(first["session_id"], "s");
}

TEST(CliCursors, sessionWithoutCursorsSaysSoAndAMissingSessionIsNotFoundExitOne) {
  TempDir dir;
  write_session(dir.path(), "s", 3);
  auto r = cli({"cursors", "--store", dir.path().string(), "s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("no cursors in session 's'"));
  auto missing = cli({"cursors", "--store", dir.path().string(), "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("not_found"));
  auto bad = cli({"cursors", "--store", dir.path().string(), "a/b"});
  EXPECT_EQ(bad.exit_code, 2);
}

TEST(CliCursors, helpListsTheCursorsSubcommand) {
  auto r = cli({"--help"});
  EXPECT_THAT(r.out, HasSubstr("cursors"));
}

}  // namespace
}  // namespace sessionring
