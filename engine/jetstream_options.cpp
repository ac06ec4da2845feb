// JetStreamStoreOptions validation and names.
#include <sessionring/jet_stream_store_options.hpp>

#include <string>

namespace sessionring {

std::string_view to_string(JetStreamStorage s) noexcept {
  switch (s) {
    case JetStreamStorage::file: return "file";
    case JetStreamStorage::memory: return "memory";
  }
  return "invalid";
}

namespace {

Status in_range(const char* name, long long value, long long lo, long long hi) {
  if (value >= lo && value <= hi) return {};
  return Status(Errc::validation_error, std::string("JetStreamStoreOptions::") + name + " = " + std::to_string(value) +
                                            " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

}  // namespace

Status validate(const JetStreamStoreOptions& o) {
  if (o.url.empty()) return Status(Errc::validation_error, "JetStreamStoreOptions::url is empty");
  for (char c : o.url)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      return Status(Errc::validation_error, "JetStreamStoreOptions::url '" + o.url + "' contains whitespace");
  if (o.stream.empty() || o.stream.size() > 32)
    return Status(Errc::validation_error, "JetStreamStoreOptions::stream '" + o.stream + "' must be 1 to 32 bytes");
  for (char c : o.stream)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return Status(Errc::validation_error, "JetStreamStoreOptions::stream '" + o.stream +
                                                "' may contain only letters, digits, '_' and '-'");
  if (to_string(o.storage) == "invalid")
    return Status(Errc::validation_error, "JetStreamStoreOptions::storage has an invalid value");
  for (Status st : {in_range("stream_count", o.stream_count, 1, 64), in_range("replicas", o.replicas, 1, 5),
                    in_range("request_timeout (ms)", o.request_timeout.count(), 1, 60'000),
                    in_range("append_timeout (ms)", o.append_timeout.count(), 1, 600'000),
                    in_range("connect_timeout (ms)", o.connect_timeout.count(), 1, 60'000),
                    in_range("poll_interval (ms)", o.poll_interval.count(), 1, 60'000),
                    in_range("duplicate_window (ms)", o.duplicate_window.count(), 1000, 86'400'000)})
    if (!st) return st;
  return {};
}

}  // namespace sessionring
