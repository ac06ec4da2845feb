// LogState: reads, id lookups, long polls and publication of one session's log
// (docs/store.md "Reads" and "Publication").
#include "detail/log_state.hpp"

#include "detail/log_file.hpp"
#include "detail/log_format.hpp"
#include "detail/log_frame_reader.hpp"

#include <sessionring/event_record.hpp>

#include <algorithm>
#include <exception>
#include <thread>

#include <fcntl.h>

namespace sessionring::detail {

namespace lf = log_format;

// ---- publisher ----

std::shared_ptr<Segment> LogState::add_segment(const std::string& path, Sequence first, std::uint64_t header_end) {
  auto seg = std::make_shared<Segment>(path, first, header_end);
  seg->index.push_back({first, header_end});
  records_since_entry_ = 0;
  bytes_since_entry_ = 0;
  std::lock_guard lock(segments_mutex_);
  segments_.push_back(seg);
  return seg;
}

void LogState::drop_last_segment() {
  std::lock_guard lock(segments_mutex_);
  if (!segments_.empty()) segments_.pop_back();
}

void LogState::trim_index(Segment& seg, Sequence last_kept) {
  std::lock_guard lock(segments_mutex_);
  while (seg.index.size() > 1 && seg.index.back().sequence > last_kept) seg.index.pop_back();
}

std::shared_ptr<Segment> LogState::last_segment() const {
  std::lock_guard lock(segments_mutex_);
  return segments_.empty() ? nullptr : segments_.back();
}

void LogState::note_record(Segment& seg, Sequence seq, std::uint64_t offset, std::size_t frame_bytes,
                           std::string_view id, std::int64_t timestamp_ns) {
  seg.max_timestamp_ns = std::max(seg.max_timestamp_ns, timestamp_ns);
  if (records_since_entry_ >= cfg_.index_every_records || bytes_since_entry_ >= cfg_.index_every_bytes) {
    std::lock_guard lock(segments_mutex_);
    seg.index.push_back({seq, offset});
    records_since_entry_ = 0;
    bytes_since_entry_ = 0;
  }
  ++records_since_entry_;
  bytes_since_entry_ += frame_bytes;
  pending_ids_.emplace_back(IdIndex::hash(id), seq);
}

std::vector<std::shared_ptr<Segment>> LogState::segments() const {
  std::lock_guard lock(segments_mutex_);
  return segments_;
}

void LogState::set_first_locked(Sequence first) noexcept {
  first_.store(first, std::memory_order_seq_cst);  // (L3) pairs with (L4)
}

void LogState::prune_front_locked(std::size_t count, Sequence first) {
  const Sequence before = first_.load(std::memory_order_relaxed);  // relaxed: the publisher's own value
  // (L3) seq_cst: before the segments leave the list and their files are removed: a reader that
  // then misses a segment or its file reloads first_ (L4) and answers pruned, never damage.
  first_.store(first, std::memory_order_seq_cst);
  {
    std::lock_guard lock(segments_mutex_);
    count = std::min(count, segments_.size());
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(count));
  }
  std::unique_lock lock(ids_mutex_);
  if (!ids_active_) return;
  // The id index keeps entries of pruned events (find_by_id skips them); once they outnumber
  // the live ones it is dropped and rebuilt by the next find_by_id.
  ids_pruned_ += first - before;
  const Sequence hi = secured_.load(std::memory_order_relaxed);  // relaxed: the publisher's own value
  if (ids_pruned_ > (hi >= first ? hi - first + 1 : 0)) {
    ids_ = IdIndex();
    ids_active_ = false;
    ids_pruned_ = 0;
  }
}

void LogState::publish(Sequence seq) {
  {
    // The ids enter the index (if anyone activated it) and secured_ advances under one lock,
    // so activate_ids() sees either both or neither.
    std::unique_lock lock(ids_mutex_);
    std::size_t n = 0;  // entries are noted in sequence order
    for (; n < pending_ids_.size() && pending_ids_[n].second <= seq; ++n)
      if (ids_active_) ids_.insert(pending_ids_[n].first, pending_ids_[n].second);
    pending_ids_.erase(pending_ids_.begin(), pending_ids_.begin() + static_cast<std::ptrdiff_t>(n));
    // (L1) seq_cst: publishes the records, index entries and Segment::visible_end stored
    // before it; pairs with the acquire loads (L2) of the readers, and is P1 of the WaitGate
    // protocol for wait_for (INV-2).
    secured_.store(seq, std::memory_order_seq_cst);
  }
  gate_.notify_all();
}

Status LogState::activate_ids() {
  std::lock_guard build(ids_build_mutex_);
  {
    std::shared_lock lock(ids_mutex_);
    if (ids_active_) return {};
  }
  // Most of the log is scanned without the lock the writer's publish() takes (INV-4) ...
  IdIndex built;
  Sequence done = 0;
  auto add = [&](const EventView& v) {
    built.insert(IdIndex::hash(v.id), v.sequence_number);
    done = v.sequence_number;
    return true;
  };
  EventQuery all;
  all.after = first() - 1;
  for (Status st = read(all, add); !st; st = read(all, add)) {
    if (st.code() != Errc::pruned) return st;
    built = IdIndex();  // retention ran under our feet: start again from the first available
    all.after = first() - 1;
  }
  // ... and the records published meanwhile, with the publish mutex held: secured_ cannot
  // move, and in Durability::none what the writer still holds in user space is handed to the
  // OS first (read() did that for what it read; skipping it here read a file that ended before
  // a published record and answered damaged_store on a healthy log: issue 12, defect 5).
  // Lock order as in publish(): the publish mutex, then ids_mutex_.
  std::lock_guard publishing(publish_mutex_);
  const Sequence hi = secured_.load(std::memory_order_acquire);  // (L2) pairs with (L1)
  if (flushed_.load(std::memory_order_relaxed) < hi && flusher_ != nullptr)  // relaxed: the mutex orders it
    if (Status st = flusher_->flush_locked(); !st) return st;
  std::unique_lock lock(ids_mutex_);
  all.after = std::max(done, first_.load(std::memory_order_relaxed) - 1);  // relaxed: the publish mutex orders it
  if (Status st = read_records(all, hi, add); !st) return st;
  ids_ = std::move(built);
  ids_active_ = true;
  ids_pruned_ = 0;
  return {};
}

void LogState::set_flushed(Sequence seq) noexcept {
  flushed_.store(seq, std::memory_order_release);  // (F1) pairs with (F2) in ensure_flushed
}

void LogState::attach_writer(TailFlusher* flusher) noexcept {
  flusher_ = flusher;
  has_writer_.store(true, std::memory_order_seq_cst);  // seq_cst: read in the WaitGate predicate
}

void LogState::detach_writer() noexcept {
  flusher_ = nullptr;
  has_writer_.store(false, std::memory_order_seq_cst);  // seq_cst: P1 for the wait_for predicate
  gate_.notify_all();
}

void LogState::fail(Error error) {
  if (!sticky_) failure_ = std::move(error);  // the first sticky failure is the one reported
  sticky_ = true;
  failed_.store(true, std::memory_order_seq_cst);  // seq_cst: P1 for the wait_for predicate
  gate_.notify_all();
}

void LogState::fail_transient(Error error) {
  if (sticky_) return;
  failure_ = std::move(error);
  failed_.store(true, std::memory_order_seq_cst);  // seq_cst: P1 for the wait_for predicate
  gate_.notify_all();
}

void LogState::recover() noexcept {
  if (sticky_ || !failure_) return;
  failure_.reset();
  failed_.store(false, std::memory_order_seq_cst);  // seq_cst: read by the wait_for predicate
}

std::optional<Error> LogState::failure() const {
  std::lock_guard lock(publish_mutex_);
  return failure_;
}

void LogState::on_segment(const std::string& path, Sequence first, std::uint64_t header_end) {
  add_segment(path, first, header_end);
}

void LogState::on_record(Sequence seq, std::uint64_t offset, std::size_t frame_bytes,
                         std::span<const std::byte> payload) {
  note_record(*last_segment(), seq, offset, frame_bytes, EventRecord::id_of(payload.data()),
              EventRecord::timestamp_of(payload.data()));
  if (pending_ids_.size() >= 65536) {  // bound the staging vector while loading a long log
    std::unique_lock lock(ids_mutex_);
    if (ids_active_)
      for (const auto& [h, s] : pending_ids_) ids_.insert(h, s);
    pending_ids_.clear();
  }
}

void LogState::on_segment_end(std::uint64_t end) {
  // Release: pairs with the acquire in read_records; the caller's publish() (L1) follows.
  last_segment()->visible_end.store(end, std::memory_order_release);
}

// ---- readers ----

std::uint32_t LogState::segment_count() const {
  std::lock_guard lock(segments_mutex_);
  return static_cast<std::uint32_t>(segments_.size());
}

std::uint64_t LogState::visible_bytes() const {
  std::lock_guard lock(segments_mutex_);
  std::uint64_t sum = 0;
  for (const auto& s : segments_) sum += s->visible_end.load(std::memory_order_acquire);  // pairs with the publisher's release
  return sum;
}

Sequence LogState::latest() noexcept {
  refresh();
  return secured_.load(std::memory_order_acquire);  // (L2) pairs with (L1)
}

Sequence LogState::first() noexcept {
  refresh();
  return first_.load(std::memory_order_acquire);  // (L4) pairs with (L3)
}

LogState::Position LogState::locate(Sequence seq, Sequence last) const {
  std::lock_guard lock(segments_mutex_);
  auto it = std::upper_bound(segments_.begin(), segments_.end(), seq,
                             [](Sequence s, const std::shared_ptr<Segment>& g) { return s < g->first_sequence; });
  if (it == segments_.begin()) return {};
  const auto& seg = *(it - 1);
  const auto by_sequence = [](Sequence s, const IndexEntry& x) { return s < x.sequence; };
  auto e = std::upper_bound(seg->index.begin(), seg->index.end(), seq, by_sequence);
  Position pos{seg, *(e - 1)};  // index[0] is the segment's first record, so e > begin
  // The first frame above `last` starts at or after the end of `last`'s frame.
  auto above = std::upper_bound(e, seg->index.end(), last, by_sequence);
  if (above != seg->index.end()) pos.bound = above->offset;
  return pos;
}

Error LogState::damaged(const std::string& file, std::uint64_t offset, const std::string& why) const {
  return Error(Errc::damaged_store,
               "session '" + cfg_.session_id + "': " + file + " offset " + std::to_string(offset) + ": " + why);
}

Error LogState::pruned(Sequence asked, Sequence first) const {
  return Error(Errc::pruned, "session '" + cfg_.session_id + "': sequence " + std::to_string(asked) +
                                 " was pruned by retention; the first available is " + std::to_string(first));
}

Error LogState::pruned_or(Sequence next, Error otherwise) const {
  Sequence first = first_.load(std::memory_order_acquire);  // (L4) pairs with (L3)
  if (next >= first && !has_writer_.load(std::memory_order_acquire)) {  // acquire: see has_writer_'s comment
    // Following another process: its retention may have removed the file since our last
    // refresh; its FIRST file (written before any removal) says so.
    if (auto on_disk = read_first_sequence(cfg_.dir)) first = std::max(first, *on_disk);
  }
  return next < first ? pruned(next, first) : std::move(otherwise);
}

Status LogState::ensure_flushed(Sequence seq) {
  if (flushed_.load(std::memory_order_acquire) >= seq) return {};  // (F2) pairs with (F1)
  std::lock_guard lock(publish_mutex_);
  if (flushed_.load(std::memory_order_relaxed) >= seq) return {};  // relaxed: the mutex orders it
  if (flusher_ != nullptr) return flusher_->flush_locked();
  if (failure_) return *failure_;
  return {};
}

Status LogState::read(const EventQuery& q, FunctionRef<bool(const EventView&)> visit) {
  refresh();
  const Sequence hi = secured_.load(std::memory_order_acquire);  // (L2) pairs with (L1)
  const Sequence first = first_.load(std::memory_order_acquire);  // (L4) pairs with (L3)
  if (q.after < first - 1) return pruned(q.after + 1, first);
  const Sequence last = std::min(hi, q.before == 0 ? 0 : q.before - 1);
  if (q.after >= last) return {};
  if (Status st = ensure_flushed(last); !st) return st;
  return read_records(q, last, visit);
}

Status LogState::read_records(const EventQuery& q, Sequence last, FunctionRef<bool(const EventView&)> visit) const {
  Sequence next = q.after + 1;
  std::size_t delivered = 0;
  const bool all = q.filter.matches_everything();
  while (next <= last) {
    const Position pos = locate(next, last);
    if (!pos.segment) return pruned_or(next, damaged(cfg_.dir, 0, "no segment holds sequence " + std::to_string(next)));
    const Segment& seg = *pos.segment;
    // Acquire: pairs with the publisher's release store, which precedes (L1); covers `last`.
    const std::uint64_t end = std::min(seg.visible_end.load(std::memory_order_acquire), pos.bound);
    auto file = File::open(seg.path, O_RDONLY);
    if (!file) {
      if (file.code() == Errc::not_found) return pruned_or(next, damaged(seg.path, 0, "segment file is missing"));
      return file.error();
    }
    file->set_fault_injector(cfg_.faults.get());
    FrameReader reader(*file, pos.entry.offset, end, cfg_.read_chunk);
    Sequence expect = pos.entry.sequence;
    bool advanced = false;
    for (;;) {
      // Never parse past `last`: the bytes after the last secured record may be a batch the
      // writer is undoing (truncating) right now, and are none of this read's business.
      if (next > last) return {};
      const auto step = reader.next();
      if (step == FrameReader::Step::end) break;
      if (step == FrameReader::Step::io_error) return reader.error();
      if (step != FrameReader::Step::record)
        return damaged(seg.path, reader.frame_offset(),
                       step == FrameReader::Step::incomplete ? "incomplete record" : reader.problem());
      const Sequence s = reader.header().sequence;
      if (s != expect)
        return damaged(seg.path, reader.frame_offset(),
                       "record holds sequence " + std::to_string(s) + " where " + std::to_string(expect) +
                           " was expected");
      ++expect;
      if (s < next) continue;
      if (s > last) return {};
      next = s + 1;
      advanced = true;
      const std::byte* rec = reader.payload().data();
      if (!all && !(q.filter.matches_type(EventRecord::type_of(rec)) &&
                    q.filter.matches_run(EventRecord::run_id_of(rec))))
        continue;
      EventView v = reader.fields();  // decoded and validated by reader.next()
      v.session_id = cfg_.session_id;
      if (!visit(v)) return {};  // no lock held here (INV-4)
      if (q.limit != 0 && ++delivered >= q.limit) return {};
    }
    if (!advanced)
      return damaged(seg.path, end, "sequence " + std::to_string(next) + " is missing (segment ends before it)");
  }
  return {};
}

Result<Event> LogState::find_by_id(std::string_view id) {
  refresh();
  if (Status st = activate_ids(); !st) return st.error();
  const Sequence hi = secured_.load(std::memory_order_acquire);  // (L2) pairs with (L1)
  Sequence candidates[8];
  std::size_t n = 0;
  {
    std::shared_lock lock(ids_mutex_);
    ids_.find(IdIndex::hash(id), [&](Sequence c) {
      if (c <= hi && n < std::size(candidates)) candidates[n++] = c;
      return false;  // collect them all; the records are read without the lock
    });
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::optional<Event> found;
    EventQuery q;
    q.after = candidates[i] - 1;
    q.before = candidates[i] + 1;
    if (Status st = read(q, [&](const EventView& v) {
          if (v.id == id) found = v.to_event();
          return false;
        });
        !st && st.code() != Errc::pruned)  // a pruned candidate is not this id any more
      return st.error();
    if (found) return std::move(*found);
  }
  return Error(Errc::not_found, "session '" + cfg_.session_id + "' has no event with id '" + std::string(id) + "'");
}

Result<Sequence> LogState::wait_for(Sequence after, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (has_writer_.load(std::memory_order_seq_cst)) {  // seq_cst: read with the gate protocol below
      // Predicate loads are seq_cst: they pair with (L1), detach_writer and fail (all P1).
      gate_.wait_until(
          [&] {
            return secured_.load(std::memory_order_seq_cst) > after || !has_writer_.load(std::memory_order_seq_cst) ||
                   failed_.load(std::memory_order_seq_cst);
          },
          deadline);
      const Sequence s = secured_.load(std::memory_order_acquire);  // (L2) pairs with (L1)
      if (s > after) return s;
      if (failed_.load(std::memory_order_acquire)) {  // pairs with the seq_cst store in fail()
        if (auto f = failure()) return *f;
      }
      if (has_writer_.load(std::memory_order_acquire) || std::chrono::steady_clock::now() >= deadline) return s;
      // The writer detached while we waited: follow the files from now on.
    }
    const Sequence s = latest();
    if (s > after) return s;
    if (frozen_)
      if (auto f = failure()) return *f;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return s;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(cfg_.poll_interval, deadline - now));
  }
}

// ---- refresh: no writer in this process ----

void LogState::refresh() {
  if (frozen_) return;  // an intact prefix: nothing past the damage is read
  if (has_writer_.load(std::memory_order_acquire)) return;  // acquire: see has_writer_'s comment
  std::lock_guard lock(publish_mutex_);
  if (has_writer_.load(std::memory_order_relaxed)) return;  // relaxed: the mutex orders it
  try {
    (void)refresh_locked();  // an error leaves the state as it was; the next call retries
  } catch (const std::exception&) {  // allocation failure: same, latest() is noexcept
  }
}

Sequence LogState::refresh_limit_locked() {
  if (!mark_.is_open()) mark_ = CommitMark::open_existing(cfg_.dir);
  return mark_.load().value_or(~Sequence{0});  // (K2) inside load()
}

Result<bool> LogState::refresh_segment(Segment& seg, Sequence limit) {
  auto file = File::open(seg.path, O_RDONLY);
  if (!file) return file.error();
  auto size = file->size();
  if (!size) return size.error();
  const std::uint64_t from = seg.visible_end.load(std::memory_order_relaxed);  // relaxed: the publisher's own value
  if (*size <= from) return false;
  FrameReader reader(*file, from, *size, cfg_.read_chunk);
  Sequence next = secured_.load(std::memory_order_relaxed) + 1;  // relaxed: the publisher's own value
  const Sequence before = next;
  std::uint64_t end = from;
  // Stops quietly at the first frame that is not complete and valid: the writer may be in
  // the middle of writing it. `sessionring verify` reports real damage. Never past the
  // writer's commit mark: a frame above it may still be undone (issue 12, defect 4).
  while (next <= limit && reader.next() == FrameReader::Step::record && reader.header().sequence == next) {
    note_record(seg, next, reader.frame_offset(), lf::kFrameHeaderBytes + reader.payload().size(),
                EventRecord::id_of(reader.payload().data()), EventRecord::timestamp_of(reader.payload().data()));
    ++next;
    end = reader.position();
  }
  if (next == before) return false;
  seg.visible_end.store(end, std::memory_order_release);  // pairs with the acquire in read_records; (L1) follows
  set_flushed(next - 1);
  publish(next - 1);
  return true;
}

Status LogState::follow_first_locked() {
  auto first = read_first_sequence(cfg_.dir);
  if (!first) return first.error();
  const Sequence now = first_.load(std::memory_order_relaxed);  // relaxed: the publisher's own value
  if (*first <= now) return {};
  std::size_t count = 0;
  {
    // FIRST names a segment start or the sequence after the last: a segment starting below it
    // is wholly pruned.
    std::lock_guard lock(segments_mutex_);
    while (count < segments_.size() && segments_[count]->first_sequence < *first) ++count;
  }
  prune_front_locked(count, *first);
  // Pruned before this follower saw them: the writer's sequence went on (INV-1).
  if (secured_.load(std::memory_order_relaxed) + 1 < *first) {  // relaxed: the publisher's own value
    set_flushed(*first - 1);
    publish(*first - 1);
  }
  return {};
}

Status LogState::refresh_locked() {
  if (Status st = follow_first_locked(); !st) return st;
  const Sequence limit = refresh_limit_locked();
  auto seg = last_segment();
  auto next_segment = [&]() -> Result<bool> {
    const Sequence first = secured_.load(std::memory_order_relaxed) + 1;  // relaxed: the publisher's own value
    if (first > limit) return false;  // a segment the writer may still remove (a failed roll)
    const std::string path = cfg_.dir + "/" + lf::segment_name(first);
    auto file = File::open(path, O_RDONLY);
    if (!file) return file.code() == Errc::not_found ? Result<bool>(false) : Result<bool>(file.error());
    auto header = read_segment_header(*file);
    if (!header && header.code() == Errc::unsupported_format) return header.error();  // a newer writer: say so
    if (!header || *header != first) return false;  // still being created, or not ours to judge
    if (seg) {
      // The writer finished `seg` before creating the next one: pick up its last records.
      auto more = refresh_segment(*seg, limit);
      if (!more) return more.error();
      if (secured_.load(std::memory_order_relaxed) + 1 != first) return true;  // relaxed: own value
    }
    seg = add_segment(path, first, lf::kSegmentHeaderBytes);
    return true;
  };
  if (!seg) {
    auto opened = next_segment();
    if (!opened) return opened.error();
    if (!*opened) return {};
  }
  for (int round = 0; round < 64; ++round) {
    auto progressed = refresh_segment(*seg, limit);
    if (!progressed) return progressed.error();
    if (*progressed) continue;
    auto moved = next_segment();
    if (!moved) return moved.error();
    if (!*moved) break;
  }
  return {};
}

}  // namespace sessionring::detail
