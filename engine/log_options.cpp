// Durability names and LogStoreOptions validation.
#include <sessionring/durability.hpp>
#include <sessionring/log_store_options.hpp>

#include "detail/retention_options.hpp"

#include <string>

namespace sessionring {

std::string_view to_string(Durability d) noexcept {
  switch (d) {
    case Durability::none: return "none";
    case Durability::buffered: return "buffered";
    case Durability::fsync: return "fsync";
  }
  return "invalid";
}

Result<Durability> parse_durability(std::string_view name) {
  for (Durability d : {Durability::none, Durability::buffered, Durability::fsync})
    if (to_string(d) == name) return d;
  return Error(Errc::validation_error,
               "durability '" + std::string(name) + "' is not one of none, buffered, fsync");
}

namespace {

template <class T>
Status in_range(const char* name, T value, T lo, T hi) {
  if (value >= lo && value <= hi) return {};
  return Status(Errc::validation_error, std::string("LogStoreOptions::") + name + " = " + std::to_string(value) +
                                            " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

}  // namespace

Status validate(const LogStoreOptions& o) {
  if (o.root.empty()) return Status(Errc::validation_error, "LogStoreOptions::root is empty");
  if (to_string(o.durability) == "invalid")
    return Status(Errc::validation_error, "LogStoreOptions::durability has an invalid value");
  using ms = long long;
  for (Status st : {in_range<std::uint64_t>("segment_bytes", o.segment_bytes, 4096, 1ull << 40),
                    in_range<std::uint32_t>("index_every_records", o.index_every_records, 1, 1u << 24),
                    in_range<std::uint32_t>("index_every_bytes", o.index_every_bytes, 512, 1u << 30),
                    in_range<std::uint32_t>("read_chunk_bytes", o.read_chunk_bytes, 4096, 1u << 30),
                    in_range<std::uint32_t>("max_open_writer_files", o.max_open_writer_files, 1, 1u << 20),
                    in_range<std::uint32_t>("buffer_bytes", o.buffer_bytes, 4096, 1u << 30),
                    in_range<ms>("flush_interval (ms)", o.flush_interval.count(), 1, 3'600'000),
                    in_range<ms>("flusher_idle_exit (ms)", o.flusher_idle_exit.count(), 1, 3'600'000),
                    in_range<ms>("poll_interval (ms)", o.poll_interval.count(), 1, 60'000)})
    if (!st) return st;
  return detail::validate_retention_options(o.retention, o.session_retention, "LogStoreOptions");
}

}  // namespace sessionring
