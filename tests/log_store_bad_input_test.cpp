// Bad input of LogStore and its SessionLog (engine/log_store.cpp, with the option checks of
// engine/log_options.cpp), docs/errors.md "Bad-input table". Each test stores known events
// first (every field set: test_event), makes the bad call, checks the exact Errc and that the
// message names what was wrong (the option, the id, the file and offset), then that nothing
// stored was lost or altered (the events read back and the files byte for byte) and that the
// store still works.
#include "detail/log_lock_table.hpp"
#include "log_test_util.hpp"
#include "store_snapshot.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace sessionring;
using namespace sessionring::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr Sequence kSeeded = 5;

/// A LogStore root holding session s1 with test_event(1..kSeeded), the writer closed.
struct Seeded {
  TempDir dir;
  LogStoreOptions o = options_in(dir);
  std::shared_ptr<LogStore> store;
  StoreSnapshot before;
  std::map<std::string, std::string> files;

  explicit Seeded(std::uint64_t segment_bytes = 64ull << 20, Sequence n = kSeeded) {
    o.segment_bytes = segment_bytes;
    store = LogStore::open(o).value();
    {
      auto w = store->open("s1", OpenMode::write).value();
      append_range(*w, 1, n, 2);
    }
    before = take_snapshot(*store, "s1");
    EXPECT_EQ(before.events.size(), n);
    files = file_bytes(o.root);
  }

  std::vector<std::string> entries(const fs::path& p) const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(p)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  /// Nothing stored changed (events and file bytes), and a writer continues the sequence.
  void expect_intact_and_appends() {
    EXPECT_TRUE(file_bytes(o.root) == files) << "the store's files changed";
    auto fresh = LogStore::open(o);
    ASSERT_TRUE(fresh.ok()) << fresh.error();
    EXPECT_TRUE(same_contents(before, take_snapshot(**fresh, "s1")));
    auto w = (*fresh)->open("s1", OpenMode::write);
    ASSERT_TRUE(w.ok()) << w.error();
    const Sequence latest = (*w)->latest_sequence();
    append_range(**w, latest + 1, 2);
    expect_events_1_to_n(**w, latest + 2);
  }
};

/// chmod 0500 on `dir`; true when that stops this process from creating entries in it (false
/// when running as root, where permissions do not bind: the mode is then restored).
bool make_unwritable(const fs::path& dir) {
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec, fs::perm_options::replace);
  const fs::path probe = dir / ".probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) return true;
  ::close(fd);
  fs::remove(probe);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
  return false;
}

void restore_writable(const fs::path& dir) {
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// LogStore::open(options)

TEST(LogStoreBadInput, everyOptionOutsideItsRangeIsValidationErrorNamingItAndStoreUnchanged) {
  Seeded s;
  using ms = std::chrono::milliseconds;
  struct Case {
    std::string shown;  // LogStoreOptions::<field> ... as the message must say it
    std::function<void(LogStoreOptions&)> apply;
  };
  auto u64 = [](std::uint64_t LogStoreOptions::*f, std::uint64_t v) { return [=](LogStoreOptions& o) { o.*f = v; }; };
  auto u32 = [](std::uint32_t LogStoreOptions::*f, std::uint32_t v) { return [=](LogStoreOptions& o) { o.*f = v; }; };
  auto dur = [](ms LogStoreOptions::*f, ms v) { return [=](LogStoreOptions& o) { o.*f = v; }; };
  const std::vector<Case> cases = {
      {"LogStoreOptions::root is empty", [](LogStoreOptions& o) { o.root.clear(); }},
      {"LogStoreOptions::durability has an invalid value",
       [](LogStoreOptions& o) { o.durability = static_cast<Durability>(3); }},
      {"LogStoreOptions::durability has an invalid value",
       [](LogStoreOptions& o) { o.durability = static_cast<Durability>(255); }},
      {"LogStoreOptions::segment_bytes = 0 is outside [4096, 1099511627776]", u64(&LogStoreOptions::segment_bytes, 0)},
      {"LogStoreOptions::segment_bytes = 4095 is outside", u64(&LogStoreOptions::segment_bytes, 4095)},
      {"LogStoreOptions::segment_bytes = 1099511627777 is outside",
       u64(&LogStoreOptions::segment_bytes, (1ull << 40) + 1)},
      {"LogStoreOptions::segment_bytes = 18446744073709551615 is outside",
       u64(&LogStoreOptions::segment_bytes, UINT64_MAX)},
      {"LogStoreOptions::index_every_records = 0 is outside [1, 16777216]",
       u32(&LogStoreOptions::index_every_records, 0)},
      {"LogStoreOptions::index_every_records = 16777217 is outside",
       u32(&LogStoreOptions::index_every_records, (1u << 24) + 1)},
      {"LogStoreOptions::index_every_bytes = 0 is outside [512, 1073741824]",
       u32(&LogStoreOptions::index_every_bytes, 0)},
      {"LogStoreOptions::index_every_bytes = 511 is outside", u32(&LogStoreOptions::index_every_bytes, 511)},
      {"LogStoreOptions::index_every_bytes = 1073741825 is outside",
       u32(&LogStoreOptions::index_every_bytes, (1u << 30) + 1)},
      {"LogStoreOptions::read_chunk_bytes = 0 is outside [4096, 1073741824]",
       u32(&LogStoreOptions::read_chunk_bytes, 0)},
      {"LogStoreOptions::read_chunk_bytes = 4095 is outside", u32(&LogStoreOptions::read_chunk_bytes, 4095)},
      {"LogStoreOptions::read_chunk_bytes = 1073741825 is outside",
       u32(&LogStoreOptions::read_chunk_bytes, (1u << 30) + 1)},
      {"LogStoreOptions::buffer_bytes = 4095 is outside [4096, 1073741824]", u32(&LogStoreOptions::buffer_bytes, 4095)},
      {"LogStoreOptions::buffer_bytes = 1073741825 is outside", u32(&LogStoreOptions::buffer_bytes, (1u << 30) + 1)},
      {"LogStoreOptions::buffer_bytes = 4294967295 is outside", u32(&LogStoreOptions::buffer_bytes, UINT32_MAX)},
      {"LogStoreOptions::flush_interval (ms) = 0 is outside [1, 3600000]",
       dur(&LogStoreOptions::flush_interval, ms(0))},
      {"LogStoreOptions::flush_interval (ms) = -1 is outside", dur(&LogStoreOptions::flush_interval, ms(-1))},
      {"LogStoreOptions::flush_interval (ms) = 3600001 is outside",
       dur(&LogStoreOptions::flush_interval, ms(3'600'001))},
      {"LogStoreOptions::flusher_idle_exit (ms) = 0 is outside [1, 3600000]",
       dur(&LogStoreOptions::flusher_idle_exit, ms(0))},
      {"LogStoreOptions::flusher_idle_exit (ms) = 3600001 is outside",
       dur(&LogStoreOptions::flusher_idle_exit, ms(3'600'001))},
      {"LogStoreOptions::poll_interval (ms) = 0 is outside [1, 60000]", dur(&LogStoreOptions::poll_interval, ms(0))},
      {"LogStoreOptions::poll_interval (ms) = -5 is outside", dur(&LogStoreOptions::poll_interval, ms(-5))},
      {"LogStoreOptions::poll_interval (ms) = 60001 is outside", dur(&LogStoreOptions::poll_interval, ms(60'001))},
  };
  const fs::path fresh = s.dir.path() / "fresh";
  for (const Case& c : cases) {
    SCOPED_TRACE(c.shown);
    for (const fs::path& root : {s.o.root, fresh}) {
      LogStoreOptions o = s.o;
      o.root = root;
      c.apply(o);
      EXPECT_EQ(validate(o).code(), Errc::validation_error);
      auto store = LogStore::open(o);
      ASSERT_FALSE(store.ok());
      EXPECT_EQ(store.code(), Errc::validation_error);
      EXPECT_TRUE(names(store.error(), {c.shown}));
    }
    EXPECT_FALSE(fs::exists(fresh)) << "a refused open created the root";
    EXPECT_TRUE(file_bytes(s.o.root) == s.files) << "a refused open changed the store's files";
  }
  // Both ends of every range are accepted.
  const std::vector<std::function<void(LogStoreOptions&)>> edges = {
      u64(&LogStoreOptions::segment_bytes, 4096), u64(&LogStoreOptions::segment_bytes, 1ull << 40),
      u32(&LogStoreOptions::index_every_records, 1), u32(&LogStoreOptions::index_every_records, 1u << 24),
      u32(&LogStoreOptions::index_every_bytes, 512), u32(&LogStoreOptions::index_every_bytes, 1u << 30),
      u32(&LogStoreOptions::read_chunk_bytes, 4096), u32(&LogStoreOptions::read_chunk_bytes, 1u << 30),
      u32(&LogStoreOptions::buffer_bytes, 4096), u32(&LogStoreOptions::buffer_bytes, 1u << 30),
      dur(&LogStoreOptions::flush_interval, ms(1)), dur(&LogStoreOptions::flush_interval, ms(3'600'000)),
      dur(&LogStoreOptions::flusher_idle_exit, ms(1)), dur(&LogStoreOptions::flusher_idle_exit, ms(3'600'000)),
      dur(&LogStoreOptions::poll_interval, ms(1)), dur(&LogStoreOptions::poll_interval, ms(60'000))};
  for (std::size_t i = 0; i < edges.size(); ++i) {
    LogStoreOptions o = s.o;
    edges[i](o);
    EXPECT_TRUE(validate(o).ok()) << "edge " << i << ": " << validate(o).error();
  }
  s.expect_intact_and_appends();
}

TEST(LogStoreBadInput, rootThatCannotBeCreatedIsNotADirectoryOrIsNotWritableIsStorageErrorNamingIt) {
  Seeded s;
  const fs::path plain = s.dir.path() / "plain-file";
  std::ofstream(plain) << "keep";
  struct Case {
    fs::path root;
    std::string why;
  };
  std::vector<Case> cases = {{plain / "store", "cannot create store root"},  // parent is a regular file
                             {plain / "a" / "b", "cannot create store root"},
                             {plain, ""}};  // the root itself is a regular file
  for (const Case& c : cases) {
    SCOPED_TRACE(c.root.string());
    LogStoreOptions o = s.o;
    o.root = c.root;
    auto store = LogStore::open(o);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.code(), Errc::storage_error);
    EXPECT_TRUE(names(store.error(), {c.root.string(), c.why}));
  }
  std::ifstream in(plain);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "keep") << "a refused open changed the regular file";
  // The existing root made unwritable (where permissions bind: not for root, which the cases
  // above cover with a real failure of their own).
  if (make_unwritable(s.o.root)) {
    auto store = LogStore::open(s.o);
    restore_writable(s.o.root);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.code(), Errc::storage_error);
    EXPECT_TRUE(names(store.error(), {"store root is not writable", s.o.root.string()}));
  }
  s.expect_intact_and_appends();
}

TEST(LogStoreBadInput, sessionWhoseDirectoryCannotBeCreatedIsStorageErrorAndOtherSessionsAreIntact) {
  Seeded s;
  const fs::path root = s.o.root;
  auto expect_refused = [&](std::string_view how) {
    SCOPED_TRACE(how);
    for (const char* id : {"s2", "s1"}) {
      auto log = s.store->open(id, OpenMode::write);
      ASSERT_FALSE(log.ok()) << id;
      EXPECT_EQ(log.code(), Errc::storage_error);
      EXPECT_TRUE(names(log.error(), {"cannot create session directory", (root / id).string()}));
    }
    SessionOptions so;
    so.store = s.store;
    so.session_id = "s2";
    auto session = Session::open(so);
    ASSERT_FALSE(session.ok());
    EXPECT_EQ(session.code(), Errc::storage_error);
    EXPECT_TRUE(names(session.error(), {(root / "s2").string()}));
  };
  // 1. The root made unwritable (where permissions bind).
  if (make_unwritable(root)) {
    auto s2 = s.store->open("s2", OpenMode::write);
    restore_writable(root);
    ASSERT_FALSE(s2.ok());
    EXPECT_EQ(s2.code(), Errc::storage_error);
    EXPECT_TRUE(names(s2.error(), {"cannot create session directory", (root / "s2").string()}));
  }
  // 2. Always, also as root: the root replaced by a regular file under the open store.
  const fs::path moved = s.dir.path() / "moved-root";
  fs::rename(root, moved);
  std::ofstream(root) << "not a directory";
  expect_refused("root is a regular file");
  auto listed = s.store->list_sessions();
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.code(), Errc::storage_error);
  EXPECT_TRUE(names(listed.error(), {"cannot list store root", root.string()}));
  fs::remove(root);
  fs::rename(moved, root);
  EXPECT_EQ(s.store->list_sessions().value(), std::vector<std::string>{"s1"});
  s.expect_intact_and_appends();
  EXPECT_TRUE(s.store->open("s2", OpenMode::write).ok());
}

// ---------------------------------------------------------------------------------------------
// LogStore::open(id, mode), info(id), verify(id)

TEST(LogStoreBadInput, invalidIdIsInvalidSessionIdInOpenInfoAndVerifyAndTouchesNoFile) {
  Seeded s;
  const auto root_entries = s.entries(s.o.root);
  const auto outside = s.entries(s.dir.path());
  for (std::string bad : {std::string(), std::string("."), std::string(".."), std::string("../escape"),
                          std::string("/tmp/abs"), std::string("s1/LOCK"), std::string("s1\\x"),
                          std::string(kMaxSessionIdBytes + 1, 'a'), std::string("s\x7f"), std::string(".s1")}) {
    SCOPED_TRACE("'" + bad + "'");
    for (OpenMode mode : {OpenMode::read, OpenMode::write}) {
      auto log = s.store->open(bad, mode);
      ASSERT_FALSE(log.ok());
      EXPECT_EQ(log.code(), Errc::invalid_session_id);
      EXPECT_TRUE(names(log.error(), {"session id"}));
    }
    auto info = s.store->info(bad);
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.code(), Errc::invalid_session_id);
    EXPECT_TRUE(names(info.error(), {"session id"}));
    auto verify = s.store->verify(bad);
    ASSERT_FALSE(verify.ok());
    EXPECT_EQ(verify.code(), Errc::invalid_session_id);
    EXPECT_TRUE(names(verify.error(), {"session id"}));
  }
  EXPECT_EQ(s.entries(s.o.root), root_entries);
  EXPECT_EQ(s.entries(s.dir.path()), outside) << "a refused id created something outside the root";
  s.expect_intact_and_appends();
}

TEST(LogStoreBadInput, missingSessionIsNotFoundInReadOpenInfoAndVerifyAndCreatesNoDirectory) {
  Seeded s;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto log = s.store->open("missing", OpenMode::read);
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.code(), Errc::not_found);
    EXPECT_TRUE(names(log.error(), {"no session 'missing'"}));
    auto info = s.store->info("missing");
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.code(), Errc::not_found);
    EXPECT_TRUE(names(info.error(), {"no session 'missing'"}));
    auto verify = s.store->verify("missing");
    ASSERT_FALSE(verify.ok());
    EXPECT_EQ(verify.code(), Errc::not_found);
    EXPECT_TRUE(names(verify.error(), {"no session 'missing'"}));
  }
  EXPECT_FALSE(fs::exists(s.o.root / "missing"));
  EXPECT_EQ(s.store->list_sessions().value(), std::vector<std::string>{"s1"});
  s.expect_intact_and_appends();
}

TEST(LogStoreBadInput, secondWriterFromTheSameStoreAnotherStoreOrAnotherProcessIsWriterConflict) {
  Seeded s;
  auto expect_conflict = [&](LogStore& store, std::string_view who) {
    SCOPED_TRACE(who);
    auto log = store.open("s1", OpenMode::write);
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.code(), Errc::writer_conflict);
    EXPECT_TRUE(names(log.error(), {"'s1' already has a writer", detail::LockTable::file_path(s.o.root.string(),
                                                                  detail::LockTable::lock_slot("s1").file)}));
    SessionOptions so;
    so.store = std::shared_ptr<SessionStore>(&store, [](SessionStore*) {});
    so.session_id = "s1";
    EXPECT_EQ(Session::open(so).code(), Errc::writer_conflict);
  };
  auto other = LogStore::open(s.o).value();
  {
    auto writer = s.store->open("s1", OpenMode::write).value();
    expect_conflict(*s.store, "the same LogStore");
    expect_conflict(*other, "another LogStore on the root");
    EXPECT_TRUE(file_bytes(s.o.root) == s.files);
    EXPECT_TRUE(s.store->open("s1", OpenMode::read).ok());  // readers are never refused
  }
  // Another process holding the session's lock (as a writer in another process does): its
  // byte of its lock file <root>/LOCKS.xx (docs/store.md "Writer lock").
  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const std::string lock = detail::LockTable::file_path(s.o.root.string(), detail::LockTable::lock_slot("s1").file);
  struct flock byte {};
  byte.l_type = F_WRLCK;
  byte.l_whence = SEEK_SET;
  byte.l_start = static_cast<off_t>(detail::LockTable::lock_offset("s1"));
  byte.l_len = 1;
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // only async-signal-safe calls in the child
    ::close(ready[0]);
    ::close(release[1]);
    const int fd = ::open(lock.c_str(), O_RDWR);
    if (fd < 0 || ::fcntl(fd, F_OFD_SETLK, &byte) != 0) ::_exit(2);
    char c = 1;
    if (::write(ready[1], &c, 1) != 1) ::_exit(3);
    while (::read(release[0], &c, 1) > 0) {
    }  // until the parent closes its end
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char c = 0;
  const bool child_ready = ::read(ready[0], &c, 1) == 1;
  if (child_ready) {
    expect_conflict(*s.store, "another process");
    expect_conflict(*other, "another process, second store");
    EXPECT_TRUE(s.store->writer_active("s1").value());
  }
  ::close(release[1]);
  ::close(ready[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(child_ready) << "child could not take the lock, exit " << WEXITSTATUS(status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  s.expect_intact_and_appends();  // the refused opens left no lock behind
}

TEST(LogStoreBadInput, damagedSessionIsDamagedStoreInBothModesNamingFileAndOffsetAndTouchesNoFile) {
  struct Damage {
    std::string what;
    std::function<std::string(const fs::path& session_dir)> apply;  // returns the text the message must hold
  };
  const std::vector<Damage> damages = {
      {"a flipped byte in a secured record of the last segment",
       [](const fs::path& d) {
         // A record followed by later batches in the same segment: their watermarks prove it
         // was secured, so this is damage, not a torn tail (INV-9).
         const auto seg = segment_files(d).back();
         const auto offs = frame_offsets(seg);
         EXPECT_GE(offs.size(), 6u);
         const std::uint64_t at = offs[offs.size() >= 6 ? offs.size() - 6 : 0];
         flip_byte(seg, at + 40);
         return seg.string() + " offset " + std::to_string(at);
       }},
      {"a flipped byte in an earlier segment",
       [](const fs::path& d) {
         const auto seg = segment_files(d)[1];
         const auto offs = frame_offsets(seg);
         flip_byte(seg, offs[0] + 33);
         return seg.string() + " offset " + std::to_string(offs[0]);
       }},
      {"a garbage segment",
       [](const fs::path& d) {
         const auto seg = segment_files(d)[2];
         std::ofstream(seg, std::ios::binary | std::ios::trunc) << std::string(3000, 'g');
         return seg.string() + " offset 0";
       }},
      {"a missing middle segment (a sequence gap)",
       [](const fs::path& d) {
         const auto segs = segment_files(d);
         fs::remove(segs[2]);
         return std::string("missing");
       }},
  };
  for (const Damage& dmg : damages) {
    SCOPED_TRACE(dmg.what);
    Seeded s(4096, 110);  // five segments of about 24 records, the last holding 14
    ASSERT_GE(segment_files(s.o.root / "s1").size(), 4u);
    const std::string where = dmg.apply(s.o.root / "s1");
    const auto files = file_bytes(s.o.root);
    for (bool repair : {false, true}) {
      LogStoreOptions o = s.o;
      o.repair_damaged_tail = repair;
      auto store = LogStore::open(o).value();
      for (OpenMode mode : {OpenMode::read, OpenMode::write}) {
        if (repair && mode == OpenMode::read) continue;
        if (repair && dmg.what.find("last segment") != std::string::npos) continue;  // repairable: cut
        auto log = store->open("s1", mode);
        ASSERT_FALSE(log.ok()) << (mode == OpenMode::read ? "read" : "write") << (repair ? " repair" : "");
        EXPECT_EQ(log.code(), Errc::damaged_store);
        EXPECT_TRUE(names(log.error(), {"'s1'", where}));
      }
      auto report = store->verify("s1");
      ASSERT_TRUE(report.ok()) << report.error();
      EXPECT_TRUE(report->damaged);
    }
    EXPECT_TRUE(file_bytes(s.o.root) == files) << "a refused open changed the files";
    // Nothing was held: another session of the same root opens for writing.
    EXPECT_TRUE(s.store->open("s2", OpenMode::write).ok());
  }
}

// ---------------------------------------------------------------------------------------------
// SessionLog::append and the read calls on a LogStore handle

TEST(LogStoreBadInput, appendOnAReadHandleIsValidationErrorAndWritesNothing) {
  Seeded s;
  auto reader = s.store->open("s1", OpenMode::read).value();
  auto b = make_batch(kSeeded + 1, 3);
  Status st = reader->append(b.batch());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::validation_error);
  EXPECT_TRUE(names(st.error(), {"'s1'", "read-only", "OpenMode::write"}));
  EXPECT_EQ(reader->latest_sequence(), kSeeded);
  reader.reset();
  s.expect_intact_and_appends();
}

TEST(LogStoreBadInput, appendNotContinuingTheLatestSequenceIsSequenceConflictAndWritesNothing) {
  Seeded s;
  auto writer = s.store->open("s1", OpenMode::write).value();
  for (Sequence first : {Sequence{0}, Sequence{1}, kSeeded - 1, kSeeded, kSeeded + 2, kSeeded + 100,
                         std::numeric_limits<Sequence>::max() - 1}) {
    SCOPED_TRACE(first);
    auto b = make_batch(first, 2);
    Status st = writer->append(b.batch());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Errc::sequence_conflict);
    EXPECT_TRUE(names(st.error(), {"'s1'", "batch starts at sequence " + std::to_string(first),
                                   "the log's last is " + std::to_string(kSeeded)}));
    EXPECT_TRUE(same_contents(s.before, take_snapshot(*writer)));
    EXPECT_TRUE(file_bytes(s.o.root) == s.files);
  }
  writer.reset();
  s.expect_intact_and_appends();
}

TEST(LogStoreBadInput, appendWithMismatchedOrForeignRecordsIsValidationErrorNamingTheRecordAndWritesNothing) {
  Seeded s;
  auto writer = s.store->open("s1", OpenMode::write).value();
  auto b = make_batch(kSeeded + 1, 3);
  const AppendBatch full = b.batch();
  auto expect_refused = [&](const AppendBatch& bad, std::initializer_list<std::string_view> shown) {
    Status st = writer->append(bad);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Errc::validation_error);
    EXPECT_TRUE(names(st.error(), shown));
    EXPECT_TRUE(same_contents(s.before, take_snapshot(*writer)));
    EXPECT_TRUE(file_bytes(s.o.root) == s.files) << "a refused batch reached the files";
  };
  {
    SCOPED_TRACE("fewer records than events");
    AppendBatch bad = full;
    bad.records = full.records.first(2);
    expect_refused(bad, {"3 events but 2 records"});
  }
  {
    SCOPED_TRACE("more records than events");
    AppendBatch bad = full;
    bad.events = full.events.first(2);
    expect_refused(bad, {"2 events but 3 records"});
  }
  // Records that are not the EventRecord of their sequence: another sequence, a size field
  // that disagrees with the span, a span shorter than a record header.
  auto other = make_batch(kSeeded + 2, 1);  // encodes sequence kSeeded + 2
  std::vector<std::byte> resized(full.records[1].begin(), full.records[1].end());
  resized.push_back(std::byte{0});  // size field says n, span holds n + 1
  const std::vector<std::byte> header_short(full.records[2].begin(), full.records[2].begin() + 20);
  struct Foreign {
    std::size_t index;
    std::span<const std::byte> record;
    const char* what;
  };
  for (const Foreign& f : {Foreign{0, other.batch().records[0], "record of another sequence"},
                           Foreign{1, std::span<const std::byte>(resized), "size field disagrees"},
                           Foreign{2, std::span<const std::byte>(header_short), "shorter than a header"}}) {
    SCOPED_TRACE(f.what);
    std::vector<std::span<const std::byte>> records(full.records.begin(), full.records.end());
    records[f.index] = f.record;
    AppendBatch bad = full;
    bad.records = records;
    const std::string shown = "record " + std::to_string(f.index) + " is not the EventRecord of sequence " +
                              std::to_string(kSeeded + 1 + f.index);
    expect_refused(bad, {shown});
  }
  EXPECT_TRUE(writer->append(full).ok());  // the same batch, intact, is accepted
  expect_events_1_to_n(*writer, kSeeded + 3);
}

TEST(LogStoreBadInput, findByIdOfAnUnknownIdIsNotFoundNamingTheId) {
  Seeded s;
  for (OpenMode mode : {OpenMode::read, OpenMode::write}) {
    auto log = s.store->open("s1", mode).value();
    for (std::string id : {std::string(), std::string("nope"), std::string("evt-0"), std::string("evt-6")}) {
      SCOPED_TRACE(id);
      auto e = log->find_by_id(id);
      ASSERT_FALSE(e.ok());
      EXPECT_EQ(e.code(), Errc::not_found);
      EXPECT_TRUE(names(e.error(), {"'s1' has no event with id '" + id + "'"}));
    }
    EXPECT_EQ(log->find_by_id("evt-3").value(), s.before.events[2]);
  }
  s.expect_intact_and_appends();
}

TEST(LogStoreBadInput, readOfAnEmptyOrInvertedRangeIsOkAndVisitsNothing) {
  Seeded s;
  for (OpenMode mode : {OpenMode::read, OpenMode::write})
    test::expect_empty_ranges_visit_nothing(*s.store->open("s1", mode).value(), kSeeded);
  s.expect_intact_and_appends();
}

TEST(LogStoreBadInput, waitForWithAPassedDeadlineReturnsTheLatestAtOnce) {
  Seeded s;
  for (OpenMode mode : {OpenMode::read, OpenMode::write}) {
    auto log = s.store->open("s1", mode).value();
    for (auto deadline : {Deadline::min(), std::chrono::steady_clock::now() - 1h}) {
      for (Sequence after : {kSeeded, kSeeded + 1, std::numeric_limits<Sequence>::max()}) {
        auto r = log->wait_for(after, deadline);
        ASSERT_TRUE(r.ok()) << r.error();
        EXPECT_EQ(*r, kSeeded);
      }
    }
  }
  s.expect_intact_and_appends();
}
