// log_segment_fuzz: any bytes as the segment files of one LogStore session (docs/store.md
// "Layout", "Recovery"), then every way of opening them. Checks (docs/fuzzing.md):
//   * verify() and info() answer (never crash), verify's verdict agrees with the opens:
//     damaged ⇔ a read open and a plain writer open fail with Errc::damaged_store;
//   * a read open yields exactly the verified prefix: sequences 1..latest, each decoding,
//     with ranged / filtered / by-id reads consistent with the full read;
//   * a writer open continues at the verified prefix (a torn tail cut, INV-9); with
//     repair_damaged_tail it also recovers damage in the last segment, and still refuses
//     damage in an earlier one;
//   * after any successful writer open one more event appends, reads back, and the store then
//     verifies clean from a fresh open.
//
// Input: byte 0 = control bits (below); the rest is split into files at every "SRLOGSEG"
// (the segment header magic), at most kMaxFiles, each named by the first sequence in its
// header. Optional fix-ups recompute header and frame checksums, record headers and sequence
// numbers, so mutations reach the checks behind the checksums instead of stopping there.
#include "detail/log_format.hpp"
#include "fuzz_check.hpp"
#include "fuzz_input.hpp"
#include "temp_root.hpp"

#include <sessionring/sessionring.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace sessionring;
namespace lf = detail::log_format;
namespace fs = std::filesystem;

constexpr std::string_view kSession = "s";
constexpr std::size_t kMaxFiles = 8;

struct Control {
  bool fix_segment_headers;  // bit 0: magic, version, header size and checksum of every header
  bool fix_checksums;        // bit 1: the checksum of every frame that has the frame magic
  bool fix_records;          // bit 2: record_bytes and sequence in each payload = the frame's
  bool renumber;             // bit 3: frames (and headers) numbered 1, 2, 3, ... across files
  bool repair;               // bit 4: the first writer open already uses repair_damaged_tail
  Durability durability;     // bits 5-6: none, buffered, buffered, fsync
  std::uint64_t segment_bytes;  // bit 7: 4096 (rolls often) or 64 KiB
};

Control decode_control(std::uint8_t c) {
  static constexpr Durability kDurability[4] = {Durability::none, Durability::buffered, Durability::buffered,
                                                Durability::fsync};
  return {(c & 1) != 0,  (c & 2) != 0,  (c & 4) != 0,  (c & 8) != 0,
          (c & 16) != 0, kDurability[(c >> 5) & 3], (c & 128) != 0 ? 65536u : 4096u};
}

std::byte* bytes_of(std::string& s) { return reinterpret_cast<std::byte*>(s.data()); }

/// The body cut at each segment magic: [garbage before the first magic], then one file per magic.
std::vector<std::string> split_files(std::string_view body) {
  const std::string_view magic(lf::kSegmentMagic, sizeof lf::kSegmentMagic);
  std::vector<std::string> files;
  std::size_t at = body.find(magic);
  if (at != 0 && !body.empty()) files.emplace_back(body.substr(0, at));
  while (at != std::string_view::npos && files.size() < kMaxFiles) {
    const std::size_t next = body.find(magic, at + magic.size());
    files.emplace_back(body.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
    at = next;
  }
  return files;
}

/// Applies the fix-ups to one file; `next_seq` carries the numbering across files (renumber).
void fix_up(std::string& f, const Control& c, Sequence& next_seq) {
  std::byte* b = bytes_of(f);
  if (c.renumber && f.size() >= 24) lf::store<std::uint64_t>(b, 16, next_seq);
  if (c.fix_segment_headers && f.size() >= lf::kSegmentHeaderBytes) {
    const Sequence first = lf::load<std::uint64_t>(b, 16);
    lf::encode_segment_header(b, first);
  }
  std::size_t pos = lf::kSegmentHeaderBytes;
  while (pos + lf::kFrameHeaderBytes <= f.size()) {
    std::byte* h = b + pos;
    const auto len = lf::load<std::uint32_t>(h, 0);
    if (lf::load<std::uint32_t>(h, 4) != lf::kFrameMagic) break;
    if (len > f.size() - pos - lf::kFrameHeaderBytes) break;
    std::byte* payload = h + lf::kFrameHeaderBytes;
    if (c.renumber) lf::store<std::uint64_t>(h, 8, next_seq);
    const Sequence seq = lf::load<std::uint64_t>(h, 8);
    if (c.fix_records && len >= EventRecord::kHeaderBytes) {
      lf::store<std::uint32_t>(payload, 0, len);
      EventRecord::set_sequence(payload, seq);
    }
    if (c.fix_checksums) lf::store<std::uint64_t>(h, 24, lf::frame_checksum(h, payload, len));
    next_seq = seq + 1;
    pos += lf::kFrameHeaderBytes + len;
  }
}

/// Writes the files into the session directory; returns the name of the last segment ("" if none).
std::string write_session(const fs::path& dir, std::vector<std::string>& files, const Control& c) {
  fs::create_directories(dir);
  std::set<Sequence> used;
  Sequence next_seq = 1;
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::string& f = files[i];
    fix_up(f, c, next_seq);
    Sequence first = f.size() >= 24 ? lf::load<std::uint64_t>(bytes_of(f), 16) : 0;
    if (first == 0) first = i + 1;
    if (!used.insert(first).second) continue;  // two files with one name: the first wins
    std::FILE* out = std::fopen((dir / lf::segment_name(first)).c_str(), "wb");
    FUZZ_CHECK(out != nullptr, "cannot create a segment file in the temp dir");
    FUZZ_CHECK(std::fwrite(f.data(), 1, f.size(), out) == f.size(), "short write to the temp dir");
    std::fclose(out);
  }
  return used.empty() ? std::string() : lf::segment_name(*used.rbegin());
}

void check_error(const Error& e, std::initializer_list<Errc> allowed, const char* what) {
  FUZZ_CHECK(!e.message().empty(), what);
  const bool ok = std::find(allowed.begin(), allowed.end(), e.code()) != allowed.end();
  if (!ok) std::fprintf(stderr, "unexpected error: %s\n", e.describe().c_str());
  FUZZ_CHECK(ok, what);
}

/// Everything the log holds, which must be exactly 1..latest.
std::vector<Event> read_all(const SessionLog& log, Sequence latest) {
  auto events = log.read(EventQuery{});
  if (!events) std::fprintf(stderr, "read failed: %s\n", events.error().describe().c_str());
  FUZZ_CHECK(events.ok(), "a full read of a log that opened must succeed");
  FUZZ_CHECK(events->size() == latest, "a full read must return sequences 1..latest");
  for (std::size_t i = 0; i < events->size(); ++i) {
    FUZZ_CHECK((*events)[i].sequence_number == i + 1, "sequences must be contiguous from 1 (INV-1)");
    FUZZ_CHECK((*events)[i].session_id == kSession, "events carry the session id");
  }
  return std::move(*events);
}

/// Ranged, filtered, limited and by-id reads agree with the full read.
void check_queries(const SessionLog& log, const std::vector<Event>& all) {
  if (all.empty()) return;
  const Sequence n = all.size();
  const Sequence after = n / 2;
  EventQuery ranged;
  ranged.after = after;
  ranged.before = n;  // exclusive: leaves out the last
  ranged.limit = 3;
  auto part = log.read(ranged);
  FUZZ_CHECK(part.ok(), "a ranged read must succeed");
  FUZZ_CHECK(part->size() == std::min<std::size_t>(3, n - 1 - after), "ranged read size");
  for (std::size_t i = 0; i < part->size(); ++i) FUZZ_CHECK((*part)[i] == all[after + i], "ranged read content");

  const Event& pick = all[n - 1];
  EventQuery filtered;
  filtered.filter.type(pick.type).run_id(pick.run_id);
  auto got = log.read(filtered);
  FUZZ_CHECK(got.ok(), "a filtered read must succeed");
  std::vector<Event> want;
  for (const Event& e : all)
    if (e.type == pick.type && e.run_id == pick.run_id) want.push_back(e);
  FUZZ_CHECK(*got == want, "filtered read = the full read filtered");

  for (Sequence s : {Sequence{1}, n}) {
    auto found = log.find_by_id(all[s - 1].id);
    if (found) {
      FUZZ_CHECK(found->id == all[s - 1].id, "find_by_id returns an event with that id");
    } else {
      check_error(found.error(), {Errc::not_found}, "find_by_id of a stored id");
      FUZZ_CHECK(false, "find_by_id must find a stored id");
    }
  }
}

Result<std::shared_ptr<LogStore>> open_store(const fs::path& root, const Control& c, bool repair) {
  LogStoreOptions o;
  o.root = root;
  o.durability = c.durability;
  o.segment_bytes = c.segment_bytes;
  o.index_every_records = 3;  // a dense sparse index: reads start mid-segment
  o.index_every_bytes = 512;
  o.read_chunk_bytes = 4096;  // the smallest chunk: frames span chunk refills
  o.buffer_bytes = 4096;
  o.flush_interval = std::chrono::milliseconds(1);
  o.poll_interval = std::chrono::milliseconds(1);
  o.repair_damaged_tail = repair;
  return LogStore::open(std::move(o));
}

/// After a successful writer open at `latest`: append latest + 1, read it back, reopen clean.
void append_one_more(const fs::path& root, const Control& c, std::shared_ptr<SessionLog> writer, Sequence latest,
                     const std::shared_ptr<SessionLog>& reader) {
  const std::vector<Event> before = read_all(*writer, latest);
  check_queries(*writer, before);

  Event e;
  e.sequence_number = latest + 1;
  e.type = EventType::message_streamed;
  e.id = "fuzz-append-" + std::to_string(latest + 1);
  e.session_id = std::string(kSession);
  e.run_id = "r";
  e.timestamp_ns = 1'700'000'000'000'000'000;
  e.data = R"({"fuzz":true})";
  const EventView v = e.view();
  std::vector<std::byte> rec(EventRecord::encoded_size(v));
  EventRecord::encode(rec.data(), v);
  const std::span<const std::byte> rec_span(rec);
  AppendBatch batch;
  batch.first_sequence = latest + 1;
  batch.events = std::span<const EventView>(&v, 1);
  batch.records = std::span<const std::span<const std::byte>>(&rec_span, 1);
  Status st = writer->append(batch);
  if (!st) std::fprintf(stderr, "append failed: %s\n", st.error().describe().c_str());
  FUZZ_CHECK(st.ok(), "appending after a successful writer open must work");
  auto secured = writer->wait_for(latest, std::chrono::steady_clock::now() + std::chrono::seconds(20));
  FUZZ_CHECK(secured.ok() && *secured == latest + 1, "the appended event must be secured");
  const std::vector<Event> after = read_all(*writer, latest + 1);
  FUZZ_CHECK(std::equal(before.begin(), before.end(), after.begin()), "appending must not change older events");
  FUZZ_CHECK(after.back() == e, "the appended event reads back unchanged");
  if (reader && c.durability != Durability::none) {
    // A read handle opened before the writer follows the files (docs/store.md "Reads").
    auto seen = reader->wait_for(latest, std::chrono::steady_clock::now() + std::chrono::seconds(20));
    FUZZ_CHECK(seen.ok() && *seen == latest + 1, "an earlier read handle sees the appended event");
    (void)read_all(*reader, latest + 1);
  }
  writer.reset();  // closes the writer (flushes a `none` buffer)

  auto store = open_store(root, c, false);
  FUZZ_CHECK(store.ok(), "reopening the store");
  auto report = (*store)->verify(kSession);
  FUZZ_CHECK(report.ok(), "verify after the append");
  if (!report->ok() || report->torn_tail_bytes != 0)
    std::fprintf(stderr, "after append: %s at %s offset %llu\n", report->problem.c_str(), report->file.c_str(),
                 static_cast<unsigned long long>(report->offset));
  FUZZ_CHECK(report->ok() && report->torn_tail_bytes == 0, "after a writer open and an append the store is clean");
  FUZZ_CHECK(report->intact.latest_sequence == latest + 1, "verify sees the appended event");
  auto again = (*store)->open(kSession, OpenMode::read);
  FUZZ_CHECK(again.ok(), "a read open after the append");
  FUZZ_CHECK((*again)->latest_sequence() == latest + 1, "a fresh read open sees the appended event");
  const std::vector<Event> reread = read_all(**again, latest + 1);
  FUZZ_CHECK(reread == after, "a fresh read open reads the same events");
}

void run_one(const fs::path& root, std::uint8_t control, std::string_view body) {
  const Control c = decode_control(control);
  {  // a store first (its SESSIONRING marker), as every root holding sessions has: the files
     // below are then a session of a store, whatever they hold (an empty session directory in a
     // root without a marker is "not a store", docs/store.md "Layout")
    auto fresh = open_store(root, c, false);
    FUZZ_CHECK(fresh.ok(), "LogStore::open of the empty temp root");
  }
  const fs::path dir = root / kSession;
  std::vector<std::string> files = split_files(body);
  const std::string last_segment = write_session(dir, files, c);

  auto store = open_store(root, c, false);
  FUZZ_CHECK(store.ok(), "LogStore::open on the temp root");

  auto report = (*store)->verify(kSession);
  if (!report) std::fprintf(stderr, "verify failed: %s\n", report.error().describe().c_str());
  FUZZ_CHECK(report.ok(), "verify reports damage in its report, it does not fail");
  if (report->damaged || !report->problem.empty()) {
    FUZZ_CHECK(!report->problem.empty() && !report->file.empty(), "a problem names itself and its file");
  }
  auto info = (*store)->info(kSession);
  if (!info) check_error(info.error(), {Errc::damaged_store}, "info");
  const Sequence intact = report->intact.latest_sequence;

  // Read open: the verified prefix, or damaged_store exactly when verify found damage.
  std::shared_ptr<SessionLog> reader;
  {
    auto r = (*store)->open(kSession, OpenMode::read);
    if (report->damaged) {
      FUZZ_CHECK(!r.ok(), "a read open of a damaged session must fail");
      check_error(r.error(), {Errc::damaged_store}, "read open of a damaged session");
    } else {
      if (!r) std::fprintf(stderr, "read open failed: %s\n", r.error().describe().c_str());
      FUZZ_CHECK(r.ok(), "a read open of a session verify found intact must succeed");
      FUZZ_CHECK((*r)->latest_sequence() == intact, "read open latest = verify's intact prefix");
      const std::vector<Event> all = read_all(**r, intact);
      check_queries(**r, all);
      reader = std::move(*r);
    }
  }

  // Writer open: continues at the intact prefix (cutting a torn tail), or damaged_store.
  const bool damage_in_last = report->damaged && fs::path(report->file).filename() == last_segment;
  for (bool repair : {c.repair, true}) {
    auto s = open_store(root, c, repair);
    FUZZ_CHECK(s.ok(), "LogStore::open on the temp root");
    auto w = (*s)->open(kSession, OpenMode::write);
    const bool expect_ok = !report->damaged || (repair && damage_in_last);
    if (!expect_ok) {
      FUZZ_CHECK(!w.ok(), "a writer open of a damaged session must fail without repair");
      check_error(w.error(), {Errc::damaged_store}, "writer open of a damaged session");
      continue;
    }
    if (!w) std::fprintf(stderr, "writer open failed: %s\n", w.error().describe().c_str());
    FUZZ_CHECK(w.ok(), "a writer open must succeed when the damage is repairable");
    FUZZ_CHECK((*w)->latest_sequence() == intact && (*w)->written_sequence() == intact,
               "a writer open continues at the intact prefix (INV-1, INV-9)");
    append_one_more(root, c, std::move(*w), intact, reader);
    return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const sessionring::fuzz::TempRoot root("sessionring-fuzz-log");
  if (size == 0) return 0;
  sessionring::fuzz::FuzzInput in(data, size);
  const std::uint8_t control = in.u8();
  root.clear();
  run_one(root.path(), control, in.rest());
  return 0;
}
