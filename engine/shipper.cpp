// Shipper (include/sessionring/shipper.hpp): one thread copies each session's new events from
// the source store to the destination store, one batch per session per turn.
#include <sessionring/event_record.hpp>
#include <sessionring/shipper.hpp>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace sessionring {

namespace {
using Clock = std::chrono::steady_clock;

Status validate(const ShipperOptions& o) {
  auto bad = [](const char* what) { return Status(Errc::validation_error, std::string("ShipperOptions::") + what); };
  if (!o.source) return bad("source must be set");
  if (!o.destination) return bad("destination must be set");
  if (o.source == o.destination) return bad("destination must not be the source store");
  if (o.rescan_interval.count() <= 0) return bad("rescan_interval must be positive");
  if (o.poll_interval.count() <= 0) return bad("poll_interval must be positive");
  if (o.retry_interval.count() <= 0) return bad("retry_interval must be positive");
  if (o.max_batch_events < 1 || o.max_batch_events > 65536) return bad("max_batch_events must be in [1, 65536]");
  if (o.max_batch_bytes < 1024 || o.max_batch_bytes > (std::size_t{64} << 20))
    return bad("max_batch_bytes must be in [1 KiB, 64 MiB]");
  for (const auto& id : o.sessions)
    if (id.empty()) return bad("sessions must not hold an empty id");
  return {};
}

/// One batch read from the source, re-encoded into owned bytes, as an AppendBatch.
class CopiedBatch {
 public:
  void clear() {
    bytes_.clear();
    offsets_.clear();
  }
  void add(const EventView& v) {
    offsets_.push_back(bytes_.size());
    bytes_.resize(bytes_.size() + EventRecord::encoded_size(v));
    EventRecord::encode(bytes_.data() + offsets_.back(), v);
  }
  std::size_t bytes() const noexcept { return bytes_.size(); }
  std::size_t size() const noexcept { return offsets_.size(); }
  /// Views into the owned bytes (valid until the next add/clear). False: a record that does
  /// not decode (a store bug; never appended).
  bool batch(std::string_view session, AppendBatch& out) {
    views_.resize(offsets_.size());
    spans_.resize(offsets_.size());
    for (std::size_t i = 0; i < offsets_.size(); ++i) {
      const std::size_t end = i + 1 < offsets_.size() ? offsets_[i + 1] : bytes_.size();
      spans_[i] = std::span<const std::byte>(bytes_.data() + offsets_[i], end - offsets_[i]);
      if (!EventRecord::decode(spans_[i], session, views_[i])) return false;
    }
    out.first_sequence = views_.empty() ? 0 : views_.front().sequence_number;
    out.events = views_;
    out.records = spans_;
    return true;
  }

 private:
  std::vector<std::byte> bytes_;
  std::vector<std::size_t> offsets_;
  std::vector<EventView> views_;
  std::vector<std::span<const std::byte>> spans_;
};
}  // namespace

struct Shipper::Impl {
  struct Lane {  // one shipped session; touched only by the shipper thread, except `lag`
    std::shared_ptr<SessionLog> source;
    std::shared_ptr<SessionLog> destination;
    Clock::time_point retry_at{};
    bool stopped_for_good = false;  // pruned or a broken record: never retried
  };

  explicit Impl(ShipperOptions o) : options(std::move(o)) {}

  ShipperOptions options;
  std::map<std::string, Lane, std::less<>> lanes;  // shipper thread only
  CopiedBatch copy;                                // shipper thread only
  Clock::time_point next_rescan{};                 // shipper thread only

  mutable std::mutex mutex;
  std::condition_variable changed;                 // a batch was shipped, a lag refreshed, or stop
  std::map<std::string, SessionLag, std::less<>> lag;  // guarded by mutex
  Stats totals;                                    // events_shipped/batches/failures, guarded by mutex
  bool stopping = false;                           // guarded by mutex
  std::mutex join_mutex;                           // serialises the join in stop()
  std::thread thread;

  void run();
  bool turn();
  void rescan();
  bool ship_one(const std::string& id, Lane& lane);
  void fail(const std::string& id, Lane& lane, Error e, bool for_good);
  void note(const std::string& id, Sequence source_latest, Sequence shipped, std::uint64_t events);
};

void Shipper::Impl::run() {
  for (;;) {
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
    }
    if (Clock::now() >= next_rescan) rescan();
    if (turn()) continue;  // shipped something: look again at once
    // Nothing to ship: look again after the poll interval; stop() interrupts the wait.
    std::unique_lock lock(mutex);
    changed.wait_for(lock, options.poll_interval, [&] { return stopping; });
  }
}

void Shipper::Impl::rescan() {
  next_rescan = Clock::now() + options.rescan_interval;
  std::vector<std::string> ids = options.sessions;
  if (ids.empty()) {
    auto listed = options.source->list_sessions();
    if (!listed) {
      std::lock_guard lock(mutex);
      ++totals.failures;
      return;
    }
    ids = std::move(*listed);
  }
  for (const auto& id : ids) lanes.try_emplace(id);
}

bool Shipper::Impl::turn() {
  bool shipped = false;
  for (auto& [id, lane] : lanes)
    if (!lane.stopped_for_good && Clock::now() >= lane.retry_at) shipped |= ship_one(id, lane);
  return shipped;
}

void Shipper::Impl::fail(const std::string& id, Lane& lane, Error e, bool for_good) {
  lane.retry_at = Clock::now() + options.retry_interval;
  lane.stopped_for_good = for_good;
  if (!for_good) lane.destination.reset();  // reopen: the replica's latest is the watermark again
  std::lock_guard lock(mutex);
  ++totals.failures;
  auto& l = lag[id];
  l.session_id = id;
  l.error = std::move(e);
  l.stopped = for_good;
  changed.notify_all();
}

void Shipper::Impl::note(const std::string& id, Sequence source_latest, Sequence shipped, std::uint64_t events) {
  std::lock_guard lock(mutex);
  auto& l = lag[id];
  l.session_id = id;
  l.source_latest = std::max(source_latest, shipped);
  l.shipped = shipped;
  l.lag = l.source_latest - shipped;
  l.events_shipped += events;
  if (events > 0) {
    l.error.reset();
    totals.events_shipped += events;
    ++totals.batches;
  }
  changed.notify_all();
}

bool Shipper::Impl::ship_one(const std::string& id, Lane& lane) {
  if (!lane.source) {
    auto s = options.source->open(id, OpenMode::read);
    if (!s) {
      fail(id, lane, s.error(), false);
      return false;
    }
    lane.source = *s;
  }
  if (!lane.destination) {
    auto d = options.destination->open(id, OpenMode::write);
    if (!d) {
      fail(id, lane, d.error(), false);
      return false;
    }
    lane.destination = *d;
  }
  const Sequence shipped = lane.destination->latest_sequence();
  const Sequence source_latest = lane.source->latest_sequence();
  if (source_latest <= shipped) {
    note(id, source_latest, shipped, 0);
    return false;
  }
  if (lane.source->first_sequence() > shipped + 1) {
    fail(id, lane,
         Error(Errc::pruned, "session '" + id + "': the source pruned events " + std::to_string(shipped + 1) + ".." +
                                 std::to_string(lane.source->first_sequence() - 1) +
                                 " before they were shipped; the replica stops at " + std::to_string(shipped)),
         true);
    return false;
  }
  copy.clear();
  EventQuery q;
  q.after = shipped;
  q.limit = options.max_batch_events;
  Status read = lane.source->read(q, [&](const EventView& v) {
    if (copy.size() > 0 && copy.bytes() + EventRecord::encoded_size(v) > options.max_batch_bytes) return false;
    copy.add(v);
    return true;
  });
  if (!read) {
    fail(id, lane, read.error(), read.code() == Errc::pruned);
    return false;
  }
  if (copy.size() == 0) return false;
  AppendBatch batch;
  if (!copy.batch(id, batch) || batch.first_sequence != shipped + 1) {
    fail(id, lane,
         Error(Errc::storage_error, "session '" + id + "': the source returned events that do not continue the replica at " +
                                        std::to_string(shipped + 1)),
         true);
    return false;
  }
  if (Status st = lane.destination->append(batch); !st) {
    fail(id, lane, st.error(), false);
    return false;
  }
  note(id, source_latest, batch.last_sequence(), batch.size());
  return true;
}

Result<std::unique_ptr<Shipper>> Shipper::start(ShipperOptions options) {
  if (Status st = validate(options); !st) return st.error();
  auto impl = std::make_unique<Impl>(std::move(options));
  Impl* p = impl.get();
  impl->thread = std::thread([p] { p->run(); });
  return std::unique_ptr<Shipper>(new Shipper(std::move(impl)));
}

Shipper::Shipper(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Shipper::~Shipper() { stop(); }

void Shipper::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->changed.notify_all();
  std::lock_guard join(impl_->join_mutex);  // concurrent stop() calls: one joins, the others wait for it
  if (impl_->thread.joinable()) impl_->thread.join();
}

Shipper::Stats Shipper::stats() const {
  std::lock_guard lock(impl_->mutex);
  Stats s = impl_->totals;
  for (const auto& [id, l] : impl_->lag) s.sessions.push_back(l);
  return s;
}

Status Shipper::wait_caught_up(std::chrono::nanoseconds timeout) {
  // The targets: each session's source latest now (sessions listed by the thread so far, plus
  // the configured ones).
  std::map<std::string, Sequence, std::less<>> target;
  std::vector<std::string> ids = impl_->options.sessions;
  if (ids.empty()) {
    auto listed = impl_->options.source->list_sessions();
    if (!listed) return listed.error();
    ids = std::move(*listed);
  }
  for (const auto& id : ids) {
    auto log = impl_->options.source->open(id, OpenMode::read);
    if (!log) return log.error();
    target[id] = (*log)->latest_sequence();
  }
  const auto deadline = Clock::now() + timeout;
  std::unique_lock lock(impl_->mutex);
  for (;;) {
    std::string behind;
    for (const auto& [id, want] : target) {
      auto it = impl_->lag.find(id);
      if (it != impl_->lag.end() && it->second.stopped) return *it->second.error;
      if (it == impl_->lag.end() || it->second.shipped < want)
        behind.append(behind.empty() ? "" : ", ").append(id);
    }
    if (behind.empty()) return {};
    if (impl_->stopping) return Status(Errc::stopped, "the shipper was stopped before it shipped: " + behind);
    if (impl_->changed.wait_until(lock, deadline) == std::cv_status::timeout && Clock::now() >= deadline)
      return Status(Errc::timeout, "sessions not shipped yet: " + behind);
  }
}

}  // namespace sessionring
