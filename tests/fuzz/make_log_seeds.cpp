// make_log_seeds DIR: writes the seed inputs of log_segment_fuzz into DIR (docs/fuzzing.md).
// Each seed is a control byte (see log_segment_fuzz.cpp) followed by the segment files of a
// session a real LogStore wrote, concatenated: clean logs with one and several segments, a
// torn tail, a flipped byte, a missing first segment, an empty session, a lone header, and
// the same with the fix-up bits set. Run it again when the segment format changes.
#include "detail/log_format.hpp"

#include <sessionring/sessionring.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using namespace sessionring;
namespace fs = std::filesystem;

/// The segment files of a session holding `events` events of about `data_bytes` each,
/// written with segments of `segment_bytes`, in sequence order.
std::vector<std::string> make_segments(const fs::path& tmp, int events, std::size_t data_bytes,
                                       std::uint64_t segment_bytes) {
  fs::remove_all(tmp);
  LogStoreOptions o;
  o.root = tmp;
  o.segment_bytes = segment_bytes;
  auto store = LogStore::open(o);
  if (!store) throw std::runtime_error(store.error().describe());
  {
    SessionOptions so;
    so.store = *store;
    so.session_id = "s";
    so.ring_capacity = 16;
    auto session = Session::open(so);
    if (!session) throw std::runtime_error(session.error().describe());
    for (int i = 0; i < events; ++i) {
      EventInput e;
      e.type = all_event_types()[static_cast<std::size_t>(i * 7) % kEventTypeCount];
      const std::string run = "r" + std::to_string(i % 3);
      const std::string data = "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(data_bytes, 'x') + "\"}";
      const std::string id = i % 2 ? "id-" + std::to_string(i) : std::string();
      e.run_id = run;
      e.data = data;
      e.id = id;
      e.metadata = i % 4 == 0 ? "{\"m\":1}" : "";
      e.timestamp_ns = 1'700'000'000'000'000'000 + i;
      if (!session->append_wait(e)) throw std::runtime_error("append failed");
    }
    if (!session->stop()) throw std::runtime_error("stop failed");
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(tmp / "s"))
    if (entry.path().extension() == ".seg") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

std::string join(const std::vector<std::string>& files) {
  std::string s;
  for (const auto& f : files) s += f;
  return s;
}

void write_seed(const fs::path& dir, const std::string& name, unsigned char control, const std::string& body) {
  std::ofstream out(dir / name, std::ios::binary);
  out.put(static_cast<char>(control));
  out << body;
  std::printf("%-28s %6zu bytes\n", name.c_str(), body.size() + 1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_log_seeds DIR\n");
    return 2;
  }
  const fs::path dir = argv[1];
  fs::create_directories(dir);
  const fs::path tmp = fs::temp_directory_path() / ("sessionring-seeds-" + std::to_string(::getpid()));
  // Control bytes: bit 0-3 fix-ups, bit 4 repair, bits 5-6 durability (01 = buffered), bit 7 64 KiB segments.
  constexpr unsigned char kBuffered = 0x20, kNone = 0x00, kFsync = 0x60, kFixAll = 0x0f, kRepair = 0x10;

  const auto one = make_segments(tmp, 4, 20, 64u << 10);
  const auto many = make_segments(tmp, 26, 180, 4096);  // two 4 KiB segments
  write_seed(dir, "clean-one-segment", kBuffered, join(one));
  write_seed(dir, "clean-one-segment-none", kNone, join(one));
  write_seed(dir, "clean-one-segment-fsync", kFsync, join(one));
  write_seed(dir, "clean-one-segment-fixall", kBuffered | kFixAll, join(one));
  write_seed(dir, "clean-segments", kBuffered, join(many));
  write_seed(dir, "clean-segments-64k", kBuffered | 0x80, join(many));

  std::string torn = join(one);
  torn.resize(torn.size() - 9);
  write_seed(dir, "torn-tail", kBuffered, torn);

  // A valid frame repeated: the wrong sequence after the last record (damage), with repair.
  {
    namespace lf = detail::log_format;
    const std::string& seg = one.front();
    std::size_t pos = lf::kSegmentHeaderBytes, last = pos;
    while (pos + lf::kFrameHeaderBytes <= seg.size()) {
      last = pos;
      pos += lf::kFrameHeaderBytes + lf::load<std::uint32_t>(reinterpret_cast<const std::byte*>(seg.data()), pos);
    }
    write_seed(dir, "repeated-record-repair", kBuffered | kRepair, seg + seg.substr(last));
  }

  std::string flipped = join(one);
  flipped[flipped.size() / 2] ^= 0x40;
  write_seed(dir, "flipped-byte", kBuffered, flipped);
  write_seed(dir, "flipped-byte-repair", kBuffered | kRepair, flipped);

  std::string flipped_first = join(many);
  flipped_first[200] ^= 0x01;  // inside the first record of the first segment
  write_seed(dir, "flipped-first-segment", kBuffered | kRepair, flipped_first);

  if (many.size() >= 2) {  // three segments would pass the 8 KiB a seed may have
    write_seed(dir, "missing-first-segment", kBuffered | kRepair, join({many.begin() + 1, many.end()}));
    std::string flipped_last = join(many);
    flipped_last[many.front().size() + 100] ^= 0x08;  // the first record of the last segment
    write_seed(dir, "flipped-last-segment-repair", kBuffered | kRepair, flipped_last);
  }
  write_seed(dir, "empty-session", kBuffered, "");
  write_seed(dir, "header-only", kBuffered, one.front().substr(0, detail::log_format::kSegmentHeaderBytes));
  write_seed(dir, "short-header", kBuffered, one.front().substr(0, 20));
  write_seed(dir, "garbage", kBuffered, "not a segment at all");

  std::error_code ec;
  fs::remove_all(tmp, ec);
  return 0;
}
