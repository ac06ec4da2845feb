// Shipper: copies sessions from a primary store (a local LogStore: microseconds) to a replica
// (a JetStreamStore: milliseconds, readable from other hosts) asynchronously, event by event,
// with the same sequence numbers (docs/store.md "Shipping a store to another").
//
// The shipped watermark of a session is the replica's own latest sequence: the shipper is the
// replica's writer, and a store keeps its sequence contiguous (append accepts only the next
// sequence, all of a batch or none). So a restart of the shipper, of the primary or of the
// replica continues at the replica's latest + 1: no gap, no duplicate, and no watermark file
// that could disagree with the replica.
//
// One shipper thread serves every session (round robin, one batch per session per turn).
// A destination that fails (server down) is retried after retry_interval; the error shows in
// stats() until the next success. A source that pruned events the replica never got (retention
// ran ahead of the shipper) stops that session with Errc::pruned in its stats: never a silent
// gap in the replica.
//
// Threads: every member function from any thread; destroying it stops it (as stop()).
#pragma once
#include <sessionring/result.hpp>
#include <sessionring/shipper_options.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sessionring {

class Shipper {
 public:
  struct SessionLag {
    std::string session_id;
    Sequence source_latest = 0;  ///< secured in the primary, when last looked
    Sequence shipped = 0;        ///< the replica's latest sequence: everything up to it is shipped
    Sequence lag = 0;            ///< source_latest - shipped
    std::uint64_t events_shipped = 0;  ///< by this shipper since it started
    std::optional<Error> error;  ///< the last failure, until the next successful batch
    bool stopped = false;        ///< shipping stopped for good (pruned source, undecodable record): `error` says why
  };
  struct Stats {
    std::vector<SessionLag> sessions;  ///< sorted by session id
    std::uint64_t events_shipped = 0;
    std::uint64_t batches = 0;
    std::uint64_t failures = 0;        ///< destination appends or opens that failed (retried)
  };

  /// Validates the options and starts the shipper thread.
  static Result<std::unique_ptr<Shipper>> start(ShipperOptions options);
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;
  ~Shipper();

  /// Waits until every shipped session's replica holds what its source held when this was
  /// called (timeout: Errc::timeout naming the sessions behind), or a session stopped for good
  /// (its error, e.g. pruned).
  Status wait_caught_up(std::chrono::nanoseconds timeout);
  Stats stats() const;
  /// Stops the thread; what was shipped stays shipped. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit Shipper(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sessionring
