// JetStreamStore::State and the per-session state that every handle of one store instance
// shares (docs/store.md "JetStreamStore"). Private to engine/jetstream_*.cpp.
#pragma once
#include <sessionring/jet_stream_store.hpp>

#include "detail/jetstream_client.hpp"
#include "detail/wait_gate.hpp"

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace sessionring::detail {

/// Where one session lives: its stream, subject and the presence subject of its writer.
struct JetStreamSessionAddress {
  std::string session_id;
  std::string stream;    ///< <stream>_<k>
  std::string subject;   ///< <stream>.<k>.<token>
  std::string presence;  ///< _SR.<stream>.<k>.<token>: a live writer answers requests on it
};

/// Shared by every handle of one session in one store instance.
struct JetStreamSessionShared {
  explicit JetStreamSessionShared(JetStreamSessionAddress a) : address(std::move(a)) {}

  const JetStreamSessionAddress address;

  std::mutex mutex;          // guards writer_open and positions
  bool writer_open = false;  // a writer handle of this instance is alive
  /// (session sequence of a message's Sr-Last, its stream sequence), increasing, at most
  /// kMaxPositions: messages appended or read recently, so that a read from a recent cursor
  /// finds its first message without a search.
  std::deque<std::pair<Sequence, std::uint64_t>> positions;
  static constexpr std::size_t kMaxPositions = 4096;

  /// Writer: append stores the acknowledged sequence (J1, seq_cst) after recording its
  /// position; readers of this instance load it (acquire, pairs with J1) while writer_active
  /// is true; wait_for's ready() loads it seq_cst (the WaitGate handshake).
  std::atomic<Sequence> latest{0};
  /// Writer open sets it (seq_cst, J0) after latest holds the recovered sequence; writer close
  /// clears it. Readers load it (acquire, pairs with J0) to choose between latest and the server.
  std::atomic<bool> writer_active{false};
  WaitGate gate;  // writer notifies after J1; wait_for sleeps on it while writer_active

  /// Serialises delete_cursor's read-then-delete among the handles of this instance, so that
  /// of two deletes of one cursor exactly one answers ok (commits need no lock: a KV put).
  std::mutex cursor_mutex;

  void remember(Sequence last, std::uint64_t stream_sequence) {
    std::lock_guard lock(mutex);
    if (!positions.empty() && positions.back().second >= stream_sequence) return;
    positions.emplace_back(last, stream_sequence);
    if (positions.size() > kMaxPositions) positions.pop_front();
  }
};

}  // namespace sessionring::detail

namespace sessionring {

struct JetStreamStore::State {
  JetStreamStoreOptions options;
  std::unique_ptr<detail::JetStreamClient> client;
  std::mutex mutex;  // guards sessions
  std::map<std::string, std::weak_ptr<detail::JetStreamSessionShared>, std::less<>> sessions;

  detail::JetStreamSessionAddress address(std::string_view session_id) const;
  std::string stream_name(std::uint32_t k) const { return options.stream + "_" + std::to_string(k); }
  std::string stream_subjects(std::uint32_t k) const { return options.stream + "." + std::to_string(k) + ".>"; }
  /// The Key-Value bucket of the store's durable named cursors (docs/store.md "Durable named
  /// cursors"): <stream>_CURSORS, held in the stream KV_<stream>_CURSORS.
  std::string cursor_bucket() const { return options.stream + "_CURSORS"; }
  std::string cursor_bucket_description() const {
    return "sessionring store " + options.stream + ": durable named cursors";
  }
  std::string stream_description(std::uint32_t k) const {
    return "sessionring store: stream " + std::to_string(k) + " of " + std::to_string(options.stream_count);
  }
};

}  // namespace sessionring
