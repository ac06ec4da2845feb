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
    std::memmove(buf_.get(), buf_.get() + cur_, len_ - cur_);
    buf_file_offset_ += cur_;
    len_ -= cur_;
    cur_ = 0;
  }
  // Grow: first 64 KiB (cheap for short reads), doubling per refill up to max_chunk; a
  // frame larger than that gets a buffer of its own size.
  std::size_t want_cap = cap_ == 0 ? std::min<std::size_t>(max_chunk_, 64 << 10) : std::min(max_chunk_, cap_ * 2);
  want_cap = std::max({want_cap, need, cap_});
  const std::uint64_t left_in_range = end_ - (buf_file_offset_ + len_);
  want_cap = static_cast<std::size_t>(std::min<std::uint64_t>(want_cap, len_ + left_in_range));
  want_cap = std::max(want_cap, need);
  if (want_cap > cap_) {
    auto grown = std::unique_ptr<std::byte[]>(new std::byte[want_cap]);
    if (len_ > 0) std::memcpy(grown.get(), buf_.get(), len_);
    buf_ = std::move(grown);
    cap_ = want_cap;
  }
  const std::size_t to_read = static_cast<std::size_t>(std::min<std::uint64_t>(cap_ - len_, left_in_range));
  auto got = file_.read_at(buf_.get() + len_, to_read, buf_file_offset_ + len_);
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
  header_ = lf::decode_frame_header(buf_.get() + cur_);
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
  const std::byte* h = buf_.get() + cur_;
  if (const char* why = lf::frame_problem(h, header_, fields_)) {
    problem_ = why;
    return Step::bad;
  }
  payload_ = {h + lf::kFrameHeaderBytes, header_.length};
  cur_ += total;
  return Step::record;
}

}  // namespace sessionring::detail
