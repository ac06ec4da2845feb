// SqliteStore (engine/sqlite_*.cpp) beyond the conformance suite (store_conformance_test):
// options, the public schema read with plain SQL, schema versions, writers across store
// instances, read handles following another instance's writer, ids unique per session, and
// rows removed behind the store's back (docs/store.md "SqliteStore").
#include "log_test_util.hpp"

#include <sessionring/sqlite_store.hpp>

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <thread>

using namespace sessionring;
using namespace sessionring::test;

namespace {

SqliteStoreOptions options_at(const TempDir& dir) {
  SqliteStoreOptions o;
  o.path = dir.path() / "s.db";
  return o;
}

std::shared_ptr<SqliteStore> open_store(SqliteStoreOptions o) {
  auto s = SqliteStore::open(std::move(o));
  EXPECT_TRUE(s.ok()) << s.error();
  return s.ok() ? *s : nullptr;
}

/// Runs `sql` on its own connection (as the sqlite3 shell would); returns the rows, one
/// "col|col|..." string each, or "error: ..." as the only row.
std::vector<std::string> sql_rows(const std::filesystem::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::vector<std::string> rows;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
    rows.push_back(std::string("error: ") + sqlite3_errmsg(db));
    sqlite3_close(db);
    return rows;
  }
  char* err = nullptr;
  auto cb = [](void* out, int n, char** vals, char**) {
    std::string row;
    for (int i = 0; i < n; ++i) row += (i ? "|" : "") + std::string(vals[i] ? vals[i] : "NULL");
    static_cast<std::vector<std::string>*>(out)->push_back(row);
    return 0;
  };
  if (sqlite3_exec(db, sql.c_str(), cb, &rows, &err) != SQLITE_OK) {
    rows.assign(1, std::string("error: ") + (err ? err : "?"));
    sqlite3_free(err);
  }
  sqlite3_close(db);
  return rows;
}

}  // namespace

TEST(SqliteStore, openValidatesOptionsNamingTheOptionAndCreatesNothing) {
  TempDir dir;
  auto expect_refused = [&](SqliteStoreOptions o, std::string_view name) {
    auto s = SqliteStore::open(o);
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_EQ(s.code(), Errc::validation_error);
    EXPECT_NE(s.error().message().find(name), std::string::npos) << s.error();
  };
  expect_refused(SqliteStoreOptions{}, "path");
  auto o = options_at(dir);
  o.busy_timeout = std::chrono::milliseconds(0);
  expect_refused(o, "busy_timeout");
  o = options_at(dir);
  o.poll_interval = std::chrono::minutes(2);
  expect_refused(o, "poll_interval");
  o = options_at(dir);
  o.durability = static_cast<Durability>(9);
  expect_refused(o, "durability");
  o = options_at(dir);
  o.retention.max_age = std::chrono::seconds(-1);
  expect_refused(o, "retention.max_age");
  o = options_at(dir);
  o.retention.prune_unit = 0;
  expect_refused(o, "retention.prune_unit");
  o = options_at(dir);
  o.retention.max_events = (std::uint64_t{1} << 62) + 1;
  expect_refused(o, "retention.max_events");
  o = options_at(dir);
  o.session_retention["a/b"] = RetentionPolicy{};
  expect_refused(o, "session_retention");
  o = options_at(dir);
  o.session_retention["ok"].prune_unit = (1u << 24) + 1;
  expect_refused(o, "session_retention['ok'].prune_unit");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "s.db"));
}

TEST(SqliteStore, eventsAreReadableWithPlainSqlThroughThePublicSchema) {
  TempDir dir;
  auto store = open_store(options_at(dir));
  ASSERT_NE(store, nullptr);
  auto w = store->open("s1", OpenMode::write);
  ASSERT_TRUE(w.ok()) << w.error();
  append_range(**w, 1, 3);
  const auto path = dir.path() / "s.db";
  EXPECT_EQ(sql_rows(path, "PRAGMA user_version"), std::vector<std::string>{"1"});
  EXPECT_EQ(sql_rows(path, "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  std::vector<std::string> want;
  for (Sequence s = 1; s <= 3; ++s) {
    const Event e = test_event(s);
    want.push_back("s1|" + std::to_string(s) + "|" + e.id + "|" + std::string(to_string(e.type)) + "|" + e.run_id +
                   "|" + e.data);
  }
  EXPECT_EQ(sql_rows(path, "SELECT session_id, sequence, id, type, run_id, data FROM events_named ORDER BY sequence"),
            want);
  EXPECT_EQ(sql_rows(path, "SELECT session_id FROM sessions"), std::vector<std::string>{"s1"});
  EXPECT_EQ(sql_rows(path, "SELECT count(*) FROM cursors"), std::vector<std::string>{"0"});
}

TEST(SqliteStore, aDatabaseOfAnotherSchemaVersionOrAForeignDatabaseIsStorageErrorAndUntouched) {
  TempDir dir;
  const auto path = dir.path() / "s.db";
  ASSERT_TRUE(sql_rows(path, "CREATE TABLE mine (x); PRAGMA user_version = 0").empty());
  auto o = options_at(dir);
  auto s = SqliteStore::open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Errc::storage_error);
  EXPECT_NE(s.error().message().find("not a sessionring database"), std::string::npos) << s.error();
  EXPECT_EQ(sql_rows(path, "SELECT name FROM sqlite_schema"), std::vector<std::string>{"mine"});

  TempDir dir2;
  ASSERT_NE(open_store(options_at(dir2)), nullptr);
  ASSERT_TRUE(sql_rows(dir2.path() / "s.db", "PRAGMA user_version = 7").empty());
  auto s2 = SqliteStore::open(options_at(dir2));
  ASSERT_FALSE(s2.ok());
  EXPECT_EQ(s2.code(), Errc::storage_error);
  EXPECT_NE(s2.error().message().find("schema version 7"), std::string::npos) << s2.error();
}

TEST(SqliteStore, readOnlyStoreOfAMissingFileIsNotFoundAndRefusesWriters) {
  TempDir dir;
  auto o = options_at(dir);
  o.read_only = true;
  auto missing = SqliteStore::open(o);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.code(), Errc::not_found);
  EXPECT_FALSE(std::filesystem::exists(o.path));
  ASSERT_NE(open_store(options_at(dir)), nullptr);
  auto ro = open_store(o);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(ro->open("s1", OpenMode::write).code(), Errc::validation_error);
}

TEST(SqliteStore, secondWriterThroughAnotherStoreInstanceIsWriterConflict) {
  TempDir dir;
  auto a = open_store(options_at(dir));
  auto b = open_store(options_at(dir));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto w = a->open("s1", OpenMode::write);
  ASSERT_TRUE(w.ok()) << w.error();
  auto second = b->open("s1", OpenMode::write);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.code(), Errc::writer_conflict);
  w->reset();
  EXPECT_TRUE(b->open("s1", OpenMode::write).ok());
}

// A read handle with no writer in its store instance (another process, `sessionring tail`)
// polls the database: it sees each committed batch and wait_for wakes for it.
TEST(SqliteStore, readHandleOfAnotherInstanceFollowsTheWriter) {
  TempDir dir;
  auto writer_store = open_store(options_at(dir));
  auto reader_store = open_store(options_at(dir));
  ASSERT_NE(writer_store, nullptr);
  ASSERT_NE(reader_store, nullptr);
  auto w = writer_store->open("s1", OpenMode::write);
  ASSERT_TRUE(w.ok()) << w.error();
  append_range(**w, 1, 5);
  auto r = reader_store->open("s1", OpenMode::read);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)->latest_sequence(), 5u);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    append_range(**w, 6, 5);
  });
  auto got = (*r)->wait_for(5, std::chrono::steady_clock::now() + std::chrono::seconds(20));
  t.join();
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_GT(*got, 5u);
  auto all = (*r)->wait_for(9, std::chrono::steady_clock::now() + std::chrono::seconds(20));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, 10u);
  expect_events_1_to_n(**r, 10);
}

// Ids are unique per session (the schema's events_by_id index): a batch repeating a stored id
// is validation_error naming it, and none of the batch is stored.
TEST(SqliteStore, batchRepeatingAStoredIdIsValidationErrorAndStoresNothingOfTheBatch) {
  TempDir dir;
  auto store = open_store(options_at(dir));
  ASSERT_NE(store, nullptr);
  auto w = store->open("s1", OpenMode::write);
  ASSERT_TRUE(w.ok());
  append_range(**w, 1, 3);
  std::vector<Event> events{test_event(4), test_event(5)};
  events[1].id = "evt-2";
  TestBatch b(std::move(events));
  Status st = (*w)->append(b.batch());
  ASSERT_EQ(st.code(), Errc::validation_error);
  EXPECT_NE(st.error().message().find("evt-2"), std::string::npos) << st.error();
  EXPECT_EQ((*w)->written_sequence(), 3u);
  expect_events_1_to_n(**w, 3);
  append_range(**w, 4, 2);
  expect_events_1_to_n(**w, 5);
}

// Rows deleted behind the store's back leave a gap: a read reports it (damaged_store naming
// the missing sequence) after the events before it, never a silent skip.
TEST(SqliteStore, rowsRemovedBehindTheStoresBackAreDamagedStoreNamingTheMissingSequence) {
  TempDir dir;
  auto store = open_store(options_at(dir));
  ASSERT_NE(store, nullptr);
  auto w = store->open("s1", OpenMode::write);
  ASSERT_TRUE(w.ok());
  append_range(**w, 1, 10);
  ASSERT_TRUE(sql_rows(dir.path() / "s.db", "DELETE FROM events WHERE sequence = 6").empty());
  std::vector<Sequence> seen;
  Status st = (*w)->read(EventQuery{}, [&](const EventView& v) {
    seen.push_back(v.sequence_number);
    return true;
  });
  ASSERT_EQ(st.code(), Errc::damaged_store);
  EXPECT_NE(st.error().message().find("sequence 6"), std::string::npos) << st.error();
  EXPECT_EQ(seen, (std::vector<Sequence>{1, 2, 3, 4, 5}));
}

// Per-session retention replaces the store-wide default for the sessions it names only.
TEST(SqliteStore, perSessionRetentionAppliesToItsSessionOnly) {
  TempDir dir;
  auto o = options_at(dir);
  o.session_retention["short"].max_events = 10;
  o.session_retention["short"].prune_unit = 10;
  auto store = open_store(o);
  ASSERT_NE(store, nullptr);
  auto a = store->open("short", OpenMode::write);
  auto b = store->open("long", OpenMode::write);
  ASSERT_TRUE(a.ok() && b.ok());
  append_range(**a, 1, 100);
  append_range(**b, 1, 100);
  EXPECT_GT((*a)->first_sequence(), 80u);
  EXPECT_EQ((*b)->first_sequence(), 1u);
  expect_events_1_to_n(**b, 100);
  auto info = store->info("short");
  ASSERT_TRUE(info.ok()) << info.error();
  EXPECT_EQ(info->first_sequence, (*a)->first_sequence());
  EXPECT_EQ(info->latest_sequence, 100u);
  EXPECT_EQ(info->event_count, 100u - info->first_sequence + 1);
}
