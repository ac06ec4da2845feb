// JetStreamSessionLog: appends as fenced JetStream publishes, reads from the stream leader
// (docs/store.md "JetStreamStore").
#include "detail/jetstream_session_log.hpp"
#include "detail/batch_checks.hpp"

#include "detail/cursor_checks.hpp"
#include "detail/str_cat.hpp"

#include <sessionring/cursor_position.hpp>
#include <sessionring/event.hpp>
#include <sessionring/event_record.hpp>

#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <random>
#include <thread>

namespace sessionring::detail {
namespace {

using Clock = std::chrono::steady_clock;

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string random_writer_id() {
  std::random_device rd;
  const std::uint64_t a = (std::uint64_t{rd()} << 32) ^ rd();
  const std::uint64_t b = (std::uint64_t{rd()} << 32) ^ rd();
  return hex64(a) + hex64(b);
}

// The presence check's wait: a live writer answers within milliseconds; a stopped or
// partitioned one does not, and is then fenced by the new writer's claim.
constexpr std::chrono::milliseconds kPresenceTimeout{500};

}  // namespace

JetStreamSessionLog::JetStreamSessionLog(std::shared_ptr<JetStreamStore::State> store,
                                         std::shared_ptr<JetStreamSessionShared> shared, bool writer)
    : store_(std::move(store)), shared_(std::move(shared)), writer_(writer) {}

std::shared_ptr<JetStreamSessionLog> JetStreamSessionLog::reader(std::shared_ptr<JetStreamStore::State> store,
                                                                 std::shared_ptr<JetStreamSessionShared> shared,
                                                                 Sequence latest) {
  auto log = std::make_shared<JetStreamSessionLog>(std::move(store), std::move(shared), false);
  log->seen_latest_.store(latest, std::memory_order_relaxed);  // relaxed: a cache, published by make_shared's return
  return log;
}

Result<std::shared_ptr<JetStreamSessionLog>> JetStreamSessionLog::writer(std::shared_ptr<JetStreamStore::State> store,
                                                                         std::shared_ptr<JetStreamSessionShared> shared) {
  {
    std::lock_guard lock(shared->mutex);
    if (shared->writer_open)
      return Error(Errc::writer_conflict, "session '" + shared->address.session_id +
                                              "' already has a writer in this process (JetStreamStore on " +
                                              store->options.url + ")");
    shared->writer_open = true;
  }
  auto log = std::make_shared<JetStreamSessionLog>(store, shared, true);
  auto undo = [&](Error e) -> Result<std::shared_ptr<JetStreamSessionLog>> {
    log->presence_.reset();
    std::lock_guard lock(shared->mutex);
    shared->writer_open = false;
    return e;
  };
  JetStreamClient& client = *store->client;
  const JetStreamSessionAddress& a = shared->address;
  // 1. A live writer elsewhere answers on the presence subject: refuse (writer_conflict).
  auto alive = client.request(a.presence, std::min(kPresenceTimeout, store->options.request_timeout));
  if (alive && alive->has_value())
    return undo(Error(Errc::writer_conflict, log->where() + " already has a live writer (writer " + **alive +
                                                 "); a second writer would be fenced"));
  if (!alive && alive.code() != Errc::timeout) return undo(alive.error());
  // 2. The session's last message: where the sequence continues (INV-1).
  auto last = client.last_message(a.stream, a.subject);
  if (!last) return undo(last.error());
  if (last->has_value() && !(*last)->has_range)
    return undo(Error(Errc::damaged_store, log->where() + ": the last message (stream sequence " +
                                               std::to_string((*last)->stream_sequence) +
                                               ") has no Sr-First/Sr-Last headers"));
  // 3. Claim: a message with no events, fenced on the last one. From its acknowledgement on,
  //    any older writer's publish fails with "wrong last sequence" (writer_conflict).
  log->writer_id_ = random_writer_id();
  auto claimed = log->publish_claim(*last);
  if (!claimed) return undo(claimed.error());
  // 4. Answer presence requests while this handle lives.
  auto presence = client.respond(a.presence, log->writer_id_);
  if (!presence) return undo(presence.error());
  log->presence_ = std::move(*presence);
  shared->latest.store(*claimed, std::memory_order_seq_cst);   // (J1) see jetstream_store_state.hpp
  shared->writer_active.store(true, std::memory_order_seq_cst);  // (J0) pairs with the acquire in visible_latest()
  shared->gate.notify_all();
  return log;
}

JetStreamSessionLog::~JetStreamSessionLog() {
  if (!writer_) return;
  presence_.reset();
  shared_->writer_active.store(false, std::memory_order_seq_cst);  // (J0) readers go back to the server
  shared_->gate.notify_all();
  std::lock_guard lock(shared_->mutex);
  shared_->writer_open = false;
}

std::string JetStreamSessionLog::where() const {
  return "session '" + shared_->address.session_id + "' (stream " + shared_->address.stream + ", subject " +
         shared_->address.subject + ") on NATS server " + store_->client->server();
}

Result<Sequence> JetStreamSessionLog::publish_claim(const std::optional<StoredMessage>& last) {
  const Sequence latest = last ? last->last : 0;
  last_stream_sequence_ = last ? last->stream_sequence : 0;
  JetStreamClient::Headers h{{kHeaderFirst, std::to_string(latest + 1)}, {kHeaderLast, std::to_string(latest)}};
  const std::string msg_id = subject_token(shared_->address.session_id) + ":claim:" + writer_id_;
  auto seq = publish_fenced(h, {}, msg_id, Clock::now() + store_->options.append_timeout, true);
  if (!seq) return seq.error();
  last_stream_sequence_ = *seq;
  written_ = latest;
  shared_->remember(latest, *seq);
  return latest;
}

Result<std::uint64_t> JetStreamSessionLog::publish_fenced(const JetStreamClient::Headers& base,
                                                          std::span<const std::byte> payload,
                                                          const std::string& msg_id, Clock::time_point deadline,
                                                          bool claim) {
  JetStreamClient::Headers h = base;
  h.emplace_back(kHeaderMsgId, msg_id);
  // "0" as a raw header means "the subject has no message yet" (jsPubOptions cannot say it).
  h.emplace_back(kHeaderExpectLastSubjectSeq, std::to_string(last_stream_sequence_));
  h.emplace_back(kHeaderWriter, writer_id_);
  const JetStreamStoreOptions& o = store_->options;
  JetStreamClient& client = *store_->client;
  std::chrono::milliseconds backoff{5};
  bool in_doubt = false;
  std::optional<Error> last_error;
  for (;;) {
    const auto now = Clock::now();
    if (now >= deadline) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    int js_error = 0;
    bool not_stored = false;
    auto r = client.publish(shared_->address.subject, h, payload, std::clamp(left, std::chrono::milliseconds(1),
                                                                             o.request_timeout),
                            js_error, not_stored);
    if (r) return r->stream_sequence;  // also a duplicate: the original's stream sequence
    if (js_error == kJsWrongLastSequence) {
      // Either our own earlier attempt was stored (its acknowledgement lost, the duplicate
      // window passed) or another writer got in between: the last message tells which.
      auto last = client.last_message(shared_->address.stream, shared_->address.subject);
      if (last && last->has_value() && (*last)->msg_id == msg_id) return (*last)->stream_sequence;
      if (last) {
        const std::string other = last->has_value() ? (*last)->writer : std::string("?");
        const std::string at = last->has_value() ? std::to_string((*last)->stream_sequence) : std::string("?");
        Error e(Errc::writer_conflict,
                where() + ": another writer (" + other + ") " + (claim ? "claimed or appended to" : "took over") +
                    " the session (its last message is at stream sequence " + at + ", this writer expected " +
                    std::to_string(last_stream_sequence_) + "): this writer (" + writer_id_ +
                    ") is fenced; reopen the session to continue (INV-1)");
        if (!claim) refused_ = e;
        return e;
      }
      last_error = last.error();
      in_doubt = true;
    } else {
      last_error = r.error();
      if (!not_stored) in_doubt = true;
    }
    const auto wait = std::min(backoff, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(200));
  }
  const std::string cause = last_error ? " (last error: " + last_error->describe() + ")" : std::string();
  if (!in_doubt)
    return Error(Errc::storage_error, where() + ": not stored within " + std::to_string(o.append_timeout.count()) +
                                          " ms" + cause);
  Error e(Errc::timeout, where() + ": no acknowledgement within " + std::to_string(o.append_timeout.count()) +
                             " ms" + cause + "; whether message " + msg_id +
                             " was stored is unknown, so this writer refuses appends: reopen the session (its "
                             "claim fences a late arrival, or continues after it)");
  if (!claim) refused_ = e;
  return e;
}

Status JetStreamSessionLog::append(const AppendBatch& batch) {
  if (!writer_)
    return Status(Errc::validation_error,
                  "session '" + shared_->address.session_id + "' was opened read-only; append needs OpenMode::write");
  if (refused_) return *refused_;
  if (batch.size() == 0) return {};
  const std::string& id = shared_->address.session_id;
  if (Status st = check_batch_start(id, batch, written_); !st) return st;
  // Room for the headers: names and values stay far below 1 KiB.
  const std::size_t max_payload = store_->client->max_payload();
  const std::size_t limit = max_payload > 2048 ? max_payload - 1024 : max_payload / 2;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto rec = batch.records[i];
    if (rec.size() < EventRecord::kHeaderBytes || EventRecord::size_of(rec.data()) != rec.size() ||
        EventRecord::sequence_of(rec.data()) != batch.first_sequence + i)
      return Status(Errc::validation_error, "session '" + id + "': record " + std::to_string(i) +
                                                " of the batch is not the EventRecord of sequence " +
                                                std::to_string(batch.first_sequence + i));
    if (rec.size() > limit)
      return Status(Errc::event_too_large, where() + ": event " + std::to_string(batch.first_sequence + i) + " has " +
                                               std::to_string(rec.size()) + " bytes; the server's max_payload is " +
                                               std::to_string(max_payload) + " bytes (raise max_payload in the "
                                                                             "nats-server configuration)");
  }
  const auto deadline = Clock::now() + store_->options.append_timeout;
  const std::string token = subject_token(id);
  for (std::size_t i = 0; i < batch.size();) {
    // One message per run of records that fits max_payload: usually the whole batch.
    std::size_t j = i, bytes = 0;
    while (j < batch.size() && bytes + batch.records[j].size() <= limit) bytes += batch.records[j++].size();
    payload_.resize(bytes);
    std::size_t off = 0;
    for (std::size_t k = i; k < j; ++k) {
      std::memcpy(payload_.data() + off, batch.records[k].data(), batch.records[k].size());
      off += batch.records[k].size();
    }
    const Sequence first = batch.first_sequence + i, last = batch.first_sequence + j - 1;
    const std::string msg_id =
        token + ":" + std::to_string(first) + "-" + std::to_string(last) + ":" + hex64(XXH3_64bits(payload_.data(), bytes));
    JetStreamClient::Headers h{{kHeaderFirst, std::to_string(first)}, {kHeaderLast, std::to_string(last)}};
    auto seq = publish_fenced(h, payload_, msg_id, deadline, false);
    if (!seq) {
      if (i == 0) return seq.error();
      Error e(seq.code() == Errc::writer_conflict ? Errc::writer_conflict : Errc::storage_error,
              seq.error().message() + "; sequences " + std::to_string(batch.first_sequence) + ".." +
                  std::to_string(first - 1) + " of this batch are stored (the batch did not fit one message)");
      refused_ = e;
      return e;
    }
    last_stream_sequence_ = *seq;
    written_ = last;
    shared_->remember(last, *seq);
    shared_->latest.store(last, std::memory_order_seq_cst);  // (J1) pairs with the acquire in visible_latest()
    shared_->gate.notify_all();
    i = j;
  }
  return {};
}

Result<Sequence> JetStreamSessionLog::server_latest() const {
  auto last = store_->client->last_message(shared_->address.stream, shared_->address.subject);
  if (!last) return Error(last.code(), last.error().message() + " (session '" + shared_->address.session_id + "')");
  if (!last->has_value()) return Sequence{0};
  if (!(*last)->has_range)
    return Error(Errc::damaged_store, where() + ": the last message (stream sequence " +
                                          std::to_string((*last)->stream_sequence) + ") has no Sr-First/Sr-Last headers");
  shared_->remember((*last)->last, (*last)->stream_sequence);
  seen_latest_.store((*last)->last, std::memory_order_relaxed);  // relaxed: a cache for latest_sequence()
  return (*last)->last;
}

Result<Sequence> JetStreamSessionLog::visible_latest() const {
  if (shared_->writer_active.load(std::memory_order_acquire))  // pairs with (J0)
    return shared_->latest.load(std::memory_order_acquire);     // pairs with (J1)
  return server_latest();
}

Sequence JetStreamSessionLog::latest_sequence() const noexcept {
  try {
    auto r = visible_latest();
    if (r) return *r;
  } catch (...) {  // allocation failure while building a request: answer the cached value
  }
  return seen_latest_.load(std::memory_order_relaxed);  // relaxed: a cache
}

Result<std::optional<StoredMessage>> JetStreamSessionLog::locate(Sequence target) const {
  JetStreamClient& client = *store_->client;
  const auto& a = shared_->address;
  std::uint64_t lo = 1, upper = 0;
  {
    std::lock_guard lock(shared_->mutex);
    const auto& p = shared_->positions;
    auto it = std::partition_point(p.begin(), p.end(), [&](const auto& e) { return e.first < target; });
    if (it != p.begin()) lo = std::prev(it)->second + 1;
    if (it != p.end()) upper = it->second;
  }
  // Sequential readers (a subscriber catching up, tail --follow) hit at the first probe.
  auto m = client.next_message(a.stream, a.subject, lo);
  if (!m || !m->has_value() || ((*m)->has_range && (*m)->last >= target)) return m;
  lo = (*m)->stream_sequence + 1;
  auto cand = upper != 0 ? client.next_message(a.stream, a.subject, upper) : client.last_message(a.stream, a.subject);
  if (!cand || !cand->has_value() || !(*cand)->has_range || (*cand)->last < target) return cand;
  // Binary search over stream sequences: the first message whose Sr-Last >= target lies in
  // [lo, cand]. Each probe asks the leader for the first message at or after `mid`.
  std::uint64_t hi = (*cand)->stream_sequence;
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    auto probe = client.next_message(a.stream, a.subject, mid);
    if (!probe) return probe;
    if (!probe->has_value() || (*probe)->stream_sequence >= hi) {
      hi = mid;  // nothing of this subject in [mid, hi)
      continue;
    }
    if (!(*probe)->has_range) return probe;  // the caller reports the damage
    if ((*probe)->last >= target) {
      hi = (*probe)->stream_sequence;
      cand = std::move(probe);
    } else {
      lo = (*probe)->stream_sequence + 1;
    }
  }
  return cand;
}

Status JetStreamSessionLog::read(const EventQuery& q, FunctionRef<bool(const EventView&)> visit) const {
  auto hi = visible_latest();
  if (!hi) return hi.error();
  const Sequence last = std::min(*hi, q.before == 0 ? 0 : q.before - 1);
  if (q.after >= last) return {};
  const Sequence target = q.after + 1;
  const auto& a = shared_->address;
  auto m = locate(target);
  if (!m) return m.error();
  const bool all = q.filter.matches_everything();
  std::size_t delivered = 0;
  Sequence prev_last = 0;
  bool first_message = true;
  while (m->has_value()) {
    const StoredMessage& msg = **m;
    auto damaged = [&](const std::string& what) {
      return Status(Errc::damaged_store, where() + ": message at stream sequence " +
                                             std::to_string(msg.stream_sequence) + ": " + what);
    };
    if (!msg.has_range) return damaged("no Sr-First/Sr-Last headers");
    if (!first_message && msg.first != prev_last + 1)
      return damaged("holds sequences from " + std::to_string(msg.first) + " but the previous message ended at " +
                     std::to_string(prev_last) + " (a gap or an overlap)");
    if (first_message && msg.first > target)
      return damaged("holds sequences from " + std::to_string(msg.first) + " but sequence " +
                     std::to_string(target) + " is not stored before it");
    first_message = false;
    if (msg.first > last) return {};
    // Records back to back; each must be the EventRecord of the next sequence.
    const auto* p = reinterpret_cast<const std::byte*>(msg.data.data());
    std::size_t left = msg.data.size();
    Sequence s = msg.first;
    while (left > 0) {
      if (left < EventRecord::kHeaderBytes || EventRecord::size_of(p) > left || EventRecord::size_of(p) < EventRecord::kHeaderBytes)
        return damaged("record " + std::to_string(s) + " is cut short");
      const std::size_t size = EventRecord::size_of(p);
      if (EventRecord::sequence_of(p) != s) return damaged("record " + std::to_string(s) + " has another sequence");
      if (s >= target && s <= last &&
          (all || (q.filter.matches_type(EventRecord::type_of(p)) && q.filter.matches_run(EventRecord::run_id_of(p))))) {
        EventView v;
        if (!EventRecord::decode({p, size}, a.session_id, v)) return damaged("record " + std::to_string(s) + " is malformed");
        if (!visit(v)) return {};
        if (q.limit != 0 && ++delivered >= q.limit) return {};
      }
      p += size;
      left -= size;
      ++s;
    }
    if (s != msg.last + 1) return damaged("holds records up to " + std::to_string(s - 1) + " but Sr-Last says " +
                                          std::to_string(msg.last));
    shared_->remember(msg.last, msg.stream_sequence);
    prev_last = msg.last;
    if (msg.last >= last) return {};
    m = store_->client->next_message(a.stream, a.subject, msg.stream_sequence + 1);
    if (!m) return m.error();
  }
  // Every successful path returned above: the stream ended before `last`.
  return Status(Errc::damaged_store, where() + ": sequences " + std::to_string(std::max(prev_last + 1, target)) + ".." +
                                           std::to_string(last) + " are acknowledged but not in the stream");
}

Result<Event> JetStreamSessionLog::find_by_id(std::string_view id) const {
  auto hi = visible_latest();
  if (!hi) return hi.error();
  std::lock_guard lock(ids_mutex_);
  if (indexed_ < *hi) {
    EventQuery q;
    q.after = indexed_;
    q.before = *hi + 1;
    Status st = read(q, [&](const EventView& v) {
      ids_.insert(IdIndex::hash(v.id), v.sequence_number);
      indexed_ = v.sequence_number;
      return true;
    });
    if (!st) return st.error();
    indexed_ = std::max(indexed_, *hi);
  }
  std::optional<Event> found;
  std::optional<Error> failed;
  ids_.find(IdIndex::hash(id), [&](Sequence c) {
    EventQuery q;
    q.after = c - 1;
    q.before = c + 1;
    Status st = read(q, [&](const EventView& v) {
      if (v.id == id) found = v.to_event();
      return false;
    });
    if (!st) failed = st.error();
    return found.has_value() || failed.has_value();
  });
  if (failed) return *failed;
  if (!found) return Error(Errc::not_found, "session '" + shared_->address.session_id + "' has no event with id '" +
                                                std::string(id) + "'");
  return std::move(*found);
}

Result<Sequence> JetStreamSessionLog::wait_for(Sequence after, Deadline deadline) const {
  for (;;) {
    if (shared_->writer_active.load(std::memory_order_acquire)) {  // pairs with (J0)
      shared_->gate.wait_until(
          [&] {
            return shared_->latest.load(std::memory_order_seq_cst) > after ||  // pairs with (J1)
                   !shared_->writer_active.load(std::memory_order_seq_cst);     // pairs with (J0)
          },
          deadline);
      if (shared_->writer_active.load(std::memory_order_acquire))  // pairs with (J0)
        return shared_->latest.load(std::memory_order_acquire);     // pairs with (J1)
    }
    // No writer in this instance: ask the stream leader every poll_interval.
    auto l = server_latest();
    if (!l) return l.error();
    const auto now = Clock::now();
    if (*l > after || now >= deadline) return *l;
    const auto step = std::min<Clock::duration>(store_->options.poll_interval, deadline - now);
    std::this_thread::sleep_for(step);
  }
}

Status JetStreamSessionLog::scan_messages(std::uint64_t from, FunctionRef<bool(const StoredMessage&)> visit) const {
  const auto& a = shared_->address;
  auto m = store_->client->next_message(a.stream, a.subject, from);
  while (m && m->has_value()) {
    if (!visit(**m)) return {};
    m = store_->client->next_message(a.stream, a.subject, (*m)->stream_sequence + 1);
  }
  if (!m) return m.error();
  return {};
}

// Durable named cursors (docs/store.md "Durable named cursors", JetStreamStore): one key of the
// store's KV bucket per (session, cursor), cursor_key(); the value is the position in decimal.

Result<Sequence> JetStreamSessionLog::parse_cursor(std::string_view name, const std::string& key,
                                                   const std::string& value) const {
  Sequence position = 0;
  const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), position);
  if (value.empty() || ec != std::errc() || p != value.data() + value.size())
    return Error(Errc::damaged_store,
                 str_cat(where(), ": cursor '", name, "' (key ", key, " of bucket ", store_->cursor_bucket(),
                         ") holds '", value.substr(0, 32), "', not a decimal position"));
  return position;
}

Status JetStreamSessionLog::commit_cursor(std::string_view name, Sequence position) {
  const std::string& id = shared_->address.session_id;
  if (!writer_) return cursor_read_only(id, "commit_cursor");
  if (Status st = check_cursor_commit(id, name, position, latest_sequence()); !st) return st;
  const std::string key = cursor_key(id, name);
  Status st = store_->client->kv_put(key, std::to_string(position), Clock::now() + store_->options.append_timeout);
  if (!st) return Status(st.code(), str_cat("session '", id, "': commit cursor '", name, "': ", st.error().message()));
  return {};
}

Result<Sequence> JetStreamSessionLog::read_cursor(std::string_view name) const {
  const std::string& id = shared_->address.session_id;
  if (Status st = validate_cursor_name(name); !st) return st.error();
  const std::string key = cursor_key(id, name);
  auto value = store_->client->kv_get(key);
  if (!value) return Error(value.code(), str_cat("session '", id, "': read cursor '", name, "': ", value.error().message()));
  if (!value->has_value()) return cursor_not_found(id, name);
  return parse_cursor(name, key, **value);
}

Result<std::vector<CursorPosition>> JetStreamSessionLog::list_cursors() const {
  const std::string& id = shared_->address.session_id;
  const std::string prefix = str_cat(kv_token(id), ".");
  auto entries = store_->client->kv_entries(str_cat(prefix, "*"));
  if (!entries) return Error(entries.code(), str_cat("session '", id, "': list cursors: ", entries.error().message()));
  std::vector<CursorPosition> out;
  out.reserve(entries->size());
  for (const auto& [key, value] : *entries) {
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    auto name = from_kv_token(std::string_view(key).substr(prefix.size()));
    if (!name || !validate_cursor_name(*name)) continue;  // not a key this store writes
    auto position = parse_cursor(*name, key, value);
    if (!position) return position.error();
    out.push_back(CursorPosition{std::move(*name), *position, 0});
  }
  std::sort(out.begin(), out.end(), [](const CursorPosition& a, const CursorPosition& b) { return a.name < b.name; });
  return out;
}

Status JetStreamSessionLog::delete_cursor(std::string_view name) {
  const std::string& id = shared_->address.session_id;
  if (!writer_) return cursor_read_only(id, "delete_cursor");
  if (Status st = validate_cursor_name(name); !st) return st;
  const std::string key = cursor_key(id, name);
  std::lock_guard lock(shared_->cursor_mutex);
  auto value = store_->client->kv_get(key);
  if (!value) return Status(value.code(), str_cat("session '", id, "': delete cursor '", name, "': ", value.error().message()));
  if (!value->has_value()) return cursor_not_found(id, name);
  Status st = store_->client->kv_delete(key, Clock::now() + store_->options.append_timeout);
  if (!st) return Status(st.code(), str_cat("session '", id, "': delete cursor '", name, "': ", st.error().message()));
  return {};
}

}  // namespace sessionring::detail
