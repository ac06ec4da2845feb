// JetStreamStore: streams, sessions as subjects, listing, info and verify
// (docs/store.md "JetStreamStore").
#include <sessionring/event_record.hpp>
#include <sessionring/jet_stream_store.hpp>
#include <sessionring/session_id.hpp>

#include "detail/jetstream_session_log.hpp"

#include <xxhash.h>

#include <algorithm>

namespace sessionring {

detail::JetStreamSessionAddress JetStreamStore::State::address(std::string_view session_id) const {
  const std::uint32_t k = static_cast<std::uint32_t>(XXH3_64bits(session_id.data(), session_id.size()) %
                                                     options.stream_count);
  const std::string token = detail::subject_token(session_id);
  const std::string base = options.stream + "." + std::to_string(k) + ".";
  return detail::JetStreamSessionAddress{std::string(session_id), stream_name(k), base + token,
                                         "_SR." + base + token};
}

JetStreamStore::JetStreamStore(std::shared_ptr<State> state) : state_(std::move(state)) {}
JetStreamStore::~JetStreamStore() = default;

const JetStreamStoreOptions& JetStreamStore::options() const noexcept { return state_->options; }

Result<std::shared_ptr<JetStreamStore>> JetStreamStore::open(JetStreamStoreOptions options) {
  if (Status st = validate(options); !st) return st.error();
  auto state = std::make_shared<State>();
  state->options = std::move(options);
  auto client = detail::JetStreamClient::connect(state->options);
  if (!client) return client.error();
  state->client = std::move(*client);
  for (std::uint32_t k = 0; k < state->options.stream_count; ++k) {
    Status st = state->client->ensure_stream(state->stream_name(k), state->stream_subjects(k),
                                             state->stream_description(k), state->options);
    if (!st) return st.error();
  }
  if (Status st = state->client->ensure_bucket(state->cursor_bucket(), state->cursor_bucket_description(),
                                               state->options);
      !st)
    return st.error();
  return std::shared_ptr<JetStreamStore>(new JetStreamStore(std::move(state)));
}

namespace {
std::shared_ptr<detail::JetStreamSessionShared> shared_for(JetStreamStore::State& s, std::string_view id) {
  std::lock_guard lock(s.mutex);
  auto it = s.sessions.find(id);
  if (it != s.sessions.end())
    if (auto p = it->second.lock()) return p;
  auto p = std::make_shared<detail::JetStreamSessionShared>(s.address(id));
  s.sessions[std::string(id)] = p;
  // Forget sessions nobody holds any more (keeps the map bounded by the open handles).
  for (auto i = s.sessions.begin(); i != s.sessions.end();) i = i->second.expired() ? s.sessions.erase(i) : std::next(i);
  return p;
}
}  // namespace

Result<std::shared_ptr<SessionLog>> JetStreamStore::open(std::string_view session_id, OpenMode mode) {
  if (Status st = validate_session_id(session_id); !st) return st.error();
  auto shared = shared_for(*state_, session_id);
  if (mode == OpenMode::write) {
    auto w = detail::JetStreamSessionLog::writer(state_, std::move(shared));
    if (!w) return w.error();
    return std::shared_ptr<SessionLog>(std::move(*w));
  }
  const auto& a = shared->address;
  auto last = state_->client->last_message(a.stream, a.subject);
  if (!last) return Error(last.code(), last.error().message() + " (session '" + a.session_id + "')");
  if (!last->has_value())
    return Error(Errc::not_found, "JetStream store " + state_->options.stream + " on NATS server " +
                                      state_->client->server() + " has no session '" + a.session_id + "'");
  const Sequence latest = (*last)->has_range ? (*last)->last : 0;
  return std::shared_ptr<SessionLog>(detail::JetStreamSessionLog::reader(state_, std::move(shared), latest));
}

Result<std::vector<std::string>> JetStreamStore::list_sessions() const {
  std::vector<std::string> out;
  for (std::uint32_t k = 0; k < state_->options.stream_count; ++k) {
    const std::string prefix = state_->options.stream + "." + std::to_string(k) + ".";
    auto subjects = state_->client->subjects(state_->stream_name(k), prefix + ">");
    if (!subjects) return subjects.error();
    for (const auto& [subject, count] : *subjects) {
      if (subject.compare(0, prefix.size(), prefix) != 0) continue;
      auto id = detail::session_from_token(std::string_view(subject).substr(prefix.size()));
      if (id && validate_session_id(*id)) out.push_back(std::move(*id));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<SessionInfo> JetStreamStore::info(std::string_view session_id) const {
  if (Status st = validate_session_id(session_id); !st) return st.error();
  const auto a = state_->address(session_id);
  auto last = state_->client->last_message(a.stream, a.subject);
  if (!last) return Error(last.code(), last.error().message() + " (session '" + a.session_id + "')");
  if (!last->has_value())
    return Error(Errc::not_found, "JetStream store " + state_->options.stream + " on NATS server " +
                                      state_->client->server() + " has no session '" + a.session_id + "'");
  SessionInfo info;
  info.session_id = a.session_id;
  info.latest_sequence = (*last)->has_range ? (*last)->last : 0;
  info.event_count = info.latest_sequence;
  auto subjects = state_->client->subjects(a.stream, a.subject);
  if (!subjects) return subjects.error();
  for (const auto& [subject, count] : *subjects)
    if (subject == a.subject) info.segment_count = static_cast<std::uint32_t>(std::min<std::uint64_t>(count, UINT32_MAX));
  return info;
}

Result<VerifyReport> JetStreamStore::verify(std::string_view session_id) const {
  if (Status st = validate_session_id(session_id); !st) return st.error();
  auto shared = std::make_shared<detail::JetStreamSessionShared>(state_->address(session_id));
  const auto& a = shared->address;
  auto log = detail::JetStreamSessionLog::reader(state_, shared, 0);
  VerifyReport report;
  report.intact.session_id = a.session_id;
  report.file = "stream " + a.stream + " subject " + a.subject;
  Sequence prev = 0;
  std::uint64_t messages = 0;
  auto bad = [&](const detail::StoredMessage& m, std::string what) {
    report.damaged = true;
    report.problem = std::move(what);
    report.offset = m.stream_sequence;
    return false;
  };
  Status st = log->scan_messages(1, [&](const detail::StoredMessage& m) {
    ++messages;
    if (!m.has_range) return bad(m, "message has no Sr-First/Sr-Last headers");
    if (m.first != prev + 1)
      return bad(m, "message holds sequences from " + std::to_string(m.first) + " but the previous ended at " +
                        std::to_string(prev));
    if (m.last >= m.first) {  // an event message (a claim holds none)
      const std::size_t colon = m.msg_id.rfind(':');
      const std::string expect = colon == std::string::npos ? std::string() : m.msg_id.substr(colon + 1);
      char buf[17];
      std::snprintf(buf, sizeof buf, "%016llx",
                    static_cast<unsigned long long>(XXH3_64bits(m.data.data(), m.data.size())));
      if (expect != buf) return bad(m, "payload XXH3 " + std::string(buf) + " differs from the message id " + m.msg_id);
      const auto* p = reinterpret_cast<const std::byte*>(m.data.data());
      std::size_t left = m.data.size();
      Sequence s = m.first;
      while (left > 0) {
        EventView v;
        if (left < EventRecord::kHeaderBytes || EventRecord::size_of(p) > left ||
            EventRecord::size_of(p) < EventRecord::kHeaderBytes || !EventRecord::decode({p, EventRecord::size_of(p)}, a.session_id, v))
          return bad(m, "record " + std::to_string(s) + " is malformed");
        if (v.sequence_number != s) return bad(m, "record " + std::to_string(s) + " has sequence " +
                                                    std::to_string(v.sequence_number));
        left -= EventRecord::size_of(p);
        p += EventRecord::size_of(p);
        ++s;
      }
      if (s != m.last + 1)
        return bad(m, "message holds records up to " + std::to_string(s - 1) + " but Sr-Last says " +
                          std::to_string(m.last));
    }
    prev = m.last;
    report.intact.latest_sequence = prev;
    report.intact.event_count = prev;
    report.intact.bytes += m.data.size();
    return true;
  });
  if (!st) return st.error();
  if (messages == 0)
    return Error(Errc::not_found, "JetStream store " + state_->options.stream + " on NATS server " +
                                      state_->client->server() + " has no session '" + a.session_id + "'");
  report.intact.segment_count = static_cast<std::uint32_t>(std::min<std::uint64_t>(messages, UINT32_MAX));
  return report;
}

}  // namespace sessionring
