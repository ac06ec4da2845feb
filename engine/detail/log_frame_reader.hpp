// FrameReader: walks the frames of one segment file between two offsets with large preads
// (up to LogStoreOptions::read_chunk_bytes each, never past `end`), validating each frame
// (magic, lengths, XXH3 checksum, payload header). One thread; its buffer is the thread's
// ReadBuffer, reused by the thread's next read.
#pragma once
#include "detail/log_file.hpp"
#include "detail/log_format.hpp"
#include "detail/read_buffer.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace sessionring::detail {

class FrameReader {
 public:
  enum class Step : std::uint8_t {
    record,      ///< a valid frame: header(), payload() and fields() describe it
    end,         ///< reached `end` exactly
    incomplete,  ///< fewer bytes than the frame needs before `end` (or the file is shorter)
    bad,         ///< invalid frame at frame_offset(): problem() says why
    io_error,    ///< the read failed: error()
  };

  FrameReader(const File& file, std::uint64_t begin, std::uint64_t end, std::size_t max_chunk);

  Step next();

  const log_format::FrameHeader& header() const noexcept { return header_; }
  std::span<const std::byte> payload() const noexcept { return payload_; }
  /// The record of the last valid frame, decoded while validating it (session_id empty).
  const EventView& fields() const noexcept { return fields_; }
  /// Offset of the frame last returned or rejected; after Step::end, `end`.
  std::uint64_t frame_offset() const noexcept { return frame_offset_; }
  /// Offset just past the last valid frame returned.
  std::uint64_t position() const noexcept { return buf_file_offset_ + cur_; }
  const char* problem() const noexcept { return problem_; }
  const Error& error() const { return *error_; }

 private:
  /// Makes `need` bytes available at cur_. False on I/O error (error_ set) or when the file
  /// ends first.
  bool fill(std::size_t need);

  const File& file_;
  const std::uint64_t end_;
  const std::size_t max_chunk_;
  ReadBuffer buf_;
  std::size_t cur_ = 0;  // index in buf_ of the next frame
  std::size_t len_ = 0;  // valid bytes in buf_
  std::uint64_t buf_file_offset_;
  std::uint64_t frame_offset_;
  log_format::FrameHeader header_{};
  std::span<const std::byte> payload_;
  EventView fields_;
  const char* problem_ = nullptr;
  std::optional<Error> error_;
};

}  // namespace sessionring::detail
