// At-least-once across a crash of a durable subscriber (docs/design.md §7 "Durable
// subscriptions"): a child process subscribes with durable_name "worker" on a LogStore
// (Durability::fsync), processes events in order (one atomic increment per event in a shared
// page), commits every 7th processed event (write-through in even rounds, coalesced by a 2 ms
// commit_interval in odd rounds) and is SIGKILLed at a random moment. After each kill the
// parent checks the exact contract:
//  * nothing lost: every event up to the stored position was processed;
//  * the stored position never exceeds what was processed, and never moves back;
//  * each round processed exactly stored_before + 1 .. some last event, contiguous: so the
//    events delivered again are exactly those after the last stored commit, and nothing else.
// A final in-process subscriber resumes and drains the rest; then every event was processed at
// least once, and more than once only inside such a redelivered range.
#include "log_test_util.hpp"
#include "oracle.hpp"

#include <sessionring/log_store.hpp>
#include <sessionring/session.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sessionring {
namespace {

using namespace std::chrono_literals;
constexpr Sequence kEvents = 3000;

// Shared with the child through a MAP_SHARED page; lock-free atomics work across processes.
struct Shared {
  // Child: one fetch_add per processed event (relaxed: the parent reads after waitpid, which
  // orders everything the dead child did). Parent: reads after waitpid.
  std::atomic<std::uint32_t> processed[kEvents + 1];
  // Child: 1 once subscribed (release); parent: polls it (acquire, pairs with it) to time the kill.
  std::atomic<std::uint32_t> ready;
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "cross-process atomics must be lock-free");

LogStoreOptions store_options(const test::TempDir& dir) {
  LogStoreOptions o;
  o.root = dir.path();
  o.durability = Durability::fsync;
  return o;
}

SubscribeOptions worker(int round) {
  SubscribeOptions so;
  so.durable_name = "worker";
  so.commit_interval = round % 2 == 0 ? 0ms : 2ms;
  return so;
}

[[noreturn]] void run_child(const LogStoreOptions& o, int round, Shared& shared) {
  auto store = LogStore::open(o);
  if (!store) _exit(10);
  auto session = Session::open(test::options(*store, "s"));
  if (!session) _exit(11);
  auto sub = session->subscribe(worker(round));
  if (!sub) _exit(12);
  shared.ready.store(1, std::memory_order_release);  // pairs with the parent's acquire
  for (;;) {
    auto r = sub->poll_wait(
        [&](const EventView& v) {
          std::this_thread::sleep_for(20us);  // "work"
          shared.processed[v.sequence_number].fetch_add(1, std::memory_order_relaxed);
          if (v.sequence_number % 7 == 0) (void)sub->commit(v.sequence_number);
        },
        std::chrono::steady_clock::now() + 100ms);
    if (!r) _exit(13);
  }
}

Sequence stored_position(const LogStoreOptions& o) {
  LogStoreOptions ro = o;
  ro.read_only = true;
  auto store = LogStore::open(ro);
  EXPECT_TRUE(store.ok()) << store.error();
  auto log = (*store)->open("s", OpenMode::read);
  EXPECT_TRUE(log.ok()) << log.error();
  auto p = (*log)->read_cursor("worker");
  if (p.code() == Errc::not_found) return 0;
  EXPECT_TRUE(p.ok()) << p.error();
  return p.ok() ? *p : 0;
}

TEST(DurableCursorKill, afterSigkillTheNamedSubscriberRedeliversExactlyTheEventsAfterTheLastStoredCommitAndLosesNone) {
  test::TempDir dir;
  const LogStoreOptions o = store_options(dir);
  {
    auto store = LogStore::open(o).value();
    // A dedicated sequencer, joined by the session's end: the parent has no thread left when it
    // forks (the default pool's threads would live on, and a child of a multi-threaded parent
    // may not start threads under ThreadSanitizer).
    SessionOptions so = test::options(store, "s");
    so.dedicated_sequencer = true;
    auto session = Session::open(so);
    ASSERT_TRUE(session.ok()) << session.error();
    for (Sequence i = 0; i < kEvents; ++i)
      (void)session->append(test::ev(EventType::message_streamed, "r", std::to_string(i)));
    while (session->latest_sequence() < kEvents) std::this_thread::sleep_for(1ms);
  }
  void* mem = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* shared = new (mem) Shared();
  std::vector<std::uint32_t> before(kEvents + 1);
  std::mt19937 rng(12345);
  const int rounds = test::kFull ? 40 : 8;
  Sequence stored = 0;
  int redelivered_rounds = 0;
  for (int round = 0; round < rounds && stored < kEvents - 200; ++round) {
    for (Sequence s = 1; s <= kEvents; ++s) before[s] = shared->processed[s].load(std::memory_order_relaxed);
    shared->ready.store(0, std::memory_order_relaxed);  // relaxed: no child runs now
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) run_child(o, round, *shared);
    while (shared->ready.load(std::memory_order_acquire) == 0) {  // pairs with the child's release
      int status = 0;
      ASSERT_NE(::waitpid(pid, &status, WNOHANG), pid) << "child exited early, status " << status;
      std::this_thread::sleep_for(200us);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(2000, 30000)(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);

    const Sequence now_stored = stored_position(o);
    EXPECT_GE(now_stored, stored) << "round " << round << ": the stored position moved back";
    // Which events this round processed: must be stored + 1 .. last, contiguous.
    Sequence first = 0, last = 0;
    for (Sequence s = 1; s <= kEvents; ++s) {
      const std::uint32_t got = shared->processed[s].load(std::memory_order_relaxed) - before[s];
      ASSERT_LE(got, 1u) << "round " << round << " processed " << s << " twice";
      if (got == 1) {
        if (first == 0) first = s;
        ASSERT_EQ(last + 1 == s || last == 0, true) << "round " << round << ": gap before " << s;
        last = s;
      }
    }
    if (first != 0) {
      EXPECT_EQ(first, stored + 1) << "round " << round << " did not resume right after the stored position";
      if (last > now_stored) ++redelivered_rounds;
    }
    EXPECT_LE(now_stored, std::max(last, stored)) << "round " << round << " stored a position it had not processed";
    for (Sequence s = 1; s <= now_stored; ++s)
      ASSERT_GE(shared->processed[s].load(std::memory_order_relaxed), 1u) << "event " << s << " lost";
    stored = now_stored;
  }
  // The last subscriber: resumes after the stored position and drains the rest.
  {
    auto store = LogStore::open(o).value();
    // A dedicated sequencer, joined by the session's end: the parent has no thread left when it
    // forks (the default pool's threads would live on, and a child of a multi-threaded parent
    // may not start threads under ThreadSanitizer).
    SessionOptions so = test::options(store, "s");
    so.dedicated_sequencer = true;
    auto session = Session::open(so);
    ASSERT_TRUE(session.ok()) << session.error();
    auto sub = session->subscribe(worker(0));
    ASSERT_TRUE(sub.ok()) << sub.error();
    EXPECT_EQ(sub->cursor(), stored + 1);
    auto rest = test::drain(*sub, kEvents - stored);
    ASSERT_EQ(rest.size(), kEvents - stored);
    for (const auto& e : rest) shared->processed[e.sequence_number].fetch_add(1, std::memory_order_relaxed);
  }
  for (Sequence s = 1; s <= kEvents; ++s)
    ASSERT_GE(shared->processed[s].load(std::memory_order_relaxed), 1u) << "event " << s << " never processed";
  std::printf(
      "durable cursor kill: %d rounds, %d ended with events processed after the last stored commit "
      "(redelivered next round)\n",
      rounds, redelivered_rounds);
  ::munmap(mem, sizeof(Shared));
}

}  // namespace
}  // namespace sessionring
