// MemorySessionLog: one MemoryStore session (engine/memory_store.cpp hands out handles to it).
// Records live in arena chunks (MemoryChunk) listed by a ChunkDirectory; the writer publishes
// with (M1), retention prunes whole chunks from the front (M2) and reuses them once no reader
// pins them (M3)-(M6). docs/design.md §12 has the labels, docs/store.md "Retention" the why.
#pragma once
#include <sessionring/retention_policy.hpp>
#include <sessionring/session_log.hpp>

#include "detail/chunk_directory.hpp"
#include "detail/cursor_table.hpp"
#include "detail/id_index.hpp"
#include "detail/memory_chunk.hpp"
#include "detail/retention_cut.hpp"
#include "detail/wait_gate.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sessionring::detail {

class MemorySessionLog final : public SessionLog {
 public:
  MemorySessionLog(std::string id, std::size_t chunk_bytes, const RetentionPolicy& policy)
      : id_(std::move(id)), chunk_bytes_(chunk_bytes), policy_(policy) {}
  MemorySessionLog(const MemorySessionLog&) = delete;
  MemorySessionLog& operator=(const MemorySessionLog&) = delete;
  ~MemorySessionLog() override = default;

  std::string_view session_id() const noexcept override { return id_; }
  Status append(const AppendBatch& batch) override;
  Sequence latest_sequence() const noexcept override {
    return latest_.load(std::memory_order_acquire);  // pairs with (M1)
  }
  Sequence first_sequence() const noexcept override {
    return first_.load(std::memory_order_acquire);  // pairs with (M2)
  }
  bool prepare_append() noexcept override;
  bool prefault_ahead() noexcept override;
  Status read(const EventQuery& q, FunctionRef<bool(const EventView&)> visit) const override;
  Result<Event> find_by_id(std::string_view id) const override;
  Result<Sequence> wait_for(Sequence after, Deadline deadline) const override;

  /// Arena bytes mapped (chunks in use, pruned or prepared). Any thread; approximate.
  std::size_t mapped_bytes_approx() const noexcept {
    return mapped_bytes_.load(std::memory_order_relaxed);  // relaxed: a statistic, orders nothing
  }

  CursorTable cursors;                  // the session's durable named cursors (MemoryStore keeps them in memory)
  std::atomic<bool> has_writer{false};  // writer: open/close of writer handles (under the store mutex); reader: open

 private:
  struct LiveChunk : RetentionUnit {
    MemoryChunk* chunk = nullptr;
  };

  // Visits the published records [from, to] chunk by chunk, each chunk under a pin; fn(seq,
  // record) returns false to stop. Errc::pruned (naming the first available) when a sequence to
  // visit is below first_sequence() by the time its chunk is pinned: never another's bytes.
  template <class F>
  Status visit_records(Sequence from, Sequence to, F&& fn) const;
  Error pruned_error(Sequence asked, Sequence first) const;
  MemoryChunk* start_chunk(std::size_t n, Sequence first);
  MemoryChunk* take_chunk(std::size_t n);
  MemoryChunk* take_unused_chunk(std::size_t n);
  bool step_spare(std::size_t ahead, std::size_t step, bool writer);
  void apply_retention(Sequence last);

  static constexpr std::size_t kAhead = std::size_t{1} << 20;   // arena bytes kept faulted in ahead
  static constexpr std::size_t kAheadEntries = 16384;          // offsets kept faulted in ahead
  static constexpr std::size_t kStep = std::size_t{32} << 10;   // bytes faulted per prepare_append()
  static constexpr std::size_t kHelpStep = std::size_t{256} << 10;  // bytes faulted per prefault_ahead()

  const std::string id_;
  const std::size_t chunk_bytes_;
  const RetentionPolicy policy_;
  // ---- writer only ----
  std::vector<std::unique_ptr<MemoryChunk>> chunks_;  // owns every chunk; they live as long as the log
  std::deque<LiveChunk> live_;   // chunks holding first_..latest_, oldest first; back(): being written
  bool head_open_ = false;       // live_.back() takes more records
  std::uint64_t live_bytes_ = 0;  // record bytes in live_ (max_bytes)
  std::deque<MemoryChunk*> free_;  // pruned chunks waiting for reuse (faulted in)
  // ---- the next chunk, prepared ahead by the writer while idle (prepare_append) or by a
  // helper while the writer appends (prefault_ahead, design §13). Guarded by spare_mutex_,
  // except by the one thread that set spare_busy_: it faults spare_'s pages without the mutex
  // (the writer then takes another chunk instead of waiting). ----
  std::mutex spare_mutex_;
  MemoryChunk* spare_ = nullptr;              // guarded by spare_mutex_
  std::unique_ptr<MemoryChunk> spare_owned_;  // guarded: a spare a helper mapped; the writer adopts it into chunks_
  bool spare_busy_ = false;                   // guarded: a thread is faulting spare_
  // Whether a helper should prepare the next chunk (the head is past its middle and no pruned
  // chunk waits for reuse). Writer: append() (relaxed store); readers: helpers in
  // prefault_ahead() (relaxed: only decides whether to help now; publishes nothing).
  std::atomic<bool> wants_help_{false};
  std::chrono::steady_clock::time_point next_age_check_{};
  // ---- shared ----
  ChunkDirectory directory_;
  mutable std::mutex ids_mutex_;
  mutable IdIndex ids_;          // guarded by ids_mutex_; covers sequences ids_from_..indexed_
  mutable Sequence ids_from_ = 1;  // guarded by ids_mutex_
  mutable Sequence indexed_ = 0;   // guarded by ids_mutex_
  // Latest sequence: writer: append (M1, seq_cst); readers: every read path (acquire) and
  // wait_for (seq_cst); publishes the records, offsets and directory entries up to it.
  std::atomic<Sequence> latest_{0};
  // First available sequence: writer: apply_retention (M2, seq_cst, before any pruned chunk is
  // reused); readers: after pinning a chunk (M4, seq_cst) and first_sequence() (acquire).
  std::atomic<Sequence> first_{1};
  // Arena bytes mapped: writer adds (relaxed), mapped_bytes_approx() reads (relaxed): a statistic.
  std::atomic<std::size_t> mapped_bytes_{0};
  mutable WaitGate gate_;
};

}  // namespace sessionring::detail
