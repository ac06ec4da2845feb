// The sequencer loop. Step numbers match docs/design.md "Publish steps".
#include "detail/sequencer.hpp"

#include <sessionring/event_record.hpp>

#include "detail/session_core.hpp"
#include "detail/spin.hpp"
#include "detail/wall_clock.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>
#include <unordered_set>

namespace sessionring::detail {

namespace {
// The first pop buffer: an idle session holds this many items (4 KiB), not max_batch (256 KiB
// at the defaults); each pop that fills the buffer doubles it, up to max_batch.
constexpr std::size_t kFirstPop = 16;
// A pooled session prepares its store in idle time (design §8) only after this many events: a
// session that stays small never pre-faults the store's next MiB.
constexpr std::uint64_t kHotEvents = 16384;
// Pooled: how soon to look again at a store whose group commit is in flight (instead of
// waiting for it on the pool thread).
constexpr auto kSecurePoll = std::chrono::microseconds(200);

// The wall clock, never 0 (0 means "not stamped" in a queued record).
std::int64_t stamp_ns() {
  const std::int64_t ns = wall_clock_ns();
  return ns != 0 ? ns : 1;
}
}  // namespace

Sequencer::Sequencer(SessionCore& core, bool pooled) : core_(core), pooled_(pooled) {
  if (!pooled_) {  // a dedicated sequencer sizes everything for a full batch at once, as before
    const std::size_t batch = core.options.max_batch;
    items_.resize(batch);
    taken_.resize(batch, false);
    views_.reserve(batch);
    records_.reserve(batch);
    hashes_.reserve(batch);
    batch_hashes_.reserve(batch);
    stored_items_.reserve(batch);
    batch_dups_.reserve(batch);
    waiters_.reserve(64);
  }
}

std::size_t Sequencer::pop_room() {
  const std::size_t batch = core_.options.max_batch;
  if (items_.empty()) items_.resize(std::min(batch, kFirstPop));
  return items_.size();
}

bool Sequencer::hot() const noexcept { return sequenced_ >= kHotEvents; }

void Sequencer::shrink() noexcept {
  if (retry_ != 0 || items_.size() <= kFirstPop) return;
  std::vector<IngestItem>().swap(items_);
  std::vector<EventView>().swap(views_);
  nviews_ = 0;
  std::vector<std::span<const std::byte>>().swap(records_);
  std::vector<std::uint64_t>().swap(batch_hashes_);
  std::vector<std::uint64_t>().swap(hashes_);
  std::vector<std::size_t>().swap(stored_items_);
  std::vector<std::size_t>().swap(batch_dups_);
  std::vector<bool>().swap(taken_);
}

bool Sequencer::work_hint() const {
  return core_.queue->size_approx() > 0 || core_.stop_requested.load(std::memory_order_seq_cst);  // pairs with (S2)
}

namespace {
// The shape of an engine-generated id: 32 lowercase hex digits (producer.cpp).
bool generated_shape(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}
}  // namespace

Status Sequencer::load() {
  written_ = core_.log->written_sequence();
  published_ = core_.ring.start();
  // INV-6 across restarts: every stored id not shaped like a generated one is indexed before
  // the first append; generated-shaped ids are found through the store (duplicate_of).
  return core_.log->read(EventQuery{}, [&](const EventView& v) {
    if (!generated_shape(v.id)) ids_.insert(IdIndex::hash(v.id), v.sequence_number);
    return true;
  });
}

// INV-6. Engine-generated ids (flag set: 128 fresh random bits) cannot repeat by chance, so
// they skip the index: the hot path pays nothing. Every caller-supplied id is indexed; a caller
// id shaped like a generated one may repeat an event stored before a restart or copied from
// another session, so it is also looked up in the store.
// A store read that fails while checking is an error, never "not a duplicate": storing the
// event again would break INV-6 (the batch is refused and retried like a failed append).
Result<Sequence> Sequencer::duplicate_of(const std::byte* rec, std::uint64_t h) const {
  if ((EventRecord::flags_of(rec) & EventRecord::kFlagGeneratedId) != 0) return Sequence{0};
  const std::string_view id = EventRecord::id_of(rec);
  std::optional<Error> failed;
  const Sequence s = ids_.find(h, [&](Sequence c) {
    auto same = same_id_stored(c, id);
    if (!same) {
      failed = same.error();
      return false;
    }
    return *same;
  });
  if (s != 0) return s;
  if (failed) return *failed;
  if (!generated_shape(id)) return Sequence{0};
  auto found = core_.log->find_by_id(id);
  if (found) return found->sequence_number;
  if (found.code() != Errc::not_found) return found.error();
  return Sequence{0};
}

namespace {
// Back-off before offering refused events again / asking a store that failed to secure again:
// 0.5 ms doubling up to 100 ms.
std::chrono::microseconds backoff(std::uint32_t failures) {
  return std::chrono::microseconds(std::min<std::uint64_t>(100'000, 500ull << std::min(failures, 8u)));
}
}  // namespace

void Sequencer::run() {
  for (;;) {
    switch (step()) {
      case Step::closed: return;
      case Step::idle: idle_wait(); break;
      case Step::busy:
      case Step::later: break;  // `later` is pooled only: a dedicated step sleeps instead
    }
  }
}

Sequencer::Step Sequencer::step() {
  std::size_t n = retry_;
  if (n > 0) {
    // The store refused the last batch: back off, then offer the same events again. Nothing
    // new is popped meanwhile (stalled: producers waiting for credit or for an answer to an
    // event still queued get storage_error, docs/design.md §11). Pooled: a timer, never a
    // sleep on the pool thread (§13).
    if (pooled_) {
      if (Clock::now() < retry_at_) {
        wake_at_ = retry_at_;
        return Step::later;
      }
    } else {
      std::this_thread::sleep_until(retry_at_);
    }
    if (core_.stop_requested.load(std::memory_order_seq_cst) && failures_in_a_row_ >= 8) {
      // Stopping with a store that keeps failing: report, do not pretend. The count is the
      // total over every batch given up on (the events may have come in several batches).
      const std::uint64_t lost =
          core_.unstored_at_stop.fetch_add(retry_, std::memory_order_relaxed) + retry_;  // relaxed: read after join
      core_.set_last_store_error(Error(Errc::storage_error, "session '" + core_.id() + "': " +
                                                                std::to_string(lost) +
                                                                " accepted events could not be stored before stop" +
                                                                core_.store_error_text()));
      for (std::size_t i = 0; i < retry_; ++i) {
        if (items_[i].completion != nullptr)  // kept with a fire-and-forget copy of its id (refuse())
          items_[i].completion->complete(items_[i].reserved, 0, Errc::storage_error, false);
        give_back_spill(items_[i]);
      }
      retry_ = 0;
      stalled_ = false;
      set_health(true, false);
      return Step::busy;
    }
    retry_ = 0;
  } else {
    // pop_room() may (re)allocate items_: call it before taking items_.data() (the order in
    // which a call's arguments are evaluated is unspecified; clang took data() first: a null
    // buffer after shrink(), found by the fuzzers' UBSan).
    const std::size_t room = pop_room();
    n = core_.queue->pop_bulk(items_.data(), room);  // (1) drain a batch
    if (n > 0) {
      release_credits(n);
      if (n == items_.size() && n < core_.options.max_batch)  // a full pop: grow towards max_batch
        items_.resize(std::min<std::size_t>(core_.options.max_batch, 2 * n));
      if (taken_.size() < items_.size()) taken_.resize(items_.size());
      std::fill_n(taken_.begin(), n, false);  // fresh items: not taken yet (refuse() marks kept ones)
    }
  }
  if (n > 0) {
    process(n);
    return Step::busy;
  }
  if (published_ < written_) {  // a background group commit is in flight
    if (secure_failures_ > 0) {  // ... and the store said it cannot secure right now
      if (core_.stop_requested.load(std::memory_order_seq_cst) && secure_failures_ >= 8) {
        give_up_unsecured();
        return Step::busy;
      }
      if (!pooled_) {
        std::this_thread::sleep_for(backoff(secure_failures_));
      } else if (Clock::now() < secure_retry_at_) {
        wake_at_ = secure_retry_at_;
        return Step::later;
      }
    }
    publish_secured();
    if (pooled_ && published_ < written_) {  // still in flight: look again soon, do not wait here
      wake_at_ = secure_failures_ > 0 ? secure_retry_at_ : Clock::now() + kSecurePoll;
      return Step::later;
    }
    return Step::busy;
  }
  if (core_.stop_requested.load(std::memory_order_seq_cst)) {  // pairs with (S2)
    if (all_taken()) {
      // Dedicated: closed now. Pooled: the pool thread drops its reference to the session first
      // (design §13 "Stop"), then marks it closed.
      if (!pooled_) core_.mark_closed();
      return Step::closed;
    }
    if (!pooled_) std::this_thread::yield();  // a producer passed the accepting check and is mid-push
    return Step::busy;
  }
  return Step::idle;
}

void Sequencer::process(std::size_t n) {
  nviews_ = 0;
  records_.clear();
  hashes_.clear();
  stored_items_.clear();
  batch_dups_.clear();
  Sequence next = written_ + 1;
  // Hash every caller-supplied id first and prefetch its probe slot, so the batch's index
  // misses overlap.
  batch_hashes_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    IngestItem& item = items_[i];
    // An append_wait item its producer abandoned (stalled sequencer, (C3)) is dropped: the
    // producer was told storage_error. A dropped item is marked by size 0. An item kept from a
    // refused batch (refuse()) was taken then and is not taken again.
    if (item.completion != nullptr && !taken_[i] && !item.completion->take(item.reserved)) {  // (C4)
      core_.abandoned_waits.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
      give_back_spill(item);
      item.size = 0;
      continue;
    }
    const std::byte* rec = item.record();
    batch_hashes_[i] = 0;
    if ((EventRecord::flags_of(rec) & EventRecord::kFlagGeneratedId) != 0) continue;
    batch_hashes_[i] = IdIndex::hash(EventRecord::id_of(rec));
    ids_.prefetch(batch_hashes_[i]);
  }
  std::int64_t batch_time = 0;  // one clock read per batch, on the first event that needs it
  for (std::size_t i = 0; i < n; ++i) {
    IngestItem& item = items_[i];
    if (item.size == 0) continue;  // dropped
    std::byte* rec = item.record();
    const bool generated = (EventRecord::flags_of(rec) & EventRecord::kFlagGeneratedId) != 0;
    const std::uint64_t h = batch_hashes_[i];
    // (2) dedupe: a repeated id gets its first sequence back and stores nothing (INV-6)
    const Result<Sequence> dup = duplicate_of(rec, h);
    if (!dup) {  // the store cannot tell: refuse the whole batch, as if its append failed
      for (std::size_t k = 0; k < nviews_; ++k)
        if (hashes_[k] != 0) ids_.erase(hashes_[k], views_[k].sequence_number);
      refuse(n, dup.error());
      return;
    }
    if (*dup != 0) {
      core_.duplicates.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
      if (item.completion != nullptr) waiters_.push_back({item.completion, *dup, true, item.reserved});
      if (*dup > written_) {
        // A copy of an event of this very batch: keep the item until the batch is stored. If
        // the store refuses the batch, refuse() decides its fate with the original's.
        batch_dups_.push_back(i);
        continue;
      }
      give_back_spill(item);
      item.size = 0;
      continue;
    }
    // (3) stamp contiguous sequence numbers continuing the log (INV-1)
    const Sequence seq = next++;
    EventRecord::set_sequence(rec, seq);
    // ... and the batch's wall-clock time on events whose producer set none (EventInput::
    // timestamp_ns = 0): non-decreasing in sequence order (unless the system clock steps back).
    // An event kept from a refused batch keeps the time it got the first time.
    if (EventRecord::timestamp_of(rec) == 0) {
      if (batch_time == 0) batch_time = stamp_ns();
      EventRecord::set_timestamp(rec, batch_time);
    }
    if (!generated) ids_.insert(h, seq);
    hashes_.push_back(generated ? 0 : h);
    stored_items_.push_back(i);
    // Decoded field by field into a view kept from earlier batches: neither a zero-fill nor a
    // copy of a 144-byte EventView per event (docs/performance.md "Issue 14").
    if (nviews_ == views_.size()) views_.emplace_back();
    EventRecord::decode({rec, item.size}, core_.id(), views_[nviews_++]);  // the producer encoded it
    records_.emplace_back(rec, item.size);
  }
  if (nviews_ != 0) {
    if (!store_batch(n)) return;  // (4) store.append; on failure the events wait for a retry
    if (append_failing_ || stalled_) {  // the store took a batch again
      append_failing_ = stalled_ = false;
      failures_in_a_row_ = 0;
      set_health(secure_failures_ > 0, false);
    }
    // (5) write the ring slots (never waiting for a reader, INV-4)
    std::uint64_t oversize = 0;
    for (std::size_t k = 0; k < nviews_; ++k)
      if (!core_.ring.write(views_[k].sequence_number, records_[k])) ++oversize;
    written_ = views_[nviews_ - 1].sequence_number;
    sequenced_ += nviews_;
    core_.events_sequenced.fetch_add(nviews_, std::memory_order_relaxed);  // relaxed: statistics
    core_.batches.fetch_add(1, std::memory_order_relaxed);
    if (oversize != 0) core_.oversize_events.fetch_add(oversize, std::memory_order_relaxed);
    for (std::size_t idx : stored_items_) {
      IngestItem& item = items_[idx];
      if (item.completion != nullptr)
        waiters_.push_back({item.completion, EventRecord::sequence_of(item.record()), false, item.reserved});
      give_back_spill(item);
    }
    for (std::size_t idx : batch_dups_) {  // their waiters were queued at dedupe time
      give_back_spill(items_[idx]);
      items_[idx].size = 0;
    }
  }
  // (6) publish what the store has secured (INV-2), then (7) answer waiting producers
  publish_secured();
}

bool Sequencer::store_batch(std::size_t n) {
  const AppendBatch batch{written_ + 1, std::span<const EventView>(views_.data(), nviews_), records_};
  Status st = core_.log->append(batch);
  if (st) return true;
  for (std::size_t k = 0; k < nviews_; ++k)
    if (hashes_[k] != 0) ids_.erase(hashes_[k], views_[k].sequence_number);
  refuse(n, st.error());
  return false;
}

void Sequencer::refuse(std::size_t n, const Error& e) {
  core_.store_failures.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
  core_.set_last_store_error(e);
  ++failures_in_a_row_;
  // Waiters of copies of an event of this failed batch (batch_dups_): that sequence is void.
  // Their items are still in items_ and are answered (or kept) below with the others.
  std::erase_if(waiters_, [&](const Waiter& w) { return w.sequence > written_; });
  // Fire-and-forget events are kept, in order, and offered again after a back-off: never a
  // silent drop. Producers that wait get the error (their events are not stored; they know
  // it) — unless a fire-and-forget copy of the same id is kept: that copy will be stored, so
  // the waiting copy is kept too (already taken) and answered by the retry, stored or
  // duplicate (issue 12: an append_wait answer is always true).
  const std::unordered_set<std::string_view> kept_ids = batch_dups_.empty() ? std::unordered_set<std::string_view>{}
                                                                            : fire_and_forget_ids(n);
  // Failing before any producer hears of the refusal: one told storage_error finds
  // stats().store_failing set and subscribers reporting it (H1 before the completions).
  set_health(true, stalled_);
  std::size_t keep = 0;
  for (std::size_t i = 0; i < n; ++i) {
    IngestItem& item = items_[i];
    if (item.size == 0) continue;  // dropped: a duplicate of a stored event, or abandoned by its producer
    const bool waits = item.completion != nullptr;
    if (waits && !kept_ids.contains(EventRecord::id_of(item.record()))) {
      item.completion->complete(item.reserved, 0, Errc::storage_error, false);
      give_back_spill(item);
      continue;
    }
    EventRecord::set_sequence(item.record(), 0);
    taken_[keep] = waits;
    items_[keep++] = item;
  }
  batch_dups_.clear();
  retry_ = keep;
  retry_at_ = Clock::now() + backoff(failures_in_a_row_);
  append_failing_ = true;
  stalled_ = keep > 0;
  set_health(true, stalled_);
  answer_waiters();  // duplicates of published events need no store
}

std::unordered_set<std::string_view> Sequencer::fire_and_forget_ids(std::size_t n) const {
  std::unordered_set<std::string_view> ids;
  for (std::size_t i = 0; i < n; ++i) {
    const IngestItem& item = items_[i];
    if (item.size != 0 && item.completion == nullptr) ids.insert(EventRecord::id_of(item.record()));
  }
  return ids;
}

void Sequencer::set_health(bool failing, bool stalled) {
  const std::uint64_t bits = (failing ? SessionCore::kFailing : 0) | (stalled ? SessionCore::kStalled : 0);
  if ((health_ & (SessionCore::kHealthStep - 1)) == bits) return;
  health_ = ((health_ | (SessionCore::kHealthStep - 1)) + 1) | bits;  // next change count, new bits
  core_.store_health.store(health_, std::memory_order_seq_cst);  // (H1) pairs with (H2)/(H3)
  core_.ring.gate().notify_all();  // subscribers report (or stop reporting) storage_error
  core_.space.notify_all();        // producers waiting for credit give up while stalled
  if (stalled) {                   // producers waiting for an answer to a queued event give up
    std::lock_guard lock(core_.producers_mutex_);
    for (const auto& slot : core_.slots_) slot->completion.gate.notify_all();
  }
}

void Sequencer::publish_secured() {
  Sequence secured = std::min(core_.log->latest_sequence(), written_);
  if (secured == published_ && published_ < written_) {
    // Nothing new secured yet: wait briefly for the store's group commit.
    // Dedicated: wait briefly for the store's group commit. Pooled: only look (a pool thread
    // never waits for one session's store; step() comes back after kSecurePoll).
    const auto now = Clock::now();
    const auto r = core_.log->wait_for(published_, pooled_ ? now : now + std::chrono::milliseconds(2));
    if (r) {
      secured = std::min(*r, written_);
    } else {  // the store cannot secure what it accepted right now (e.g. a failing fdatasync)
      core_.set_last_store_error(r.error());
      ++secure_failures_;
      secure_retry_at_ = Clock::now() + backoff(secure_failures_);
      set_health(true, stalled_);
    }
  }
  bool progressed = false;
  if (secured > published_) {
    core_.ring.publish(secured);
    published_ = secured;
    progressed = true;
  }
  if (secure_failures_ > 0 && (progressed || published_ == written_)) {  // the store secures again
    secure_failures_ = 0;
    set_health(append_failing_, stalled_);
  }
  answer_waiters();
}

void Sequencer::give_up_unsecured() {
  const std::uint64_t n = written_ - published_;
  const std::uint64_t lost = core_.unstored_at_stop.fetch_add(n, std::memory_order_relaxed) + n;  // relaxed: read after join
  core_.set_last_store_error(Error(Errc::storage_error, "session '" + core_.id() + "': " + std::to_string(lost) +
                                                            " accepted events could not be stored before stop (the store " +
                                                            "accepted the last " + std::to_string(n) +
                                                            " but never confirmed them secured; they may or may not be kept)" +
                                                            core_.store_error_text()));
  std::erase_if(waiters_, [&](const Waiter& w) {
    if (w.sequence <= published_) return false;
    w.completion->complete(w.generation, 0, Errc::storage_error, false);
    return true;
  });
  written_ = published_;
  secure_failures_ = 0;
}

void Sequencer::answer_waiters() {
  std::erase_if(waiters_, [&](const Waiter& w) {
    if (w.sequence > published_) return false;
    w.completion->complete(w.generation, w.sequence, Errc::ok, w.duplicate);
    return true;
  });
}

void Sequencer::give_back_spill(IngestItem& item) noexcept {
  if (item.spill != nullptr) item.producer->spill.give_back(item.spill);
  item.spill = nullptr;
}

void Sequencer::release_credits(std::size_t n) {
  // Items arrive in runs per producer; one store per run. (A2) seq_cst: see ProducerSlot.
  std::size_t i = 0;
  while (i < n) {
    ProducerSlot* slot = items_[i].producer;
    std::size_t j = i + 1;
    while (j < n && items_[j].producer == slot) ++j;
    const std::uint64_t c = slot->consumed.load(std::memory_order_relaxed);  // relaxed: only the sequencer writes it
    slot->consumed.store(c + (j - i), std::memory_order_seq_cst);            // (A2)
    i = j;
  }
  core_.pops.store(core_.pops.load(std::memory_order_relaxed) + 1, std::memory_order_seq_cst);  // (A5); relaxed: own counter
  core_.space.notify_all();
}

bool Sequencer::all_taken() const {
  std::lock_guard lock(core_.producers_mutex_);
  for (const auto& slot : core_.slots_)
    if (slot->pushed.load(std::memory_order_seq_cst) !=                 // (A3)/(A4) pair with (A1)
        slot->consumed.load(std::memory_order_relaxed))                 // relaxed: the sequencer's own
      return false;
  return true;
}

void Sequencer::idle_wait() {
  auto ready = [&] { return work_hint(); };
  // Idle time first goes to the store, one bounded step at a time while nothing arrives, to
  // prepare future appends (the MemoryStore faults in its next arena pages here rather than
  // in append(): docs/performance.md "Where the time goes").
  while (!ready() && core_.log->prepare_append()) {
  }
  // WaitGate protocol with the producers' (A1) as the publication: after registering (G2)
  // the predicate reads every slot's `pushed` with seq_cst loads (A4, in all_taken()). An
  // event pushed or being pushed keeps pushed != consumed until we pop it, so we do not
  // sleep; a producer whose (A1) comes after our (A4) sees our registration in its (G1)
  // and wakes us after its push. (size_approx() is only a shortcut: its loads are not
  // seq_cst.) Tested by Sequencer.noLostWakeupUnderParkAndPush and
  // RingLitmus.doorbellNeverLosesAWakeup.
  (void)core_.doorbell.wait(core_.options.wait, [&] { return ready() || !all_taken(); }, WaitGate::Deadline::max());
}

Result<bool> Sequencer::same_id_stored(Sequence s, std::string_view id) const {
  if (s > written_) {  // an event of the batch being built
    const std::size_t k = s - (written_ + 1);
    return k < nviews_ && views_[k].id == id;
  }
  if (s > core_.log->latest_sequence()) {  // written but not yet secured: wait for the group commit
    auto r = core_.log->wait_for(s - 1, std::chrono::steady_clock::now() + std::chrono::seconds(5));
    if (!r) return r.error();
    if (*r < s) return Error(Errc::storage_error, "session '" + core_.id() + "': sequence " + std::to_string(s) +
                                                      " was not secured within 5 s; cannot check event id '" +
                                                      std::string(id) + "' against it");
  }
  bool same = false;
  EventQuery q;
  q.after = s - 1;
  q.before = s + 1;
  Status st = core_.log->read(q, [&](const EventView& v) {
    same = v.id == id;
    return false;
  });
  if (!st) return st.error();
  return same;
}

}  // namespace sessionring::detail
