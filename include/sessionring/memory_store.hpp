// MemoryStore: sessions kept in process memory. Readers never take a lock the writer needs:
// records live in arena chunks and a chunk directory whose entries never move; a reader pins
// the chunk it reads, so retention (which prunes and reuses whole chunks) never hands it
// another session's bytes (docs/store.md "Retention", docs/design.md §12 (M1)-(M8)).
#pragma once
#include <sessionring/memory_store_options.hpp>
#include <sessionring/session_store.hpp>

#include <cstddef>
#include <memory>

namespace sessionring {

class MemoryStore final : public SessionStore {
 public:
  /// Default options: 8 MiB chunks, keep everything.
  static std::shared_ptr<MemoryStore> create();
  /// Errc::validation_error naming a bad option.
  static Result<std::shared_ptr<MemoryStore>> create(MemoryStoreOptions options);

  std::string_view kind() const noexcept override { return "memory"; }
  Result<std::shared_ptr<SessionLog>> open(std::string_view session_id, OpenMode mode) override;
  Result<std::vector<std::string>> list_sessions() const override;

  /// Bytes of arena chunks (records and their offset tables) mapped by every session, whether
  /// in use or pruned and waiting for reuse. Any thread; may be stale by the time it returns
  /// (the writers change it without a lock).
  std::size_t mapped_bytes_approx() const;

  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;
  ~MemoryStore() override;

 private:
  explicit MemoryStore(MemoryStoreOptions options);
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sessionring
