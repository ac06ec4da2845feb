// The store conformance suite, part 2: durable named cursors (SessionLog::commit_cursor,
// read_cursor, list_cursors, delete_cursor; docs/store.md "Durable named cursors"). A store
// plugs in as for store_conformance.hpp, with one more line:
//
//   INSTANTIATE_TYPED_TEST_SUITE_P(MyStore, StoreCursorConformance, ::testing::Types<MyStoreFactory>);
//
// A store without cursors answers Errc::unsupported from every cursor call; the suite then
// checks exactly that and skips the rest. A factory that declares
//   static constexpr bool kKeepsCursors = true;
// makes that answer a failure instead: its store must keep cursors, never skip.
#pragma once
#include "store_conformance.hpp"

#include <sessionring/cursor_position.hpp>

namespace sessionring::test {

/// The factory's kKeepsCursors (false when it declares none).
template <class F>
constexpr bool keeps_cursors() {
  if constexpr (requires { F::kKeepsCursors; })
    return F::kKeepsCursors;
  else
    return false;
}

template <StoreFactory F>
class StoreCursorConformance : public StoreConformance<F> {
 protected:
  /// A writer of "s1" with 20 secured events; null (and the test skipped) without cursors.
  std::shared_ptr<SessionLog> writer_with_events() {
    auto log = this->writer();
    if (!log) return nullptr;
    this->append_secured(*log, 1, 20);
    if (log->list_cursors().code() == Errc::unsupported) return nullptr;
    return log;
  }
};

TYPED_TEST_SUITE_P(StoreCursorConformance);

#define SR_CURSOR_WRITER(log)                                                                           \
  auto log = this->writer_with_events();                                                                \
  if (!log && keeps_cursors<TypeParam>())                                                               \
    FAIL() << TypeParam::name() << " declares kKeepsCursors but keeps no durable cursors (Errc::unsupported)"; \
  if (!log) GTEST_SKIP() << TypeParam::name() << " keeps no durable cursors (Errc::unsupported)";

TYPED_TEST_P(StoreCursorConformance, committedPositionIsReadBackListedSortedAndMayMoveBack) {
  SR_CURSOR_WRITER(log);
  EXPECT_TRUE(log->list_cursors()->empty());
  ASSERT_TRUE(log->commit_cursor("indexer", 7));
  ASSERT_TRUE(log->commit_cursor("audit", 0));
  ASSERT_TRUE(log->commit_cursor("indexer", 12));
  EXPECT_EQ(log->read_cursor("indexer").value(), 12u);
  EXPECT_EQ(log->read_cursor("audit").value(), 0u);
  ASSERT_TRUE(log->commit_cursor("indexer", 3));  // an explicit commit may rewind
  EXPECT_EQ(log->read_cursor("indexer").value(), 3u);
  ASSERT_TRUE(log->commit_cursor("ui", 20));
  auto all = log->list_cursors();
  ASSERT_TRUE(all.ok()) << all.error();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "audit");
  EXPECT_EQ((*all)[1].name, "indexer");
  EXPECT_EQ((*all)[1].position, 3u);
  EXPECT_EQ((*all)[2].name, "ui");
  EXPECT_EQ((*all)[2].position, 20u);
}

TYPED_TEST_P(StoreCursorConformance, deletedCursorIsNotFoundAndDeletingItAgainIsNotFound) {
  SR_CURSOR_WRITER(log);
  ASSERT_TRUE(log->commit_cursor("a", 5));
  ASSERT_TRUE(log->commit_cursor("b", 6));
  EXPECT_TRUE(log->delete_cursor("a"));
  EXPECT_EQ(log->read_cursor("a").code(), Errc::not_found);
  EXPECT_EQ(log->delete_cursor("a").code(), Errc::not_found);
  EXPECT_EQ(log->read_cursor("never").code(), Errc::not_found);
  auto all = log->list_cursors();
  ASSERT_TRUE(all.ok()) << all.error();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].name, "b");
}

TYPED_TEST_P(StoreCursorConformance, badNameOrPositionAboveLatestIsValidationErrorAndStoresNothing) {
  SR_CURSOR_WRITER(log);
  for (std::string_view bad : {std::string_view(""), std::string_view("a/b"), std::string_view(".."),
                               std::string_view("has space"), std::string_view(".hidden")}) {
    Status st = log->commit_cursor(bad, 1);
    EXPECT_EQ(st.code(), Errc::validation_error) << "'" << bad << "'";
    if (!st) {
      EXPECT_NE(st.error().message().find("cursor name"), std::string::npos) << st.error();
    }
    EXPECT_EQ(log->read_cursor(bad).code(), Errc::validation_error) << "'" << bad << "'";
    EXPECT_EQ(log->delete_cursor(bad).code(), Errc::validation_error) << "'" << bad << "'";
  }
  EXPECT_EQ(log->commit_cursor(std::string(129, 'x'), 1).code(), Errc::validation_error);
  Status above = log->commit_cursor("c", 21);
  EXPECT_EQ(above.code(), Errc::validation_error);
  EXPECT_TRUE(log->list_cursors()->empty());
}

TYPED_TEST_P(StoreCursorConformance, readHandlesSeeCursorsButCannotWriteThem) {
  SR_CURSOR_WRITER(log);
  ASSERT_TRUE(log->commit_cursor("x", 9));
  auto reader = this->open("s1", OpenMode::read);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->read_cursor("x").value(), 9u);
  EXPECT_EQ(reader->list_cursors()->size(), 1u);
  EXPECT_EQ(reader->commit_cursor("x", 10).code(), Errc::validation_error);
  EXPECT_EQ(reader->delete_cursor("x").code(), Errc::validation_error);
  ASSERT_TRUE(log->commit_cursor("x", 11));
  EXPECT_EQ(reader->read_cursor("x").value(), 11u);
}

TYPED_TEST_P(StoreCursorConformance, cursorsAreIndependentPerSession) {
  SR_CURSOR_WRITER(log);
  auto other = this->writer("s2");
  ASSERT_NE(other, nullptr);
  this->append_secured(*other, 1, 3);
  ASSERT_TRUE(log->commit_cursor("same", 15));
  ASSERT_TRUE(other->commit_cursor("same", 2));
  EXPECT_EQ(log->read_cursor("same").value(), 15u);
  EXPECT_EQ(other->read_cursor("same").value(), 2u);
}

TYPED_TEST_P(StoreCursorConformance, concurrentCommitsFromManyThreadsLeaveEachCursorAtItsLastCommit) {
  SR_CURSOR_WRITER(log);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::string name = "t";
      name.append(std::to_string(t));  // append, not `+`: GCC 12 -Wrestrict
      for (Sequence p = 0; p <= 20; ++p) EXPECT_TRUE(log->commit_cursor(name, p));
    });
  for (auto& th : threads) th.join();
  auto all = log->list_cursors();
  ASSERT_TRUE(all.ok()) << all.error();
  ASSERT_EQ(all->size(), 4u);
  for (const auto& c : *all) EXPECT_EQ(c.position, 20u) << c.name;
}

TYPED_TEST_P(StoreCursorConformance, durableStoreKeepsCommittedCursorsAcrossRestart) {
  if (!TypeParam::kDurable) GTEST_SKIP() << TypeParam::name() << " is not durable";
  {
    SR_CURSOR_WRITER(log);
    ASSERT_TRUE(log->commit_cursor("keep", 14));
    ASSERT_TRUE(log->commit_cursor("gone", 3));
    ASSERT_TRUE(log->delete_cursor("gone"));
  }
  this->restart();
  auto reader = this->open("s1", OpenMode::read);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->read_cursor("keep").value(), 14u);
  EXPECT_EQ(reader->read_cursor("gone").code(), Errc::not_found);
  reader.reset();
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->read_cursor("keep").value(), 14u);
  ASSERT_TRUE(log->commit_cursor("keep", 20));
  EXPECT_EQ(log->list_cursors()->size(), 1u);
}

// RetentionPolicy::keep_cursor_positions: pruning never removes an event after the lowest
// cursor; deleting that cursor lets the limits apply again; without the flag cursors hold nothing.
TYPED_TEST_P(StoreCursorConformance, retentionKeepingCursorPositionsNeverPrunesAboveTheLowestCursor) {
  RetentionPolicy p;
  p.max_events = 100;
  p.prune_unit = 50;
  p.keep_cursor_positions = true;
  if (!this->reopen_with_retention(p)) GTEST_SKIP() << TypeParam::name() << " has no retention";
  auto log = this->writer();
  ASSERT_NE(log, nullptr);
  this->append_secured(*log, 1, 10);
  if (log->list_cursors().code() == Errc::unsupported) {
    if (keeps_cursors<TypeParam>()) FAIL() << TypeParam::name() << " declares kKeepsCursors but answers unsupported";
    GTEST_SKIP() << TypeParam::name() << " keeps no cursors";
  }
  ASSERT_TRUE(log->commit_cursor("slow", 5));
  ASSERT_TRUE(log->commit_cursor("fast", 10));
  for (Sequence first = 11; first <= 600; first += 7) {
    this->append_secured(*log, first, std::min<Sequence>(7, 601 - first), 7);
    ASSERT_LE(log->first_sequence(), 6u) << "pruned above the lowest cursor (5)";
  }
  ASSERT_TRUE(log->commit_cursor("slow", 400));  // it advances: retention may go up to 401
  ASSERT_TRUE(log->delete_cursor("fast"));
  for (Sequence first = 601; first <= 900; first += 7)
    this->append_secured(*log, first, std::min<Sequence>(7, 901 - first), 7);
  const Sequence f = log->first_sequence();
  EXPECT_GT(f, 6u) << "retention stopped after the cursor advanced";
  EXPECT_LE(f, 401u) << "pruned above the lowest cursor (400)";
  ASSERT_TRUE(log->delete_cursor("slow"));
  for (Sequence first = 901; first <= 1200; first += 7)
    this->append_secured(*log, first, std::min<Sequence>(7, 1201 - first), 7);
  EXPECT_GE(log->first_sequence(), 1200u - 100u - 50u - retention_unit_events<TypeParam>())
      << "without cursors the limits apply again";
}

#undef SR_CURSOR_WRITER

REGISTER_TYPED_TEST_SUITE_P(StoreCursorConformance, committedPositionIsReadBackListedSortedAndMayMoveBack,
                            deletedCursorIsNotFoundAndDeletingItAgainIsNotFound,
                            badNameOrPositionAboveLatestIsValidationErrorAndStoresNothing,
                            readHandlesSeeCursorsButCannotWriteThem, cursorsAreIndependentPerSession,
                            concurrentCommitsFromManyThreadsLeaveEachCursorAtItsLastCommit,
                            durableStoreKeepsCommittedCursorsAcrossRestart,
                            retentionKeepingCursorPositionsNeverPrunesAboveTheLowestCursor);

}  // namespace sessionring::test
