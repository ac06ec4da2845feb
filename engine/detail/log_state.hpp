// LogState: one session's log as this process sees it — segments, sparse sequence index, id
// index, the secured watermark — shared by the writer handle (if any) and read handles.
//
// One publisher at a time changes it, holding publish_mutex(): the LogWriter of this process,
// or, when no writer is attached, a reader refreshing from the files another process writes
// (refresh()). Readers take only short locks (segments mutex to locate a sequence, the id
// index lock to collect candidates) and never while calling a visitor (INV-4).
// Publication (INV-2): the publisher updates records, index entries and Segment::visible_end,
// then stores secured_ with seq_cst (P1 of WaitGate) and notifies the gate.
#pragma once
#include "detail/id_index.hpp"
#include "detail/log_commit_mark.hpp"
#include "detail/log_scan.hpp"
#include "detail/log_segment.hpp"
#include "detail/wait_gate.hpp"

#include <sessionring/event.hpp>
#include <sessionring/event_query.hpp>
#include <sessionring/fault_injector.hpp>
#include <sessionring/function_ref.hpp>
#include <sessionring/result.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

namespace sessionring::detail {

/// The writer side a reader may need: in Durability::none, records accepted by append() may
/// still sit in user space; a reader that needs them asks the writer to hand them to the OS.
class TailFlusher {
 public:
  virtual ~TailFlusher() = default;
  /// Called with the publish mutex held.
  virtual Status flush_locked() = 0;
};

class LogState final : public ScanSink {
 public:
  struct Config {
    std::string session_id;
    std::string dir;
    std::size_t read_chunk = 1 << 20;
    std::uint32_t index_every_records = 4096;
    std::uint32_t index_every_bytes = 64 << 10;
    std::chrono::milliseconds poll_interval{10};
    std::shared_ptr<FaultInjector> faults;  // LogStoreOptions::fault_injector: consulted by reads
  };
  explicit LogState(Config config) : cfg_(std::move(config)) {}

  const std::string& session_id() const noexcept { return cfg_.session_id; }
  const std::string& dir() const noexcept { return cfg_.dir; }
  const Config& config() const noexcept { return cfg_; }

  // ---- readers: any thread (non-const: with no writer attached they refresh from the files) ----
  Sequence latest() noexcept;
  /// The first available sequence (retention pruned everything below it; 1 if never). Only grows.
  Sequence first() noexcept;
  Status read(const EventQuery& query, FunctionRef<bool(const EventView&)> visit);
  Result<Event> find_by_id(std::string_view id);
  Result<Sequence> wait_for(Sequence after, std::chrono::steady_clock::time_point deadline);
  std::uint32_t segment_count() const;
  std::uint64_t visible_bytes() const;

  // ---- publisher: publish_mutex() held ----
  std::mutex& publish_mutex() const noexcept { return publish_mutex_; }
  std::shared_ptr<Segment> add_segment(const std::string& path, Sequence first, std::uint64_t header_end);
  /// Undo of a failed roll: removes the last segment (none of its records was published).
  void drop_last_segment();
  /// Undo of a failed write: forgets sparse index entries of `seg` above `last_kept`.
  void trim_index(Segment& seg, Sequence last_kept);
  std::shared_ptr<Segment> last_segment() const;
  /// Indexes one record written at `offset` of `seg` (sparse index when due, id index at commit).
  void note_record(Segment& seg, Sequence seq, std::uint64_t offset, std::size_t frame_bytes, std::string_view id,
                   std::int64_t timestamp_ns);
  /// The segments, oldest first (retention's view of the units).
  std::vector<std::shared_ptr<Segment>> segments() const;
  /// Publisher: the first available sequence.
  Sequence first_locked() const noexcept { return first_.load(std::memory_order_relaxed); }  // relaxed: own value
  /// Loading: the first available sequence recorded in <dir>/FIRST. Before publish().
  void set_first_locked(Sequence first) noexcept;
  /// Retention: forgets the first `count` segments (the caller removes their files after
  /// this returns) and makes `first` the first available sequence (L3). Readers that still
  /// hold one of the segments finish reading it; new reads below `first` answer pruned.
  void prune_front_locked(std::size_t count, Sequence first);
  /// Forgets the id entries noted for sequences above `last_kept` (undo of a failed write;
  /// entries of accepted records still waiting to be secured stay).
  void discard_noted(Sequence last_kept) noexcept {
    while (!pending_ids_.empty() && pending_ids_.back().second > last_kept) pending_ids_.pop_back();
  }
  /// Makes `seq` and everything before it visible: the ids noted up to `seq` enter the id index
  /// (later ones, of records not yet secured or of a batch still being appended, wait), then
  /// secured_ is stored (seq_cst) and waiters are woken.
  void publish(Sequence seq);
  /// Records up to `seq` are on the OS (readers need not ask the writer to flush them).
  void set_flushed(Sequence seq) noexcept;
  /// Makes this the intact prefix of a damaged session (LogStore::open_intact_prefix): it never
  /// refreshes from the files, and wait_for past the prefix answers failure() at once. Called
  /// once, before the state is shared with any other thread.
  void freeze() noexcept { frozen_ = true; }
  void attach_writer(TailFlusher* flusher) noexcept;
  void detach_writer() noexcept;
  /// Sticky failure of the writer (it could not undo a failed write, or a final flush or
  /// sync failed): appends are refused until the session is reopened; wait_for reports it.
  void fail(Error error);
  /// Transient failure: the writer cannot secure anything right now (a failed background
  /// fdatasync it is retrying). Appends are refused and wait_for reports it until recover().
  /// Ignored once a sticky failure is set.
  void fail_transient(Error error);
  /// Ends a transient failure (a retried fdatasync succeeded). A sticky failure stays.
  void recover() noexcept;
  /// Readers: the failure (sticky or transient), if any (takes the publish mutex).
  std::optional<Error> failure() const;
  /// Publisher: the failure (sticky or transient), if any.
  const Error* failure_locked() const noexcept { return failure_ ? &*failure_ : nullptr; }
  /// Publisher: whether the failure is sticky.
  bool failed_for_good_locked() const noexcept { return sticky_; }
  /// Publisher: the last published sequence.
  Sequence published() const noexcept { return secured_.load(std::memory_order_relaxed); }  // relaxed: own value

  // ---- ScanSink: loading from a scan, publisher ----
  void on_segment(const std::string& path, Sequence first, std::uint64_t header_end) override;
  void on_record(Sequence seq, std::uint64_t offset, std::size_t frame_bytes, std::span<const std::byte> payload) override;
  void on_segment_end(std::uint64_t end) override;

 private:
  struct Position {
    std::shared_ptr<Segment> segment;
    IndexEntry entry;
    /// Where the segment's frames above `last` start, or past its end when none is indexed: a
    /// read of sequences up to `last` never needs a byte at or after it.
    std::uint64_t bound = ~std::uint64_t{0};
  };
  /// The segment holding `seq`, the index entry at or before it, and the bound of `last`; no
  /// segment when none holds `seq`.
  Position locate(Sequence seq, Sequence last) const;
  /// Readers with no writer attached in this process: pick up records appended by another
  /// process (publish mutex). Errors leave the state as it was.
  void refresh();
  Status refresh_locked();
  /// Scans `seg` from its visible end up to `limit` (the writer's commit mark); returns whether
  /// it found new records.
  Result<bool> refresh_segment(Segment& seg, Sequence limit);
  /// The highest sequence a refresh may publish: the writer's commit mark, or no limit for a
  /// log without a mark file (written before it existed).
  Sequence refresh_limit_locked();
  /// Durability::none: make sure records up to `seq` are in the files.
  Status ensure_flushed(Sequence seq);
  Status read_records(const EventQuery& q, Sequence last, FunctionRef<bool(const EventView&)> visit) const;
  Error damaged(const std::string& file, std::uint64_t offset, const std::string& why) const;
  Error pruned(Sequence asked, Sequence first) const;
  /// A read that found no segment or no file for `next`: pruned when retention moved the first
  /// available past it meanwhile, else `otherwise` (damage).
  Error pruned_or(Sequence next, Error otherwise) const;
  /// Refresh (no writer here): follows another process's retention (its FIRST file).
  Status follow_first_locked();

  const Config cfg_;
  bool frozen_ = false;  // set by freeze() before the state is shared; constant afterwards

  mutable std::mutex segments_mutex_;  // guards segments_ and every Segment::index
  std::vector<std::shared_ptr<Segment>> segments_;

  // The id index is built on the first find_by_id (from the files), then kept up to date by
  // publish(): a log nobody looks up by id costs no memory per event (docs/store.md "Indexes").
  mutable std::shared_mutex ids_mutex_;  // guards ids_, ids_active_, and the secured_ store in publish()
  IdIndex ids_;
  bool ids_active_ = false;  // guarded by ids_mutex_: ids_ covers every published record
  std::mutex ids_build_mutex_;  // one find_by_id builds the index at a time
  /// Builds the id index if it is not active yet.
  Status activate_ids();

  mutable std::mutex publish_mutex_;  // held by the publisher; guards the fields below up to failure_
  std::vector<std::pair<std::uint64_t, Sequence>> pending_ids_;  // noted, not yet in ids_
  std::uint32_t records_since_entry_ = 0;                        // sparse index cadence
  std::uint64_t bytes_since_entry_ = 0;
  TailFlusher* flusher_ = nullptr;
  CommitMark mark_;  // refresh only: the writer's <session>/COMMIT (another process), once it exists
  std::optional<Error> failure_;
  bool sticky_ = false;  // failure_ is for good (fail()), not transient (fail_transient())

  // Writer: publish() (seq_cst, P1 of the WaitGate protocol); readers: acquire (pairs with
  // it) before touching records, index entries or Segment::visible_end. Publishes INV-2.
  std::atomic<Sequence> secured_{0};
  // Writer: set_flushed (release) after the records are on the OS; readers: acquire in
  // ensure_flushed (pairs with it). Durability::none only lags secured_.
  std::atomic<Sequence> flushed_{0};
  // First available sequence: the publisher (retention, loading, a refresh following another
  // process's FIRST), (L3) seq_cst, before it removes the pruned files; readers: (L4) acquire
  // in first(), and again when a segment or its file is gone (then the read answers pruned).
  std::atomic<Sequence> first_{1};
  Sequence ids_pruned_ = 0;  // guarded by ids_mutex_: events pruned since the id index was built
  // Writer: attach/detach (seq_cst, publish mutex held, then the gate is notified); readers:
  // false means no writer in this process, so reads refresh from the files. The refresher
  // then takes the publish mutex, which orders it after everything the writer did.
  std::atomic<bool> has_writer_{false};
  // Writer: fail() / fail_transient() / recover() (seq_cst, publish mutex held, then the gate
  // is notified); readers: wait_for stops waiting for a writer that cannot secure anything now.
  std::atomic<bool> failed_{false};
  mutable WaitGate gate_;
};

}  // namespace sessionring::detail
