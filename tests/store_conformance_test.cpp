// The store conformance suite (tests/store_conformance.hpp) over every store of this
// repository: MemoryStore, LogStore at each durability level, SqliteStore (buffered, fsync), and FaultInjectingStore (no fault
// configured) over each. Every store here has retention: the retention tests run for all of them. A new store adds one factory and one INSTANTIATE line (docs/store.md
// "Writing a store").
#include "store_conformance.hpp"
#include "store_conformance_cursors.hpp"

#include <sessionring/fault_injecting_store.hpp>
#include <sessionring/fault_injector.hpp>
#include <sessionring/log_store.hpp>
#include <sessionring/memory_store.hpp>
#include <sessionring/sqlite_store.hpp>

namespace sessionring::test {
namespace {

struct MemoryStoreFactory {
  static constexpr bool kDurable = false;
  static constexpr Sequence kRetentionUnitEvents = 32;  // 4 KiB chunks hold ~29 test events
  static std::string name() { return "memory"; }
  std::shared_ptr<SessionStore> open() {
    if (!store) store = MemoryStore::create();
    return store;
  }
  // Not durable: a fresh store (the retention tests open it before writing), with tiny chunks
  // so that retention prunes (and reuses) them within the tests' few hundred events.
  std::shared_ptr<SessionStore> open_with_retention(const RetentionPolicy& policy) {
    MemoryStoreOptions o;
    o.chunk_bytes = 4096;
    o.retention = policy;
    auto s = MemoryStore::create(std::move(o));
    EXPECT_TRUE(s.ok()) << s.error();
    store = s.ok() ? *s : nullptr;
    return store;
  }
  std::shared_ptr<MemoryStore> store;
};

template <Durability D, bool BackgroundSync = true>
struct LogStoreFactory {
  static constexpr bool kDurable = true;
  static constexpr Sequence kRetentionUnitEvents = 32;  // 4 KiB segments hold ~23 test events
  static std::string name() { return "log/" + std::string(to_string(D)); }
  std::shared_ptr<SessionStore> open() {
    LogStoreOptions o = options_in(dir, D);
    o.background_sync = BackgroundSync;
    auto s = LogStore::open(std::move(o));
    EXPECT_TRUE(s.ok()) << s.error();
    return s.ok() ? *s : nullptr;
  }
  // The same files with a policy, and 4 KiB segments so that retention removes some within
  // the tests' few hundred events.
  std::shared_ptr<SessionStore> open_with_retention(const RetentionPolicy& policy) {
    LogStoreOptions o = options_in(dir, D);
    o.background_sync = BackgroundSync;
    o.segment_bytes = 4096;
    o.retention = policy;
    auto s = LogStore::open(std::move(o));
    EXPECT_TRUE(s.ok()) << s.error();
    return s.ok() ? *s : nullptr;
  }
  TempDir dir;
};

template <Durability D>
struct SqliteStoreFactory {
  static constexpr bool kDurable = true;
  static std::string name() { return "sqlite/" + std::string(to_string(D)); }
  std::shared_ptr<SessionStore> open() { return open_with_retention(RetentionPolicy{}); }
  std::shared_ptr<SessionStore> open_with_retention(const RetentionPolicy& policy) {
    SqliteStoreOptions o;
    o.path = dir.path() / "sessions.db";
    o.durability = D;
    o.retention = policy;
    auto s = SqliteStore::open(std::move(o));
    EXPECT_TRUE(s.ok()) << s.error();
    return s.ok() ? *s : nullptr;
  }
  TempDir dir;
};

/// `Inner` behind a FaultInjectingStore whose injector has no rule: it must change nothing.
template <StoreFactory Inner>
struct FaultInjectingFactory {
  static constexpr bool kDurable = Inner::kDurable;
  static constexpr Sequence kRetentionUnitEvents = retention_unit_events<Inner>();
  static std::string name() { return "faults-off/" + Inner::name(); }
  std::shared_ptr<SessionStore> open() {
    auto inner_store = inner.open();
    if (!inner_store) return nullptr;
    auto s = FaultInjectingStore::create(std::move(inner_store), faults);
    EXPECT_TRUE(s.ok()) << s.error();
    return s.ok() ? *s : nullptr;
  }
  std::shared_ptr<SessionStore> open_with_retention(const RetentionPolicy& policy)
    requires requires(Inner& i) { i.open_with_retention(policy); }
  {
    auto s = FaultInjectingStore::create(inner.open_with_retention(policy), faults);
    EXPECT_TRUE(s.ok()) << s.error();
    return s.ok() ? *s : nullptr;
  }
  Inner inner;
  std::shared_ptr<FaultInjector> faults = FaultInjector::create();
};

using LogBuffered = LogStoreFactory<Durability::buffered>;
using LogFsyncGroupCommit = LogStoreFactory<Durability::fsync, true>;
using LogNone = LogStoreFactory<Durability::none>;
using SqliteBuffered = SqliteStoreFactory<Durability::buffered>;
using SqliteFsync = SqliteStoreFactory<Durability::fsync>;

struct FactoryNames {
  template <class F>
  static std::string GetName(int) {
    std::string n = F::name();
    std::replace_if(n.begin(), n.end(), [](char c) { return c == '/' || c == '-'; }, '_');
    return n;
  }
};

}  // namespace

using StoresHere = ::testing::Types<MemoryStoreFactory, LogBuffered, LogFsyncGroupCommit, LogNone,
                                    SqliteBuffered, SqliteFsync, FaultInjectingFactory<MemoryStoreFactory>,
                                    FaultInjectingFactory<LogBuffered>, FaultInjectingFactory<SqliteBuffered>>;
INSTANTIATE_TYPED_TEST_SUITE_P(Stores, StoreConformance, StoresHere, FactoryNames);
INSTANTIATE_TYPED_TEST_SUITE_P(Stores, StoreCursorConformance, StoresHere, FactoryNames);

}  // namespace sessionring::test
