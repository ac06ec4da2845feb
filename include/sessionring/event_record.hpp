// EventRecord: the one binary encoding of an event, shared by the ingest queue, the ring slots,
// the in-memory store and the log store (docs/design.md "Record layout"). Little-endian host
// order; all fields are read with memcpy, so a record needs no alignment.
//
//   off  size  field
//     0     4  record_bytes   (header + all variable fields)
//     4     1  type           (EventType)
//     5     1  flags          (0; reserved)
//     6     2  id_len
//     8     8  sequence_number
//    16     8  timestamp_ns
//    24     4  schema_version
//    28     2  run_id_len
//    30     2  correlation_id_len
//    32     2  provider_len
//    34     2  reserved (0)
//    36     4  data_len
//    40     4  metadata_len
//    44     4  reserved (0)
//    48     …  id, run_id, correlation_id, provider, data, metadata (no padding)
#pragma once
#include <sessionring/event_input.hpp>
#include <sessionring/event_view.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>

namespace sessionring {

class EventRecord {
 public:
  static constexpr std::size_t kHeaderBytes = 48;
  static constexpr std::size_t kMaxShortField = std::numeric_limits<std::uint16_t>::max();

  /// Encoded size of an event with these fields. 0 when a short field (id, run_id,
  /// correlation_id, provider) is longer than 65535 bytes or the total exceeds 4 GiB.
  static std::size_t encoded_size(const EventInput& in) noexcept {
    return sized(in.id.size(), in.run_id.size(), in.correlation_id.size(), in.provider.size(),
                 in.data.size(), in.metadata.size());
  }
  static std::size_t encoded_size(const EventView& v) noexcept {
    return sized(v.id.size(), v.run_id.size(), v.correlation_id.size(), v.provider.size(),
                 v.data.size(), v.metadata.size());
  }

  /// Writes the record of `in` with the given id, timestamp and sequence into `out`
  /// (encoded_size(in) bytes; `id` replaces in.id, which may be empty).
  static void encode(std::byte* out, const EventInput& in, std::string_view id,
                     std::int64_t timestamp_ns, Sequence seq) noexcept {
    EventView v;
    v.sequence_number = seq;
    v.type = in.type;
    v.id = id;
    v.run_id = in.run_id;
    v.timestamp_ns = timestamp_ns;
    v.data = in.data;
    v.metadata = in.metadata;
    v.correlation_id = in.correlation_id;
    v.provider = in.provider;
    v.schema_version = in.schema_version;
    encode(out, v);
  }

  /// Writes the record of `v` (encoded_size(v) bytes) into `out`. session_id is not stored.
  static void encode(std::byte* out, const EventView& v) noexcept {
    const std::size_t total = encoded_size(v);
    put<std::uint32_t>(out, 0, static_cast<std::uint32_t>(total));
    out[4] = static_cast<std::byte>(v.type);
    out[5] = std::byte{0};
    put<std::uint16_t>(out, 6, static_cast<std::uint16_t>(v.id.size()));
    put<std::uint64_t>(out, 8, v.sequence_number);
    put<std::int64_t>(out, 16, v.timestamp_ns);
    put<std::uint32_t>(out, 24, v.schema_version);
    put<std::uint16_t>(out, 28, static_cast<std::uint16_t>(v.run_id.size()));
    put<std::uint16_t>(out, 30, static_cast<std::uint16_t>(v.correlation_id.size()));
    put<std::uint16_t>(out, 32, static_cast<std::uint16_t>(v.provider.size()));
    put<std::uint16_t>(out, 34, 0);
    put<std::uint32_t>(out, 36, static_cast<std::uint32_t>(v.data.size()));
    put<std::uint32_t>(out, 40, static_cast<std::uint32_t>(v.metadata.size()));
    put<std::uint32_t>(out, 44, 0);
    std::byte* p = out + kHeaderBytes;
    for (std::string_view f : {v.id, v.run_id, v.correlation_id, v.provider, v.data, v.metadata}) {
      if (!f.empty()) std::memcpy(p, f.data(), f.size());
      p += f.size();
    }
  }

  /// Decodes `bytes` into `out` (views into `bytes`; session_id set to `session`). False when
  /// the record is malformed: too short, lengths that do not add up, or an invalid type.
  static bool decode(std::span<const std::byte> bytes, std::string_view session, EventView& out) noexcept {
    if (bytes.size() < kHeaderBytes) return false;
    const std::byte* b = bytes.data();
    const auto total = get<std::uint32_t>(b, 0);
    const auto type = static_cast<std::uint8_t>(b[4]);
    if (total > bytes.size() || !is_valid_event_type(type)) return false;
    const std::size_t lens[6] = {get<std::uint16_t>(b, 6),  get<std::uint16_t>(b, 28),
                                 get<std::uint16_t>(b, 30), get<std::uint16_t>(b, 32),
                                 get<std::uint32_t>(b, 36), get<std::uint32_t>(b, 40)};
    std::size_t need = kHeaderBytes;
    for (std::size_t l : lens) need += l;
    if (need != total) return false;
    std::string_view fields[6];
    const char* p = reinterpret_cast<const char*>(b + kHeaderBytes);
    for (int i = 0; i < 6; ++i) {
      fields[i] = std::string_view(p, lens[i]);
      p += lens[i];
    }
    out.sequence_number = get<std::uint64_t>(b, 8);
    out.type = static_cast<EventType>(type);
    out.id = fields[0];
    out.session_id = session;
    out.run_id = fields[1];
    out.timestamp_ns = get<std::int64_t>(b, 16);
    out.schema_version = get<std::uint32_t>(b, 24);
    out.correlation_id = fields[2];
    out.provider = fields[3];
    out.data = fields[4];
    out.metadata = fields[5];
    return true;
  }

  /// Header accessors on an encoded record (at least kHeaderBytes long).
  static std::uint32_t size_of(const std::byte* rec) noexcept { return get<std::uint32_t>(rec, 0); }
  static Sequence sequence_of(const std::byte* rec) noexcept { return get<std::uint64_t>(rec, 8); }
  static void set_sequence(std::byte* rec, Sequence seq) noexcept { put<std::uint64_t>(rec, 8, seq); }
  static EventType type_of(const std::byte* rec) noexcept { return static_cast<EventType>(rec[4]); }
  static std::string_view id_of(const std::byte* rec) noexcept {
    return {reinterpret_cast<const char*>(rec + kHeaderBytes), get<std::uint16_t>(rec, 6)};
  }
  static std::string_view run_id_of(const std::byte* rec) noexcept {
    return {reinterpret_cast<const char*>(rec + kHeaderBytes + get<std::uint16_t>(rec, 6)),
            get<std::uint16_t>(rec, 28)};
  }

 private:
  static std::size_t sized(std::size_t id, std::size_t run, std::size_t corr, std::size_t prov,
                           std::size_t data, std::size_t meta) noexcept {
    if (id > kMaxShortField || run > kMaxShortField || corr > kMaxShortField || prov > kMaxShortField)
      return 0;
    const std::size_t total = kHeaderBytes + id + run + corr + prov + data + meta;
    if (data > UINT32_MAX || meta > UINT32_MAX || total > UINT32_MAX) return 0;
    return total;
  }
  template <class T>
  static void put(std::byte* b, std::size_t off, T v) noexcept { std::memcpy(b + off, &v, sizeof v); }
  template <class T>
  static T get(const std::byte* b, std::size_t off) noexcept {
    T v;
    std::memcpy(&v, b + off, sizeof v);
    return v;
  }
};

}  // namespace sessionring
