// LockTable / WriterLock (engine/log_lock.cpp): every session's writer lock of a LogStore is
// one byte of one of 64 lock files <root>/LOCKS.xx, so any number of them hold at most 64
// descriptors; the kernel's lock list of each file holds 1/64 of them; conflicts across
// tables and processes come from the kernel, within a table from the table's map; a hash
// collision inside one table refuses nobody (docs/store.md "Writer lock").
#include "detail/log_lock.hpp"
#include "detail/log_lock_table.hpp"
#include "log_test_util.hpp"
#include "oracle.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sessionring {
namespace {

namespace fs = std::filesystem;
using detail::LockTable;
using detail::WriterLock;
using test::TempDir;

std::size_t open_descriptors() {
  std::size_t n = 0;
  for (auto it = fs::directory_iterator("/proc/self/fd"); it != fs::directory_iterator(); ++it) ++n;
  return n;
}

/// prefix + n, with append (GCC 12 -Wrestrict false positive on "x" + std::string, PR 105329).
std::string numbered(const char* prefix, std::size_t n) {
  std::string s = prefix;
  s += std::to_string(n);
  return s;
}

std::string dir_of(const TempDir& d, const std::string& id) {
  fs::create_directories(d.path() / id);
  return (d.path() / id).string();
}

TEST(LogLock, sixtyFourDescriptorsAtMostServeTheLocksOfThousandsOfSessions) {
  TempDir dir;
  const std::size_t before = open_descriptors();
  auto table = LockTable::open(dir.path().string()).value();
  std::vector<WriterLock> locks;
  const std::size_t n = test::scaled(2000, 10000, 100);
  for (std::size_t i = 0; i < n; ++i) {
    auto l = table->acquire(numbered("s-", i), (dir.path() / "none").string());
    ASSERT_TRUE(l) << l.error();
    locks.push_back(std::move(*l));
  }
  // The table's lock files <root>/LOCKS.00..3f that these ids fell in, nothing per session.
  EXPECT_LE(table->open_files(), LockTable::kFiles);
  EXPECT_GE(table->open_files(), std::min<std::size_t>(n, LockTable::kFiles) / 2);
  EXPECT_EQ(open_descriptors(), before + table->open_files());
  EXPECT_TRUE(table->held("s-7").value());
  locks.clear();
  EXPECT_FALSE(LockTable::open(dir.path().string()).value()->held("s-7").value());
}

TEST(LogLock, secondAcquireOfAHeldIdIsWriterConflictInTheTableAndAcrossTables) {
  TempDir dir;
  auto a = LockTable::open(dir.path().string()).value();
  auto b = LockTable::open(dir.path().string()).value();  // another LogStore on the root
  auto held = a->acquire("s1", dir_of(dir, "s1"));
  ASSERT_TRUE(held) << held.error();
  auto again = a->acquire("s1", dir_of(dir, "s1"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.code(), Errc::writer_conflict);
  EXPECT_NE(again.error().message().find("in this process"), std::string::npos) << again.error();
  auto other = b->acquire("s1", dir_of(dir, "s1"));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.code(), Errc::writer_conflict);
  EXPECT_NE(other.error().message().find(LockTable::file_path(dir.path().string(), LockTable::lock_slot("s1").file)),
            std::string::npos)
      << other.error();
  EXPECT_TRUE(b->held("s1").value());
  EXPECT_TRUE(LockTable::held_by_anyone(dir.path().string(), "s1").value());
  EXPECT_TRUE(b->acquire("s2", dir_of(dir, "s2")));  // other sessions are free
  held->release();
  EXPECT_FALSE(b->held("s1").value());
  EXPECT_TRUE(b->acquire("s1", dir_of(dir, "s1")));
}

TEST(LogLock, hashCollisionInsideOneTableSharesTheByteAndRefusesNobody) {
  TempDir dir;
  // One bit of offset: every id lands on byte 0 or 1, so collisions are certain.
  auto a = LockTable::open(dir.path().string(), 1).value();
  auto b = LockTable::open(dir.path().string(), 1).value();
  std::vector<std::string> on_zero;
  for (std::size_t i = 0; on_zero.size() < 3; ++i)
    if (LockTable::lock_offset(numbered("c", i), 1) == 0) on_zero.push_back(numbered("c", i));
  std::vector<WriterLock> locks;
  for (const auto& id : on_zero) {
    auto l = a->acquire(id, dir_of(dir, id));
    ASSERT_TRUE(l) << id << ": " << l.error();
    locks.push_back(std::move(*l));
  }
  EXPECT_EQ(a->acquire(on_zero[1], dir_of(dir, on_zero[1])).code(), Errc::writer_conflict);  // same id: still refused
  // Across tables a collision is indistinguishable from a writer of the same id (documented).
  EXPECT_EQ(b->acquire(on_zero[0], dir_of(dir, on_zero[0])).code(), Errc::writer_conflict);
  locks[0].release();
  locks[1].release();
  EXPECT_EQ(b->acquire(on_zero[0], dir_of(dir, on_zero[0])).code(), Errc::writer_conflict)
      << "the byte stays locked while a colliding id of the table holds it";
  locks[2].release();
  EXPECT_TRUE(b->acquire(on_zero[0], dir_of(dir, on_zero[0])));
}

TEST(LogLock, killedHolderInAnotherProcessReleasesItsLock) {
  TempDir dir;
  const std::string root = dir.path().string();
  const std::string sdir = dir_of(dir, "k");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();  // this test has no other thread: the child may use the library
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    auto t = LockTable::open(root);
    if (!t) ::_exit(2);
    auto l = (*t)->acquire("k", sdir);
    if (!l) ::_exit(3);
    char c = 1;
    if (::write(ready[1], &c, 1) != 1) ::_exit(4);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  auto mine = LockTable::open(root).value();
  EXPECT_EQ(mine->acquire("k", sdir).code(), Errc::writer_conflict);
  EXPECT_TRUE(mine->held("k").value());
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_FALSE(mine->held("k").value());
  EXPECT_TRUE(mine->acquire("k", sdir));
}

TEST(LogLock, olderBuildsFlockOnTheSessionLockFileIsWriterConflict) {
  TempDir dir;
  const std::string sdir = dir_of(dir, "old");
  const int fd = ::open((sdir + "/LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);  // as a writer of the previous layout holds it
  auto table = LockTable::open(dir.path().string()).value();
  auto l = table->acquire("old", sdir);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.code(), Errc::writer_conflict);
  EXPECT_NE(l.error().message().find("older sessionring"), std::string::npos) << l.error();
  EXPECT_FALSE(table->held("old").value()) << "a refused acquire leaves its byte unlocked";
  ::close(fd);
  EXPECT_TRUE(table->acquire("old", sdir)) << "a LOCK file nobody holds is ignored";
}

TEST(LogLock, storeWithoutLocksFileHasNoWriter) {
  TempDir dir;
  EXPECT_FALSE(LockTable::held_by_anyone(dir.path().string(), "s").value());
  for (const auto& e : fs::directory_iterator(dir.path())) ADD_FAILURE() << "probing created " << e.path();
}

}  // namespace
}  // namespace sessionring
