// The two ingest backends. Both are templates over the element type in their libraries; this
// file is the only one that includes them (see engine/CMakeLists.txt about -Wno-tsan).
#include "detail/ingest_queue.hpp"

#include <concurrentqueue/concurrentqueue.h>

#include <boost/lockfree/policies.hpp>
#include <boost/lockfree/queue.hpp>

#include <algorithm>

namespace sessionring::detail {
namespace {

// moodycamel: explicit producer tokens keep each producer's order (INV-5); items are copied
// into per-producer blocks, which the producer recycles once drained, so a bounded number of
// items in flight per producer means a bounded number of blocks and no allocation in steady state.
struct IngestTraits : moodycamel::ConcurrentQueueDefaultTraits {
  static const std::size_t BLOCK_SIZE = 64;
  static const std::size_t EXPLICIT_INITIAL_INDEX_SIZE = 64;
};

class MoodycamelIngest final : public IngestQueue {
 public:
  explicit MoodycamelIngest(std::uint32_t capacity)
      // One block's capacity and no producer counts: no initial block pool. Each producer
      // allocates its blocks when it first needs them and recycles them afterwards, so an idle
      // session holds none (the pool used to be 2 x capacity items, 2 MiB at the defaults,
      // with a page touched per block).
      : queue_(IngestTraits::BLOCK_SIZE, 0, 0),
        consumer_(queue_) {
    (void)capacity;
  }
  std::unique_ptr<Token> make_token() override { return std::make_unique<MoodyToken>(queue_); }
  bool push(Token& token, const IngestItem& item) override {
    return queue_.enqueue(static_cast<MoodyToken&>(token).token, item);
  }
  std::size_t pop_bulk(IngestItem* out, std::size_t max) override {
    return queue_.try_dequeue_bulk(consumer_, out, max);
  }
  std::size_t size_approx() const override { return queue_.size_approx(); }

 private:
  using Queue = moodycamel::ConcurrentQueue<IngestItem, IngestTraits>;
  struct MoodyToken final : Token {
    explicit MoodyToken(Queue& q) : token(q) {}
    moodycamel::ProducerToken token;
  };
  Queue queue_;
  moodycamel::ConsumerToken consumer_;
};

// Boost.Lockfree: an MPMC queue with a CAS per push and per pop, fixed capacity (< 65535
// nodes); measured as the alternative backend. FIFO per producer holds (linearizable queue).
class BoostIngest final : public IngestQueue {
 public:
  explicit BoostIngest(std::uint32_t capacity) : queue_(capacity) {}
  std::unique_ptr<Token> make_token() override { return std::make_unique<Token>(); }
  bool push(Token&, const IngestItem& item) override { return queue_.bounded_push(item); }
  std::size_t pop_bulk(IngestItem* out, std::size_t max) override {
    std::size_t n = 0;
    while (n < max && queue_.pop(out[n])) ++n;
    return n;
  }
  std::size_t size_approx() const override { return queue_.empty() ? 0 : 1; }

 private:
  boost::lockfree::queue<IngestItem, boost::lockfree::fixed_sized<true>> queue_;
};

}  // namespace

std::unique_ptr<IngestQueue> IngestQueue::create(QueueBackend backend, std::uint32_t capacity) {
  if (backend == QueueBackend::boost_lockfree) return std::make_unique<BoostIngest>(capacity);
  return std::make_unique<MoodycamelIngest>(capacity);
}

}  // namespace sessionring::detail
