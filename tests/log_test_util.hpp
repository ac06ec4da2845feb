// Helpers of the log store tests: temporary store roots, events and append batches.
#pragma once
#include <sessionring/append_batch.hpp>
#include <sessionring/event.hpp>
#include <sessionring/event_record.hpp>
#include <sessionring/log_store.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

namespace sessionring::test {

/// A unique directory under the system temp dir, removed at destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};  // writer/reader: any test thread; makes names unique in-process
    path_ = std::filesystem::temp_directory_path() /
            ("sessionring-log-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1, std::memory_order_relaxed)) +
             "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// The event the tests store at `seq`: every field set and derived from seq.
inline Event test_event(Sequence seq, std::size_t data_bytes = 40) {
  Event e;
  e.sequence_number = seq;
  e.type = all_event_types()[seq % kEventTypeCount];
  e.id = "evt-" + std::to_string(seq);
  e.session_id = "";
  e.run_id = "run-" + std::to_string(seq % 3);
  e.timestamp_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(seq);
  e.data = "{\"n\":" + std::to_string(seq) + ",\"pad\":\"" + std::string(data_bytes, 'x') + "\"}";
  e.metadata = "{\"m\":" + std::to_string(seq * 7) + "}";
  e.correlation_id = "corr-" + std::to_string(seq / 10);
  e.provider = "prov";
  e.schema_version = static_cast<std::uint32_t>(1 + seq % 4);
  return e;
}

/// Owns the events of one append batch and the AppendBatch view of them.
class TestBatch {
 public:
  explicit TestBatch(std::vector<Event> events) : events_(std::move(events)) {
    for (const Event& e : events_) {
      views_.push_back(e.view());
      std::vector<std::byte> rec(EventRecord::encoded_size(views_.back()));
      EventRecord::encode(rec.data(), views_.back());
      bytes_.push_back(std::move(rec));
    }
    for (const auto& b : bytes_) spans_.emplace_back(b.data(), b.size());
  }
  AppendBatch batch() const {
    AppendBatch b;
    b.first_sequence = events_.empty() ? 0 : events_.front().sequence_number;
    b.events = views_;
    b.records = spans_;
    return b;
  }

 private:
  std::vector<Event> events_;
  std::vector<EventView> views_;
  std::vector<std::vector<std::byte>> bytes_;
  std::vector<std::span<const std::byte>> spans_;
};

inline TestBatch make_batch(Sequence first, std::size_t n, std::size_t data_bytes = 40) {
  std::vector<Event> events;
  for (std::size_t i = 0; i < n; ++i) events.push_back(test_event(first + i, data_bytes));
  return TestBatch(std::move(events));
}

/// Appends events first..first+n-1 in batches of `per_batch`.
inline void append_range(SessionLog& log, Sequence first, std::size_t n, std::size_t per_batch = 7,
                         std::size_t data_bytes = 40) {
  for (std::size_t done = 0; done < n;) {
    const std::size_t k = std::min(per_batch, n - done);
    auto b = make_batch(first + done, k, data_bytes);
    ASSERT_TRUE(log.append(b.batch())) << "batch at " << first + done;
    done += k;
  }
}

/// Reads everything and checks it is exactly test_event(1..n) (INV-1, every field).
inline void expect_events_1_to_n(const SessionLog& log, Sequence n, std::size_t data_bytes = 40) {
  Sequence expect = 1;
  Status st = log.read(EventQuery{}, [&](const EventView& v) {
    Event want = test_event(expect, data_bytes);
    want.session_id = std::string(log.session_id());
    EXPECT_EQ(v.to_event(), want) << "sequence " << expect;
    ++expect;
    return true;
  });
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(expect - 1, n);
}

inline LogStoreOptions options_in(const TempDir& dir, Durability d = Durability::buffered) {
  LogStoreOptions o;
  o.root = dir.path() / "store";
  o.durability = d;
  return o;
}

/// One way of writing: a durability, and for fsync whether a background thread syncs.
struct Level {
  Durability durability;
  bool background_sync;
};
inline std::string name_of(const Level& l) {
  return std::string(to_string(l.durability)) +
         (l.durability == Durability::fsync ? (l.background_sync ? "/bg" : "/inline") : "");
}
/// Every level that writes to the file at each append (all but Durability::none).
inline constexpr Level kWritingLevels[] = {
    {Durability::buffered, false}, {Durability::fsync, true}, {Durability::fsync, false}};
inline LogStoreOptions options_for(const TempDir& dir, const Level& l) {
  auto o = options_in(dir, l.durability);
  o.background_sync = l.background_sync;
  return o;
}

inline std::vector<std::filesystem::path> segment_files(const std::filesystem::path& session_dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(session_dir))
    if (e.path().extension() == ".seg") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

/// Offsets of the frames of a segment file (walks the length fields; docs/store.md "Layout").
inline std::vector<std::uint64_t> frame_offsets(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::uint64_t> out;
  std::uint64_t off = 32;
  while (off + 32 <= bytes.size()) {
    std::uint32_t len;
    std::memcpy(&len, bytes.data() + off, 4);
    if (off + 32 + len > bytes.size()) break;
    out.push_back(off);
    off += 32 + len;
  }
  return out;
}

inline void flip_byte(const std::filesystem::path& file, std::uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

}  // namespace sessionring::test
