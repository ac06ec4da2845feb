// LogWriter: framing, rolls, durability and group commit (docs/store.md "Append").
#include "detail/log_writer.hpp"

#include "detail/log_format.hpp"

#include <sessionring/event_record.hpp>

#include <algorithm>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace sessionring::detail {

namespace lf = log_format;

LogWriter::LogWriter(std::shared_ptr<LogState> state, Config config, WriterLock lock)
    : state_(std::move(state)), cfg_(config), lock_(std::move(lock)) {}

Result<std::unique_ptr<LogWriter>> LogWriter::start(std::shared_ptr<LogState> state, Config config, WriterLock lock) {
  std::unique_ptr<LogWriter> w(new LogWriter(std::move(state), config, std::move(lock)));
  {
    std::lock_guard guard(w->state_->publish_mutex());
    const Sequence latest = w->state_->published();
    w->on_os_ = w->synced_ = w->pending_last_ = latest;
    w->written_.store(latest, std::memory_order_relaxed);  // relaxed: not yet shared
    if (auto seg = w->state_->last_segment()) {
      auto f = File::open(seg->path, O_RDWR);
      if (!f) return f.error();
      w->segment_ = std::move(seg);
      w->file_end_ = w->segment_->visible_end.load(std::memory_order_relaxed);  // relaxed: publisher's own value
      w->file_ = std::make_shared<File>(std::move(*f));
    }
    w->state_->attach_writer(w.get());
  }
  const bool needs_thread = config.durability == Durability::none ||
                            (config.durability == Durability::fsync && config.background_sync);
  if (needs_thread) w->background_ = std::thread([p = w.get()] { p->background_loop(); });
  return w;
}

LogWriter::~LogWriter() { (void)close(); }

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

Status LogWriter::write_pending_locked() {
  if (pending_size_ == 0) return {};
  if (Status st = file_->write_at(pending_.get(), pending_size_, file_end_); !st) return st;
  file_end_ += pending_size_;
  pending_size_ = 0;
  on_os_ = pending_last_;
  // Complete records on the OS may become visible at once: readers stop at secured_ anyway.
  segment_->visible_end.store(file_end_, std::memory_order_release);  // pairs with read_records; (L1) follows
  state_->set_flushed(on_os_);
  return {};
}

Status LogWriter::roll_locked(Sequence first, std::size_t& created) {
  if (segment_) {
    if (Status st = write_pending_locked(); !st) return st;
    if (cfg_.durability == Durability::fsync)
      if (Status st = file_->datasync(); !st) return st;  // the sealed segment is durable before the next exists
  }
  const std::string path = state_->dir() + "/" + lf::segment_name(first);
  auto f = File::open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
  if (!f) return f.error();
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
  ++created;
  return {};
}

void LogWriter::undo_locked(const Undo& u) {
  for (std::size_t i = 0; i < u.created; ++i) {
    if (auto seg = state_->last_segment()) ::unlink(seg->path.c_str());
    state_->drop_last_segment();
  }
  segment_ = u.segment;
  file_ = u.file;
  file_end_ = u.file_end;
  pending_size_ = u.pending;
  pending_last_ = u.last;
  state_->discard_noted();
  if (segment_) {
    state_->trim_index(*segment_, u.last);
    segment_->visible_end.store(file_end_, std::memory_order_release);  // shrinks to published data only
    if (Status st = file_->truncate(file_end_); !st) state_->fail(st.error());
  }
}

Status LogWriter::append(const AppendBatch& batch) {
  if (batch.size() == 0) return {};
  std::unique_lock lock(state_->publish_mutex());
  if (closed_)
    return Status(Errc::stopped, "session '" + state_->session_id() + "': the log's writer handle is closed");
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
  const Undo undo{segment_, file_, file_end_, pending_size_, pending_last_, 0};
  std::size_t created = 0;
  auto fail_batch = [&](Status st) {
    undo_locked(Undo{undo.segment, undo.file, undo.file_end, undo.pending, undo.last, created});
    return st;
  };
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto rec = batch.records[i];
    const Sequence seq = batch.first_sequence + i;
    const std::uint64_t frame = lf::kFrameHeaderBytes + rec.size();
    const std::uint64_t size = file_end_ + pending_size_;
    if (!segment_ || (size > lf::kSegmentHeaderBytes && size + frame > cfg_.segment_bytes)) {
      if (Status st = roll_locked(seq, created); !st) {
        if (cfg_.durability != Durability::none) return fail_batch(st);
        state_->fail(st.error());  // none: earlier, already published batches may be half on the OS
        return st;
      }
    }
    const std::uint64_t offset = file_end_ + pending_size_;
    append_frame(rec, seq);
    state_->note_record(*segment_, seq, offset, frame, EventRecord::id_of(rec.data()));
  }
  const Sequence last = batch.last_sequence();
  switch (cfg_.durability) {
    case Durability::none:
      if (pending_size_ >= cfg_.buffer_bytes) {
        if (Status st = write_pending_locked(); !st) {
          state_->fail(st.error());  // earlier batches were already published from the buffer
          return st;
        }
      }
      written_.store(last, std::memory_order_relaxed);  // relaxed: see the declaration
      state_->publish(last);  // none secures nothing more than acceptance (docs/store.md)
      if (pending_size_ > 0 && undo.pending == 0) {
        // Empty -> non-empty: start the idle clock and wake the flush thread (only then: a
        // wake-up per append would cost a context switch and contend for the mutex).
        pending_since_ = std::chrono::steady_clock::now();
        cv_.notify_one();
      }
      return {};
    case Durability::buffered:
      if (Status st = write_pending_locked(); !st) return fail_batch(st);
      written_.store(last, std::memory_order_relaxed);  // relaxed: see the declaration
      state_->publish(last);
      return {};
    case Durability::fsync:
      if (Status st = write_pending_locked(); !st) return fail_batch(st);
      written_.store(last, std::memory_order_relaxed);  // relaxed: see the declaration
      if (cfg_.background_sync) {
        cv_.notify_one();  // the sync thread publishes once the fdatasync covering `last` returns
        return {};
      }
      if (Status st = file_->datasync(); !st) {
        state_->fail(st.error());  // the page cache may have dropped the pages: stop here
        return st;
      }
      synced_ = last;
      state_->publish(last);
      return {};
  }
  return {};
}

Status LogWriter::flush_locked() {
  Status st = write_pending_locked();
  if (!st) state_->fail(st.error());
  return st;
}

void LogWriter::background_loop() {
  std::unique_lock lock(state_->publish_mutex());
  if (cfg_.durability == Durability::none) {
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || pending_size_ > 0; });
      if (stop_) return;
      cv_.wait_until(lock, pending_since_ + cfg_.flush_interval, [&] { return stop_ || pending_size_ == 0; });
      if (stop_) return;
      if (pending_size_ > 0 && !state_->failure_locked()) (void)flush_locked();
    }
  }
  // fsync group commit: one fdatasync covers everything written before it started.
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || on_os_ > synced_; });
    if (stop_) return;  // close() syncs the rest
    const Sequence target = on_os_;
    const std::shared_ptr<File> file = file_;  // older segments were synced when they were sealed
    lock.unlock();
    Status st = file->datasync();
    lock.lock();
    if (!st) {
      state_->fail(st.error());
      cv_.wait(lock, [&] { return stop_; });
      return;
    }
    synced_ = std::max(synced_, target);
    state_->publish(synced_);
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
  if (!state_->failure_locked()) {
    result = write_pending_locked();
    if (result && cfg_.durability == Durability::fsync && on_os_ > synced_) {
      result = file_->datasync();
      if (result) {
        synced_ = on_os_;
        state_->publish(synced_);
      }
    }
    if (!result) state_->fail(result.error());
  } else {
    result = *state_->failure_locked();
  }
  state_->detach_writer();
  file_.reset();
  return result;
}

}  // namespace sessionring::detail
