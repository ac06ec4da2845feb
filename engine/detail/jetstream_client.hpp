// JetStreamClient: the one place that talks to libnats (docs/store.md "JetStreamStore"). Owns
// the connection and the JetStream context of one JetStreamStore; maps every libnats status and
// JetStream API error to a typed Errc whose message names the server (and the caller adds the
// session). Thread-safe: libnats connections and contexts may be used from any thread.
#pragma once
#include <sessionring/config.hpp>
#include <sessionring/function_ref.hpp>
#include <sessionring/jet_stream_store_options.hpp>
#include <sessionring/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

struct __natsConnection;
struct __jsCtx;
struct __natsSubscription;
struct __kvStore;

namespace sessionring::detail {

/// sessionring's message headers (besides the Nats-* ones).
inline constexpr const char* kHeaderFirst = "Sr-First";    // first session sequence in the payload
inline constexpr const char* kHeaderLast = "Sr-Last";      // the session's latest sequence after this message
inline constexpr const char* kHeaderWriter = "Sr-Writer";  // the writer handle that published it
inline constexpr const char* kHeaderMsgId = "Nats-Msg-Id";
inline constexpr const char* kHeaderExpectLastSubjectSeq = "Nats-Expected-Last-Subject-Sequence";

/// JetStream API error codes used by the store (nats-server errors.json).
inline constexpr int kJsWrongLastSequence = 10071;
inline constexpr int kJsNoMessageFound = 10037;
inline constexpr int kJsStreamNotFound = 10059;

/// A message read back from a stream ($JS.API.STREAM.MSG.GET, answered by the stream leader).
struct StoredMessage {
  std::uint64_t stream_sequence = 0;
  std::string subject;
  bool has_range = false;  ///< Sr-First and Sr-Last present and numeric
  Sequence first = 0;      ///< Sr-First
  Sequence last = 0;       ///< Sr-Last (first - 1 for a claim: no events)
  std::string msg_id;      ///< Nats-Msg-Id
  std::string writer;      ///< Sr-Writer
  std::string data;        ///< the payload: EventRecords back to back
};

/// A publish with headers, its outcome, or the JetStream error code next to the Error.
struct PublishResult {
  std::uint64_t stream_sequence = 0;
  bool duplicate = false;  ///< the server had this Nats-Msg-Id already (stream_sequence is the original)
  int js_error = 0;        ///< JetStream error code when the publish failed (10071: wrong last sequence)
};

class JetStreamClient {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  static Result<std::unique_ptr<JetStreamClient>> connect(const JetStreamStoreOptions& options);
  ~JetStreamClient();
  JetStreamClient(const JetStreamClient&) = delete;
  JetStreamClient& operator=(const JetStreamClient&) = delete;

  /// The server in messages: the connected URL, else the configured one.
  std::string server() const;
  /// The server's max_payload (bytes), learned at connect.
  std::size_t max_payload() const noexcept { return max_payload_; }

  /// Creates the stream if missing (name, subjects, storage, replicas, duplicate window,
  /// description "sessionring store: stream k of n"); an existing stream with another
  /// description or subjects is Errc::validation_error.
  Status ensure_stream(const std::string& name, const std::string& subjects, const std::string& description,
                       const JetStreamStoreOptions& options);

  /// The last message on `subject`, or nullopt when it has none.
  Result<std::optional<StoredMessage>> last_message(const std::string& stream, const std::string& subject) const;
  /// The first message on `subject` at stream sequence >= from, or nullopt.
  Result<std::optional<StoredMessage>> next_message(const std::string& stream, const std::string& subject,
                                                    std::uint64_t from) const;
  /// Subjects matching `filter` in `stream` with their message counts (paged STREAM.INFO).
  Result<std::vector<std::pair<std::string, std::uint64_t>>> subjects(const std::string& stream,
                                                                      const std::string& filter) const;

  /// Publishes to JetStream and waits for the acknowledgement up to `timeout`. The Error's code:
  /// timeout (no acknowledgement), storage_error (no responders: no stream leader / no quorum;
  /// connection closed; any other JetStream error, its code in `js_error` and the message).
  /// `not_stored` is set when the failure proves the message was not stored (no responders, or
  /// the server answered with an error); otherwise (timeout, connection lost) it may have been.
  Result<PublishResult> publish(const std::string& subject, const Headers& headers, std::span<const std::byte> payload,
                                std::chrono::milliseconds timeout, int& js_error, bool& not_stored) const;

  /// Core NATS request: the reply's payload, or nullopt when nobody is subscribed (no responders).
  Result<std::optional<std::string>> request(const std::string& subject, std::chrono::milliseconds timeout) const;

  /// Core NATS subscription that answers every request with `reply` until the returned handle
  /// is destroyed (a live writer's presence).
  class Responder {
   public:
    ~Responder();
    Responder(const Responder&) = delete;
    Responder& operator=(const Responder&) = delete;

   private:
    friend class JetStreamClient;
    Responder() = default;
    __natsSubscription* sub_ = nullptr;
  };
  Result<std::unique_ptr<Responder>> respond(const std::string& subject, std::string reply) const;

  // The store's Key-Value bucket (durable named cursors, docs/store.md "Durable named cursors").

  /// Creates the KV bucket `bucket` if missing and binds to it: the stream KV_<bucket> with the
  /// layout libnats' js_CreateKeyValue gives (subjects $KV.<bucket>.>, one message per key,
  /// rollup allowed, deletes denied) and the store's storage and replicas, but without direct
  /// gets, so that a get is answered by the stream leader like every other read of the store
  /// (a direct get may be answered by a lagging replica). An existing bucket is bound as it is.
  Status ensure_bucket(const std::string& bucket, const std::string& description, const JetStreamStoreOptions& options);
  /// Puts `value` under `key` of the bound bucket, retrying a timeout or no responders (a
  /// reconnect, a leader election) with the same value until `deadline`. Errc::timeout: no
  /// acknowledgement (whether it was stored is unknown); storage_error: not stored.
  Status kv_put(const std::string& key, std::string_view value, std::chrono::steady_clock::time_point deadline) const;
  /// Puts a delete marker on `key`, retrying as kv_put.
  Status kv_delete(const std::string& key, std::chrono::steady_clock::time_point deadline) const;
  /// The value of `key`; nullopt when it has none (never put, or deleted).
  Result<std::optional<std::string>> kv_get(const std::string& key) const;
  /// Every key matching `filter` (a subject filter over keys, e.g. "<prefix>.*") whose last
  /// operation is a put, with its value (a watcher over the filter's initial values).
  Result<std::vector<std::pair<std::string, std::string>>> kv_entries(const std::string& filter) const;

 private:
  JetStreamClient() = default;
  Result<std::string> api(const std::string& subject, const std::string& body) const;
  Error error(int status, std::string_view what) const;
  /// kv_put / kv_delete: runs `op` (a libnats KV call, its natsStatus as int) until it succeeds,
  /// retrying a timeout or no responders until `deadline`; `verb` and `unknown` ("stored",
  /// "deleted") word the errors.
  Status kv_write(std::string_view verb, std::string_view unknown, const std::string& key,
                  std::chrono::steady_clock::time_point deadline, FunctionRef<int()> op) const;

  __natsConnection* nc_ = nullptr;
  __jsCtx* js_ = nullptr;
  __kvStore* kv_ = nullptr;  // the bucket bound by ensure_bucket (libnats: thread-safe)
  std::string bucket_;
  std::string configured_url_;
  std::size_t max_payload_ = 1u << 20;
  std::chrono::milliseconds request_timeout_{2000};
};

/// Encodes a session id as one NATS subject token: [A-Za-z0-9_-] as is, every other byte as %XX.
std::string subject_token(std::string_view session_id);
/// The inverse; nullopt for a token subject_token cannot have produced.
std::optional<std::string> session_from_token(std::string_view token);

/// Encodes bytes as one Key-Value key token (KV keys allow only [-/_=.A-Za-z0-9], '.' separating
/// tokens): [A-Za-z0-9_-] as is, every other byte as =XX (two uppercase hex digits). Never
/// empty for non-empty input, never holds '.'.
std::string kv_token(std::string_view bytes);
/// The inverse; nullopt for a token kv_token cannot have produced.
std::optional<std::string> from_kv_token(std::string_view token);
/// The KV key of a session's cursor: kv_token(session id) "." kv_token(cursor name).
std::string cursor_key(std::string_view session_id, std::string_view name);

}  // namespace sessionring::detail
