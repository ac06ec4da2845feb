// JetStreamSessionLog: one handle on one session of a JetStreamStore (docs/store.md
// "JetStreamStore"). The writer handle (OpenMode::write) publishes batches fenced by the stream
// sequence of the session's previous message; read handles read the stream leader's copy.
#pragma once
#include <sessionring/session_log.hpp>

#include "detail/id_index.hpp"
#include "detail/jetstream_store_state.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sessionring::detail {

class JetStreamSessionLog final : public SessionLog {
 public:
  /// Read handle: `latest` is the session's latest sequence found at open.
  static std::shared_ptr<JetStreamSessionLog> reader(std::shared_ptr<JetStreamStore::State> store,
                                                     std::shared_ptr<JetStreamSessionShared> shared, Sequence latest);
  /// Writer handle: checks that no live writer answers on the presence subject, claims the
  /// session (a fenced claim message), then answers presence requests until destroyed.
  static Result<std::shared_ptr<JetStreamSessionLog>> writer(std::shared_ptr<JetStreamStore::State> store,
                                                             std::shared_ptr<JetStreamSessionShared> shared);
  ~JetStreamSessionLog() override;

  std::string_view session_id() const noexcept override { return shared_->address.session_id; }
  Status append(const AppendBatch& batch) override;
  Sequence latest_sequence() const noexcept override;
  Status read(const EventQuery& query, FunctionRef<bool(const EventView&)> visit) const override;
  Result<Event> find_by_id(std::string_view id) const override;
  Result<Sequence> wait_for(Sequence after, Deadline deadline) const override;

  // Durable named cursors: keys of the store's KV bucket (docs/store.md "Durable named cursors").
  Status commit_cursor(std::string_view name, Sequence position) override;
  Result<Sequence> read_cursor(std::string_view name) const override;
  Result<std::vector<CursorPosition>> list_cursors() const override;
  Status delete_cursor(std::string_view name) override;

  /// Visits every message of the session from stream sequence `from` in order (verify, info).
  Status scan_messages(std::uint64_t from, FunctionRef<bool(const StoredMessage&)> visit) const;

  JetStreamSessionLog(std::shared_ptr<JetStreamStore::State> store, std::shared_ptr<JetStreamSessionShared> shared,
                      bool writer);

 private:
  std::string where() const;  // "session 's' (stream X subject Y) on NATS server URL"
  /// The session's latest sequence as the stream leader has it (the last message's Sr-Last).
  Result<Sequence> server_latest() const;
  /// A cursor's stored value (decimal text) as a position; damaged_store naming the key else.
  Result<Sequence> parse_cursor(std::string_view name, const std::string& key, const std::string& value) const;
  /// The highest sequence this handle may expose (INV-2).
  Result<Sequence> visible_latest() const;
  /// The first message of the session whose Sr-Last >= target, or nullopt.
  Result<std::optional<StoredMessage>> locate(Sequence target) const;
  Result<Sequence> publish_claim(const std::optional<StoredMessage>& last);
  /// Publishes one message, retrying with the same Nats-Msg-Id until acknowledged, fenced or
  /// the deadline; returns its stream sequence.
  Result<std::uint64_t> publish_fenced(const JetStreamClient::Headers& headers, std::span<const std::byte> payload,
                                       const std::string& msg_id, std::chrono::steady_clock::time_point deadline,
                                       bool claim);

  std::shared_ptr<JetStreamStore::State> store_;
  std::shared_ptr<JetStreamSessionShared> shared_;
  const bool writer_;

  // Writer only (append runs on one thread at a time, the session's sequencer):
  std::string writer_id_;
  Sequence written_ = 0;                     // highest acknowledged sequence
  std::uint64_t last_stream_sequence_ = 0;   // stream sequence of the session's last message
  std::optional<Error> refused_;             // fenced (writer_conflict) or in doubt: every append answers it
  std::vector<std::byte> payload_;           // reused publish buffer
  std::unique_ptr<JetStreamClient::Responder> presence_;

  // Read handles without a writer in this instance: the last latest sequence seen (stale).
  mutable std::atomic<Sequence> seen_latest_{0};  // writer: any reader call; readers: latest_sequence(); a cache, relaxed

  mutable std::mutex ids_mutex_;
  mutable IdIndex ids_;            // guarded by ids_mutex_: hashes of ids of sequences 1..indexed_
  mutable Sequence indexed_ = 0;   // guarded by ids_mutex_
};

}  // namespace sessionring::detail
