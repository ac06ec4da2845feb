// LogStore: sessions as directories of segmented, checksummed logs (docs/store.md).
// See include/sessionring/log_store.hpp.
#include <sessionring/log_store.hpp>
#include <sessionring/session_id.hpp>

#include "detail/cursor_checks.hpp"
#include "detail/cursor_file.hpp"
#include "detail/log_file.hpp"
#include "detail/log_file_budget.hpp"
#include "detail/log_lock.hpp"
#include "detail/log_lock_table.hpp"
#include "detail/log_root.hpp"
#include "detail/log_scan.hpp"
#include "detail/log_state.hpp"
#include "detail/log_writer.hpp"
#include "detail/retention_options.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sessionring {
namespace {

namespace fs = std::filesystem;
using detail::LogState;
using detail::LogWriter;

// One session's handle: the writer handle owns the LogWriter (OpenMode::write); a read handle
// has none and refuses append(). Reads go to the shared LogState either way.
class LogHandle final : public SessionLog {
 public:
  LogHandle(std::shared_ptr<LogState> state, std::shared_ptr<detail::CursorFile> cursors,
            std::unique_ptr<LogWriter> writer = nullptr)
      : state_(std::move(state)), cursors_(std::move(cursors)), writer_(std::move(writer)) {}
  ~LogHandle() override {
    if (writer_) (void)writer_->close();
  }

  std::string_view session_id() const noexcept override { return state_->session_id(); }
  Status append(const AppendBatch& batch) override {
    if (!writer_)
      return Status(Errc::validation_error, "session '" + state_->session_id() +
                                                "' was opened read-only; append needs OpenMode::write");
    return writer_->append(batch);
  }
  Sequence latest_sequence() const noexcept override { return state_->latest(); }
  Sequence first_sequence() const noexcept override { return state_->first(); }
  Sequence written_sequence() const noexcept override { return writer_ ? writer_->written() : state_->latest(); }
  Status read(const EventQuery& q, FunctionRef<bool(const EventView&)> visit) const override {
    return state_->read(q, visit);
  }
  Result<Event> find_by_id(std::string_view id) const override { return state_->find_by_id(id); }
  Result<Sequence> wait_for(Sequence after, Deadline deadline) const override {
    return state_->wait_for(after, deadline);
  }
  void release_idle_resources() noexcept override {
    if (writer_) writer_->release_idle();
  }
  Status commit_cursor(std::string_view name, Sequence position) override {
    if (!writer_) return detail::cursor_read_only(state_->session_id(), "commit_cursor");
    if (Status st = detail::check_cursor_commit(state_->session_id(), name, position, state_->latest()); !st) return st;
    return cursors_->put(name, position);
  }
  Result<Sequence> read_cursor(std::string_view name) const override {
    if (Status st = validate_cursor_name(name); !st) return st.error();
    auto map = cursors_->load();
    if (!map) return map.error();
    auto it = map->find(name);
    if (it == map->end()) return detail::cursor_not_found(state_->session_id(), name);
    return it->second;
  }
  Result<std::vector<CursorPosition>> list_cursors() const override {
    auto map = cursors_->load();
    if (!map) return map.error();
    return detail::CursorTable::to_list(*map);
  }
  Status delete_cursor(std::string_view name) override {
    if (!writer_) return detail::cursor_read_only(state_->session_id(), "delete_cursor");
    if (Status st = validate_cursor_name(name); !st) return st;
    return cursors_->erase(state_->session_id(), name);
  }

 private:
  std::shared_ptr<LogState> state_;
  std::shared_ptr<detail::CursorFile> cursors_;  // <session>/CURSORS (writes only through the writer handle)
  std::unique_ptr<LogWriter> writer_;  // null for a read handle
};

/// Removes the bytes a scan found unusable at the end of the last segment (INV-9).
Status cut_tail(const detail::ScanResult& scan, bool durable, const std::string& dir) {
  if (scan.torn_header || scan.offset == 0) {
    if (::unlink(scan.file.c_str()) != 0 && errno != ENOENT) return detail::io_error("cannot remove", scan.file, errno);
    return durable ? detail::sync_directory(dir) : Status{};
  }
  auto f = detail::File::open(scan.file, O_RDWR);
  if (!f) return f.error();
  if (Status st = f->truncate(scan.offset); !st) return st;
  return durable ? f->datasync() : Status{};
}

}  // namespace

struct LogStore::State {
  LogStoreOptions options;
  std::string root;
  std::shared_ptr<detail::LockTable> locks;   // the writer locks (<root>/LOCKS.xx); null when read_only
  std::shared_ptr<detail::FileBudget> budget;  // segment files the writers hold open
  mutable std::mutex mutex;  // guards live
  // Logs open in this process (a writer's, or read handles'): read opens share them.
  std::map<std::string, std::weak_ptr<LogState>, std::less<>> live;
  std::size_t sweep_at = 64;  // guarded by mutex: live's size at which remember() sweeps it

  std::string dir_of(std::string_view id) const { return root + "/" + std::string(id); }

  std::shared_ptr<LogState> find_live(std::string_view id) const {
    std::lock_guard lock(mutex);
    auto it = live.find(id);
    return it == live.end() ? nullptr : it->second.lock();
  }

  void remember(std::string_view id, const std::shared_ptr<LogState>& state, bool replace) {
    std::lock_guard lock(mutex);
    // Forget closed logs now and then: a sweep when the map doubled since the last one keeps
    // each open O(log n) amortised (a sweep per open made starting the 10,000th session O(n)).
    if (live.size() >= sweep_at) {
      for (auto it = live.begin(); it != live.end();) it = it->second.expired() ? live.erase(it) : std::next(it);
      sweep_at = std::max<std::size_t>(64, 2 * live.size());
    }
    auto [it, inserted] = live.try_emplace(std::string(id), state);
    if (!inserted && (replace || it->second.expired())) it->second = state;
  }

  std::shared_ptr<detail::CursorFile> cursor_file(std::string_view id, bool durable) const {
    return std::make_shared<detail::CursorFile>(dir_of(id), durable, options.fault_injector.get());
  }

  std::shared_ptr<LogState> new_state(std::string_view id) const {
    LogState::Config c;
    c.session_id = std::string(id);
    c.dir = dir_of(id);
    c.read_chunk = options.read_chunk_bytes;
    c.index_every_records = options.index_every_records;
    c.index_every_bytes = options.index_every_bytes;
    c.poll_interval = options.poll_interval;
    c.faults = options.fault_injector;
    return std::make_shared<LogState>(std::move(c));
  }
};

LogStore::LogStore(std::unique_ptr<State> state) : state_(std::move(state)) {}
LogStore::~LogStore() = default;

const LogStoreOptions& LogStore::options() const noexcept { return state_->options; }

Result<std::shared_ptr<LogStore>> LogStore::open(LogStoreOptions options) {
  if (Status st = validate(options); !st) return st.error();
  std::error_code ec;
  if (options.read_only) {
    // Nothing is created: a missing root is not_found, and no write-access check.
    const auto status = fs::status(options.root, ec);
    if (!fs::exists(status)) return Error(Errc::not_found, "no store at '" + options.root.string() + "' (no such directory)");
    if (!fs::is_directory(status))
      return Error(Errc::storage_error, "store root '" + options.root.string() + "' is not a directory");
    if (::access(options.root.c_str(), R_OK | X_OK) != 0)
      return detail::io_error("store root is not readable:", options.root.string(), errno);
  } else {
    fs::create_directories(options.root, ec);
    if (ec) return detail::io_error("cannot create store root", options.root.string(), ec.value());
    if (!fs::is_directory(options.root, ec))
      return Error(Errc::storage_error, "store root '" + options.root.string() + "' is not a directory");
    if (::access(options.root.c_str(), R_OK | W_OK | X_OK) != 0)
      return detail::io_error("store root is not writable:", options.root.string(), errno);
  }
  auto st = std::make_unique<State>();
  st->root = options.root.string();
  while (st->root.size() > 1 && st->root.back() == '/') st->root.pop_back();
  if (Status marker = detail::check_store_root(st->root, options.read_only, options.durability == Durability::fsync);
      !marker)
    return marker.error();
  if (!options.read_only) {
    auto locks = detail::LockTable::open(st->root);
    if (!locks) return locks.error();
    st->locks = std::move(*locks);
  }
  st->budget = std::make_shared<detail::FileBudget>(options.max_open_writer_files);
  st->options = std::move(options);
  return std::shared_ptr<LogStore>(new LogStore(std::move(st)));
}

Result<std::shared_ptr<SessionLog>> LogStore::open(std::string_view session_id, OpenMode mode) {
  if (Status st = validate_session_id(session_id); !st) return st.error();
  const auto& o = state_->options;
  const std::string dir = state_->dir_of(session_id);
  const bool durable = o.durability == Durability::fsync;
  if (mode == OpenMode::read) {
    if (auto live = state_->find_live(session_id))
      return std::shared_ptr<SessionLog>(std::make_shared<LogHandle>(live, state_->cursor_file(session_id, false)));
    auto state = state_->new_state(session_id);
    auto scan = detail::scan_session(dir, o.read_chunk_bytes, detail::ScanDepth::full, state.get());
    if (!scan) {
      if (scan.code() == Errc::not_found)
        return Error(Errc::not_found, "log store '" + state_->root + "' has no session '" + std::string(session_id) + "'");
      return scan.error();
    }
    if (scan->tail == detail::ScanResult::Tail::damaged) return scan->damage_error(session_id);
    {
      std::lock_guard lock(state->publish_mutex());
      state->set_first_locked(scan->first);
      state->set_flushed(scan->latest);
      state->publish(scan->latest);
    }
    state_->remember(session_id, state, false);
    return std::shared_ptr<SessionLog>(
        std::make_shared<LogHandle>(std::move(state), state_->cursor_file(session_id, false)));
  }

  if (o.read_only)
    return Error(Errc::validation_error, "store '" + state_->root + "' was opened read-only (LogStoreOptions::read_only); "
                                         "OpenMode::write of session '" + std::string(session_id) + "' needs a writable store");
  if (::mkdir(dir.c_str(), 0755) == 0) {
    if (durable)
      if (Status st = detail::sync_directory(state_->root); !st) return st.error();
  } else if (errno != EEXIST) {
    return detail::io_error("cannot create session directory", dir, errno);
  }
  auto lock = state_->locks->acquire(session_id, dir);
  if (!lock) return lock.error();
  auto state = state_->new_state(session_id);
  auto scan = detail::scan_session(dir, o.read_chunk_bytes, detail::ScanDepth::full, state.get());
  if (!scan) return scan.error();
  if (scan->tail == detail::ScanResult::Tail::damaged && !(o.repair_damaged_tail && scan->in_last_segment))
    return scan->damage_error(session_id);
  if (scan->tail != detail::ScanResult::Tail::clean)
    if (Status st = cut_tail(*scan, durable, dir); !st) return st.error();
  // Segments a crash left behind a prune (FIRST written, files not yet removed).
  for (const std::string& path : scan->pruned_leftovers)
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return detail::io_error("cannot remove", path, errno);
  {
    std::lock_guard guard(state->publish_mutex());
    state->set_first_locked(scan->first);
    state->set_flushed(scan->latest);
    state->publish(scan->latest);
  }
  LogWriter::Config wc;
  wc.durability = o.durability;
  wc.segment_bytes = o.segment_bytes;
  wc.buffer_bytes = o.buffer_bytes;
  wc.flush_interval = o.flush_interval;
  wc.flusher_idle_exit = o.flusher_idle_exit;
  wc.background_sync = o.background_sync;
  wc.faults = o.fault_injector;
  wc.retention = detail::retention_for(session_id, o.retention, o.session_retention);
  wc.budget = state_->budget;
  wc.cursors = state_->cursor_file(session_id, durable);
  auto writer = LogWriter::start(state, wc, std::move(*lock));
  if (!writer) return writer.error();
  state_->remember(session_id, state, true);
  return std::shared_ptr<SessionLog>(std::make_shared<LogHandle>(std::move(state), wc.cursors, std::move(*writer)));
}

Result<std::shared_ptr<SessionLog>> LogStore::open_intact_prefix(std::string_view session_id, VerifyReport& report) {
  return open_reader(session_id, report, true);
}

Result<std::shared_ptr<SessionLog>> LogStore::open_tail(std::string_view session_id, VerifyReport& report) {
  return open_reader(session_id, report, false);
}

Result<std::shared_ptr<SessionLog>> LogStore::open_reader(std::string_view session_id, VerifyReport& report, bool full) {
  report = VerifyReport{};
  report.intact.session_id = std::string(session_id);
  if (Status st = validate_session_id(session_id); !st) return st.error();
  if (state_->find_live(session_id)) return open(session_id, OpenMode::read);  // open in this process: no damage
  auto state = state_->new_state(session_id);
  // open_tail: the headers and the last segment's records only; the earlier segments are
  // registered whole (visible to their file size) and checked when read.
  auto scan = detail::scan_session(state_->dir_of(session_id), state_->options.read_chunk_bytes,
                                   full ? detail::ScanDepth::full : detail::ScanDepth::last_segment, state.get());
  if (!scan) {
    if (scan.code() == Errc::not_found)
      return Error(Errc::not_found, "log store '" + state_->root + "' has no session '" + std::string(session_id) + "'");
    return scan.error();
  }
  report.intact.first_sequence = scan->first;
  report.intact.latest_sequence = scan->latest;
  report.intact.event_count = scan->latest + 1 - scan->first;
  report.intact.bytes = scan->bytes;
  report.intact.segment_count = scan->segments;
  const bool damaged = scan->tail == detail::ScanResult::Tail::damaged;
  if (scan->tail != detail::ScanResult::Tail::clean) {
    report.damaged = damaged;
    report.problem = scan->problem;
    report.file = scan->file;
    report.offset = scan->offset;
    if (!damaged) report.torn_tail_bytes = scan->tail_bytes;
  }
  if (damaged) state->freeze();  // before the state is shared: no refresh past the damage
  {
    std::lock_guard lock(state->publish_mutex());
    state->set_first_locked(scan->first);
    state->set_flushed(scan->latest);
    state->publish(scan->latest);
    if (damaged) state->fail(scan->damage_error(session_id));  // what wait_for past the prefix answers
  }
  // A damaged prefix is not remembered in `live`: other opens of the session still meet the
  // damage; neither is a tail open, whose earlier segments were not checked.
  if (!damaged && full) state_->remember(session_id, state, false);
  return std::shared_ptr<SessionLog>(
      std::make_shared<LogHandle>(std::move(state), state_->cursor_file(session_id, false)));
}

Result<std::vector<std::string>> LogStore::list_sessions() const {
  std::vector<std::string> out;
  std::error_code ec;
  fs::directory_iterator it(state_->root, ec);
  if (ec) return detail::io_error("cannot list store root", state_->root, ec.value());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return detail::io_error("cannot list store root", state_->root, ec.value());
    std::error_code dir_ec;
    if (!it->is_directory(dir_ec)) continue;
    std::string name = it->path().filename().string();
    if (validate_session_id(name)) out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<SessionInfo> LogStore::info(std::string_view session_id) const {
  if (Status st = validate_session_id(session_id); !st) return st.error();
  SessionInfo info;
  info.session_id = std::string(session_id);
  if (auto live = state_->find_live(session_id)) {
    info.latest_sequence = live->latest();
    info.first_sequence = live->first();
    info.event_count = info.latest_sequence + 1 - info.first_sequence;
    info.bytes = live->visible_bytes();
    info.segment_count = live->segment_count();
    return info;
  }
  auto scan = detail::scan_session(state_->dir_of(session_id), state_->options.read_chunk_bytes,
                                   detail::ScanDepth::last_segment, nullptr);
  if (!scan) {
    if (scan.code() == Errc::not_found)
      return Error(Errc::not_found, "log store '" + state_->root + "' has no session '" + std::string(session_id) + "'");
    return scan.error();
  }
  // Damage in what info() read (a segment header, or the last segment's records): reported,
  // never a silently shorter session. Damage in the records of earlier segments needs verify().
  if (scan->tail == detail::ScanResult::Tail::damaged) return scan->damage_error(session_id);
  info.first_sequence = scan->first;
  info.latest_sequence = scan->latest;
  info.event_count = scan->latest + 1 - scan->first;
  info.bytes = scan->bytes;
  info.segment_count = scan->segments;
  return info;
}

Result<bool> LogStore::writer_active(std::string_view session_id) const {
  if (Status st = validate_session_id(session_id); !st) return st.error();
  if (state_->locks) return state_->locks->held(session_id);
  return detail::LockTable::held_by_anyone(state_->root, session_id);
}

std::size_t LogStore::open_writer_files_approx() const noexcept { return state_->budget->open_approx(); }

Result<VerifyReport> LogStore::verify(std::string_view session_id) const {
  if (Status st = validate_session_id(session_id); !st) return st.error();
  auto scan = detail::scan_session(state_->dir_of(session_id), state_->options.read_chunk_bytes,
                                   detail::ScanDepth::full, nullptr);
  if (!scan) {
    if (scan.code() == Errc::not_found)
      return Error(Errc::not_found, "log store '" + state_->root + "' has no session '" + std::string(session_id) + "'");
    return scan.error();
  }
  VerifyReport r;
  r.intact.session_id = std::string(session_id);
  r.intact.first_sequence = scan->first;
  r.intact.latest_sequence = scan->latest;
  r.intact.event_count = scan->latest + 1 - scan->first;
  r.intact.bytes = scan->bytes;
  r.intact.segment_count = scan->segments;
  if (scan->tail != detail::ScanResult::Tail::clean) {
    r.damaged = scan->tail == detail::ScanResult::Tail::damaged;
    r.problem = scan->problem;
    r.file = scan->file;
    r.offset = scan->offset;
    if (!r.damaged) r.torn_tail_bytes = scan->tail_bytes;
  }
  return r;
}

}  // namespace sessionring
