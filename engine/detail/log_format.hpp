// On-disk format of the log store (docs/store.md "Layout"). Little-endian, read with memcpy.
//
// Segment file <root>/<session>/<first sequence, 20 digits>.seg:
//   off size  segment header (32 bytes)
//     0    8  magic "SRLOGSEG"
//     8    4  format version (1)
//    12    4  header bytes (32)
//    16    8  first sequence of the segment
//    24    8  XXH3-64 of bytes 0..23
//   then frames, back to back:
//     0    4  payload bytes (= EventRecord record_bytes)
//     4    4  frame magic "SRF1"
//     8    8  sequence number (= the payload's sequence_number)
//    16    8  secured watermark: the highest sequence the writer had secured when it wrote
//             this frame (recovery uses it to tell a torn tail from damage, INV-9)
//    24    8  checksum: XXH3-64 of the payload, seeded with XXH3-64 of frame bytes 0..23
//    32    …  payload: the EventRecord bytes exactly as AppendBatch::records holds them
#pragma once
#include <sessionring/config.hpp>
#include <sessionring/event_record.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <xxhash.h>

namespace sessionring::detail::log_format {

inline constexpr std::size_t kSegmentHeaderBytes = 32;
inline constexpr std::size_t kFrameHeaderBytes = 32;
inline constexpr char kSegmentMagic[8] = {'S', 'R', 'L', 'O', 'G', 'S', 'E', 'G'};
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::uint32_t kFrameMagic = 0x31465253;  // "SRF1" little-endian
inline constexpr std::string_view kSegmentSuffix = ".seg";
inline constexpr std::size_t kSegmentDigits = 20;

template <class T>
inline T load(const std::byte* b, std::size_t off) noexcept {
  T v;
  std::memcpy(&v, b + off, sizeof v);
  return v;
}
template <class T>
inline void store(std::byte* b, std::size_t off, T v) noexcept {
  std::memcpy(b + off, &v, sizeof v);
}

inline std::uint64_t xxh3(const std::byte* p, std::size_t n) noexcept { return XXH3_64bits(p, n); }

/// Checksum of a frame: covers the first 24 header bytes (length, magic, sequence,
/// watermark) and the payload.
inline std::uint64_t frame_checksum(const std::byte* header, const std::byte* payload, std::size_t n) noexcept {
  return XXH3_64bits_withSeed(payload, n, xxh3(header, 24));
}

/// Writes the 32-byte frame header for `payload` (n bytes) at `out`.
inline void encode_frame_header(std::byte* out, const std::byte* payload, std::uint32_t n, Sequence seq,
                                Sequence watermark) noexcept {
  store<std::uint32_t>(out, 0, n);
  store<std::uint32_t>(out, 4, kFrameMagic);
  store<std::uint64_t>(out, 8, seq);
  store<std::uint64_t>(out, 16, watermark);
  store<std::uint64_t>(out, 24, frame_checksum(out, payload, n));
}

struct FrameHeader {
  std::uint32_t length = 0;
  std::uint32_t magic = 0;
  Sequence sequence = 0;
  Sequence watermark = 0;
  std::uint64_t checksum = 0;
};

inline FrameHeader decode_frame_header(const std::byte* h) noexcept {
  return {load<std::uint32_t>(h, 0), load<std::uint32_t>(h, 4), load<std::uint64_t>(h, 8),
          load<std::uint64_t>(h, 16), load<std::uint64_t>(h, 24)};
}

/// Why the complete frame at `h` (header + h.length payload bytes) is invalid; nullptr when valid.
/// Why the frame at `h` (header `f`, payload in memory) is invalid, or nullptr. A valid frame's
/// record fields are left in `fields` (session_id empty): readers use them instead of decoding
/// the record a second time.
inline const char* frame_problem(const std::byte* h, const FrameHeader& f, EventView& fields) noexcept {
  if (f.magic != kFrameMagic) return "bad frame magic";
  if (f.length < EventRecord::kHeaderBytes) return "frame length below the record header size";
  const std::byte* payload = h + kFrameHeaderBytes;
  if (frame_checksum(h, payload, f.length) != f.checksum) return "checksum mismatch";
  if (EventRecord::size_of(payload) != f.length) return "record length differs from the frame length";
  if (EventRecord::sequence_of(payload) != f.sequence) return "record sequence differs from the frame sequence";
  if (!is_valid_event_type(static_cast<std::uint8_t>(EventRecord::type_of(payload)))) return "invalid event type";
  // Field lengths that do not add up to the record: a checksummed frame the writer never
  // wrote. Refused here, so that recovery and verify never accept a record that reads fail
  // to decode (and the id index never hashes past the payload). Found by log_segment_fuzz.
  if (!EventRecord::decode({payload, f.length}, {}, fields)) return "malformed event record";
  return nullptr;
}

inline void encode_segment_header(std::byte* out, Sequence first) noexcept {
  std::memcpy(out, kSegmentMagic, 8);
  store<std::uint32_t>(out, 8, kFormatVersion);
  store<std::uint32_t>(out, 12, static_cast<std::uint32_t>(kSegmentHeaderBytes));
  store<std::uint64_t>(out, 16, first);
  store<std::uint64_t>(out, 24, xxh3(out, 24));
}

/// The first sequence of a valid segment header, or nullopt.
inline std::optional<Sequence> decode_segment_header(const std::byte* h) noexcept {
  if (std::memcmp(h, kSegmentMagic, 8) != 0) return std::nullopt;
  if (load<std::uint32_t>(h, 8) != kFormatVersion) return std::nullopt;
  if (load<std::uint32_t>(h, 12) != kSegmentHeaderBytes) return std::nullopt;
  if (load<std::uint64_t>(h, 24) != xxh3(h, 24)) return std::nullopt;
  return load<std::uint64_t>(h, 16);
}

/// "00000000000000000001.seg"
inline std::string segment_name(Sequence first) {
  std::string digits = std::to_string(first);
  return std::string(kSegmentDigits - digits.size(), '0') + digits + std::string(kSegmentSuffix);
}

/// The first sequence encoded in a segment file name, or nullopt for any other file.
inline std::optional<Sequence> parse_segment_name(std::string_view name) noexcept {
  if (name.size() != kSegmentDigits + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) return std::nullopt;
  Sequence v = 0;
  const char* b = name.data();
  const auto [p, ec] = std::from_chars(b, b + kSegmentDigits, v);
  if (ec != std::errc{} || p != b + kSegmentDigits || v == 0) return std::nullopt;
  return v;
}

}  // namespace sessionring::detail::log_format
