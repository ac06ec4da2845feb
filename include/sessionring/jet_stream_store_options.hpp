// JetStreamStoreOptions: where and how JetStreamStore keeps sessions on NATS JetStream
// (docs/store.md "JetStreamStore"). JetStreamStore::open validates every field
// (Errc::validation_error naming the option).
#pragma once
#include <sessionring/result.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sessionring {

/// Where a JetStream stream keeps its messages.
enum class JetStreamStorage : std::uint8_t {
  file,    ///< the server's file store (2.9: written to the page cache, not fsynced per message)
  memory,  ///< server memory only: lost when every replica's process stops
};

struct JetStreamStoreOptions {
  /// One server or a comma-separated list of the cluster's servers ("nats://h1:4222,nats://h2:4222").
  std::string url = "nats://127.0.0.1:4222";
  /// Stream name prefix: the store's streams are <stream>_0 … <stream>_<stream_count-1>, their
  /// subjects <stream>.<k>.<session token>. Letters, digits, '_' and '-' only, 1…32 bytes.
  std::string stream = "SESSIONRING";
  /// Sessions are spread over this many shared streams by a hash of the id; [1, 64]. Fixed for
  /// the life of a store: open refuses a different count than the streams were created with.
  std::uint32_t stream_count = 1;
  /// Replicas of each stream (when the store creates it); 1 or 3 (a 3-node cluster): [1, 5].
  std::uint32_t replicas = 1;
  JetStreamStorage storage = JetStreamStorage::file;
  /// One request to the server (a publish acknowledgement, a message get); [1 ms, 1 min].
  std::chrono::milliseconds request_timeout{2000};
  /// The longest one append() may take, retrying through reconnects and leader elections with
  /// the same message id; past it append() answers Errc::timeout; [1 ms, 10 min].
  std::chrono::milliseconds append_timeout{15000};
  /// Connecting at open; [1 ms, 1 min].
  std::chrono::milliseconds connect_timeout{2000};
  /// Read handles without a writer in this store instance: how often wait_for asks the server
  /// for the session's last message; [1 ms, 1 min].
  std::chrono::milliseconds poll_interval{5};
  /// The streams' Nats-Msg-Id duplicate window (when the store creates them); [1 s, 1 day].
  std::chrono::milliseconds duplicate_window{std::chrono::minutes(2)};
};

/// "file" or "memory".
std::string_view to_string(JetStreamStorage s) noexcept;

/// Checks every field; Errc::validation_error naming the first bad option.
Status validate(const JetStreamStoreOptions& options);

}  // namespace sessionring
