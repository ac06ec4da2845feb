// JetStreamStore: sessions on NATS JetStream (nats-server 2.9, libnats 3.4), so that a session
// written on host A can be read, followed and taken over from host B. Implements SessionStore /
// SessionLog with the same contract as LogStore (docs/store.md "JetStreamStore"):
//  * a session is one subject of a few shared streams; a message holds one appended batch (or a
//    part of a large one) as EventRecords, its session sequences in the Sr-First/Sr-Last headers;
//  * INV-1: every message is published with Nats-Expected-Last-Subject-Sequence = the stream
//    sequence of the session's previous message, so the server refuses anything that does not
//    continue the session; INV-6 across retries: Nats-Msg-Id names the batch (its sequences and
//    the XXH3 of its bytes), so a retried publish is stored once;
//  * single writer: a writer open publishes a claim message fenced the same way; an older writer
//    is refused from then on (Errc::writer_conflict), and a live writer answers a presence
//    request so that a second open gets writer_conflict at once;
//  * durable named cursors: keys of one Key-Value bucket per store, <stream>_CURSORS (docs/store.md
//    "JetStreamStore: durable named cursors"), created by open() when missing.
//
// Threads: every member function from any thread. libnats runs its own threads.
#pragma once
#include <sessionring/jet_stream_store_options.hpp>
#include <sessionring/session_info.hpp>
#include <sessionring/session_store.hpp>
#include <sessionring/verify_report.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sessionring {

class JetStreamStore final : public SessionStore {
 public:
  /// Validates the options, connects (Errc::timeout / storage_error naming the server when no
  /// server answers) and creates the streams and the cursor bucket that are missing.
  static Result<std::shared_ptr<JetStreamStore>> open(JetStreamStoreOptions options);

  std::string_view kind() const noexcept override { return "jetstream"; }

  /// write: Errc::writer_conflict when another writer (this process or another host) is alive
  /// or claims the session at the same moment; continues the session's sequence (INV-1).
  /// read: Errc::not_found for a session with no message.
  Result<std::shared_ptr<SessionLog>> open(std::string_view session_id, OpenMode mode) override;

  /// Sessions with at least one message in any of the store's streams, sorted.
  Result<std::vector<std::string>> list_sessions() const override;

  /// Latest sequence and event count of one session, its message count in `segment_count` and
  /// its payload bytes in `bytes`. Reads the session's last message and the stream's subject
  /// counts. Errc::not_found for a missing session.
  Result<SessionInfo> info(std::string_view session_id) const;

  /// Reads every message of the session: headers against payload, contiguity of the sequence,
  /// every record decoded, the XXH3 in the message id recomputed. `file` names the stream and
  /// subject, `offset` the stream sequence of the first bad message. Never modifies anything.
  Result<VerifyReport> verify(std::string_view session_id) const;

  const JetStreamStoreOptions& options() const noexcept;

  JetStreamStore(const JetStreamStore&) = delete;
  JetStreamStore& operator=(const JetStreamStore&) = delete;
  ~JetStreamStore() override;

  struct State;

 private:
  explicit JetStreamStore(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace sessionring
