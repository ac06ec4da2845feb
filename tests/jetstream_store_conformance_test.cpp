// The store conformance suite (tests/store_conformance.hpp) over JetStreamStore on a real
// nats-server started by the test (tests/nats_server.hpp). A "restart" of the suite stops the
// server (SIGTERM) and starts it again on the same store directory, then opens a new store
// instance: the sessions must come back from the server's files. The cursor part
// (tests/store_conformance_cursors.hpp) runs on file and memory storage and must not skip
// (kKeepsCursors); its retention test skips: JetStreamStore has no retention (docs/store.md).
#include "nats_server.hpp"
#include "store_conformance.hpp"
#include "store_conformance_cursors.hpp"

#include <sessionring/jet_stream_store.hpp>

namespace sessionring::test {
namespace {

template <JetStreamStorage Storage>
struct JetStreamStoreFactory {
  static constexpr bool kDurable = Storage == JetStreamStorage::file;
  static constexpr bool kKeepsCursors = true;  // the KV bucket (docs/store.md "Durable named cursors")
  static std::string name() { return "jetstream/" + std::string(to_string(Storage)); }
  std::shared_ptr<SessionStore> open() {
    if (opened_) {
      if (kDurable) {  // a restart: the server too
        server.stop();
        server.start();
      } else {
        return store_;  // memory storage: a restart would lose it; same instance
      }
    }
    opened_ = true;
    JetStreamStoreOptions o;
    o.url = server.url();
    o.storage = Storage;
    o.stream_count = 2;
    o.append_timeout = std::chrono::seconds(5);
    // The server may still be starting JetStream (recovering its streams after a restart).
    Result<std::shared_ptr<JetStreamStore>> s = Error(Errc::timeout, "not tried");
    for (int i = 0; i < 100 && !s; ++i) {
      s = JetStreamStore::open(o);
      if (!s) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(s.ok()) << s.error();
    store_ = s.ok() ? *s : nullptr;
    return store_;
  }
  NatsServer server;
  bool opened_ = false;
  std::shared_ptr<SessionStore> store_;
};

struct FactoryNames {
  template <class F>
  static std::string GetName(int) {
    std::string n = F::name();
    std::replace(n.begin(), n.end(), '/', '_');
    return n;
  }
};

}  // namespace

using JetStreamStores = ::testing::Types<JetStreamStoreFactory<JetStreamStorage::file>>;
INSTANTIATE_TYPED_TEST_SUITE_P(JetStream, StoreConformance, JetStreamStores, FactoryNames);
using JetStreamCursorStores = ::testing::Types<JetStreamStoreFactory<JetStreamStorage::file>,
                                               JetStreamStoreFactory<JetStreamStorage::memory>>;
INSTANTIATE_TYPED_TEST_SUITE_P(JetStream, StoreCursorConformance, JetStreamCursorStores, FactoryNames);

}  // namespace sessionring::test
