// IngestQueue: the bounded MPSC queue between producers and the sequencer, behind a small
// interface so the backend is chosen per session (QueueBackend). One virtual call per push and
// one per bulk pop. The bound (INV-7) is enforced by per-producer credits in ProducerSlot
// (moodycamel) and additionally by the fixed capacity of the Boost backend.
// Threads: make_token() and push() on producer threads (a Token by one thread at a time);
// pop_bulk() only on the sequencer thread; size_approx() anywhere.
#pragma once
#include <sessionring/session_options.hpp>

#include "detail/ingest_item.hpp"

#include <cstddef>
#include <memory>

namespace sessionring::detail {

class IngestQueue {
 public:
  struct Token {
    virtual ~Token() = default;
  };

  virtual ~IngestQueue() = default;
  virtual std::unique_ptr<Token> make_token() = 0;
  /// False when the backend has no room (Boost's fixed capacity); the caller waits or fails.
  virtual bool push(Token& token, const IngestItem& item) = 0;
  virtual std::size_t pop_bulk(IngestItem* out, std::size_t max) = 0;
  virtual std::size_t size_approx() const = 0;

  static std::unique_ptr<IngestQueue> create(QueueBackend backend, std::uint32_t capacity);
};

}  // namespace sessionring::detail
