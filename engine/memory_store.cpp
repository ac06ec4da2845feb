// MemoryStore: records in append-only arenas, a lock-free sequence index for readers, an id
// index under a shared mutex for find_by_id. See include/sessionring/memory_store.hpp.
#include <sessionring/event_record.hpp>
#include <sessionring/memory_store.hpp>
#include <sessionring/session_id.hpp>

#include "detail/mapped_buffer.hpp"
#include "detail/id_index.hpp"
#include "detail/record_index.hpp"
#include "detail/wait_gate.hpp"

#include <algorithm>
#include <utility>
#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

namespace sessionring {
namespace {

class MemorySessionLog final : public SessionLog {
 public:
  explicit MemorySessionLog(std::string id) : id_(std::move(id)) {}

  std::string_view session_id() const noexcept override { return id_; }

  Status append(const AppendBatch& batch) override {
    if (batch.size() == 0) return {};
    if (batch.records.size() != batch.events.size())
      return Status(Errc::validation_error, "session '" + id_ + "': batch has " + std::to_string(batch.events.size()) +
                                                " events but " + std::to_string(batch.records.size()) + " records");
    const Sequence latest = latest_.load(std::memory_order_relaxed);  // relaxed: the writer's own value
    if (batch.first_sequence != latest + 1)
      return Status(Errc::sequence_conflict, "session '" + id_ + "': batch starts at sequence " +
                                                 std::to_string(batch.first_sequence) + " but the latest is " +
                                                 std::to_string(latest) + " (is a second writer appending?)");
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto rec = batch.records[i];
      std::byte* dst = allocate(rec.size());
      std::memcpy(dst, rec.data(), rec.size());
      index_.set(batch.first_sequence + i, dst);
    }
    // (M1) seq_cst: publishes the records and index entries above to readers (pairs with the
    // acquire in read()/get) and is the WaitGate publication for wait_for().
    latest_.store(batch.last_sequence(), std::memory_order_seq_cst);
    gate_.notify_all();
    return {};
  }

  Sequence latest_sequence() const noexcept override {
    return latest_.load(std::memory_order_acquire);  // pairs with (M1)
  }

  // Writer only, while the sequencer is idle: faults in the next kAhead bytes of arena (the
  // rest of the current block, then the spare block) and the next index entries, kStep bytes
  // per call, so that append() finds its pages ready (docs/design.md §8).
  bool prepare_append() noexcept override {
    try {
      const std::size_t ahead = kAhead;
      if (!blocks_.empty()) {
        const std::size_t used = blocks_.back().size() - left_;
        const std::size_t want = std::min(blocks_.back().size(), used + ahead);
        touched_ = std::max(touched_, used);
        if (touched_ < want) {
          const std::size_t to = std::min(want, touched_ + kStep);
          blocks_.back().prefault(touched_, to);
          touched_ = to;
          return true;
        }
      }
      if (left_ < ahead && prefault_spare(ahead - left_, kStep)) return true;
      const Sequence next = latest_.load(std::memory_order_relaxed) + 1;  // relaxed: the writer's own value
      if (indexed_ahead_ < next + kAheadEntries) {
        const Sequence from = std::max(indexed_ahead_, next);
        indexed_ahead_ = from + index_.prefault(from, kStep / sizeof(void*));
        return true;
      }
    } catch (const std::bad_alloc&) {
      // Out of memory while preparing: append() will report it when it needs the memory.
    }
    return false;
  }

  // Any thread, while the writer appends: once the writer is past the middle of its block,
  // faults in the spare block it switches to next, kHelpStep bytes per call (design §13: a pool
  // thread with nothing to serve helps the session another pool thread serves).
  bool prefault_ahead() noexcept override {
    if (used_hint_.load(std::memory_order_relaxed) < kBlock / 2) return false;  // relaxed: a hint
    try {
      return prefault_spare(kBlock, kHelpStep);
    } catch (const std::bad_alloc&) {
      return false;  // append() reports it if it needs the memory
    }
  }

  Status read(const EventQuery& q, FunctionRef<bool(const EventView&)> visit) const override {
    const Sequence hi = latest_.load(std::memory_order_acquire);  // pairs with (M1)
    const Sequence last = std::min(hi, q.before == 0 ? 0 : q.before - 1);
    const bool all = q.filter.matches_everything();
    std::size_t n = 0;
    for (Sequence s = q.after + 1; s <= last && s > q.after; ++s) {
      const std::byte* rec = index_.get(s);
      if (!all && !(q.filter.matches_type(EventRecord::type_of(rec)) &&
                    q.filter.matches_run(EventRecord::run_id_of(rec))))
        continue;
      EventView v;
      if (!EventRecord::decode({rec, EventRecord::size_of(rec)}, id_, v))
        return Status(Errc::damaged_store, "session '" + id_ + "': record " + std::to_string(s) + " is malformed");
      if (!visit(v)) break;
      if (q.limit != 0 && ++n >= q.limit) break;
    }
    return {};
  }

  // The id index is built lazily here, not in append(): find_by_id is rare, append is the hot path.
  Result<Event> find_by_id(std::string_view id) const override {
    const Sequence hi = latest_.load(std::memory_order_acquire);  // pairs with (M1)
    std::lock_guard lock(ids_mutex_);
    for (; indexed_ < hi; ++indexed_) ids_.insert(detail::IdIndex::hash(EventRecord::id_of(index_.get(indexed_ + 1))), indexed_ + 1);
    const Sequence s = ids_.find(detail::IdIndex::hash(id), [&](Sequence c) {
      return c <= hi && EventRecord::id_of(index_.get(c)) == id;
    });
    if (s == 0) return Error(Errc::not_found, "session '" + id_ + "' has no event with id '" + std::string(id) + "'");
    const std::byte* rec = index_.get(s);
    EventView v;
    EventRecord::decode({rec, EventRecord::size_of(rec)}, id_, v);
    return v.to_event();
  }

  Result<Sequence> wait_for(Sequence after, Deadline deadline) const override {
    gate_.wait_until([&] { return latest_.load(std::memory_order_seq_cst) > after; }, deadline);  // pairs with (M1)
    return latest_.load(std::memory_order_acquire);
  }

  std::atomic<bool> has_writer{false};  // writer: open/close of writer handles (under the store mutex); reader: open

 private:
  std::byte* allocate(std::size_t n) {
    if (n > left_) {
      detail::MappedBuffer next;
      std::size_t touched = 0;
      {
        std::lock_guard lock(spare_mutex_);
        if (!spare_busy_ && spare_.size() >= n) {  // a helper faulting it keeps it for next time
          next = std::move(spare_);
          touched = std::exchange(spare_touched_, 0);
        }
      }
      if (next.data() == nullptr) next = detail::MappedBuffer(std::max<std::size_t>(kBlock, n));
      blocks_.push_back(std::move(next));
      touched_ = touched;
      next_ = blocks_.back().data();
      left_ = blocks_.back().size();
    }
    std::byte* p = next_;
    next_ += n;
    left_ -= n;
    used_hint_.store(blocks_.back().size() - left_, std::memory_order_relaxed);  // relaxed: a hint for helpers
    return p;
  }

  // Any thread: faults in the next `step` bytes of the spare block, up to `limit` bytes of it
  // (mapping it first; throws std::bad_alloc). The thread that sets spare_busy_ faults without the mutex; meanwhile
  // nobody else touches spare_ (the writer then maps a fresh block instead).
  bool prefault_spare(std::size_t limit, std::size_t step) {
    std::size_t from = 0;
    std::size_t to = 0;
    {
      std::lock_guard lock(spare_mutex_);
      if (spare_busy_) return false;
      if (spare_.data() == nullptr) {
        spare_ = detail::MappedBuffer(kBlock);  // mmap only: no faults yet; rare (once per block)
        spare_touched_ = 0;
      }
      from = spare_touched_;
      to = std::min({spare_.size(), limit, from + step});
      if (from >= to) return false;
      spare_busy_ = true;
    }
    spare_.prefault(from, to);
    std::lock_guard lock(spare_mutex_);
    spare_touched_ = to;
    spare_busy_ = false;
    return true;
  }

  static constexpr std::size_t kBlock = std::size_t{8} << 20;
  static constexpr std::size_t kAhead = std::size_t{1} << 20;    // arena bytes kept faulted in ahead
  static constexpr std::size_t kAheadEntries = 16384;           // index entries kept faulted in ahead
  static constexpr std::size_t kStep = std::size_t{32} << 10;    // bytes faulted per prepare_append()
  static constexpr std::size_t kHelpStep = std::size_t{256} << 10;  // bytes faulted per prefault_ahead()
  const std::string id_;
  std::vector<detail::MappedBuffer> blocks_;  // writer only; records never move (the vector holds handles)
  std::byte* next_ = nullptr;
  std::size_t left_ = 0;
  std::size_t touched_ = 0;             // writer only: bytes of blocks_.back() known faulted in
  // The next block, prepared ahead by the writer while idle (prepare_append) or by a helper
  // while the writer appends (prefault_ahead). Guarded by spare_mutex_, except by the one
  // thread that set spare_busy_: it faults spare_'s pages without the mutex.
  std::mutex spare_mutex_;
  detail::MappedBuffer spare_;     // guarded by spare_mutex_ (see above)
  std::size_t spare_touched_ = 0;  // guarded by spare_mutex_: bytes of spare_ faulted in
  bool spare_busy_ = false;        // guarded by spare_mutex_: a thread is faulting spare_
  // Bytes used of the writer's current block. Writer: allocate() (relaxed store); readers:
  // helpers in prefault_ahead() (relaxed: only decides whether to help now; publishes nothing).
  std::atomic<std::size_t> used_hint_{0};
  Sequence indexed_ahead_ = 1;          // writer only: index entries below this are faulted in
  detail::RecordIndex index_;
  mutable std::mutex ids_mutex_;
  mutable detail::IdIndex ids_;   // guarded by ids_mutex_; covers sequences 1..indexed_
  mutable Sequence indexed_ = 0;  // guarded by ids_mutex_
  std::atomic<Sequence> latest_{0};  // writer: append (M1); readers: every read path; publishes records+index
  mutable detail::WaitGate gate_;
};

// A handle: forwards to the shared log; the writer handle releases the writer role on close.
class MemoryLogHandle final : public SessionLog {
 public:
  MemoryLogHandle(std::shared_ptr<MemorySessionLog> log, std::shared_ptr<std::mutex> store_mutex, bool writer)
      : log_(std::move(log)), store_mutex_(std::move(store_mutex)), writer_(writer) {}
  ~MemoryLogHandle() override {
    if (writer_) {
      std::lock_guard lock(*store_mutex_);
      log_->has_writer.store(false, std::memory_order_relaxed);  // relaxed: guarded by the store mutex
    }
  }
  std::string_view session_id() const noexcept override { return log_->session_id(); }
  Status append(const AppendBatch& batch) override {
    if (!writer_)
      return Status(Errc::validation_error, "session '" + std::string(log_->session_id()) +
                                                "' was opened read-only; append needs OpenMode::write");
    return log_->append(batch);
  }
  Sequence latest_sequence() const noexcept override { return log_->latest_sequence(); }
  bool prepare_append() noexcept override { return writer_ && log_->prepare_append(); }
  bool prefault_ahead() noexcept override { return writer_ && log_->prefault_ahead(); }
  Status read(const EventQuery& q, FunctionRef<bool(const EventView&)> visit) const override {
    return log_->read(q, visit);
  }
  Result<Event> find_by_id(std::string_view id) const override { return log_->find_by_id(id); }
  Result<Sequence> wait_for(Sequence after, Deadline deadline) const override {
    return log_->wait_for(after, deadline);
  }

 private:
  std::shared_ptr<MemorySessionLog> log_;
  std::shared_ptr<std::mutex> store_mutex_;
  bool writer_;
};

}  // namespace

struct MemoryStore::State {
  std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();
  std::map<std::string, std::shared_ptr<MemorySessionLog>, std::less<>> sessions;
};

MemoryStore::MemoryStore() : state_(std::make_unique<State>()) {}
MemoryStore::~MemoryStore() = default;

std::shared_ptr<MemoryStore> MemoryStore::create() { return std::shared_ptr<MemoryStore>(new MemoryStore()); }

Result<std::shared_ptr<SessionLog>> MemoryStore::open(std::string_view session_id, OpenMode mode) {
  if (Status st = validate_session_id(session_id); !st) return st.error();
  std::lock_guard lock(*state_->mutex);
  auto it = state_->sessions.find(session_id);
  if (it == state_->sessions.end()) {
    if (mode == OpenMode::read)
      return Error(Errc::not_found, "memory store has no session '" + std::string(session_id) + "'");
    it = state_->sessions.emplace(std::string(session_id), std::make_shared<MemorySessionLog>(std::string(session_id)))
             .first;
  }
  if (mode == OpenMode::write) {
    if (it->second->has_writer.load(std::memory_order_relaxed))  // relaxed: guarded by the store mutex
      return Error(Errc::writer_conflict, "session '" + std::string(session_id) + "' already has a writer");
    it->second->has_writer.store(true, std::memory_order_relaxed);
  }
  return std::shared_ptr<SessionLog>(
      std::make_shared<MemoryLogHandle>(it->second, state_->mutex, mode == OpenMode::write));
}

Result<std::vector<std::string>> MemoryStore::list_sessions() const {
  std::lock_guard lock(*state_->mutex);
  std::vector<std::string> out;
  for (const auto& [id, log] : state_->sessions) out.push_back(id);
  return out;
}

}  // namespace sessionring
