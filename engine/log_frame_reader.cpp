#include "detail/log_frame_reader.hpp"

#include <algorithm>
#include <cstring>

namespace sessionring::detail {

namespace lf = log_format;

FrameReader::FrameReader(const File& file, std::uint64_t begin, std::uint64_t end, std::size_t max_chunk)
    : file_(file), end_(end), max_chunk_(max_chunk), buf_file_offset_(begin), frame_offset_(begin) {}

bool FrameReader::fill(std::size_t need) {
  if (len_ - cur_ >= need) return true;
  // Keep the unparsed bytes, drop the parsed ones.
  if (cur_ > 0) {
    std::memmove(buf_.data(), buf_.data() + cur_, len_ - cur_);
    buf_file_offset_ += cur_;
    len_ -= cur_;
    cur_ = 0;
  }
  // One pread filling the buffer up to max_chunk bytes (more only for a frame larger than
  // that), never past `end`: callers bound `end` by what they will parse, so a short read
  // copies little.
  const std::size_t missing = need - len_;
  const std::size_t room = max_chunk_ > len_ ? max_chunk_ - len_ : 0;
  const std::uint64_t left_in_range = end_ - (buf_file_offset_ + len_);
  const auto to_read = static_cast<std::size_t>(std::min<std::uint64_t>(std::max(room, missing), left_in_range));
  buf_.reserve(len_ + to_read, len_);
  auto got = file_.read_at(buf_.data() + len_, to_read, buf_file_offset_ + len_);
  if (!got) {
    error_ = got.error();
    return false;
  }
  len_ += *got;
  return len_ - cur_ >= need;
}

FrameReader::Step FrameReader::next() {
  frame_offset_ = buf_file_offset_ + cur_;
  payload_ = {};
  if (frame_offset_ >= end_) return Step::end;
  const std::uint64_t left = end_ - frame_offset_;
  if (left < lf::kFrameHeaderBytes) return Step::incomplete;
  if (!fill(lf::kFrameHeaderBytes)) return error_ ? Step::io_error : Step::incomplete;
  header_ = lf::decode_frame_header(buf_.data() + cur_);
  if (header_.magic != lf::kFrameMagic) {
    problem_ = "bad frame magic";
    return Step::bad;
  }
  if (header_.length < EventRecord::kHeaderBytes) {
    problem_ = "frame length below the record header size";
    return Step::bad;
  }
  const std::size_t total = lf::kFrameHeaderBytes + header_.length;
  if (left < total) return Step::incomplete;
  if (!fill(total)) return error_ ? Step::io_error : Step::incomplete;
  const std::byte* h = buf_.data() + cur_;
  if (const char* why = lf::frame_problem(h, header_, fields_)) {
    problem_ = why;
    return Step::bad;
  }
  payload_ = {h + lf::kFrameHeaderBytes, header_.length};
  cur_ += total;
  return Step::record;
}

}  // namespace sessionring::detail
