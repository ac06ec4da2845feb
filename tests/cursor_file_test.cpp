// CursorFile: LogStore's `<session>/CURSORS` (engine/cursor_file.cpp; docs/store.md "Durable
// named cursors"): format version 1 round-trips, damage and newer formats are typed errors,
// and a crash's leftover temp file never shadows the committed table.
#include "log_test_util.hpp"

#include "detail/cursor_file.hpp"

#include <sessionring/log_store.hpp>

#include <gtest/gtest.h>

#include <fstream>

namespace sessionring::test {
namespace {

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
}

TEST(CursorFile, formatVersionOneRoundTripsNamesAndPositions) {
  detail::CursorTable::Map m{{"a", 0}, {"indexer", 123456789012ULL}, {"x:y.z-_", 7}};
  const std::string text = detail::CursorFile::encode(m);
  EXPECT_EQ(text.rfind("sessionring-cursors 1\n", 0), 0u) << text;
  auto back = detail::CursorFile::decode(text, "p");
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, m);
}

TEST(CursorFile, missingFileIsAnEmptyTable) {
  TempDir dir;
  detail::CursorFile f(dir.path().string(), false, nullptr);
  auto m = f.load();
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_TRUE(m->empty());
}

TEST(CursorFile, alteredByteOrTruncatedFileIsDamagedStoreNamingTheFile) {
  TempDir dir;
  std::string text = detail::CursorFile::encode({{"a", 5}, {"b", 6}});
  std::string altered = text;
  altered[text.find("5 a")] = '9';
  for (const std::string& bad : {altered, text.substr(0, text.size() - 3), text.substr(0, text.find("end"))}) {
    write_text(dir.path() / "CURSORS", bad);
    auto m = detail::CursorFile(dir.path().string(), false, nullptr).load();
    ASSERT_EQ(m.code(), Errc::damaged_store) << bad;
    EXPECT_NE(m.error().message().find("CURSORS"), std::string::npos) << m.error();
  }
}

TEST(CursorFile, newerFormatVersionIsUnsupportedFormat) {
  TempDir dir;
  write_text(dir.path() / "CURSORS", "sessionring-cursors 2\nwhatever\n");
  EXPECT_EQ(detail::CursorFile(dir.path().string(), false, nullptr).load().code(), Errc::unsupported_format);
}

TEST(CursorFile, leftoverTempFileOfACrashedWriteNeverShadowsTheCommittedTable) {
  TempDir dir;
  detail::CursorFile f(dir.path().string(), true, nullptr);
  ASSERT_TRUE(f.put("c", 4));
  write_text(dir.path() / "CURSORS.tmp", "sessionring-cursors 1\n9 c\n");  // a write cut before its rename
  detail::CursorFile reopened(dir.path().string(), true, nullptr);
  EXPECT_EQ(reopened.load().value().at("c"), 4u);
  ASSERT_TRUE(reopened.put("d", 1));  // the next write replaces the leftover
  auto m = reopened.load();
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->at("c"), 4u);
  EXPECT_EQ(m->at("d"), 1u);
}

TEST(CursorFile, logStoreWriterOpenWithADamagedCursorFileStillAppendsButCursorCallsAreDamagedStore) {
  TempDir dir;
  LogStoreOptions o;
  o.root = dir.path();
  auto store = LogStore::open(o).value();
  auto log = store->open("s", OpenMode::write).value();
  append_range(*log, 1, 3);
  write_text(dir.path() / "s" / "CURSORS", "sessionring-cursors 1\n1 a\nend 1 0000000000000000\n");
  EXPECT_EQ(log->list_cursors().code(), Errc::damaged_store);
  EXPECT_EQ(log->commit_cursor("a", 2).code(), Errc::damaged_store);
  append_range(*log, 4, 1);
  EXPECT_GE(log->written_sequence(), 4u);
}

}  // namespace
}  // namespace sessionring::test
