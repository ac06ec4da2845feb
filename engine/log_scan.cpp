// Session directory scan (docs/store.md "Recovery").
#include "detail/log_scan.hpp"

#include "detail/log_file.hpp"
#include "detail/log_format.hpp"
#include "detail/log_frame_reader.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <cerrno>
#include <cstdio>

#include <fcntl.h>

namespace sessionring::detail {

namespace lf = log_format;
namespace fs = std::filesystem;

Error ScanResult::damage_error(std::string_view session_id) const {
  return Error(Errc::damaged_store, "session '" + std::string(session_id) + "': " + file + " offset " +
                                        std::to_string(offset) + ": " + problem);
}

Result<std::vector<std::pair<Sequence, std::string>>> list_segments(const std::string& dir) {
  std::vector<std::pair<Sequence, std::string>> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory)
      return Error(Errc::not_found, "no session directory '" + dir + "'");
    return io_error("cannot list", dir, ec.value());
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return io_error("cannot list", dir, ec.value());
    if (auto first = lf::parse_segment_name(it->path().filename().string()))
      out.emplace_back(*first, it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<Sequence> read_first_sequence(const std::string& dir) {
  const std::string path = dir + "/FIRST";
  auto f = File::open(path, O_RDONLY);
  if (!f) return f.code() == Errc::not_found ? Result<Sequence>(Sequence{1}) : Result<Sequence>(f.error());
  char buf[32] = {};
  auto got = f->read_at(buf, sizeof buf - 1, 0);
  if (!got) return got.error();
  Sequence first = 0;
  std::size_t i = 0;
  for (; i < *got && buf[i] >= '0' && buf[i] <= '9' && first <= kMaxSequence; ++i)
    first = first * 10 + static_cast<Sequence>(buf[i] - '0');
  if (i == 0 || i >= *got || buf[i] != '\n' || first == 0 || first > kMaxSequence + 1)
    return Error(Errc::damaged_store, "'" + path + "' does not hold a first sequence");
  return first;
}

Status write_first_sequence(const std::string& dir, Sequence first, bool durable) {
  const std::string tmp = dir + "/FIRST.tmp";
  std::string text = std::to_string(first);
  text.push_back('\n');
  {
    auto f = File::open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (!f) return f.error();
    if (Status st = f->write_at(text.data(), text.size(), 0); !st) return st;
    if (durable)
      if (Status st = f->datasync(); !st) return st;
  }
  const std::string path = dir + "/FIRST";
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot rename to", path, errno);
  return durable ? sync_directory(dir) : Status{};
}

Result<Sequence> read_segment_header(const File& file) {
  std::byte h[lf::kSegmentHeaderBytes];
  auto got = file.read_at(h, sizeof h, 0);
  if (!got) return got.error();
  if (*got < sizeof h) return Error(Errc::damaged_store, "segment header truncated");
  auto first = lf::decode_segment_header(h);
  if (!first) {
    // A header that is whole (magic and checksum hold) but carries a newer format version was
    // written by a newer sessionring: not damage, and never to be "repaired" or truncated.
    const auto version = lf::load<std::uint32_t>(h, 8);
    if (std::memcmp(h, lf::kSegmentMagic, 8) == 0 && version > lf::kFormatVersion &&
        lf::load<std::uint64_t>(h, 24) == lf::xxh3(h, 24))
      return Error(Errc::unsupported_format, "segment '" + file.path() +
                                                 "' was written by a newer sessionring: format version " +
                                                 std::to_string(version) + ", this build reads " +
                                                 std::to_string(lf::kFormatVersion));
    return Error(Errc::damaged_store, "not a segment header (garbage segment)");
  }
  return *first;
}

namespace {

/// True when a valid frame after `from` proves that sequence `expected` had been secured
/// (its watermark is >= expected): then the bad bytes at `from` are damage, not a torn tail.
Result<bool> secured_later(const File& file, std::uint64_t from, std::uint64_t size, Sequence expected) {
  if (size <= from + lf::kFrameHeaderBytes) return false;
  std::vector<std::byte> rest(static_cast<std::size_t>(size - from));
  auto got = file.read_at(rest.data(), rest.size(), from);
  if (!got) return got.error();
  rest.resize(*got);
  for (std::size_t p = 1; p + lf::kFrameHeaderBytes <= rest.size(); ++p) {
    if (lf::load<std::uint32_t>(rest.data() + p, 4) != lf::kFrameMagic) continue;
    const auto h = lf::decode_frame_header(rest.data() + p);
    if (h.watermark < expected || h.sequence < expected || h.length < EventRecord::kHeaderBytes) continue;
    if (p + lf::kFrameHeaderBytes + h.length > rest.size()) continue;
    EventView fields;
    if (lf::frame_problem(rest.data() + p, h, fields) == nullptr) return true;
  }
  return false;
}

}  // namespace

Result<ScanResult> scan_session(const std::string& dir, std::size_t read_chunk, ScanDepth depth, ScanSink* sink) {
  auto listed = list_segments(dir);
  if (!listed) return listed.error();
  auto first_available = read_first_sequence(dir);
  if (!first_available) return first_available.error();
  ScanResult r;
  r.first = *first_available;
  // Segments named below the first available were pruned whole (FIRST is written before they
  // are removed, and always names a segment start or the sequence after the last): leftovers.
  std::vector<std::pair<Sequence, std::string>> segs;
  for (auto& seg : *listed) {
    if (seg.first < r.first)
      r.pruned_leftovers.push_back(std::move(seg.second));
    else
      segs.push_back(std::move(seg));
  }
  r.segments = static_cast<std::uint32_t>(segs.size());
  r.latest = r.first - 1;  // a session pruned to nothing continues after it (INV-1)
  auto problem = [&](ScanResult::Tail tail, const std::string& file, std::uint64_t offset, std::string why,
                     bool last) {
    r.tail = tail;
    r.file = file;
    r.offset = offset;
    r.problem = std::move(why);
    r.in_last_segment = last;
  };
  Sequence expected = r.first;  // next sequence the log must hold (INV-1)
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const auto& [name_first, path] = segs[i];
    const bool last = i + 1 == segs.size();
    auto file = File::open(path, O_RDONLY);
    if (!file) return file.error();
    auto size = file->size();
    if (!size) return size.error();
    r.bytes += *size;
    if (r.tail != ScanResult::Tail::clean) continue;  // keep summing sizes only
    if (last && *size <= lf::kSegmentHeaderBytes && name_first == expected) {
      // A crash while creating the segment: at most its header exists.
      auto first = read_segment_header(*file);
      if (!first && first.code() == Errc::unsupported_format) return first.error();
      if (!first || *first != name_first) {
        problem(ScanResult::Tail::torn, path, 0, "segment header never completed", true);
        r.torn_header = true;
        r.tail_bytes = *size;
        continue;
      }
    }
    auto first = read_segment_header(*file);
    if (!first) {
      if (first.code() != Errc::damaged_store) return first.error();
      problem(ScanResult::Tail::damaged, path, 0, first.error().message(), last);
      continue;
    }
    if (*first != name_first) {
      problem(ScanResult::Tail::damaged, path, 0,
              "segment header says it starts at sequence " + std::to_string(*first) + ", its name says " +
                  std::to_string(name_first),
              last);
      continue;
    }
    if (*first != expected) {
      const std::string prev =
          i == 0 ? std::string(r.first > 1 ? "the first available sequence (FIRST)" : "the log start") : segs[i - 1].second;
      problem(ScanResult::Tail::damaged, path, 0,
              *first > expected ? "sequences " + std::to_string(expected) + ".." + std::to_string(*first - 1) +
                                      " are missing (no segment holds them; previous: " + prev + ")"
                                : "segment starts at sequence " + std::to_string(*first) + " but " + prev +
                                      " already holds sequences up to " + std::to_string(expected - 1),
              last);
      continue;
    }
    if (sink) sink->on_segment(path, *first, lf::kSegmentHeaderBytes);
    if (depth == ScanDepth::last_segment && !last) {
      expected = segs[i + 1].first;  // trusted from the names: info() does not read the records
      r.latest = expected - 1;
      if (sink) sink->on_segment_end(*size);
      continue;
    }
    FrameReader reader(*file, lf::kSegmentHeaderBytes, *size, read_chunk);
    // End of the last intact record: where a writer continues. Not reader.position(), which
    // is past a valid frame that holds the wrong sequence (log_segment_fuzz found a repaired
    // writer appending after such a frame, leaving a hole at the cut).
    std::uint64_t intact_end = lf::kSegmentHeaderBytes;
    for (;;) {
      const auto step = reader.next();
      if (step == FrameReader::Step::record) {
        if (reader.header().sequence != expected) {
          problem(ScanResult::Tail::damaged, path, reader.frame_offset(),
                  "record holds sequence " + std::to_string(reader.header().sequence) + " where " +
                      std::to_string(expected) + " was expected",
                  last);
          break;
        }
        if (sink)
          sink->on_record(expected, reader.frame_offset(), lf::kFrameHeaderBytes + reader.payload().size(),
                          reader.payload());
        r.latest = expected++;
        intact_end = reader.position();
        continue;
      }
      if (step == FrameReader::Step::end) break;
      if (step == FrameReader::Step::io_error) return reader.error();
      const std::uint64_t at = reader.frame_offset();
      const std::string why = step == FrameReader::Step::incomplete
                                  ? std::string("incomplete record (the file ends inside it)")
                                  : std::string(reader.problem());
      if (!last) {
        problem(ScanResult::Tail::damaged, path, at, why + " in a segment that is not the last", false);
        break;
      }
      auto proof = secured_later(*file, at, *size, expected);
      if (!proof) return proof.error();
      if (*proof)
        problem(ScanResult::Tail::damaged, path, at,
                why + " at sequence " + std::to_string(expected) + ", which a later record shows was secured",
                true);
      else
        problem(ScanResult::Tail::torn, path, at, why + " at sequence " + std::to_string(expected) + ": torn tail",
                true);
      r.tail_bytes = *size - at;
      break;
    }
    if (sink) sink->on_segment_end(intact_end);
  }
  return r;
}

}  // namespace sessionring::detail
