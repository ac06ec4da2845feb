// FaultInjectingStore: SessionLog wrapper that consults a FaultInjector before append and read.
#include <sessionring/fault_injecting_store.hpp>

#include "detail/log_file.hpp"

namespace sessionring {
namespace {

class FaultInjectingLog final : public SessionLog {
 public:
  FaultInjectingLog(std::shared_ptr<SessionLog> inner, std::shared_ptr<FaultInjector> faults)
      : inner_(std::move(inner)), faults_(std::move(faults)) {}

  std::string_view session_id() const noexcept override { return inner_->session_id(); }

  Status append(const AppendBatch& batch) override {
    std::size_t bytes = 0;
    for (const auto& r : batch.records) bytes += r.size();
    // All or nothing: a fault refuses the whole batch before the inner log sees any of it.
    if (const auto d = faults_->before(FileOp::write, bytes); d.error != 0) return refused("append", d.error);
    if (const auto d = faults_->before(FileOp::sync); d.error != 0) return refused("append (sync)", d.error);
    return inner_->append(batch);
  }
  Sequence latest_sequence() const noexcept override { return inner_->latest_sequence(); }
  Sequence written_sequence() const noexcept override { return inner_->written_sequence(); }
  Sequence first_sequence() const noexcept override { return inner_->first_sequence(); }
  bool prepare_append() noexcept override { return inner_->prepare_append(); }
  bool prefault_ahead() noexcept override { return inner_->prefault_ahead(); }
  Status read(const EventQuery& query, FunctionRef<bool(const EventView&)> visit) const override {
    if (const auto d = faults_->before(FileOp::read); d.error != 0) return refused("read", d.error);
    return inner_->read(query, visit);
  }
  Result<Event> find_by_id(std::string_view id) const override {
    if (const auto d = faults_->before(FileOp::read); d.error != 0) return refused("find_by_id", d.error).error();
    return inner_->find_by_id(id);
  }
  Result<Sequence> wait_for(Sequence after, Deadline deadline) const override {
    return inner_->wait_for(after, deadline);
  }
  void release_idle_resources() noexcept override { inner_->release_idle_resources(); }
  // Cursor writes consult the injector like an append (a write, then a sync); reads like a read.
  Status commit_cursor(std::string_view name, Sequence position) override {
    if (const auto d = faults_->before(FileOp::write, 64); d.error != 0) return refused("commit_cursor", d.error);
    if (const auto d = faults_->before(FileOp::sync); d.error != 0) return refused("commit_cursor (sync)", d.error);
    return inner_->commit_cursor(name, position);
  }
  Result<Sequence> read_cursor(std::string_view name) const override {
    if (const auto d = faults_->before(FileOp::read); d.error != 0) return refused("read_cursor", d.error).error();
    return inner_->read_cursor(name);
  }
  Result<std::vector<CursorPosition>> list_cursors() const override {
    if (const auto d = faults_->before(FileOp::read); d.error != 0) return refused("list_cursors", d.error).error();
    return inner_->list_cursors();
  }
  Status delete_cursor(std::string_view name) override {
    if (const auto d = faults_->before(FileOp::write, 64); d.error != 0) return refused("delete_cursor", d.error);
    return inner_->delete_cursor(name);
  }

 private:
  Status refused(const char* what, int error) const {
    std::string text = detail::errno_text(error);
    text.insert(text.size() - 1, ", injected by FaultInjector");
    return Status(Errc::storage_error,
                  std::string(what) + " of session '" + std::string(inner_->session_id()) + "' failed: " + text);
  }

  const std::shared_ptr<SessionLog> inner_;
  const std::shared_ptr<FaultInjector> faults_;
};

}  // namespace

Result<std::shared_ptr<FaultInjectingStore>> FaultInjectingStore::create(std::shared_ptr<SessionStore> inner,
                                                                         std::shared_ptr<FaultInjector> faults) {
  if (!inner) return Error(Errc::validation_error, "FaultInjectingStore::create: `inner` store is null");
  if (!faults) return Error(Errc::validation_error, "FaultInjectingStore::create: `faults` injector is null");
  return std::shared_ptr<FaultInjectingStore>(new FaultInjectingStore(std::move(inner), std::move(faults)));
}

Result<std::shared_ptr<SessionLog>> FaultInjectingStore::open(std::string_view session_id, OpenMode mode) {
  auto log = inner_->open(session_id, mode);
  if (!log) return log.error();
  return std::shared_ptr<SessionLog>(std::make_shared<FaultInjectingLog>(std::move(*log), faults_));
}

}  // namespace sessionring
