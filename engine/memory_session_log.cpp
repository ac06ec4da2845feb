// MemorySessionLog (engine/detail/memory_session_log.hpp): append into arena chunks, lock-free
// reads under a chunk pin, retention by whole chunks with reuse.
#include "detail/memory_session_log.hpp"
#include "detail/batch_checks.hpp"
#include "detail/wall_clock.hpp"

#include <sessionring/event_record.hpp>

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

namespace sessionring::detail {

Status MemorySessionLog::append(const AppendBatch& batch) {
  if (batch.size() == 0) return {};
  const Sequence latest = latest_.load(std::memory_order_relaxed);  // relaxed: the writer's own value
  if (Status st = check_batch_start(id_, batch, latest); !st) return st;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto rec = batch.records[i];
    const Sequence seq = batch.first_sequence + i;
    MemoryChunk* c = head_open_ && live_.back().chunk->fits(rec.size()) ? live_.back().chunk : start_chunk(rec.size(), seq);
    c->push(rec.data(), rec.size());
    LiveChunk& head = live_.back();
    head.last = seq;
    head.bytes += rec.size();
    live_bytes_ += rec.size();
    head.max_timestamp_ns = std::max(head.max_timestamp_ns, batch.events[i].timestamp_ns);
  }
  // (M1) seq_cst: publishes the records, offsets and directory entries above to readers (pairs
  // with the acquire loads in read()/find_by_id()/latest_sequence()) and is the WaitGate
  // publication for wait_for().
  latest_.store(batch.last_sequence(), std::memory_order_seq_cst);
  gate_.notify_all();
  if (!policy_.keeps_everything()) apply_retention(batch.last_sequence());
  const bool help = head_open_ && live_.back().chunk->left() < chunk_bytes_ / 2 && free_.empty();
  wants_help_.store(help, std::memory_order_relaxed);  // relaxed: a hint for helpers
  return {};
}

// Writer: closes the head chunk and starts the next one (spare, reused or new) at `first`.
MemoryChunk* MemorySessionLog::start_chunk(std::size_t n, Sequence first) {
  MemoryChunk* c = take_chunk(n);
  c->reset();
  directory_.add(c, first);  // (M7) inside
  LiveChunk lc;
  lc.first = first;
  lc.last = first - 1;
  lc.max_timestamp_ns = std::numeric_limits<std::int64_t>::min();
  lc.chunk = c;
  live_.push_back(lc);
  head_open_ = true;
  return c;
}

// Writer: a chunk of at least n bytes that no reader can be reading: the spare if nobody is
// faulting it now, else a pruned one or a new one.
MemoryChunk* MemorySessionLog::take_chunk(std::size_t n) {
  {
    std::lock_guard lock(spare_mutex_);
    if (!spare_busy_ && spare_ != nullptr && spare_->capacity() >= n) {
      if (spare_owned_) chunks_.push_back(std::move(spare_owned_));
      return std::exchange(spare_, nullptr);
    }
  }
  return take_unused_chunk(n);
}

// Writer: a pruned chunk no reader pins, or a new one.
MemoryChunk* MemorySessionLog::take_unused_chunk(std::size_t n) {
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    // (M6) inside unpinned(): a pruned chunk a reader still pins stays on the free list.
    if ((*it)->capacity() >= n && (*it)->unpinned()) {
      MemoryChunk* c = *it;
      free_.erase(it);
      return c;
    }
  }
  chunks_.push_back(std::make_unique<MemoryChunk>(std::max(chunk_bytes_, n)));
  mapped_bytes_.fetch_add(chunks_.back()->mapped_bytes(), std::memory_order_relaxed);  // relaxed: a statistic
  return chunks_.back().get();
}

// Writer, after publishing a batch: prunes the whole chunks the policy no longer keeps.
void MemorySessionLog::apply_retention(Sequence last) {
  const auto now = std::chrono::steady_clock::now();
  const bool check_age = policy_.max_age.count() > 0 && now >= next_age_check_;
  if (check_age) next_age_check_ = now + std::chrono::seconds(1);
  // The common case costs O(1): nothing can go by events, bytes or age.
  const Sequence first = first_.load(std::memory_order_relaxed);  // relaxed: the writer's own value
  const bool by_events = policy_.max_events > 0 && last + 1 - first >= policy_.max_events + policy_.prune_unit;
  const bool by_bytes = policy_.max_bytes > 0 && live_.size() > 1 && live_bytes_ > policy_.max_bytes;
  if (!by_events && !by_bytes && !check_age) return;
  std::size_t cut = retention_cut(live_, policy_, check_age, wall_clock_ns());
  if (cut > 0 && policy_.keep_cursor_positions)
    if (const auto low = cursors.lowest()) cut = cap_cut_at_cursor(live_, cut, *low);
  if (cut == 0) return;
  const Sequence new_first = cut < live_.size() ? live_[cut].first : last + 1;
  // (M2) seq_cst: before any chunk of the pruned prefix can be reused (M6 in take_chunk):
  // a reader that pins such a chunk afterwards sees this value (M4) and reads nothing in it.
  first_.store(new_first, std::memory_order_seq_cst);
  for (std::size_t i = 0; i < cut; ++i) {
    live_bytes_ -= live_.front().bytes;
    free_.push_back(live_.front().chunk);
    live_.pop_front();
  }
  if (live_.empty()) head_open_ = false;  // the head chunk went too (max_age): the next record starts one
}

// Writer only, while the sequencer is idle: faults in the next kAhead bytes of arena (the rest
// of the head chunk, then a spare chunk) and the next offsets, kStep bytes per call, so that
// append() finds its pages ready (docs/design.md §8). Reused chunks are faulted in already.
bool MemorySessionLog::prepare_append() noexcept {
  try {
    const std::size_t ahead = std::min(kAhead, chunk_bytes_);
    std::size_t left = 0;
    if (head_open_) {
      MemoryChunk* head = live_.back().chunk;
      if (head->prefault_step(ahead, kAheadEntries, kStep)) return true;
      left = head->left();
    }
    if (left < ahead) return step_spare(ahead - left, kStep, true);
  } catch (const std::bad_alloc&) {
    // Out of memory while preparing: append() will report it when it needs the memory.
  }
  return false;
}

// Any thread while the writer appends (a pool thread with nothing to serve, design §13): once
// the head chunk is past its middle and no pruned chunk waits for reuse, faults in the next
// chunk, kHelpStep bytes per call.
bool MemorySessionLog::prefault_ahead() noexcept {
  if (!wants_help_.load(std::memory_order_relaxed)) return false;  // relaxed: a hint
  try {
    return step_spare(chunk_bytes_, kHelpStep, false);
  } catch (const std::bad_alloc&) {
    return false;  // append() reports it if it needs the memory
  }
}

// One step of preparing the spare: mapping it (the writer takes a pruned or new chunk; a helper
// maps a new one it owns until the writer adopts it), else faulting in its next `step` bytes up
// to `ahead`. False when there is nothing to do or another thread is faulting it.
bool MemorySessionLog::step_spare(std::size_t ahead, std::size_t step, bool writer) {
  std::unique_lock lock(spare_mutex_);
  if (spare_busy_) return false;
  if (spare_ == nullptr) {
    lock.unlock();
    std::unique_ptr<MemoryChunk> owned;
    MemoryChunk* c = nullptr;
    if (writer) {
      c = take_unused_chunk(chunk_bytes_);  // reused (faulted in) or a new mmap (no faults yet)
      c->reset();
      directory_.prefault_next();
    } else {
      owned = std::make_unique<MemoryChunk>(chunk_bytes_);
      mapped_bytes_.fetch_add(owned->mapped_bytes(), std::memory_order_relaxed);  // relaxed: a statistic
      c = owned.get();
    }
    lock.lock();
    if (spare_ == nullptr) {  // else another thread mapped one meanwhile: ours is not needed
      spare_ = c;
      spare_owned_ = std::move(owned);
    } else if (writer) {
      free_.push_back(c);  // unused and unpinned: the next take_unused_chunk() finds it
    } else {
      mapped_bytes_.fetch_sub(owned->mapped_bytes(), std::memory_order_relaxed);  // relaxed: a statistic
    }
    return true;
  }
  MemoryChunk* c = spare_;
  spare_busy_ = true;
  lock.unlock();
  const bool did = c->prefault_step(ahead, kAheadEntries, step);
  lock.lock();
  spare_busy_ = false;
  return did;
}

Error MemorySessionLog::pruned_error(Sequence asked, Sequence first) const {
  return Error(Errc::pruned, "session '" + id_ + "': sequence " + std::to_string(asked) +
                                 " was pruned by retention; the first available is " + std::to_string(first));
}

template <class F>
Status MemorySessionLog::visit_records(Sequence from, Sequence to, F&& fn) const {
  Sequence s = from;
  while (s <= to) {
    const std::size_t count = directory_.count();  // (M8) pairs with (M7)
    const std::size_t k = directory_.find(s, count);
    const ChunkEntry e = directory_.get(k);
    Sequence end = to;
    if (k + 1 < count) end = std::min(end, directory_.get(k + 1).first - 1);
    ChunkPin pin(e.chunk);  // (M3)
    // (M4) seq_cst: pairs with (M2). Below it: the chunk may be reused (or about to be), so
    // nothing of it is read. At or above: the writer saw the pin (M6) and never reuses the chunk
    // until the unpin (M5): its records stay those of ordinal k.
    const Sequence first = first_.load(std::memory_order_seq_cst);
    if (s < first) return pruned_error(s, first);
    for (; s <= end; ++s)
      if (!fn(s, e.chunk->record(s - e.first))) return {};
  }
  return {};
}

Status MemorySessionLog::read(const EventQuery& q, FunctionRef<bool(const EventView&)> visit) const {
  const Sequence hi = latest_.load(std::memory_order_acquire);  // pairs with (M1)
  if (const Sequence first = first_sequence(); q.after < first - 1) return pruned_error(q.after + 1, first);
  const Sequence last = std::min(hi, q.before == 0 ? 0 : q.before - 1);
  if (q.after >= last) return {};
  const bool all = q.filter.matches_everything();
  std::size_t n = 0;
  Status bad;
  Status st = visit_records(q.after + 1, last, [&](Sequence s, const std::byte* rec) {
    if (!all && !(q.filter.matches_type(EventRecord::type_of(rec)) && q.filter.matches_run(EventRecord::run_id_of(rec))))
      return true;
    const std::optional<EventView> v = EventRecord::view({rec, EventRecord::size_of(rec)}, id_);
    if (!v) {
      bad = Status(Errc::damaged_store, "session '" + id_ + "': record " + std::to_string(s) + " is malformed");
      return false;
    }
    if (!visit(*v)) return false;
    return q.limit == 0 || ++n < q.limit;
  });
  return st ? bad : st;
}

// The id index is built lazily here, not in append(): find_by_id is rare, append is the hot
// path. Under retention it skips what was pruned and starts over once most of it was pruned.
Result<Event> MemorySessionLog::find_by_id(std::string_view id) const {
  const Sequence hi = latest_.load(std::memory_order_acquire);  // pairs with (M1)
  std::lock_guard lock(ids_mutex_);
  for (;;) {
    const Sequence first = first_sequence();
    if (first > ids_from_ && first - ids_from_ > (hi >= first ? hi - first + 1 : 0)) {
      ids_ = IdIndex();  // mostly pruned: forget it and index the live part again
      ids_from_ = first;
      indexed_ = first - 1;
    }
    indexed_ = std::max(indexed_, first - 1);
    if (indexed_ >= hi) break;
    Status st = visit_records(indexed_ + 1, hi, [&](Sequence s, const std::byte* rec) {
      ids_.insert(IdIndex::hash(EventRecord::id_of(rec)), s);
      indexed_ = s;
      return true;
    });
    if (st) break;  // else pruned under our feet: start again from the new first
  }
  std::optional<Event> found;
  (void)ids_.find(IdIndex::hash(id), [&](Sequence c) {
    if (c > hi || c < first_sequence()) return false;
    (void)visit_records(c, c, [&](Sequence, const std::byte* rec) {
      if (EventRecord::id_of(rec) != id) return false;
      EventView v;
      if (EventRecord::decode({rec, EventRecord::size_of(rec)}, id_, v)) found = v.to_event();
      return false;
    });
    return found.has_value();
  });
  if (!found) return Error(Errc::not_found, "session '" + id_ + "' has no event with id '" + std::string(id) + "'");
  return std::move(*found);
}

Result<Sequence> MemorySessionLog::wait_for(Sequence after, Deadline deadline) const {
  gate_.wait_until([&] { return latest_.load(std::memory_order_seq_cst) > after; }, deadline);  // pairs with (M1)
  return latest_.load(std::memory_order_acquire);
}

}  // namespace sessionring::detail
