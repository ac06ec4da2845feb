// JetStreamClient: libnats calls and their errors (see detail/jetstream_client.hpp).
#include "detail/jetstream_client.hpp"

#include "detail/str_cat.hpp"

#include <nats/nats.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <thread>

namespace sessionring::detail {
namespace {

using json = nlohmann::json;

std::string last_error_text(natsStatus s) {
  natsStatus ignored = NATS_OK;
  const char* text = nats_GetLastError(&ignored);
  std::string out = natsStatus_GetText(s);
  if (text != nullptr && *text != '\0' && out != text) out += std::string(" (") + text + ")";
  return out;
}

// Standard base64 (RFC 4648) as the JetStream API encodes message headers and data.
bool base64_decode(std::string_view in, std::string& out) {
  static constexpr auto table = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
  }();
  out.clear();
  out.reserve(in.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int v = table[static_cast<unsigned char>(c)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

bool parse_u64(std::string_view s, std::uint64_t& v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// "NATS/1.0\r\nKey: value\r\n...\r\n\r\n" → the sessionring fields of `m`.
void parse_headers(std::string_view block, StoredMessage& m) {
  std::string first, last;
  std::size_t pos = block.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < block.size()) {
    const std::size_t start = pos + 2;
    const std::size_t end = block.find("\r\n", start);
    const std::string_view line = block.substr(start, end == std::string_view::npos ? block.npos : end - start);
    pos = end;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (key == kHeaderFirst) first = value;
    else if (key == kHeaderLast) last = value;
    else if (key == kHeaderMsgId) m.msg_id = value;
    else if (key == kHeaderWriter) m.writer = value;
  }
  std::uint64_t f = 0, l = 0;
  if (parse_u64(first, f) && parse_u64(last, l) && f >= 1 && l + 1 >= f) {
    m.has_range = true;
    m.first = f;
    m.last = l;
  }
}

}  // namespace

namespace {

// [A-Za-z0-9_-] as is, every other byte as <escape>XX (uppercase hex): subject_token, kv_token.
std::string escape_token(std::string_view bytes, char escape) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(escape);
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
    }
  }
  return out;
}

std::optional<std::string> unescape_token(std::string_view token, char escape) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] != escape) {
      out.push_back(token[i]);
      continue;
    }
    if (i + 2 >= token.size()) return std::nullopt;
    const int hi = nibble(token[i + 1]), lo = nibble(token[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (escape_token(out, escape) != token) return std::nullopt;  // not canonical: not one of ours
  return out;
}

}  // namespace

std::string subject_token(std::string_view id) { return escape_token(id, '%'); }

std::optional<std::string> session_from_token(std::string_view token) { return unescape_token(token, '%'); }

std::string kv_token(std::string_view bytes) { return escape_token(bytes, '='); }

std::optional<std::string> from_kv_token(std::string_view token) { return unescape_token(token, '='); }

std::string cursor_key(std::string_view session_id, std::string_view name) {
  std::string key = kv_token(session_id);
  key.push_back('.');
  key.append(kv_token(name));
  return key;
}

Result<std::unique_ptr<JetStreamClient>> JetStreamClient::connect(const JetStreamStoreOptions& o) {
  std::unique_ptr<JetStreamClient> c(new JetStreamClient());
  c->configured_url_ = o.url;
  c->request_timeout_ = o.request_timeout;
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s != NATS_OK) return Error(Errc::storage_error, "nats options: " + last_error_text(s));
  std::vector<std::string> urls;
  for (std::size_t start = 0; start <= o.url.size();) {
    std::size_t comma = o.url.find(',', start);
    if (comma == std::string::npos) comma = o.url.size();
    if (comma > start) urls.emplace_back(o.url.substr(start, comma - start));
    start = comma + 1;
  }
  std::vector<const char*> ptrs;
  for (const auto& u : urls) ptrs.push_back(u.c_str());
  s = natsOptions_SetServers(opts, ptrs.data(), static_cast<int>(ptrs.size()));
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, o.connect_timeout.count());
  if (s == NATS_OK) s = natsOptions_SetName(opts, "sessionring");
  // Reconnect for ever, quickly: a store outlives server restarts and leader changes; each
  // operation is bounded by its own timeout, never by the reconnect loop.
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 100);
  if (s == NATS_OK) s = natsOptions_SetReconnectJitter(opts, 50, 50);
  if (s == NATS_OK) s = natsOptions_SetPingInterval(opts, 1000);
  if (s == NATS_OK) s = natsConnection_Connect(&c->nc_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    c->nc_ = nullptr;
    return Error(s == NATS_TIMEOUT ? Errc::timeout : Errc::storage_error,
                 "cannot connect to NATS server " + o.url + ": " + last_error_text(s));
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = o.request_timeout.count();
  s = natsConnection_JetStream(&c->js_, c->nc_, &jo);
  if (s != NATS_OK) return Error(Errc::storage_error, "JetStream context on " + o.url + ": " + last_error_text(s));
  const int64_t mp = natsConnection_GetMaxPayload(c->nc_);
  if (mp > 0) c->max_payload_ = static_cast<std::size_t>(mp);
  return c;
}

JetStreamClient::~JetStreamClient() {
  if (kv_ != nullptr) kvStore_Destroy(kv_);
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) {
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
}

std::string JetStreamClient::server() const {
  char buf[256];
  if (nc_ != nullptr && natsConnection_GetConnectedUrl(nc_, buf, sizeof buf) == NATS_OK && buf[0] != '\0')
    return buf;
  return configured_url_;
}

Error JetStreamClient::error(int status, std::string_view what) const {
  const auto s = static_cast<natsStatus>(status);
  std::string text = std::string(what) + " on NATS server " + server() + ": ";
  switch (s) {
    case NATS_TIMEOUT:
      return Error(Errc::timeout, text + "no answer within the timeout (server down, disconnected, or a stream "
                                         "leader election in progress)");
    case NATS_NO_RESPONDERS:
      return Error(Errc::storage_error, text + "no responders (JetStream not enabled, the stream does not exist, "
                                               "or the stream has no leader: cluster without quorum)");
    case NATS_CONNECTION_CLOSED:
      return Error(Errc::storage_error, text + "connection closed");
    default:
      return Error(Errc::storage_error, text + last_error_text(s));
  }
}

Result<std::string> JetStreamClient::api(const std::string& subject, const std::string& body) const {
  natsMsg* reply = nullptr;
  const natsStatus s = natsConnection_Request(&reply, nc_, subject.c_str(), body.data(), static_cast<int>(body.size()),
                                              request_timeout_.count());
  if (s != NATS_OK) return error(s, "request " + subject);
  std::string out(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return out;
}

namespace {
// A JetStream API error → Errc (not_found for missing streams/messages, storage_error else).
Error api_error(const json& e, std::string_view what, const std::string& server) {
  const int code = e.value("err_code", 0);
  const std::string desc = e.value("description", std::string("unknown error"));
  const Errc errc = (code == kJsNoMessageFound || code == kJsStreamNotFound) ? Errc::not_found : Errc::storage_error;
  return Error(errc, std::string(what) + " on NATS server " + server + ": " + desc + " (JetStream error " +
                         std::to_string(code) + ")");
}

Result<std::optional<StoredMessage>> parse_msg_get(const std::string& body, std::string_view what,
                                                   const std::string& server) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Error(Errc::storage_error, std::string(what) + " on NATS server " + server + ": malformed reply");
  if (j.contains("error")) {
    if (j["error"].value("err_code", 0) == kJsNoMessageFound) return std::optional<StoredMessage>();
    return api_error(j["error"], what, server);
  }
  const json& m = j["message"];
  StoredMessage out;
  out.stream_sequence = m.value("seq", std::uint64_t{0});
  out.subject = m.value("subject", std::string());
  std::string hdrs;
  if (m.contains("hdrs") && !base64_decode(m["hdrs"].get<std::string>(), hdrs))
    return Error(Errc::damaged_store, std::string(what) + " on NATS server " + server + ": headers are not base64");
  parse_headers(hdrs, out);
  if (m.contains("data") && !base64_decode(m["data"].get<std::string>(), out.data))
    return Error(Errc::damaged_store, std::string(what) + " on NATS server " + server + ": data is not base64");
  return std::optional<StoredMessage>(std::move(out));
}
}  // namespace

Result<std::optional<StoredMessage>> JetStreamClient::last_message(const std::string& stream,
                                                                   const std::string& subject) const {
  const std::string what = "get last message of " + subject + " in stream " + stream;
  auto r = api("$JS.API.STREAM.MSG.GET." + stream, json{{"last_by_subj", subject}}.dump());
  if (!r) return r.error();
  return parse_msg_get(*r, what, server());
}

Result<std::optional<StoredMessage>> JetStreamClient::next_message(const std::string& stream, const std::string& subject,
                                                                   std::uint64_t from) const {
  const std::string what = "get message of " + subject + " from stream sequence " + std::to_string(from) +
                           " in stream " + stream;
  auto r = api("$JS.API.STREAM.MSG.GET." + stream, json{{"seq", from}, {"next_by_subj", subject}}.dump());
  if (!r) return r.error();
  return parse_msg_get(*r, what, server());
}

Result<std::vector<std::pair<std::string, std::uint64_t>>> JetStreamClient::subjects(const std::string& stream,
                                                                                     const std::string& filter) const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (std::uint64_t offset = 0;;) {
    auto r = api("$JS.API.STREAM.INFO." + stream, json{{"subjects_filter", filter}, {"offset", offset}}.dump());
    if (!r) return r.error();
    json j = json::parse(*r, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return Error(Errc::storage_error, "stream info of " + stream + " on NATS server " + server() + ": malformed reply");
    if (j.contains("error")) return api_error(j["error"], "stream info of " + stream, server());
    const json& st = j["state"];
    std::size_t got = 0;
    if (st.contains("subjects") && st["subjects"].is_object()) {
      for (auto it = st["subjects"].begin(); it != st["subjects"].end(); ++it) {
        out.emplace_back(it.key(), it.value().get<std::uint64_t>());
        ++got;
      }
    }
    const std::uint64_t total = j.value("total", std::uint64_t{0});
    offset += got;
    if (got == 0 || offset >= total) break;
  }
  return out;
}

namespace {
/// What every stream of the store has: its name, description and one subject filter (views of
/// the caller's strings, which must outlive the config), the store's storage and replicas.
jsStreamConfig store_stream_config(const std::string& name, const std::string& description, const char* (&subject)[1],
                                   const JetStreamStoreOptions& o) {
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  cfg.Description = description.c_str();
  cfg.Subjects = subject;
  cfg.SubjectsLen = 1;
  cfg.Storage = o.storage == JetStreamStorage::memory ? js_MemoryStorage : js_FileStorage;
  cfg.Replicas = static_cast<int64_t>(o.replicas);
  return cfg;
}

/// Looks up the stream cfg.Name; when it does not exist, creates it from `cfg` (a stream another
/// store created meanwhile is looked up instead). On NATS_OK `*si` holds its info (the caller
/// destroys it); `jerr` is JetStream's error code of the last call.
natsStatus lookup_or_add_stream(jsCtx* js, jsStreamConfig& cfg, jsStreamInfo** si, jsErrCode& jerr) {
  natsStatus s = js_GetStreamInfo(si, js, cfg.Name, nullptr, &jerr);
  if (s == NATS_NOT_FOUND || (s != NATS_OK && jerr == kJsStreamNotFound)) {
    s = js_AddStream(si, js, &cfg, nullptr, &jerr);
    if (s != NATS_OK && jerr != 0) s = js_GetStreamInfo(si, js, cfg.Name, nullptr, &jerr);
  }
  return s;
}
}  // namespace

Status JetStreamClient::ensure_stream(const std::string& name, const std::string& subjects,
                                      const std::string& description, const JetStreamStoreOptions& o) {
  const char* subj[1] = {subjects.c_str()};
  jsStreamConfig cfg = store_stream_config(name, description, subj, o);
  cfg.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(o.duplicate_window).count();
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = lookup_or_add_stream(js_, cfg, &si, jerr);
  if (s != NATS_OK) {
    Error e = error(s, "create or look up stream " + name);
    return Error(e.code(), e.message() + (jerr != 0 ? " (JetStream error " + std::to_string(jerr) + ")" : ""));
  }
  const std::string have = si->Config->Description != nullptr ? si->Config->Description : "";
  const bool subjects_ok = si->Config->SubjectsLen == 1 && subjects == si->Config->Subjects[0];
  jsStreamInfo_Destroy(si);
  if (have != description || !subjects_ok)
    return Error(Errc::validation_error, "stream " + name + " on NATS server " + server() + " is '" + have +
                                             "', expected '" + description + "' with subjects " + subjects +
                                             " (stream_count differs from the one the store was created with?)");
  return {};
}

Result<PublishResult> JetStreamClient::publish(const std::string& subject, const Headers& headers,
                                               std::span<const std::byte> payload, std::chrono::milliseconds timeout,
                                               int& js_error, bool& not_stored) const {
  js_error = 0;
  not_stored = false;
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, reinterpret_cast<const char*>(payload.data()),
                                static_cast<int>(payload.size()));
  for (std::size_t i = 0; s == NATS_OK && i < headers.size(); ++i)
    s = natsMsgHeader_Set(msg, headers[i].first.c_str(), headers[i].second.c_str());
  if (s != NATS_OK) {
    if (msg != nullptr) natsMsg_Destroy(msg);
    not_stored = true;
    return error(s, "build message for " + subject);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = timeout.count();
  jsPubAck* ack = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  s = js_PublishMsg(&ack, js_, msg, &po, &jerr);
  natsMsg_Destroy(msg);
  if (s != NATS_OK) {
    js_error = static_cast<int>(jerr);
    not_stored = s == NATS_NO_RESPONDERS || jerr != 0;
    Error e = error(s, "publish to " + subject);
    if (jerr != 0) return Error(Errc::storage_error, e.message() + " (JetStream error " + std::to_string(jerr) + ")");
    return e;
  }
  PublishResult r{ack->Sequence, ack->Duplicate, 0};
  jsPubAck_Destroy(ack);
  return r;
}

Result<std::optional<std::string>> JetStreamClient::request(const std::string& subject,
                                                            std::chrono::milliseconds timeout) const {
  natsMsg* reply = nullptr;
  const natsStatus s = natsConnection_Request(&reply, nc_, subject.c_str(), "", 0, timeout.count());
  if (s == NATS_NO_RESPONDERS) return std::optional<std::string>();
  if (s != NATS_OK) return error(s, "request " + subject);
  std::string out(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return std::optional<std::string>(std::move(out));
}

namespace {
struct ResponderClosure {
  natsConnection* nc;
  std::string reply;
};
void on_presence_request(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* c = static_cast<ResponderClosure*>(closure);
  const char* to = natsMsg_GetReply(msg);
  if (to != nullptr) natsConnection_PublishString(c->nc, to, c->reply.c_str());
  natsMsg_Destroy(msg);
}
void on_presence_complete(void* closure) { delete static_cast<ResponderClosure*>(closure); }
}  // namespace

Result<std::unique_ptr<JetStreamClient::Responder>> JetStreamClient::respond(const std::string& subject,
                                                                             std::string reply) const {
  auto* closure = new ResponderClosure{nc_, std::move(reply)};
  std::unique_ptr<Responder> r(new Responder());
  natsStatus s = natsConnection_Subscribe(&r->sub_, nc_, subject.c_str(), on_presence_request, closure);
  if (s != NATS_OK) {
    delete closure;
    r->sub_ = nullptr;
    return error(s, "subscribe " + subject);
  }
  // From here the closure is freed by on_presence_complete, after the last callback.
  s = natsSubscription_SetOnCompleteCB(r->sub_, on_presence_complete, closure);
  if (s == NATS_OK) s = natsConnection_FlushTimeout(nc_, request_timeout_.count());
  if (s != NATS_OK) return error(s, "subscribe " + subject);
  return r;
}

JetStreamClient::Responder::~Responder() {
  if (sub_ != nullptr) {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
}

Status JetStreamClient::ensure_bucket(const std::string& bucket, const std::string& description,
                                      const JetStreamStoreOptions& o) {
  const std::string stream = str_cat("KV_", bucket);
  const std::string subjects = str_cat("$KV.", bucket, ".>");
  const char* subj[1] = {subjects.c_str()};
  jsStreamConfig cfg = store_stream_config(stream, description, subj, o);
  cfg.MaxMsgsPerSubject = 1;  // history 1: a key is its last value (or delete marker)
  cfg.AllowRollup = true;
  cfg.DenyDelete = true;
  cfg.AllowDirect = false;  // gets go to the stream leader (see ensure_bucket in the header)
  cfg.Discard = js_DiscardNew;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = lookup_or_add_stream(js_, cfg, &si, jerr);
  if (si != nullptr) jsStreamInfo_Destroy(si);
  if (s != NATS_OK) {
    Error e = error(s, str_cat("create or look up the cursor bucket ", bucket, " (stream ", stream, ")"));
    return Error(e.code(), jerr != 0 ? str_cat(e.message(), " (JetStream error ", std::to_string(jerr), ")") : e.message());
  }
  s = js_KeyValue(&kv_, js_, bucket.c_str());
  if (s != NATS_OK) {
    kv_ = nullptr;
    return error(s, str_cat("bind the cursor bucket ", bucket));
  }
  bucket_ = bucket;
  return {};
}

namespace {
// A failure that a retry may cure: no acknowledgement (reconnecting, a stalled server) or no
// responders (a stream leader election).
bool retryable(natsStatus s) noexcept { return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS; }
}  // namespace

Status JetStreamClient::kv_write(std::string_view verb, std::string_view unknown, const std::string& key,
                                 std::chrono::steady_clock::time_point deadline, FunctionRef<int()> op) const {
  if (kv_ == nullptr) return Error(Errc::storage_error, str_cat("no cursor bucket bound on NATS server ", server()));
  std::chrono::milliseconds backoff{5};
  for (;;) {
    const auto s = static_cast<natsStatus>(op());
    if (s == NATS_OK) return {};
    if (!retryable(s) || std::chrono::steady_clock::now() + backoff >= deadline) {
      Error e = error(s, str_cat(verb, " key ", key, " of bucket ", bucket_));
      if (e.code() == Errc::timeout) return Error(Errc::timeout, str_cat(e.message(), "; whether it was ", unknown, " is unknown"));
      return Error(Errc::storage_error, e.message());
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(200));
  }
}

Status JetStreamClient::kv_put(const std::string& key, std::string_view value,
                               std::chrono::steady_clock::time_point deadline) const {
  return kv_write("put", "stored", key, deadline, [&] {
    return static_cast<int>(kvStore_Put(nullptr, kv_, key.c_str(), value.data(), static_cast<int>(value.size())));
  });
}

Status JetStreamClient::kv_delete(const std::string& key, std::chrono::steady_clock::time_point deadline) const {
  return kv_write("delete", "deleted", key, deadline, [&] { return static_cast<int>(kvStore_Delete(kv_, key.c_str())); });
}

Result<std::optional<std::string>> JetStreamClient::kv_get(const std::string& key) const {
  if (kv_ == nullptr) return Error(Errc::storage_error, str_cat("no cursor bucket bound on NATS server ", server()));
  kvEntry* e = nullptr;
  const natsStatus s = kvStore_Get(&e, kv_, key.c_str());
  if (s == NATS_NOT_FOUND) return std::optional<std::string>();  // never put, or deleted
  if (s != NATS_OK) return error(s, str_cat("get key ", key, " of bucket ", bucket_));
  std::string value(static_cast<const char*>(kvEntry_Value(e)), static_cast<std::size_t>(kvEntry_ValueLen(e)));
  kvEntry_Destroy(e);
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<std::pair<std::string, std::string>>> JetStreamClient::kv_entries(const std::string& filter) const {
  if (kv_ == nullptr) return Error(Errc::storage_error, str_cat("no cursor bucket bound on NATS server ", server()));
  const std::string what = str_cat("list keys ", filter, " of bucket ", bucket_);
  kvWatchOptions wo;
  kvWatchOptions_Init(&wo);
  wo.Timeout = request_timeout_.count();
  kvWatcher* w = nullptr;
  natsStatus s = kvStore_Watch(&w, kv_, filter.c_str(), &wo);
  if (s != NATS_OK) return error(s, what);
  std::vector<std::pair<std::string, std::string>> out;
  // The watcher delivers the last message of every matching key, then a null entry (the
  // initial values are done). Deleted keys arrive as delete markers: skipped.
  for (;;) {
    kvEntry* e = nullptr;
    s = kvWatcher_Next(&e, w, request_timeout_.count());
    if (s != NATS_OK || e == nullptr) break;
    if (kvEntry_Operation(e) == kvOp_Put)
      out.emplace_back(kvEntry_Key(e), std::string(static_cast<const char*>(kvEntry_Value(e)),
                                                   static_cast<std::size_t>(kvEntry_ValueLen(e))));
    kvEntry_Destroy(e);
  }
  kvWatcher_Destroy(w);
  if (s != NATS_OK) return error(s, what);
  return out;
}

}  // namespace sessionring::detail
