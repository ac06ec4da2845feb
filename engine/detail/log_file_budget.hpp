// FileBudget: how many segment files the writers of one LogStore hold open between appends,
// and the cap above which a writer closes its own after each operation (reopening it at its
// next append: one open(2) per batch for the writers over the cap). With the sequencer pool's
// idle release (SessionLog::release_idle_resources) this bounds the descriptors of any number
// of sessions open for writing (docs/store.md "Descriptors").
//
// The bound is soft by the number of writers between opening their file and their shedding
// check at once (at most one per thread appending or syncing): cap + that.
#pragma once
#include <atomic>
#include <cstddef>

namespace sessionring::detail {

class FileBudget {
 public:
  explicit FileBudget(std::size_t cap) noexcept : cap_(cap) {}

  /// A writer opened its segment file / closed it. Any writer, its publish mutex held.
  void opened() noexcept { open_.fetch_add(1, std::memory_order_relaxed); }  // relaxed: a count, see open_
  void closed() noexcept { open_.fetch_sub(1, std::memory_order_relaxed); }  // relaxed: a count, see open_
  /// More files open than the cap: the asking writer should close its own. May be stale.
  bool over() const noexcept { return open_.load(std::memory_order_relaxed) > cap_; }         // relaxed: a hint
  std::size_t open_approx() const noexcept { return open_.load(std::memory_order_relaxed); }  // relaxed: a statistic
  std::size_t cap() const noexcept { return cap_; }

 private:
  const std::size_t cap_;
  // Segment files held open by the store's writers. Writers: opened()/closed() by each writer
  // under its own publish mutex; readers: writers deciding whether to shed theirs, tests.
  // Relaxed throughout: a count that publishes nothing (each file is guarded by its writer's
  // mutex); a stale value only lets the count pass the cap by the writers racing it.
  std::atomic<std::size_t> open_{0};
};

}  // namespace sessionring::detail
