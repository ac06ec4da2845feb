// Crash safety of the log store under the full engine (INV-1, INV-2, INV-5, INV-9): a child
// process runs a Session on a LogStore — producers appending at full speed, a pull subscriber
// backfilling from the first event and a push subscriber — and is SIGKILLed at a random
// moment (sometimes while it is still opening, i.e. recovering). After each kill the parent
// checks: the store opens; it holds sequences 1..N, every record intact, no gap; each
// producer's events form a gap-free prefix in order; every event a subscriber of a
// buffered/fsync store saw is stored (published => secured). Quick mode (CI): 12 kills;
// full mode (SESSIONRING_TEST_MODE=full): 240; the environment variable SESSIONRING_KILLS overrides.
#include "log_test_util.hpp"

#include <sessionring/log_store.hpp>
#include <sessionring/session.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sessionring {
namespace {

using namespace std::chrono_literals;

constexpr int kProducers = 2;

// Shared with the child through a MAP_SHARED page. Lock-free 64-bit atomics work across processes.
struct Shared {
  // Child subscribers: fetch-max of every sequence they were delivered (release); parent:
  // acquire after waitpid (the child is dead by then; the order only matters for TSan).
  std::atomic<std::uint64_t> max_seen{0};
  // Child: 1 once the session is open (release); parent: polls it (acquire) to time the kill.
  std::atomic<std::uint32_t> ready{0};
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "cross-process atomics must be lock-free");

std::string payload_of(std::string_view id, std::uint64_t i) {
  return std::string(id) + "|" + std::string(i % 97, static_cast<char>('a' + i % 26));
}

void note_seen(Shared& shared, Sequence s) {
  std::uint64_t cur = shared.max_seen.load(std::memory_order_relaxed);  // relaxed: the CAS below decides
  while (cur < s && !shared.max_seen.compare_exchange_weak(cur, s, std::memory_order_release,
                                                          std::memory_order_relaxed)) {
  }
}

[[noreturn]] void run_child(const LogStoreOptions& o, const std::string& session_id, int run, Shared& shared) {
  auto store = LogStore::open(o);
  if (!store) _exit(10);
  SessionOptions so;
  so.store = *store;
  so.session_id = session_id;
  so.ring_capacity = 1024;
  auto session = Session::open(so);
  if (!session) {
    std::fprintf(stderr, "child: Session::open failed: %s\n", session.error().describe().c_str());
    _exit(11);
  }
  auto pull = session->subscribe();
  if (!pull) _exit(12);
  SubscribeOptions po;
  po.from_sequence = session->latest_sequence() + 1;
  auto push = session->subscribe_push(po, [&](const EventView& e) { note_seen(shared, e.sequence_number); });
  if (!push) _exit(13);
  shared.ready.store(1, std::memory_order_release);  // pairs with the parent's acquire
  std::vector<std::thread> producers;
  for (int t = 0; t < kProducers; ++t)
    producers.emplace_back([&, t] {
      std::string prefix = "r";
      prefix += std::to_string(run);
      prefix += "-p";
      prefix += std::to_string(t);
      prefix += "-";
      auto p = session->producer();
      if (!p) _exit(14);
      for (std::uint64_t i = 0;; ++i) {
        std::string id = prefix;  // (appends, not "r" + ...: GCC 12 -Wrestrict false positive, PR 105329)
        id += std::to_string(i);
        const std::string data = payload_of(id, i);
        EventInput in;
        in.type = EventType::message_streamed;
        in.run_id = t == 0 ? "p0" : "p1";
        in.id = id;
        in.data = data;
        if (!p->append(in)) _exit(15);
      }
    });
  for (;;) {
    auto n = pull->poll_wait([&](const EventView& e) { note_seen(shared, e.sequence_number); },
                             std::chrono::steady_clock::now() + 100ms);
    if (!n) _exit(16);
  }
}

struct Parsed {
  int run = -1, producer = -1;
  std::uint64_t index = 0;
};

bool parse_id(std::string_view id, Parsed& out) {
  // r<run>-p<producer>-<index>
  if (id.size() < 6 || id[0] != 'r') return false;
  const char* p = id.data() + 1;
  const char* end = id.data() + id.size();
  auto r1 = std::from_chars(p, end, out.run);
  if (r1.ec != std::errc{} || r1.ptr + 2 >= end || r1.ptr[0] != '-' || r1.ptr[1] != 'p') return false;
  auto r2 = std::from_chars(r1.ptr + 2, end, out.producer);
  if (r2.ec != std::errc{} || r2.ptr + 1 >= end || r2.ptr[0] != '-') return false;
  auto r3 = std::from_chars(r2.ptr + 1, end, out.index);
  return r3.ec == std::errc{} && r3.ptr == end;
}

/// Checks one session after a kill; returns the latest sequence.
Sequence check_session(const LogStoreOptions& o, const std::string& id, OpenMode mode, Sequence seen, bool seen_must_be_stored) {
  auto store = LogStore::open(o).value();
  auto log = store->open(id, mode);
  if (!log && log.code() == Errc::not_found && seen == 0) return 0;  // killed before it created the session
  EXPECT_TRUE(log) << log.error();
  if (!log) return 0;
  const Sequence latest = (*log)->latest_sequence();
  if (seen_must_be_stored) {
    EXPECT_GE(latest, seen) << "a subscriber saw a sequence the store lost (INV-2)";
  }
  Sequence expect = 1;
  std::map<std::pair<int, int>, std::uint64_t> next_index;  // per run and producer: the next index (INV-5)
  Status st = (*log)->read(EventQuery{}, [&](const EventView& e) {
    EXPECT_EQ(e.sequence_number, expect) << "gap or reorder (INV-1)";
    expect = e.sequence_number + 1;
    Parsed p;
    EXPECT_TRUE(parse_id(e.id, p)) << e.id;
    EXPECT_EQ(e.data, payload_of(e.id, p.index)) << "sequence " << e.sequence_number;
    auto& next = next_index[{p.run, p.producer}];
    EXPECT_EQ(p.index, next) << e.id << " out of order or after a gap in its producer's events";
    next = p.index + 1;
    return !::testing::Test::HasFailure();
  });
  EXPECT_TRUE(st) << st.error();
  EXPECT_EQ(expect - 1, latest);
  auto v = store->verify(id);
  EXPECT_TRUE(v && v->ok()) << (v ? v->problem : v.error().describe());
  return latest;
}

TEST(LogKill, sigkillAtRandomMomentsLeavesAnIntactContiguousPrefix) {
  int kills = SESSIONRING_TEST_FULL ? 240 : 12;
  if (const char* env = std::getenv("SESSIONRING_KILLS")) kills = std::max(1, std::atoi(env));  // ad-hoc longer runs
  const int per_session = SESSIONRING_TEST_FULL ? 20 : 6;
  test::TempDir dir;
  void* mem = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* shared = new (mem) Shared();
  std::mt19937_64 rng(std::random_device{}());
  const Durability levels[] = {Durability::buffered, Durability::fsync, Durability::none};
  Sequence total = 0;
  for (int k = 0; k < kills && !HasFailure(); ++k) {
    const int session_no = k / per_session;
    const std::string id = "kill-" + std::to_string(session_no);
    auto o = test::options_in(dir, levels[session_no % 3]);
    o.segment_bytes = 256 << 10;
    o.index_every_records = 64;
    SCOPED_TRACE("kill " + std::to_string(k) + ", durability " + std::string(to_string(o.durability)));
    shared->max_seen.store(0, std::memory_order_relaxed);  // relaxed: no child runs now
    shared->ready.store(0, std::memory_order_relaxed);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) run_child(o, id, k, *shared);
    const bool early = rng() % 5 == 0;  // kill while the child may still be opening (recovering)
    if (early) {
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
    } else {
      const auto until = std::chrono::steady_clock::now() + 20s;
      while (shared->ready.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < until) {  // pairs with the child's release
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          ADD_FAILURE() << "child exited early with status " << status;
          break;
        }
        std::this_thread::sleep_for(100us);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 40000));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
      if (WIFEXITED(status)) ADD_FAILURE() << "child exited with code " << WEXITSTATUS(status) << " instead of being killed";
    }
    const Sequence seen = shared->max_seen.load(std::memory_order_acquire);  // pairs with note_seen's release
    const OpenMode mode = k % 2 == 0 ? OpenMode::read : OpenMode::write;  // write: the parent recovers; read: the next child does
    const Sequence latest = check_session(o, id, mode, seen, o.durability != Durability::none);
    if (k % per_session == per_session - 1) total += latest;
  }
  ::munmap(mem, sizeof(Shared));
  EXPECT_GT(total, 0u) << "the children stored nothing";
  std::printf("[kill test] %d kills, %llu events checked in completed sessions\n", kills,
              static_cast<unsigned long long>(total));
}

}  // namespace
}  // namespace sessionring
