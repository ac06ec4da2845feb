// Recovery and damage (engine/log_scan.cpp): a crash leaves a torn tail that the next writer
// open truncates (INV-9); damage to records that had been secured is reported with its file
// and offset, never skipped silently and never a crash.
#include "log_test_util.hpp"

#include <sessionring/log_store.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

namespace sessionring {
namespace {

using test::TempDir;
using test::frame_offsets;
namespace fs = std::filesystem;

struct Fixture {
  TempDir dir;
  LogStoreOptions o;
  fs::path session_dir;
  explicit Fixture(std::uint64_t segment_bytes = 64ull << 20) {
    o = test::options_in(dir);
    o.segment_bytes = segment_bytes;
    session_dir = o.root / "d";
  }
  void write(Sequence n, std::size_t per_batch = 5) {
    auto store = LogStore::open(o).value();
    auto log = store->open("d", OpenMode::write).value();
    test::append_range(*log, log->latest_sequence() + 1, n, per_batch);
  }
  Result<std::shared_ptr<SessionLog>> open(OpenMode mode) { return LogStore::open(o).value()->open("d", mode); }
  VerifyReport verify() { return LogStore::open(o).value()->verify("d").value(); }
};

TEST(LogRecovery, tornTailIsTruncatedAndTheSequenceContinues) {
  Fixture f;
  f.write(20);
  const auto seg = test::segment_files(f.session_dir).back();
  const auto offs = frame_offsets(seg);
  ASSERT_EQ(offs.size(), 20u);
  fs::resize_file(seg, offs[17] + 40);  // a crash inside the write of record 18
  auto v = f.verify();
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(v.intact.latest_sequence, 17u);
  EXPECT_EQ(v.torn_tail_bytes, 40u);
  EXPECT_EQ(v.file, seg.string());
  EXPECT_EQ(v.offset, offs[17]);
  {
    auto r = f.open(OpenMode::read);  // a reader does not modify the files
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ((*r)->latest_sequence(), 17u);
  }
  auto log = f.open(OpenMode::write);
  ASSERT_TRUE(log) << log.error();
  EXPECT_EQ((*log)->latest_sequence(), 17u);
  EXPECT_EQ(fs::file_size(seg), offs[17]);
  test::append_range(**log, 18, 10);
  test::expect_events_1_to_n(**log, 27);
}

TEST(LogRecovery, everyCutOffsetRecoversTheCompleteRecordsBeforeIt) {
  Fixture f;
  f.write(6, 2);
  const auto seg = test::segment_files(f.session_dir).back();
  const auto offs = frame_offsets(seg);
  const auto full = fs::file_size(seg);
  std::ifstream in(seg, std::ios::binary);
  std::vector<char> original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::uint64_t cut = offs[3]; cut <= full; ++cut) {
    {
      std::ofstream out(seg, std::ios::binary | std::ios::trunc);
      out.write(original.data(), static_cast<std::streamsize>(cut));
    }
    Sequence complete = 0;
    for (std::size_t i = 0; i < offs.size(); ++i) {
      const std::uint64_t end = i + 1 < offs.size() ? offs[i + 1] : full;
      if (end <= cut) complete = i + 1;
    }
    auto log = f.open(OpenMode::write);
    ASSERT_TRUE(log) << "cut " << cut << ": " << log.error();
    ASSERT_EQ((*log)->latest_sequence(), complete) << "cut " << cut;
    test::expect_events_1_to_n(**log, complete);
  }
}

TEST(LogRecovery, unsecuredHoleInTheLastBatchIsATornTail) {
  // Power loss while a batch was being synced: a page of it never reached the disk while a
  // later page did. No frame after the hole claims the hole was secured: truncate (INV-9).
  Fixture f;
  f.write(10, 10);  // one batch: every frame carries watermark 0
  const auto seg = test::segment_files(f.session_dir).back();
  const auto offs = frame_offsets(seg);
  {
    std::fstream io(seg, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(static_cast<std::streamoff>(offs[4]));
    const std::string zeros(offs[6] - offs[4], '\0');
    io.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  auto v = f.verify();
  EXPECT_TRUE(v.ok()) << v.problem;
  EXPECT_GT(v.torn_tail_bytes, 0u);
  auto log = f.open(OpenMode::write);
  ASSERT_TRUE(log) << log.error();
  EXPECT_EQ((*log)->latest_sequence(), 4u);
}

TEST(LogRecovery, flippedByteInASecuredRecordIsDamageNamingFileAndOffset) {
  Fixture f;
  f.write(30, 5);  // six batches: later frames prove the earlier ones were secured
  const auto seg = test::segment_files(f.session_dir).back();
  const auto offs = frame_offsets(seg);
  test::flip_byte(seg, offs[12] + 60);
  auto v = f.verify();
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.file, seg.string());
  EXPECT_EQ(v.offset, offs[12]);
  EXPECT_EQ(v.intact.latest_sequence, 12u);
  for (OpenMode mode : {OpenMode::write, OpenMode::read}) {
    auto log = f.open(mode);
    ASSERT_FALSE(log);
    EXPECT_EQ(log.code(), Errc::damaged_store);
    EXPECT_NE(log.error().message().find(seg.string()), std::string::npos) << log.error();
    EXPECT_NE(log.error().message().find("offset " + std::to_string(offs[12])), std::string::npos) << log.error();
  }
  // The operator's explicit choice: cut the log at the damage.
  f.o.repair_damaged_tail = true;
  auto log = f.open(OpenMode::write);
  ASSERT_TRUE(log) << log.error();
  EXPECT_EQ((*log)->latest_sequence(), 12u);
  test::append_range(**log, 13, 3);
  test::expect_events_1_to_n(**log, 15);
}

TEST(LogRecovery, damageInAnEarlierSegmentIsReportedNeverSkipped) {
  Fixture f(4096);
  f.write(200, 5);
  const auto segs = test::segment_files(f.session_dir);
  ASSERT_GT(segs.size(), 3u);
  const auto offs = frame_offsets(segs[1]);
  test::flip_byte(segs[1], offs[2] + 33);
  auto log = f.open(OpenMode::write);
  ASSERT_FALSE(log);
  EXPECT_EQ(log.code(), Errc::damaged_store);
  EXPECT_NE(log.error().message().find(segs[1].string() + " offset " + std::to_string(offs[2])), std::string::npos)
      << log.error();
  f.o.repair_damaged_tail = true;  // repair only ever cuts the last segment
  EXPECT_EQ(f.open(OpenMode::write).code(), Errc::damaged_store);
}

TEST(LogRecovery, readThroughAnOpenHandleReportsDamageWithFileAndOffset) {
  Fixture f(4096);
  auto store = LogStore::open(f.o).value();
  auto log = store->open("d", OpenMode::write).value();
  test::append_range(*log, 1, 100);
  const auto segs = test::segment_files(f.session_dir);
  const auto offs = frame_offsets(segs[0]);
  test::flip_byte(segs[0], offs[1] + 50);
  std::vector<Sequence> seen;
  Status st = log->read(EventQuery{}, [&](const EventView& v) {
    seen.push_back(v.sequence_number);
    return true;
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), Errc::damaged_store);
  EXPECT_NE(st.error().message().find(segs[0].string() + " offset " + std::to_string(offs[1])), std::string::npos)
      << st.error();
  EXPECT_EQ(seen, std::vector<Sequence>{1});  // delivered what was intact, then stopped: no gap
}

TEST(LogRecovery, garbageSegmentIsDamageAtOffsetZero) {
  Fixture f(4096);
  f.write(100);
  auto segs = test::segment_files(f.session_dir);
  {
    std::mt19937_64 rng(7);
    std::ofstream out(f.session_dir / "00000000000000000101.seg", std::ios::binary);
    for (int i = 0; i < 1000; ++i) {
      const auto x = rng();
      out.write(reinterpret_cast<const char*>(&x), sizeof x);
    }
  }
  auto log = f.open(OpenMode::write);
  ASSERT_FALSE(log);
  EXPECT_EQ(log.code(), Errc::damaged_store);
  EXPECT_NE(log.error().message().find("00000000000000000101.seg offset 0"), std::string::npos) << log.error();
  // Garbage over an earlier segment.
  fs::remove(f.session_dir / "00000000000000000101.seg");
  {
    std::ofstream out(segs[1], std::ios::binary | std::ios::trunc);
    out << std::string(3000, 'g');
  }
  auto v = f.verify();
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.file, segs[1].string());
  EXPECT_EQ(v.offset, 0u);
  EXPECT_EQ(f.open(OpenMode::read).code(), Errc::damaged_store);
}

TEST(LogRecovery, missingMiddleSegmentIsAGapReportedNeverSkipped) {
  Fixture f(4096);
  f.write(200);
  const auto segs = test::segment_files(f.session_dir);
  ASSERT_GT(segs.size(), 3u);
  fs::remove(segs[2]);
  auto log = f.open(OpenMode::write);
  ASSERT_FALSE(log);
  EXPECT_EQ(log.code(), Errc::damaged_store);
  EXPECT_NE(log.error().message().find("missing"), std::string::npos) << log.error();
  EXPECT_NE(log.error().message().find(segs[3].string()), std::string::npos) << log.error();
  auto v = f.verify();
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.file, segs[3].string());
  // Missing first segment.
  fs::remove(segs[0]);
  EXPECT_EQ(f.open(OpenMode::read).code(), Errc::damaged_store);
}

TEST(LogRecovery, segmentWhoseCreationWasInterruptedIsRemoved) {
  Fixture f(4096);
  f.write(100);
  const auto segs = test::segment_files(f.session_dir);
  Sequence latest = f.verify().intact.latest_sequence;
  ASSERT_EQ(latest, 100u);
  for (std::size_t partial : {0u, 5u, 31u}) {
    const fs::path torn = f.session_dir / ("00000000000000000" + std::to_string(latest + 1) + ".seg");
    {
      std::ofstream out(torn, std::ios::binary);
      out << std::string(partial, 'S');
    }
    auto v = f.verify();
    EXPECT_TRUE(v.ok()) << v.problem;
    auto log = f.open(OpenMode::write);
    ASSERT_TRUE(log) << log.error();
    EXPECT_FALSE(fs::exists(torn));
    EXPECT_EQ((*log)->latest_sequence(), latest);
  }
}

TEST(LogRecovery, recordWithTheWrongSequenceIsDamage) {
  // A valid frame of another log copied into the middle: contiguity catches it (INV-1).
  Fixture f;
  f.write(10, 1);
  const auto seg = test::segment_files(f.session_dir).back();
  const auto offs = frame_offsets(seg);
  std::ifstream in(seg, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  // Swap records 3 and 4 (same size: one-digit sequences, same padding).
  const std::size_t a = offs[2], b = offs[3], len = offs[3] - offs[2];
  ASSERT_EQ(offs[4] - offs[3], len);
  std::vector<char> tmp(bytes.begin() + static_cast<std::ptrdiff_t>(a), bytes.begin() + static_cast<std::ptrdiff_t>(b));
  std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(b), bytes.begin() + static_cast<std::ptrdiff_t>(b + len),
            bytes.begin() + static_cast<std::ptrdiff_t>(a));
  std::copy(tmp.begin(), tmp.end(), bytes.begin() + static_cast<std::ptrdiff_t>(b));
  std::ofstream(seg, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  auto v = f.verify();
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.offset, offs[2]);
  EXPECT_NE(v.problem.find("sequence 4 where 3 was expected"), std::string::npos) << v.problem;
}

}  // namespace
}  // namespace sessionring
