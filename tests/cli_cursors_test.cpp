// `sessionring cursors` (tools/cursors_command.cpp; docs/cli.md "cursors"): every durable
// cursor of a session with its position and lag, as a table or JSON lines; deleting one
// (--delete NAME, through the session's writer handle); typed exit codes.
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

/// What the store answers for the cursor: Errc::ok when it holds it.
Errc stored_cursor_error(const fs::path& root, const std::string& id, std::string_view name) {
  LogStoreOptions o;
  o.root = root;
  o.read_only = true;
  auto log = LogStore::open(o).value()->open(id, OpenMode::read).value();
  auto r = log->read_cursor(name);
  return r ? Errc::ok : r.code();
}

TEST(CliCursors, deleteRemovesOnlyThatCursorDurablyAndPrintsItsLastPosition) {
  TempDir dir;
  write_session(dir.path(), "s", 10);
  commit(dir.path(), "s", "ui", 10);
  commit(dir.path(), "s", "indexer", 4);
  auto r = cli({"cursors", "--store", dir.path().string(), "s", "--delete", "indexer"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("deleted cursor 'indexer' of session 's' (it was at position 4)"));
  EXPECT_EQ(stored_cursor_error(dir.path(), "s", "indexer"), Errc::not_found) << "the store still has it";
  EXPECT_EQ(stored_cursor_error(dir.path(), "s", "ui"), Errc::ok) << "another cursor was deleted too";
  auto listed = cli({"cursors", "--store", dir.path().string(), "s"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  auto lines = listed.lines();
  ASSERT_EQ(lines.size(), 2u) << listed.out;
  EXPECT_THAT(lines[1], ::testing::MatchesRegex("ui +10 +0"));

  auto j = cli({"cursors", "--store", dir.path().string(), "--format", "jsonl", "--delete", "ui", "s"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  ASSERT_EQ(j.lines().size(), 1u) << j.out;
  auto obj = nlohmann::json::parse(j.lines()[0]);
  EXPECT_EQ(obj["session_id"], "s");
  EXPECT_EQ(obj["name"], "ui");
  EXPECT_EQ(obj["deleted"], true);
  EXPECT_EQ(obj["position"], 10);
  EXPECT_EQ(stored_cursor_error(dir.path(), "s", "ui"), Errc::not_found);
}

TEST(CliCursors, deletingAMissingCursorIsNotFoundExitOneABadNameExitTwoAndAMissingSessionIsNotCreated) {
  TempDir dir;
  write_session(dir.path(), "s", 3);
  commit(dir.path(), "s", "keep", 2);
  auto missing = cli({"cursors", "--store", dir.path().string(), "s", "--delete", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("not_found"));
  EXPECT_THAT(missing.err, HasSubstr("nope"));
  auto bad = cli({"cursors", "--store", dir.path().string(), "s", "--delete", "a/b"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("cursor name"));
  auto no_session = cli({"cursors", "--store", dir.path().string(), "other", "--delete", "keep"});
  EXPECT_EQ(no_session.exit_code, 1);
  EXPECT_THAT(no_session.err, HasSubstr("not_found"));
  EXPECT_FALSE(fs::exists(dir.path() / "other")) << "deleting a cursor created the session";
  EXPECT_EQ(stored_cursor_error(dir.path(), "s", "keep"), Errc::ok);
}

TEST(CliCursors, deleteWhileALiveWriterHoldsTheSessionIsWriterConflictExitOneAndKeepsTheCursor) {
  TempDir dir;
  write_session(dir.path(), "s", 5);
  commit(dir.path(), "s", "indexer", 3);
  {
    LogStoreOptions o;
    o.root = dir.path();
    auto store = LogStore::open(o).value();
    auto live = store->open("s", OpenMode::write).value();  // a live host writing the session
    auto r = cli({"cursors", "--store", dir.path().string(), "s", "--delete", "indexer"});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_THAT(r.err, HasSubstr("writer_conflict"));
    EXPECT_THAT(r.err, HasSubstr("needs the session's writer handle"));
    EXPECT_EQ(live->read_cursor("indexer").value(), 3u) << "the refused delete removed the cursor";
  }
  auto r = cli({"cursors", "--store", dir.path().string(), "s", "--delete", "indexer"});  // the host stopped
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(stored_cursor_error(dir.path(), "s", "indexer"), Errc::not_found);
}

TEST(CliCursors, helpListsTheCursorsSubcommand) {
  auto r = cli({"--help"});
  EXPECT_THAT(r.out, HasSubstr("cursors"));
  auto sub = cli({"cursors", "--help"});
  EXPECT_THAT(sub.out, HasSubstr("--delete"));
}

}  // namespace
}  // namespace sessionring
