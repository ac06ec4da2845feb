// LogWriter: framing, rolls, durability, group commit and the undo of failed batches
// (docs/store.md "Append" and "Faults and fault injection").
#include "detail/log_writer.hpp"

#include "detail/log_format.hpp"
#include "detail/log_scan.hpp"
#include "detail/retention_cut.hpp"
#include "detail/wall_clock.hpp"

#include <sessionring/event_record.hpp>

#include <algorithm>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace sessionring::detail {

namespace lf = log_format;

namespace {
constexpr auto kMaxSyncBackoff = std::chrono::milliseconds(500);  // between retries of a failed fdatasync
}

LogWriter::LogWriter(std::shared_ptr<LogState> state, Config config, WriterLock lock)
    : state_(std::move(state)),
      cfg_(std::move(config)),
      keep_unsynced_(cfg_.durability == Durability::fsync && cfg_.background_sync),
      lock_(std::move(lock)),
      needs_thread_(cfg_.durability == Durability::none || keep_unsynced_) {}

Result<std::unique_ptr<LogWriter>> LogWriter::start(std::shared_ptr<LogState> state, Config config, WriterLock lock) {
  std::unique_ptr<LogWriter> w(new LogWriter(std::move(state), std::move(config), std::move(lock)));
  {
    std::lock_guard guard(w->state_->publish_mutex());
    const Sequence latest = w->state_->published();
    w->on_os_ = w->synced_ = w->pending_last_ = latest;
    w->written_.store(latest, std::memory_order_relaxed);  // relaxed: not yet shared
    if (auto seg = w->state_->last_segment()) {
      // Its file is opened by the first append (ensure_file_locked): an open writer that
      // appends nothing holds no descriptor.
      w->segment_ = std::move(seg);
      w->file_end_ = w->segment_->visible_end.load(std::memory_order_relaxed);  // relaxed: publisher's own value
      w->synced_end_ = w->file_end_;  // recovered from the files: treated as synced
    }
    // The commit mark of a session that has one is brought to what recovery kept (a power loss
    // may have cut records an older mark covered); a session without one gets it at its first
    // append (ensure_mark_locked), so opening a writer alone writes nothing.
    if (::access((w->state_->dir() + "/COMMIT").c_str(), F_OK) == 0) {
      auto mark = CommitMark::create(w->state_->dir(), latest);
      if (!mark) return mark.error();
      w->mark_ = std::move(*mark);
    }
    w->state_->attach_writer(w.get());
  }
  return w;
}

Status LogWriter::wake_background_locked() {
  cv_.notify_all();
  if (running_ || stop_ || !needs_thread_) return {};
  // A thread that exited idle cleared running_ under the mutex and never takes it again: the
  // join below waits for its return only.
  if (background_.joinable()) background_.join();
  try {
    background_ = std::thread([this] { background_loop(); });
  } catch (const std::system_error& e) {
    return Status(Errc::storage_error, "session '" + state_->session_id() +
                                           "': cannot start the log's flush thread: " + e.what());
  }
  running_ = true;
  return {};
}

LogWriter::~LogWriter() { (void)close(); }

Status LogWriter::ensure_mark_locked() {
  if (mark_.is_open()) return {};
  // Before the first frame is written: a follower never finds frames without a mark to bound
  // them. After release_idle() it holds the value it had (everything accepted was secured).
  auto mark = CommitMark::create(state_->dir(), mark_value_locked());
  if (!mark) return mark.error();
  mark_ = std::move(*mark);
  return {};
}

Sequence LogWriter::mark_value_locked() const noexcept {
  const Sequence accepted = std::min(on_os_, written_.load(std::memory_order_relaxed));  // relaxed: own value
  return cfg_.durability == Durability::fsync ? std::min(synced_, accepted) : accepted;
}

void LogWriter::mark_locked() noexcept { mark_.store(mark_value_locked()); }

Status LogWriter::ensure_file_locked() {
  if (file_ || !segment_) return {};
  auto f = File::open(segment_->path, O_RDWR);
  if (!f) {
    if (f.code() == Errc::not_found)
      return Status(Errc::storage_error, "session '" + state_->session_id() + "': its segment file '" +
                                             segment_->path + "' is missing (removed while the session was open?)");
    return f.error();
  }
  f->set_fault_injector(cfg_.faults.get());
  file_ = std::make_shared<File>(std::move(*f));
  count_file_locked();
  return {};
}

bool LogWriter::release_file_locked() noexcept {
  if (!file_ || appending_ || closed_ || syncing_ || sync_retrying_ || pending_size_ > 0 || !unsynced_.empty())
    return false;
  if (state_->failure_locked() != nullptr) return false;
  const Sequence accepted = std::min(on_os_, written_.load(std::memory_order_relaxed));  // relaxed: own value
  if (on_os_ != pending_last_ || (cfg_.durability == Durability::fsync && synced_ < accepted)) return false;
  file_.reset();  // the sync thread holds no copy: it copies file_ only while syncing_
  count_file_locked();
  return true;
}

void LogWriter::count_file_locked() noexcept {
  const bool has = file_ != nullptr;
  if (!cfg_.budget || has == counted_) return;
  counted_ = has;
  if (has)
    cfg_.budget->opened();
  else
    cfg_.budget->closed();
}

void LogWriter::shed_if_over_locked() noexcept {
  count_file_locked();
  if (cfg_.budget && cfg_.budget->over()) (void)release_file_locked();
}

void LogWriter::release_idle() noexcept {
  std::lock_guard lock(state_->publish_mutex());
  if (closed_ || appending_ || state_->failure_locked() != nullptr) return;
  if (pending_size_ > 0) {  // none: hand it to the OS now rather than at the next flush tick
    if (!write_pending_locked()) return;
    mark_locked();
  }
  if (!release_file_locked() && file_) return;
  // The file is closed, so the mark cannot move before the next append, which maps it again
  // (ensure_mark_locked, with the value it holds now: everything accepted is secured).
  mark_ = CommitMark();
}

bool LogWriter::holds_file() const {
  std::lock_guard lock(state_->publish_mutex());
  return file_ != nullptr;
}

void LogWriter::append_frame(std::span<const std::byte> record, Sequence seq) {
  const std::size_t frame = lf::kFrameHeaderBytes + record.size();
  if (pending_size_ + frame > pending_cap_) {
    const std::size_t cap = std::max({pending_cap_ * 2, pending_size_ + frame, std::size_t{64} << 10});
    auto grown = std::unique_ptr<std::byte[]>(new std::byte[cap]);
    if (pending_size_ > 0) std::memcpy(grown.get(), pending_.get(), pending_size_);
    pending_ = std::move(grown);
    pending_cap_ = cap;
  }
  std::byte* out = pending_.get() + pending_size_;
  // The watermark: what this level had secured when the frame was built (docs/store.md
  // "Recovery": a later frame proving a bad record was secured makes it damage, not a torn tail).
  const Sequence watermark = cfg_.durability == Durability::fsync ? synced_ : on_os_;
  lf::encode_frame_header(out, record.data(), static_cast<std::uint32_t>(record.size()), seq, watermark);
  std::memcpy(out + lf::kFrameHeaderBytes, record.data(), record.size());
  pending_size_ += frame;
  pending_last_ = seq;
}

Status LogWriter::cut_locked(const File& file, std::uint64_t size, const Error& cause) {
  Status st = file.truncate(size);
  if (st) return st;
  // The segment could not be cut back: zero the frame header where the failed bytes begin, so
  // that the next open sees a torn tail there (its frames carry watermarks below their own
  // sequences: none proves it was secured) and truncates it (INV-9). Appending after garbage
  // would make it damage instead, so this writer refuses every later append.
  std::byte zeros[lf::kFrameHeaderBytes] = {};
  (void)file.overwrite_at(zeros, sizeof zeros, size);
  state_->fail(Error(Errc::storage_error, "session '" + state_->session_id() + "': a failed write (" +
                                              cause.message() + ") could not be undone (" + st.error().message() +
                                              "); the log refuses appends until the session is reopened"));
  return st;
}

Status LogWriter::write_pending_locked() {
  if (pending_size_ == 0) return {};
  if (state_->failed_for_good_locked()) return *state_->failure_locked();  // never write after garbage
  if (Status st = file_->write_at(pending_.get(), pending_size_, file_end_); !st) {
    // Part of the buffer may be in the file (a short write): cut it off, so the segment ends
    // where it did. The frames stay in pending_; the caller keeps or undoes them.
    (void)cut_locked(*file_, file_end_, st.error());
    return st;
  }
  if (keep_unsynced_) unsynced_.insert(unsynced_.end(), pending_.get(), pending_.get() + pending_size_);
  file_end_ += pending_size_;
  pending_size_ = 0;
  on_os_ = pending_last_;
  // Complete records on the OS may become visible at once: readers stop at secured_ anyway.
  segment_->visible_end.store(file_end_, std::memory_order_release);  // pairs with read_records; (L1) follows
  state_->set_flushed(on_os_);
  return {};
}

void LogWriter::sync_failed_locked(const Error& e) {
  sync_retrying_ = true;
  state_->fail_transient(Error(Errc::storage_error, e.message() + " (session '" + state_->session_id() +
                                                        "': appends are refused until a retried fdatasync succeeds)"));
  (void)wake_background_locked();  // the sync thread retries (if it cannot start, the next append tries again)
}

Status LogWriter::rewrite_unsynced_locked() {
  if (!file_ || unsynced_.empty()) return {};
  // After a failed fdatasync the kernel may have dropped the dirty pages or marked them clean:
  // write our own copy again so the next fdatasync has the right bytes to make durable.
  return file_->overwrite_at(unsynced_.data(), unsynced_.size(), synced_end_);
}

Status LogWriter::roll_locked(Sequence first, std::unique_lock<std::mutex>& lock) {
  if (segment_) {
    if (Status st = write_pending_locked(); !st) return st;
    if (batch_created_ == 0) rolled_old_ = true;
    if (cfg_.durability == Durability::fsync) {
      if (keep_unsynced_) {
        // One fdatasync of a segment at a time: a concurrent one could take the error this
        // one needs to see (the kernel reports a writeback error once per open file).
        cv_.wait(lock, [&] { return !syncing_; });
        if (const Error* f = state_->failure_locked()) return *f;
      }
      if (Status st = file_->datasync(); !st) {  // the sealed segment is durable before the next exists
        if (keep_unsynced_) sync_failed_locked(st.error());
        return st;
      }
      if (batch_created_ == 0) synced_old_ = true;
      if (keep_unsynced_) {
        unsynced_.clear();
        synced_end_ = file_end_;
      }
    }
  }
  const std::string path = state_->dir() + "/" + lf::segment_name(first);
  auto f = File::open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
  if (!f) return f.error();
  f->set_fault_injector(cfg_.faults.get());
  std::byte header[lf::kSegmentHeaderBytes];
  lf::encode_segment_header(header, first);
  Status st = f->write_at(header, sizeof header, 0);
  if (st && cfg_.durability == Durability::fsync) {
    st = f->datasync();
    if (st) st = sync_directory(state_->dir());
  }
  if (!st) {
    ::unlink(path.c_str());
    return st;
  }
  segment_ = state_->add_segment(path, first, lf::kSegmentHeaderBytes);
  file_ = std::make_shared<File>(std::move(*f));
  file_end_ = lf::kSegmentHeaderBytes;
  synced_end_ = file_end_;  // fsync: the header was synced above
  unsynced_.clear();
  ++batch_created_;
  return {};
}

LogWriter::Undo LogWriter::capture() const {
  return Undo{segment_, file_, file_end_, pending_size_, pending_last_, on_os_};
}

void LogWriter::undo_locked(const Undo& u, const Error& cause) {
  for (std::size_t i = 0; i < batch_created_; ++i) {
    if (auto seg = state_->last_segment()) ::unlink(seg->path.c_str());
    state_->drop_last_segment();
  }
  segment_ = u.segment;
  file_ = u.file;
  if (rolled_old_) {
    // A roll handed the previous segment everything pending (records accepted before this
    // batch, none only) and the batch's first frames: keep the former, cut the latter.
    file_end_ = u.file_end + u.pending;
    pending_size_ = 0;
    on_os_ = u.last;
  } else {
    file_end_ = u.file_end;
    pending_size_ = u.pending;
    on_os_ = u.on_os;
  }
  pending_last_ = u.last;
  if (keep_unsynced_) {
    // unsynced_ holds [synced_end_, end of what was written) of the current segment; keep its
    // part before the batch. The sync thread may have run while a roll waited for it (the
    // mutex is released there), so synced_end_ may have moved since capture(): compute from it.
    // (A batch that created segments synced the previous one first: synced_old_.)
    if (synced_old_ || synced_end_ >= file_end_) {
      unsynced_.clear();
      synced_end_ = file_end_;
    } else {
      unsynced_.resize(static_cast<std::size_t>(file_end_ - synced_end_));
    }
  }
  batch_created_ = 0;
  rolled_old_ = synced_old_ = false;
  state_->discard_noted(u.last);
  state_->set_flushed(on_os_);
  if (segment_) {
    state_->trim_index(*segment_, u.last);
    segment_->visible_end.store(file_end_, std::memory_order_release);  // shrinks to published data only
    (void)cut_locked(*file_, file_end_, cause);
  }
}

Status LogWriter::append(const AppendBatch& batch) {
  if (batch.size() == 0) return {};
  std::unique_lock lock(state_->publish_mutex());
  Status st = append_locked(batch, lock);
  shed_if_over_locked();  // over the store's cap: close the file now that the batch is done
  return st;
}

Status LogWriter::append_locked(const AppendBatch& batch, std::unique_lock<std::mutex>& lock) {
  if (closed_)
    return Status(Errc::stopped, "session '" + state_->session_id() + "': the log's writer handle is closed");
  if (sync_retrying_ && !running_)  // the thread that retries the failed fdatasync could not start
    if (Status st = wake_background_locked(); !st) return st;
  if (const Error* f = state_->failure_locked()) return *f;
  const Sequence written = written_.load(std::memory_order_relaxed);  // relaxed: the writer's own value
  if (batch.first_sequence != written + 1)
    return Status(Errc::sequence_conflict, "session '" + state_->session_id() + "': batch starts at sequence " +
                                               std::to_string(batch.first_sequence) + " but the log's last is " +
                                               std::to_string(written) + " (is a second writer appending?)");
  if (batch.records.size() != batch.size())
    return Status(Errc::validation_error, "append batch has " + std::to_string(batch.size()) + " events but " +
                                              std::to_string(batch.records.size()) + " records");
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto rec = batch.records[i];
    if (rec.size() < EventRecord::kHeaderBytes || rec.size() > UINT32_MAX ||
        EventRecord::size_of(rec.data()) != rec.size() || EventRecord::sequence_of(rec.data()) != batch.first_sequence + i)
      return Status(Errc::validation_error, "append batch record " + std::to_string(i) +
                                                " is not the EventRecord of sequence " +
                                                std::to_string(batch.first_sequence + i));
  }
  if (keep_unsynced_ && unsynced_.size() >= kMaxUnsyncedBytes) {
    // The disk syncs slower than we write: let the group commit catch up (bounded memory).
    cv_.wait(lock, [&] { return stop_ || unsynced_.size() < kMaxUnsyncedBytes || state_->failure_locked(); });
    if (const Error* f = state_->failure_locked()) return *f;
    if (stop_) return Status(Errc::stopped, "session '" + state_->session_id() + "': the log's writer is closing");
  }
  if (Status st = ensure_file_locked(); !st) return st;  // nothing written yet
  if (Status st = ensure_mark_locked(); !st) return st;
  // Until this returns, the sync thread leaves retention alone (a roll may release the mutex),
  // and the segment file stays open (release_file_locked).
  struct Appending {
    bool& flag;
    explicit Appending(bool& f) : flag(f) { flag = true; }
    Appending(const Appending&) = delete;
    Appending& operator=(const Appending&) = delete;
    ~Appending() { flag = false; }
  } appending(appending_);
  const Undo undo = capture();
  batch_created_ = 0;
  rolled_old_ = synced_old_ = false;
  auto fail_batch = [&](Status st) {
    undo_locked(undo, st.error());
    return st;
  };
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto rec = batch.records[i];
    const Sequence seq = batch.first_sequence + i;
    const std::uint64_t frame = lf::kFrameHeaderBytes + rec.size();
    const std::uint64_t size = file_end_ + pending_size_;
    if (!segment_ || (size > lf::kSegmentHeaderBytes && size + frame > cfg_.segment_bytes)) {
      if (Status st = roll_locked(seq, lock); !st) return fail_batch(st);
    }
    const std::uint64_t offset = file_end_ + pending_size_;
    append_frame(rec, seq);
    state_->note_record(*segment_, seq, offset, frame, EventRecord::id_of(rec.data()), EventRecord::timestamp_of(rec.data()));
  }
  const Sequence last = batch.last_sequence();
  switch (cfg_.durability) {
    case Durability::none: {
      if (pending_size_ >= cfg_.buffer_bytes)
        if (Status st = write_pending_locked(); !st) return fail_batch(st);  // earlier batches stay pending
      if (pending_size_ > 0 && (undo.pending == 0 || rolled_old_)) {
        // Empty -> non-empty: start the idle clock and wake the flush thread (only then: a
        // wake-up per append would cost a context switch and contend for the mutex). It runs
        // once we release the mutex.
        if (Status st = wake_background_locked(); !st) return fail_batch(st);
        pending_since_ = std::chrono::steady_clock::now();
      }
      written_.store(last, std::memory_order_relaxed);  // relaxed: see the declaration
      retain_locked(last);    // before publishing: a reader woken by it sees the new first too
      state_->publish(last);  // none secures nothing more than acceptance (docs/store.md)
      mark_locked();          // what of it is on the OS
      return {};
    }
    case Durability::buffered:
      if (Status st = write_pending_locked(); !st) return fail_batch(st);
      written_.store(last, std::memory_order_relaxed);  // relaxed: see the declaration
      mark_locked();  // before readers in this process: a follower never lags them by design
      retain_locked(last);
      state_->publish(last);
      return {};
    case Durability::fsync:
      if (Status st = write_pending_locked(); !st) return fail_batch(st);
      if (cfg_.background_sync) {
        // The sync thread publishes once the fdatasync covering `last` returns (it runs once
        // we release the mutex).
        if (Status st = wake_background_locked(); !st) return fail_batch(st);
        written_.store(last, std::memory_order_relaxed);  // relaxed: see the declaration
        retain_locked(synced_);  // what the sync thread secured while a roll released the mutex
        return {};
      }
      // Inline: everything before this batch was synced by earlier appends, so undoing the
      // batch (truncating it away) leaves exactly the durable, published prefix.
      if (Status st = file_->datasync(); !st) return fail_batch(st);
      written_.store(last, std::memory_order_relaxed);  // relaxed: see the declaration
      synced_ = last;
      mark_locked();
      retain_locked(last);
      state_->publish(last);
      return {};
  }
  return {};
}

void LogWriter::retain_locked(Sequence secured) {
  if (cfg_.retention.keeps_everything() || state_->failure_locked() != nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  const bool check_age = cfg_.retention.max_age.count() > 0 && now >= next_age_check_;
  // The common case without touching the segment list: nothing can go by events or age.
  if (cfg_.retention.max_bytes == 0 && !check_age &&
      (cfg_.retention.max_events == 0 || secured < state_->first_locked() ||
       secured + 1 - state_->first_locked() < cfg_.retention.max_events + cfg_.retention.prune_unit))
    return;
  const auto segs = state_->segments();
  if (segs.empty()) return;
  const Sequence written = written_.load(std::memory_order_relaxed);  // relaxed: the writer's own value
  std::vector<RetentionUnit> units(segs.size());
  for (std::size_t i = 0; i < segs.size(); ++i) {
    units[i].first = segs[i]->first_sequence;
    units[i].last = i + 1 < segs.size() ? segs[i + 1]->first_sequence - 1 : written;
    units[i].bytes = segs[i] == segment_ ? file_end_ + pending_size_
                                         : segs[i]->visible_end.load(std::memory_order_relaxed);  // relaxed: publisher's own value
    units[i].max_timestamp_ns = segs[i]->max_timestamp_ns;
  }
  std::size_t cut = retention_cut(units, cfg_.retention, check_age, wall_clock_ns());
  if (cut > 0 && cfg_.retention.keep_cursor_positions && cfg_.cursors) {
    const auto low = cfg_.cursors->lowest();
    if (!low) return;  // the CURSORS file is unreadable: prune nothing rather than too much
    if (*low) cut = cap_cut_at_cursor(units, cut, **low);
  }
  // Only what is secured goes: a record waiting for its fdatasync is never pruned. The age
  // check counts as done (next one in a second) only when that did not hold it back.
  const std::size_t wanted = cut;
  while (cut > 0 && units[cut - 1].last > secured) --cut;
  if (check_age && cut == wanted) next_age_check_ = now + std::chrono::seconds(1);
  if (cut == segs.size()) {
    // Every record is old (max_age): the current segment goes too, once everything in it is on
    // the OS; the next append starts a segment at written + 1.
    if (segs.back() != segment_ || (pending_size_ > 0 && !write_pending_locked()) || syncing_) --cut;
  }
  if (cut == 0) return;
  const Sequence first = cut < segs.size() ? segs[cut]->first_sequence : written + 1;
  // FIRST before any file goes: a crash in between leaves leftovers the next open removes,
  // never a missing first segment that recovery would call damage.
  if (!write_first_sequence(state_->dir(), first, cfg_.durability == Durability::fsync)) return;  // retried next batch
  state_->prune_front_locked(cut, first);  // (L3)
  if (cut == segs.size()) {
    segment_.reset();
    file_.reset();
    file_end_ = 0;
    unsynced_.clear();
    synced_end_ = 0;
  }
  for (std::size_t i = 0; i < cut; ++i) ::unlink(segs[i]->path.c_str());  // a failure leaves a leftover
  if (cfg_.durability == Durability::fsync) (void)sync_directory(state_->dir());
}

Status LogWriter::flush_locked() { return write_pending_locked(); }  // a failure leaves the records pending

void LogWriter::background_loop() {
  std::unique_lock lock(state_->publish_mutex());
  if (cfg_.durability == Durability::none) {
    for (;;) {
      if (!cv_.wait_for(lock, cfg_.flusher_idle_exit,
                        [&] { return stop_ || (pending_size_ > 0 && !state_->failed_for_good_locked()); })) {
        running_ = false;  // idle: the next append that leaves records pending starts another
        return;
      }
      if (stop_) return;
      cv_.wait_until(lock, pending_since_ + cfg_.flush_interval, [&] { return stop_ || pending_size_ == 0; });
      if (stop_) return;
      if (pending_size_ > 0 && !state_->failed_for_good_locked()) {
        if (write_pending_locked()) {
          mark_locked();
          shed_if_over_locked();
        } else
          pending_since_ = std::chrono::steady_clock::now();  // retry an interval later
      }
    }
  }
  sync_loop(lock);
}

void LogWriter::sync_loop(std::unique_lock<std::mutex>& lock) {
  // fsync group commit: one fdatasync covers everything written before it started.
  auto backoff = std::chrono::milliseconds(1);
  for (;;) {
    // Only what append() accepted is synced and published: while a roll waits for this thread
    // (the mutex released), the first frames of the batch being appended are on the OS too.
    auto accepted = [&] { return std::min(on_os_, written_.load(std::memory_order_relaxed)); };  // relaxed: under the mutex
    if (!cv_.wait_for(lock, cfg_.flusher_idle_exit, [&] { return stop_ || accepted() > synced_ || sync_retrying_; }) ||
        (!stop_ && (state_->failed_for_good_locked() || !file_))) {
      running_ = false;  // idle, or nothing it can sync: the next append that needs it starts another
      return;
    }
    if (stop_) return;  // close() syncs the rest
    if (sync_retrying_) {
      cv_.wait_for(lock, backoff, [&] { return stop_; });
      if (stop_) return;
      backoff = std::min(backoff * 2, kMaxSyncBackoff);
      if (!rewrite_unsynced_locked()) continue;  // try again after the next back-off
    }
    const Sequence target = accepted();
    const std::uint64_t target_end = file_end_;  // may cover a batch being appended: undo_locked copes
    const std::shared_ptr<File> file = file_;  // older segments were synced when they were sealed
    syncing_ = true;
    lock.unlock();
    Status st = file->datasync();
    lock.lock();
    syncing_ = false;
    cv_.notify_all();  // a roll waiting to sync the segment itself
    if (!st) {
      sync_failed_locked(st.error());
      continue;
    }
    if (file == file_ && target_end > synced_end_) {  // (a roll waits for us, so file_ is the one we synced)
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(target_end - synced_end_, unsynced_.size()));
      unsynced_.erase(unsynced_.begin(), unsynced_.begin() + static_cast<std::ptrdiff_t>(n));
      synced_end_ = target_end;
    }
    synced_ = std::max(synced_, target);
    if (sync_retrying_) {
      sync_retrying_ = false;
      backoff = std::chrono::milliseconds(1);
      state_->recover();
    }
    mark_locked();
    if (!appending_) retain_locked(synced_);  // else a roll waits in append() with the mutex released
    state_->publish(synced_);
    cv_.notify_all();  // appends waiting for room in unsynced_
    shed_if_over_locked();
  }
}

Status LogWriter::close() {
  {
    std::lock_guard lock(state_->publish_mutex());
    if (closed_) return {};
    stop_ = true;
    cv_.notify_all();
  }
  if (background_.joinable()) background_.join();
  std::lock_guard lock(state_->publish_mutex());
  closed_ = true;
  Status result;
  if (state_->failed_for_good_locked()) {
    result = *state_->failure_locked();
  } else {
    result = write_pending_locked();
    if (result && cfg_.durability == Durability::fsync && on_os_ > synced_) {
      if (sync_retrying_) result = rewrite_unsynced_locked();
      if (result) result = file_->datasync();
      if (result) {
        synced_ = on_os_;
        sync_retrying_ = false;
        state_->recover();
        mark_locked();
        state_->publish(synced_);
      } else if (keep_unsynced_) {
        // Never secured, never published: cut them off, so a reopen shows the secured prefix.
        (void)cut_locked(*file_, synced_end_, result.error());
      }
    }
    if (!result) state_->fail(result.error());
    if (result && cfg_.durability != Durability::fsync) mark_locked();  // none: the final flush
  }
  state_->detach_writer();
  file_.reset();
  count_file_locked();
  return result;
}

}  // namespace sessionring::detail
