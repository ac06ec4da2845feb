// Back-pressure costs no allocation (engine/producer.cpp): an append refused with queue_full —
// no credit left (moodycamel and Boost), or the Boost queue itself full — allocates nothing,
// like Aeron's BACK_PRESSURED. This binary counts every operator new of the process
// (tools/alloc_counting_new.cpp, the same counter the `sessionring bench` allocation figures use).
#include "oracle.hpp"

#include "../tools/alloc_counter.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace sessionring;
using namespace sessionring::test;

namespace {

/// A session whose sequencer is parked inside a blocked append: nothing is popped any more, so
/// the producer's credit (and the Boost queue) stay exhausted.
void expect_refusals_allocate_nothing(QueueBackend backend, std::uint32_t capacity) {
  auto store = std::make_shared<ControlledStore>();
  SessionOptions o = options(store);
  o.queue = backend;
  o.ingest_capacity = capacity;
  auto s = Session::open(o);
  ASSERT_TRUE(s.ok()) << s.error();
  auto p = s->producer();
  ASSERT_TRUE(p.ok());
  Watchdog dog("queue_full refusals");
  store->control().block_appends();
  ASSERT_TRUE(p->append(ev(EventType::run_started, "r", "blocker")).ok());
  ASSERT_TRUE(store->control().wait_blocked(1));
  const EventInput e = ev(EventType::message_streamed, "r", "payload of a refused event");
  for (;;) {  // fill what is left
    Status st = p->append(e, AppendOptions::fail_fast());
    if (!st) {
      ASSERT_EQ(st.code(), Errc::queue_full) << st.error();
      break;
    }
  }
  constexpr int kRefusals = 1000;
  const std::uint64_t before = tools::allocation_count();
  int refused = 0;
  for (int i = 0; i < kRefusals; ++i) refused += p->append(e, AppendOptions::fail_fast()).code() == Errc::queue_full;
  const std::uint64_t allocations = tools::allocation_count() - before;
  EXPECT_EQ(refused, kRefusals);
  EXPECT_EQ(allocations, 0u) << "allocations in " << kRefusals << " queue_full refusals";
  // The refusal still says what is wrong.
  Status st = p->append(e, AppendOptions::fail_fast());
  EXPECT_NE(st.error().message().find("is full"), std::string::npos) << st.error();
  EXPECT_NE(st.error().message().find("'s1'"), std::string::npos) << st.error();
  store->control().unblock_appends();
}

/// Appends `n` events of `data` and waits until the sequencer has taken them all.
void append_all(Session& s, Producer& p, std::string_view data, std::size_t n, Sequence& last) {
  for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(p.append(ev(EventType::message_streamed, "r", data)).ok());
  last += n;
  const auto until = std::chrono::steady_clock::now() + patience();
  while (s.latest_sequence() < last && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(s.latest_sequence(), last);
}

/// Records too large for an IngestItem's inline bytes travel in SpillPool blocks that the
/// sequencer gives back to the producer: once as many blocks circulate as the queue holds, a
/// stream of such events allocates nothing (each took a `new std::byte[]` before).
void expect_large_events_allocate_nothing(QueueBackend backend) {
  SessionOptions o = options();
  o.queue = backend;
  o.ingest_capacity = 64;
  auto s = Session::open(o);
  ASSERT_TRUE(s.ok()) << s.error();
  auto p = s->producer();
  ASSERT_TRUE(p.ok());
  const std::string data(1024, 'x');  // a 1 KiB payload: over IngestItem::kInlineBytes
  Sequence last = 0;
  append_all(*s, *p, data, 2000, last);  // the blocks of one credit window come into circulation
  constexpr std::size_t kEvents = 20'000;
  const std::uint64_t before = tools::allocation_count();
  append_all(*s, *p, data, kEvents, last);
  const std::uint64_t allocations = tools::allocation_count() - before;
  // The store's own growth may allocate now and then (its chunk directory); an allocation per
  // event would be 20,000.
  EXPECT_LT(allocations, kEvents / 100) << "allocations for " << kEvents << " events of 1 KiB";
  EXPECT_TRUE(s->stop().ok());
}

}  // namespace

TEST(ProducerAllocation, queueFullRefusalWithoutCreditAllocatesNothing) {
  expect_refusals_allocate_nothing(QueueBackend::moodycamel, 8);
}

TEST(ProducerAllocation, queueFullRefusalOfTheBoostBackendAllocatesNothing) {
  expect_refusals_allocate_nothing(QueueBackend::boost_lockfree, 8);
}

TEST(ProducerAllocation, eventsLargerThanAQueueItemAllocateNothingOnceTheirSpillBlocksCirculate) {
  expect_large_events_allocate_nothing(QueueBackend::moodycamel);
}

TEST(ProducerAllocation, eventsLargerThanAQueueItemAllocateNothingOnTheBoostBackendToo) {
  expect_large_events_allocate_nothing(QueueBackend::boost_lockfree);
}

// A batch of one event (append_wait answers each before the next) is the sequencer's worst case
// for per-batch costs: the store's batch checks once built their error text for every batch,
// two allocations per batch that the unpaced benchmark showed as 0.002 per event.
TEST(ProducerAllocation, batchesOfOneEventAllocateNothingPerBatch) {
  auto s = Session::open(options(MemoryStore::create(), "a-session-id-longer-than-sso"));
  ASSERT_TRUE(s.ok()) << s.error();
  auto p = s->producer();
  ASSERT_TRUE(p.ok());
  const EventInput e = ev(EventType::message_streamed, "r", "64 bytes or so of payload, inline in the queue item");
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(p->append_wait(e).ok());  // warm-up: buffers reach their size
  constexpr int kBatches = 5000;
  const std::uint64_t before = tools::allocation_count();
  for (int i = 0; i < kBatches; ++i) ASSERT_TRUE(p->append_wait(e).ok());
  const std::uint64_t allocations = tools::allocation_count() - before;
  EXPECT_LT(allocations, 50u) << "allocations for " << kBatches << " batches of one event";
  EXPECT_TRUE(s->stop().ok());
}

TEST(ProducerAllocation, theCounterSeesAnAllocation) {  // the claims above could not pass vacuously
  const std::uint64_t before = tools::allocation_count();
  auto* p = new std::string(100, 'x');
  EXPECT_GE(tools::allocation_count() - before, 1u);
  delete p;
}
