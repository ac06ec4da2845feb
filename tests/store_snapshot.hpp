// Helpers of the bad-input tests (tests/*_bad_input_test.cpp, docs/errors.md "Bad-input
// table"): snapshot what a session's log holds (every event, every field, its EventRecord
// bytes) and compare two snapshots, so that each test can assert that a refused call lost or
// altered nothing already stored; a LogStore session's files can be snapshotted byte for byte.
// Also: known events to seed a store with, and a check that an error names what was wrong.
#pragma once
#include "log_test_util.hpp"

#include <sessionring/sessionring.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <ostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sessionring {
/// gtest prints an Errc by its name ("writer_conflict") in failed EXPECT_EQs.
inline void PrintTo(Errc code, std::ostream* os) { *os << to_string(code); }
}  // namespace sessionring

namespace sessionring::test {

/// Everything one session's log holds, read back through SessionLog::read.
struct StoreSnapshot {
  std::string session_id;
  Sequence latest = 0;                             ///< latest_sequence() when taken
  std::vector<Event> events;                       ///< every stored event, oldest first
  std::vector<std::vector<std::byte>> records;     ///< the EventRecord bytes of each event
  std::string read_error;                          ///< non-empty when the read failed
};

inline StoreSnapshot take_snapshot(const SessionLog& log) {
  StoreSnapshot s;
  s.session_id = std::string(log.session_id());
  s.latest = log.latest_sequence();
  Status st = log.read(EventQuery{}, [&](const EventView& v) {
    s.events.push_back(v.to_event());
    auto& rec = s.records.emplace_back(EventRecord::encoded_size(v));
    EventRecord::encode(rec.data(), v);
    return true;
  });
  if (!st) s.read_error = st.error().describe();
  return s;
}

/// Opens `session_id` read-only in `store` and snapshots it; a missing session is an empty
/// snapshot (read_error says so).
inline StoreSnapshot take_snapshot(SessionStore& store, std::string_view session_id) {
  auto log = store.open(session_id, OpenMode::read);
  if (!log) {
    StoreSnapshot s;
    s.session_id = std::string(session_id);
    s.read_error = log.error().describe();
    return s;
  }
  return take_snapshot(**log);
}

namespace detail_snapshot {
inline ::testing::AssertionResult compare_prefix(const StoreSnapshot& before, const StoreSnapshot& after,
                                                 bool exact) {
  if (!before.read_error.empty()) return ::testing::AssertionFailure() << "before: read failed: " << before.read_error;
  if (!after.read_error.empty()) return ::testing::AssertionFailure() << "after: read failed: " << after.read_error;
  if (after.events.size() < before.events.size())
    return ::testing::AssertionFailure() << "events lost: " << before.events.size() << " stored before, "
                                         << after.events.size() << " after";
  if (exact && after.events.size() != before.events.size())
    return ::testing::AssertionFailure() << "events added: " << before.events.size() << " stored before, "
                                         << after.events.size() << " after (first new: sequence "
                                         << after.events[before.events.size()].sequence_number << ", type "
                                         << to_string(after.events[before.events.size()].type) << ")";
  if (exact && after.latest != before.latest)
    return ::testing::AssertionFailure() << "latest_sequence moved from " << before.latest << " to " << after.latest;
  for (std::size_t i = 0; i < after.events.size(); ++i)
    if (after.events[i].sequence_number != i + 1)
      return ::testing::AssertionFailure() << "not contiguous (INV-1): index " << i << " holds sequence "
                                           << after.events[i].sequence_number;
  for (std::size_t i = 0; i < before.events.size(); ++i) {
    if (!(after.events[i] == before.events[i]) || after.records[i] != before.records[i])
      return ::testing::AssertionFailure() << "sequence " << before.events[i].sequence_number
                                           << " was altered (id '" << before.events[i].id << "' -> '"
                                           << after.events[i].id << "', data '" << before.events[i].data
                                           << "' -> '" << after.events[i].data << "')";
  }
  return ::testing::AssertionSuccess();
}
}  // namespace detail_snapshot

/// Same count, same sequences, same bytes: nothing lost, altered or added.
inline ::testing::AssertionResult same_contents(const StoreSnapshot& before, const StoreSnapshot& after) {
  return detail_snapshot::compare_prefix(before, after, true);
}

/// Everything of `before` is still there, unaltered, at the same sequences (events may have
/// been added after it).
inline ::testing::AssertionResult keeps_contents(const StoreSnapshot& before, const StoreSnapshot& after) {
  return detail_snapshot::compare_prefix(before, after, false);
}

/// Every regular file under `dir` (recursively) with its bytes; lock files are left out (they
/// are empty: holding them is what matters).
inline std::map<std::string, std::string> file_bytes(const std::filesystem::path& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    // Lock files hold no data: an older build's per-session LOCK, and the store's empty
    // LOCKS.xx, which a writer open creates when its session is the first in that file.
    const std::string name = it->path().filename().string();
    if (!it->is_regular_file() || name == "LOCK" || name.rfind("LOCKS.", 0) == 0) continue;
    std::ifstream in(it->path(), std::ios::binary);
    out[std::filesystem::relative(it->path(), dir).string()] =
        std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return out;
}

/// The i-th known event: every field set and derived from i, so a stored copy can be checked.
/// Owns its bytes; input() views them.
class KnownEvent {
 public:
  explicit KnownEvent(int i, std::string_view prefix = "known")
      : id_(std::string(prefix) + "-" + std::to_string(i)),
        run_("run-" + std::to_string(i % 2)),
        data_("{\"i\":" + std::to_string(i) + "}"),
        meta_("{\"m\":" + std::to_string(i * 3) + "}"),
        corr_("corr-" + std::to_string(i)),
        type_(all_event_types()[12 + static_cast<std::size_t>(i) % 3]) {}  // message_sent/received/streamed
  EventInput input() const {
    EventInput e;
    e.type = type_;
    e.id = id_;
    e.run_id = run_;
    e.data = data_;
    e.metadata = meta_;
    e.correlation_id = corr_;
    e.provider = "prov";
    e.timestamp_ns = 1'700'000'000'000'000'000;
    return e;
  }

 private:
  std::string id_, run_, data_, meta_, corr_;
  EventType type_;
};

/// Appends `n` known events through `session` (append_wait: stored and published on return).
inline void seed(Session& session, int n, std::string_view prefix = "known") {
  for (int i = 0; i < n; ++i) {
    const KnownEvent k(i, prefix);
    auto r = session.append_wait(k.input());
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_FALSE(r->duplicate);
  }
}

/// The session still works after a refused call: one more append_wait gets the next sequence,
/// and the store then holds exactly `before` plus that one event.
inline void expect_still_appends(Session& session, const StoreSnapshot& before) {
  const int n = static_cast<int>(before.latest) + 1;  // a fresh id for each sequence: never a duplicate
  const KnownEvent k(n, "after-refusal");
  auto r = session.append_wait(k.input());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->sequence, before.latest + 1) << "a refused call consumed a sequence";
  const StoreSnapshot after = take_snapshot(session.log());
  EXPECT_TRUE(keeps_contents(before, after));
  ASSERT_EQ(after.events.size(), before.events.size() + 1) << "a refused event was stored";
  EXPECT_EQ(after.events.back().id, "after-refusal-" + std::to_string(n));
}

/// The error names what was wrong: its message contains every one of `names`.
/// A read of an empty or inverted range (after >= before - 1, at or past the end of a log
/// holding `seeded` events, at the top of the sequence space) succeeds and visits nothing.
inline void expect_empty_ranges_visit_nothing(const SessionLog& log, Sequence seeded) {
  const Sequence max = std::numeric_limits<Sequence>::max();
  for (auto [after, before] : {std::pair{Sequence{3}, Sequence{3}}, std::pair{Sequence{3}, Sequence{4}},
                               std::pair{Sequence{4}, Sequence{2}}, std::pair{seeded, max}, std::pair{max, max},
                               std::pair{max - 1, max}, std::pair{Sequence{0}, Sequence{0}},
                               std::pair{Sequence{0}, Sequence{1}}}) {
    SCOPED_TRACE(std::to_string(after) + " < s < " + std::to_string(before));
    EventQuery q;
    q.after = after;
    q.before = before;
    int visited = 0;
    Status st = log.read(q, [&](const EventView&) {
      ++visited;
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.error();
    EXPECT_EQ(visited, 0);
  }
}

inline ::testing::AssertionResult names(const Error& e, std::initializer_list<std::string_view> needles) {
  if (e.message().empty()) return ::testing::AssertionFailure() << "empty message (" << to_string(e.code()) << ")";
  for (std::string_view n : needles)
    if (e.message().find(n) == std::string::npos)
      return ::testing::AssertionFailure() << "message does not name '" << n << "': " << e.describe();
  return ::testing::AssertionSuccess();
}

/// The two stores the bad-input tests run against (TEST_P parameter).
enum class StoreKind { memory, log };

inline void PrintTo(StoreKind kind, std::ostream* os) { *os << (kind == StoreKind::memory ? "memory" : "log"); }

inline std::string kind_name(const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param == StoreKind::memory ? "memory" : "log";
}

/// A MemoryStore, or a LogStore (buffered) in a temporary directory; files() is the LogStore's
/// bytes on disk (empty for a MemoryStore), to show a refused call wrote nothing.
class StoreUnderTest {
 public:
  explicit StoreUnderTest(StoreKind kind) : kind_(kind) {
    if (kind == StoreKind::memory) {
      store_ = MemoryStore::create();
      return;
    }
    LogStoreOptions o;
    o.root = root();
    auto s = LogStore::open(o);
    EXPECT_TRUE(s.ok()) << s.error();
    if (s) store_ = *s;
  }
  StoreKind kind() const { return kind_; }
  const std::shared_ptr<SessionStore>& store() const { return store_; }
  std::filesystem::path root() const { return dir_.path() / "store"; }
  std::map<std::string, std::string> files() const {
    return kind_ == StoreKind::log ? file_bytes(root()) : std::map<std::string, std::string>{};
  }
  StoreSnapshot snapshot(std::string_view session_id = "s1") const { return take_snapshot(*store_, session_id); }

 private:
  StoreKind kind_;
  TempDir dir_;
  std::shared_ptr<SessionStore> store_;
};

}  // namespace sessionring::test
