// MemoryStore: sessions kept in process memory. Readers never take a lock the writer needs:
// records live in append-only arenas and a segmented index whose pieces never move.
#pragma once
#include <sessionring/session_store.hpp>

#include <map>
#include <memory>
#include <mutex>

namespace sessionring {

class MemoryStore final : public SessionStore {
 public:
  static std::shared_ptr<MemoryStore> create();

  std::string_view kind() const noexcept override { return "memory"; }
  Result<std::shared_ptr<SessionLog>> open(std::string_view session_id, OpenMode mode) override;
  Result<std::vector<std::string>> list_sessions() const override;

  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;
  ~MemoryStore() override;

 private:
  MemoryStore();
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sessionring
