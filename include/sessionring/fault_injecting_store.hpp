// FaultInjectingStore: a SessionStore decorator that applies a FaultInjector at the SessionLog
// level to any store (MemoryStore, LogStore, your own), for chaos tests of the engine and of
// hosts (docs/store.md "Faults and fault injection").
//
// Each session log it opens wraps the inner store's log:
//  * append(batch): sleeps the injector's delays of FileOp::write and FileOp::sync (a slow
//    store), then asks FileOp::write (with the batch's record bytes) and FileOp::sync; if either
//    fails, the append answers Errc::storage_error without touching the inner log, so the
//    batch is stored all or nothing as the SessionLog contract requires. A disk-full rule
//    (fail_writes_after) refuses the whole batch that does not fit.
//  * read(query, visit) and find_by_id(id): FileOp::read may fail them (storage_error) before
//    anything is visited.
//  * everything else is forwarded unchanged.
// Threads: as the inner store.
#pragma once
#include <sessionring/fault_injector.hpp>
#include <sessionring/session_store.hpp>

#include <memory>

namespace sessionring {

class FaultInjectingStore final : public SessionStore {
 public:
  /// Errc::validation_error when `inner` or `faults` is null.
  static Result<std::shared_ptr<FaultInjectingStore>> create(std::shared_ptr<SessionStore> inner,
                                                             std::shared_ptr<FaultInjector> faults);

  std::string_view kind() const noexcept override { return inner_->kind(); }
  Result<std::shared_ptr<SessionLog>> open(std::string_view session_id, OpenMode mode) override;
  Result<std::vector<std::string>> list_sessions() const override { return inner_->list_sessions(); }

  const std::shared_ptr<SessionStore>& inner() const noexcept { return inner_; }
  const std::shared_ptr<FaultInjector>& faults() const noexcept { return faults_; }

 private:
  FaultInjectingStore(std::shared_ptr<SessionStore> inner, std::shared_ptr<FaultInjector> faults)
      : inner_(std::move(inner)), faults_(std::move(faults)) {}

  const std::shared_ptr<SessionStore> inner_;
  const std::shared_ptr<FaultInjector> faults_;
};

}  // namespace sessionring
