// Follower: the thread of a session opened with SessionOptions::follow (read-only, on a session
// another writer appends to: another process, or another host through a shared store such as
// JetStream). In place of a sequencer it long-polls the store's read handle (wait_for), reads
// what was stored after its cursor in batches of max_batch, writes it into the ring and
// publishes the ring cursor (P1). Subscribers of the session then get live
// events from the ring and everything older from the store, as with a writer's session: the
// ring only ever holds stored events (INV-2) with contiguous sequences (INV-1), because the
// store's reads are contiguous and the follower publishes only what it read.
// docs/design.md §15 "Followers".
//
// Threads: run() on the session's own thread (a follower never uses the sequencer pool); the
// only writer of the ring.
#pragma once
#include <sessionring/event.hpp>

#include <chrono>
#include <cstddef>
#include <vector>

namespace sessionring::detail {

class SessionCore;

class Follower {
 public:
  explicit Follower(SessionCore& core);
  /// Until stop(): follow the store; then mark the session closed (X1).
  void run();

 private:
  /// Reads what the store holds after the cursor (one batch) into the ring and publishes it.
  /// False when it published nothing (nothing stored yet, or the read failed: recorded).
  bool follow_once();

  SessionCore& core_;
  Sequence published_ = 0;
  std::vector<std::byte> record_;  // one event's record, re-encoded for the ring
  std::uint32_t failures_ = 0;     // consecutive store failures (back-off)
};

}  // namespace sessionring::detail
