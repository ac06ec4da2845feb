// Options of one Session (the core engine). Session::open validates every field and answers
// Errc::validation_error naming the option. docs/tuning.md says what each knob costs.
#pragma once
#include <sessionring/sequencer_pool.hpp>
#include <sessionring/session_store.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace sessionring {

/// How an idle reader (subscriber, sequencer, waiting producer) waits.
enum class WaitStrategy : std::uint8_t {
  block,  ///< short spin, then sleep on a futex until woken (default; right for 2-core hosts)
  yield,  ///< spin with sched_yield (needs a spare core per waiter)
  spin,   ///< busy-spin with a pause instruction (needs a dedicated core per waiter)
};

/// Implementation of the bounded MPSC ingest queue.
enum class QueueBackend : std::uint8_t {
  moodycamel,      ///< moodycamel::ConcurrentQueue with producer tokens (default)
  boost_lockfree,  ///< boost::lockfree::queue, fixed capacity (at most 65534 slots)
};

std::string_view to_string(WaitStrategy w) noexcept;
std::string_view to_string(QueueBackend q) noexcept;

struct SessionOptions {
  std::shared_ptr<SessionStore> store;  ///< required
  std::string session_id;               ///< required; see validate_session_id()

  std::uint32_t ring_capacity = 4096;   ///< slots; power of two in [2, 2^24]
  std::uint32_t ring_slot_bytes = 256;  ///< bytes per slot incl. a 16-byte slot header; multiple of 64 (whole cache lines) in [64, 65536]; ring_capacity x ring_slot_bytes <= 1 GiB
  std::uint32_t ingest_capacity = 4096; ///< events in flight per producer; [1, 2^20] (boost_lockfree: total, [2, 65534])
  std::uint32_t max_producers = 256;    ///< producers alive at once; [1, 65536]
  QueueBackend queue = QueueBackend::moodycamel;
  WaitStrategy wait = WaitStrategy::block;
  std::uint32_t max_batch = 1024;           ///< events per sequencer batch; [1, 65536]
  std::uint32_t max_event_bytes = 1u << 24; ///< encoded event size limit; [64, 2^31]

  /// Which threads run the sequencer (docs/tuning.md "Sizing the sequencer pool"):
  /// null: SequencerPool::default_pool(), shared by every session of the process; or a pool of
  /// the host's own. Ignored with dedicated_sequencer.
  std::shared_ptr<SequencerPool> pool;
  /// true: the session gets a sequencer thread of its own (one thread per session, parked on
  /// its doorbell when idle): for one latency-critical session among many.
  bool dedicated_sequencer = false;
  /// true: a read-only follower of a session another writer appends to (another process, or
  /// another host through a shared store such as JetStream): the session is opened with a read
  /// handle (Errc::not_found if the store does not hold it), a thread of its own follows what
  /// the store holds into the ring, and subscribers get history then live events as from a
  /// writer's session. Producers and appends answer Errc::unsupported. docs/design.md §15.
  bool follow = false;
};

/// Checks every field; Errc::validation_error naming the first bad option.
Status validate(const SessionOptions& options);

}  // namespace sessionring
