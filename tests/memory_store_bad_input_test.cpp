// Bad input of MemoryStore and its SessionLog (engine/memory_store.cpp), docs/errors.md
// "Bad-input table". Each test stores known events first (every field set: test_event), makes
// the bad call, checks the exact Errc and that the message names what was wrong, then that
// nothing stored was lost or altered and that the writer still appends.
#include "log_test_util.hpp"
#include "store_snapshot.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <string>
#include <vector>

using namespace sessionring;
using namespace sessionring::test;
using namespace std::chrono_literals;

namespace {

constexpr Sequence kSeeded = 5;

struct Seeded {
  std::shared_ptr<MemoryStore> store = MemoryStore::create();
  std::shared_ptr<SessionLog> writer;
  StoreSnapshot before;

  Seeded() {
    writer = store->open("s1", OpenMode::write).value();
    append_range(*writer, 1, kSeeded, 2);
    before = take_snapshot(*writer);
    EXPECT_EQ(before.events.size(), kSeeded);
  }

  /// Nothing changed, and the writer continues at the next sequence.
  void expect_intact_and_appends() {
    EXPECT_TRUE(same_contents(before, take_snapshot(*store, "s1")));
    auto next = make_batch(kSeeded + 1, 2);
    ASSERT_TRUE(writer->append(next.batch()).ok());
    expect_events_1_to_n(*writer, kSeeded + 2);
  }
};

}  // namespace

TEST(MemoryStoreBadInput, openWithAnInvalidIdIsInvalidSessionIdInBothModesAndCreatesNoSession) {
  Seeded s;
  for (std::string bad : {std::string(), std::string(".."), std::string("../s1"), std::string("s1/"),
                          std::string("s 1"), std::string(kMaxSessionIdBytes + 1, 's'), std::string("s\n1")}) {
    for (OpenMode mode : {OpenMode::read, OpenMode::write}) {
      SCOPED_TRACE("'" + bad + "' " + (mode == OpenMode::read ? "read" : "write"));
      auto log = s.store->open(bad, mode);
      ASSERT_FALSE(log.ok());
      EXPECT_EQ(log.code(), Errc::invalid_session_id);
      EXPECT_TRUE(names(log.error(), {"session id"}));
    }
  }
  EXPECT_EQ(s.store->list_sessions().value(), std::vector<std::string>{"s1"});
  s.expect_intact_and_appends();
}

TEST(MemoryStoreBadInput, openReadOfAMissingSessionIsNotFoundAndCreatesNothing) {
  Seeded s;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto log = s.store->open("missing", OpenMode::read);
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.code(), Errc::not_found);
    EXPECT_TRUE(names(log.error(), {"no session 'missing'"}));
  }
  EXPECT_EQ(s.store->list_sessions().value(), std::vector<std::string>{"s1"});
  s.expect_intact_and_appends();
}

TEST(MemoryStoreBadInput, secondWriterHandleIsWriterConflictUntilTheFirstIsReleased) {
  Seeded s;
  auto reader = s.store->open("s1", OpenMode::read);
  ASSERT_TRUE(reader.ok());
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto second = s.store->open("s1", OpenMode::write);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.code(), Errc::writer_conflict);
    EXPECT_TRUE(names(second.error(), {"'s1' already has a writer"}));
  }
  s.expect_intact_and_appends();
  s.writer.reset();  // releases the writer role (a read handle does not hold it)
  auto again = s.store->open("s1", OpenMode::write);
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ((*again)->latest_sequence(), kSeeded + 2);
}

TEST(MemoryStoreBadInput, appendOnAReadHandleIsValidationErrorAndStoresNothing) {
  Seeded s;
  auto reader = s.store->open("s1", OpenMode::read).value();
  auto b = make_batch(kSeeded + 1, 3);
  Status st = reader->append(b.batch());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::validation_error);
  EXPECT_TRUE(names(st.error(), {"'s1'", "read-only", "OpenMode::write"}));
  EXPECT_EQ(reader->latest_sequence(), kSeeded);
  s.expect_intact_and_appends();
}

TEST(MemoryStoreBadInput, appendNotContinuingTheLatestSequenceIsSequenceConflictAndStoresNothing) {
  Seeded s;
  for (Sequence first : {Sequence{0}, Sequence{1}, kSeeded - 1, kSeeded, kSeeded + 2, kSeeded + 100,
                         std::numeric_limits<Sequence>::max() - 1}) {
    SCOPED_TRACE(first);
    auto b = make_batch(first, 2);
    Status st = s.writer->append(b.batch());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Errc::sequence_conflict);
    EXPECT_TRUE(names(st.error(), {"'s1'", "batch starts at sequence " + std::to_string(first),
                                   "the latest is " + std::to_string(kSeeded)}));
    EXPECT_TRUE(same_contents(s.before, take_snapshot(*s.writer)));
  }
  s.expect_intact_and_appends();
}

TEST(MemoryStoreBadInput, appendWithRecordsAndEventsOfDifferentCountsIsValidationErrorNamingBothCounts) {
  Seeded s;
  auto b = make_batch(kSeeded + 1, 3);
  const AppendBatch full = b.batch();
  for (std::size_t records : {std::size_t{0}, std::size_t{2}}) {
    SCOPED_TRACE(records);
    AppendBatch bad = full;
    bad.records = full.records.first(records);
    Status st = s.writer->append(bad);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Errc::validation_error);
    EXPECT_TRUE(names(st.error(), {"'s1'", "3 events but " + std::to_string(records) + " records"}));
  }
  {  // more records than events
    AppendBatch bad = full;
    bad.events = full.events.first(2);
    Status st = s.writer->append(bad);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Errc::validation_error);
    EXPECT_TRUE(names(st.error(), {"2 events but 3 records"}));
  }
  s.expect_intact_and_appends();
}

TEST(MemoryStoreBadInput, findByIdOfAnUnknownIdIsNotFoundNamingTheId) {
  Seeded s;
  for (std::string id : {std::string(), std::string("nope"), std::string("evt-0"), std::string("evt-6"),
                         std::string(70000, 'i')}) {
    SCOPED_TRACE(id.substr(0, 10));
    auto e = s.writer->find_by_id(id);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.code(), Errc::not_found);
    EXPECT_TRUE(names(e.error(), {"'s1' has no event with id '" + id + "'"}));
  }
  EXPECT_EQ(s.writer->find_by_id("evt-3").value(), s.before.events[2]);
  s.expect_intact_and_appends();
}

TEST(MemoryStoreBadInput, readOfAnEmptyOrInvertedRangeIsOkAndVisitsNothing) {
  Seeded s;
  test::expect_empty_ranges_visit_nothing(*s.writer, kSeeded);
  s.expect_intact_and_appends();
}

TEST(MemoryStoreBadInput, waitForWithAPassedDeadlineReturnsTheLatestAtOnce) {
  Seeded s;
  for (auto deadline : {Deadline::min(), std::chrono::steady_clock::now() - 1h, std::chrono::steady_clock::now()}) {
    for (Sequence after : {kSeeded, kSeeded + 1, std::numeric_limits<Sequence>::max()}) {
      auto r = s.writer->wait_for(after, deadline);
      ASSERT_TRUE(r.ok()) << r.error();
      EXPECT_EQ(*r, kSeeded);
    }
  }
  s.expect_intact_and_appends();
}
