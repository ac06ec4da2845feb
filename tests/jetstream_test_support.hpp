// Opening a JetStreamStore in the tests: a server that was just (re)started may take a moment
// to accept JetStream requests, so the open is retried until `patience` runs out.
#pragma once
#include <sessionring/jet_stream_store.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

namespace sessionring::test {

inline std::shared_ptr<JetStreamStore> open_jetstream_store(const JetStreamStoreOptions& o,
                                                            std::chrono::seconds patience = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  for (;;) {
    auto s = JetStreamStore::open(o);
    if (s) return *s;
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << s.error();
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace sessionring::test
