// MemoryStore: sessions in process memory (include/sessionring/memory_store.hpp); each
// session's log is a MemorySessionLog (engine/memory_session_log.cpp), shared by its handles.
#include <sessionring/memory_store.hpp>
#include <sessionring/session_id.hpp>

#include "detail/cursor_checks.hpp"
#include "detail/memory_session_log.hpp"
#include "detail/retention_options.hpp"

#include <map>
#include <mutex>

namespace sessionring {
namespace {

using detail::MemorySessionLog;

// A handle: forwards to the shared log; the writer handle releases the writer role on close.
class MemoryLogHandle final : public SessionLog {
 public:
  MemoryLogHandle(std::shared_ptr<MemorySessionLog> log, std::shared_ptr<std::mutex> store_mutex, bool writer)
      : log_(std::move(log)), store_mutex_(std::move(store_mutex)), writer_(writer) {}
  MemoryLogHandle(const MemoryLogHandle&) = delete;
  MemoryLogHandle& operator=(const MemoryLogHandle&) = delete;
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
  Sequence first_sequence() const noexcept override { return log_->first_sequence(); }
  bool prepare_append() noexcept override { return writer_ && log_->prepare_append(); }
  bool prefault_ahead() noexcept override { return writer_ && log_->prefault_ahead(); }
  Status read(const EventQuery& q, FunctionRef<bool(const EventView&)> visit) const override {
    return log_->read(q, visit);
  }
  Result<Event> find_by_id(std::string_view id) const override { return log_->find_by_id(id); }
  Result<Sequence> wait_for(Sequence after, Deadline deadline) const override {
    return log_->wait_for(after, deadline);
  }
  Status commit_cursor(std::string_view name, Sequence position) override {
    if (!writer_) return detail::cursor_read_only(log_->session_id(), "commit_cursor");
    if (Status st = detail::check_cursor_commit(log_->session_id(), name, position, log_->latest_sequence()); !st)
      return st;
    log_->cursors.put(name, position);
    return {};
  }
  Result<Sequence> read_cursor(std::string_view name) const override {
    if (Status st = validate_cursor_name(name); !st) return st.error();
    if (auto p = log_->cursors.get(name)) return *p;
    return detail::cursor_not_found(log_->session_id(), name);
  }
  Result<std::vector<CursorPosition>> list_cursors() const override { return log_->cursors.list(); }
  Status delete_cursor(std::string_view name) override {
    if (!writer_) return detail::cursor_read_only(log_->session_id(), "delete_cursor");
    if (Status st = validate_cursor_name(name); !st) return st;
    if (!log_->cursors.erase(name)) return detail::cursor_not_found(log_->session_id(), name);
    return {};
  }

 private:
  std::shared_ptr<MemorySessionLog> log_;
  std::shared_ptr<std::mutex> store_mutex_;
  bool writer_;
};

}  // namespace

struct MemoryStore::State {
  MemoryStoreOptions options;
  std::shared_ptr<std::mutex> mutex = std::make_shared<std::mutex>();
  std::map<std::string, std::shared_ptr<MemorySessionLog>, std::less<>> sessions;
};

MemoryStore::MemoryStore(MemoryStoreOptions options) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
}
MemoryStore::~MemoryStore() = default;

std::shared_ptr<MemoryStore> MemoryStore::create() {
  return std::shared_ptr<MemoryStore>(new MemoryStore(MemoryStoreOptions{}));
}

Result<std::shared_ptr<MemoryStore>> MemoryStore::create(MemoryStoreOptions options) {
  if (Status st = validate(options); !st) return st.error();
  return std::shared_ptr<MemoryStore>(new MemoryStore(std::move(options)));
}

Result<std::shared_ptr<SessionLog>> MemoryStore::open(std::string_view session_id, OpenMode mode) {
  if (Status st = validate_session_id(session_id); !st) return st.error();
  std::lock_guard lock(*state_->mutex);
  auto it = state_->sessions.find(session_id);
  if (it == state_->sessions.end()) {
    if (mode == OpenMode::read)
      return Error(Errc::not_found, "memory store has no session '" + std::string(session_id) + "'");
    const MemoryStoreOptions& o = state_->options;
    it = state_->sessions
             .emplace(std::string(session_id),
                      std::make_shared<MemorySessionLog>(std::string(session_id), o.chunk_bytes,
                                                         detail::retention_for(session_id, o.retention, o.session_retention)))
             .first;
  }
  if (mode == OpenMode::write) {
    if (it->second->has_writer.load(std::memory_order_relaxed))  // relaxed: guarded by the store mutex
      return Error(Errc::writer_conflict, "session '" + std::string(session_id) + "' already has a writer");
    it->second->has_writer.store(true, std::memory_order_relaxed);  // relaxed: guarded by the store mutex
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

std::size_t MemoryStore::mapped_bytes_approx() const {
  std::lock_guard lock(*state_->mutex);
  std::size_t n = 0;
  for (const auto& [id, log] : state_->sessions) n += log->mapped_bytes_approx();
  return n;
}

}  // namespace sessionring
