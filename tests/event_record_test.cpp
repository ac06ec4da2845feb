// EventRecord: the one binary encoding of an event. Every field round-trips (empty and at the
// 65535-byte limit of the short fields), any alignment works, malformed records are rejected.
#include <sessionring/event.hpp>
#include <sessionring/event_record.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

using namespace sessionring;

namespace {

std::vector<std::byte> encode(const EventView& v) {
  std::vector<std::byte> out(EventRecord::encoded_size(v));
  EXPECT_GE(out.size(), EventRecord::kHeaderBytes);
  EventRecord::encode(out.data(), v);
  return out;
}

Event full_event() {
  Event e;
  e.sequence_number = 0x0123456789abcdefull;
  e.type = EventType::tool_approval_granted;
  e.id = "evt-0001";
  e.session_id = "ignored-not-stored";
  e.run_id = "run-7";
  e.timestamp_ns = -1234567890123456789;  // negative timestamps survive (pre-epoch)
  e.data = R"({"delta":"Hello"})";
  e.metadata = R"({"k":1})";
  e.correlation_id = "corr";
  e.provider = "prov";
  e.schema_version = 0xfffffffe;
  return e;
}

void expect_same_fields(const EventView& got, const Event& want, std::string_view session) {
  EXPECT_EQ(got.sequence_number, want.sequence_number);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.session_id, session);
  EXPECT_EQ(got.run_id, want.run_id);
  EXPECT_EQ(got.timestamp_ns, want.timestamp_ns);
  EXPECT_EQ(got.data, want.data);
  EXPECT_EQ(got.metadata, want.metadata);
  EXPECT_EQ(got.correlation_id, want.correlation_id);
  EXPECT_EQ(got.provider, want.provider);
  EXPECT_EQ(got.schema_version, want.schema_version);
}

}  // namespace

TEST(EventRecord, everyFieldRoundTrips) {
  const Event e = full_event();
  auto rec = encode(e.view());
  EXPECT_EQ(rec.size(), EventRecord::kHeaderBytes + e.id.size() + e.run_id.size() + e.data.size() +
                            e.metadata.size() + e.correlation_id.size() + e.provider.size());
  EventView v;
  ASSERT_TRUE(EventRecord::decode(rec, "s-9", v));
  expect_same_fields(v, e, "s-9");
  // The header accessors agree with decode.
  EXPECT_EQ(EventRecord::size_of(rec.data()), rec.size());
  EXPECT_EQ(EventRecord::sequence_of(rec.data()), e.sequence_number);
  EXPECT_EQ(EventRecord::type_of(rec.data()), e.type);
  EXPECT_EQ(EventRecord::id_of(rec.data()), e.id);
  EXPECT_EQ(EventRecord::run_id_of(rec.data()), e.run_id);
}

TEST(EventRecord, emptyFieldsRoundTrip) {
  Event e;  // every string empty
  e.sequence_number = 1;
  e.type = EventType::session_created;
  auto rec = encode(e.view());
  EXPECT_EQ(rec.size(), EventRecord::kHeaderBytes);
  EventView v;
  ASSERT_TRUE(EventRecord::decode(rec, "", v));
  expect_same_fields(v, e, "");
}

TEST(EventRecord, shortFieldsOf65535BytesRoundTrip) {
  Event e = full_event();
  e.id = std::string(65535, 'i');
  e.run_id = std::string(65535, 'r');
  e.correlation_id = std::string(65535, 'c');
  e.provider = std::string(65535, 'p');
  e.data = std::string(100000, 'd');  // long fields are not limited to 16 bits
  e.metadata = std::string(70000, 'm');
  auto rec = encode(e.view());
  EventView v;
  ASSERT_TRUE(EventRecord::decode(rec, "s", v));
  expect_same_fields(v, e, "s");
  EXPECT_EQ(EventRecord::id_of(rec.data()).size(), 65535u);
  EXPECT_EQ(EventRecord::run_id_of(rec.data()), e.run_id);
}

TEST(EventRecord, shortFieldAbove65535BytesHasNoEncoding) {
  const std::string big(65536, 'x');
  for (int field = 0; field < 4; ++field) {
    EventInput in;
    BorrowedBytes* f[] = {&in.id, &in.run_id, &in.correlation_id, &in.provider};
    *f[field] = big;
    EXPECT_EQ(EventRecord::encoded_size(in), 0u) << "field " << field;
  }
  EventInput data_only;
  data_only.data = big;  // data and metadata may exceed 64 KiB
  EXPECT_EQ(EventRecord::encoded_size(data_only), EventRecord::kHeaderBytes + big.size());
}

TEST(EventRecord, encodeFromInputUsesGivenIdTimestampAndSequence) {
  EventInput in;
  in.type = EventType::message_streamed;
  in.run_id = "r1";
  in.data = "payload";
  in.metadata = "meta";
  in.correlation_id = "c";
  in.provider = "p";
  in.schema_version = 3;
  const std::string id = "0123456789abcdef0123456789abcdef";
  std::vector<std::byte> rec(EventRecord::kHeaderBytes + id.size() + 2 + 7 + 4 + 1 + 1);
  EventInput with_id = in;
  with_id.id = id;
  ASSERT_EQ(EventRecord::encoded_size(with_id), rec.size());
  EventRecord::encode(rec.data(), in, id, 42, 7);
  EventView v;
  ASSERT_TRUE(EventRecord::decode(rec, "s", v));
  EXPECT_EQ(v.id, id);
  EXPECT_EQ(v.timestamp_ns, 42);
  EXPECT_EQ(v.sequence_number, 7u);
  EXPECT_EQ(v.data, "payload");
  EXPECT_EQ(v.schema_version, 3u);
  EventRecord::set_sequence(rec.data(), 99);
  EXPECT_EQ(EventRecord::sequence_of(rec.data()), 99u);
  ASSERT_TRUE(EventRecord::decode(rec, "s", v));
  EXPECT_EQ(v.sequence_number, 99u);
}

TEST(EventRecord, decodesAtAnyAlignment) {
  const Event e = full_event();
  auto rec = encode(e.view());
  for (std::size_t shift = 1; shift < 8; ++shift) {
    std::vector<std::byte> buf(rec.size() + shift);
    std::memcpy(buf.data() + shift, rec.data(), rec.size());
    EventView v;
    ASSERT_TRUE(EventRecord::decode({buf.data() + shift, rec.size()}, "s", v)) << shift;
    expect_same_fields(v, e, "s");
  }
}

TEST(EventRecord, trailingBytesAfterTheRecordAreIgnored) {
  const Event e = full_event();
  auto rec = encode(e.view());
  const std::size_t n = rec.size();
  rec.resize(n + 13, std::byte{0x5a});
  EventView v;
  ASSERT_TRUE(EventRecord::decode(rec, "s", v));
  expect_same_fields(v, e, "s");
}

TEST(EventRecord, malformedRecordsAreRejected) {
  const Event e = full_event();
  const auto good = encode(e.view());
  EventView v;

  // Too short for a header (including empty).
  EXPECT_FALSE(EventRecord::decode({}, "s", v));
  EXPECT_FALSE(EventRecord::decode({good.data(), EventRecord::kHeaderBytes - 1}, "s", v));
  // Truncated: record_bytes larger than the buffer.
  for (std::size_t cut : {std::size_t{1}, std::size_t{5}, good.size() - EventRecord::kHeaderBytes})
    EXPECT_FALSE(EventRecord::decode({good.data(), good.size() - cut}, "s", v)) << cut;
  // Invalid type byte.
  for (std::uint8_t t : {std::uint8_t{28}, std::uint8_t{200}, std::uint8_t{255}}) {
    auto bad = good;
    bad[4] = static_cast<std::byte>(t);
    EXPECT_FALSE(EventRecord::decode(bad, "s", v)) << int(t);
  }
  // Field lengths that do not add up to record_bytes (each length field, up and down).
  for (std::size_t off : {6, 28, 30, 32, 36, 40}) {
    for (int delta : {+1, -1}) {
      auto bad = good;
      std::uint16_t l16 = 0;
      std::uint32_t l32 = 0;
      if (off <= 32) {
        std::memcpy(&l16, bad.data() + off, 2);
        l16 = static_cast<std::uint16_t>(l16 + delta);
        std::memcpy(bad.data() + off, &l16, 2);
      } else {
        std::memcpy(&l32, bad.data() + off, 4);
        l32 = static_cast<std::uint32_t>(static_cast<std::int64_t>(l32) + delta);
        std::memcpy(bad.data() + off, &l32, 4);
      }
      EXPECT_FALSE(EventRecord::decode(bad, "s", v)) << "length at " << off << " off by " << delta;
    }
  }
  // record_bytes smaller than the header.
  {
    auto bad = good;
    const std::uint32_t tiny = 10;
    std::memcpy(bad.data(), &tiny, 4);
    EXPECT_FALSE(EventRecord::decode(bad, "s", v));
  }
  // A length so large that the sum would overflow 32 bits is still rejected.
  {
    auto bad = good;
    const std::uint32_t huge = 0xffffffffu;
    std::memcpy(bad.data() + 36, &huge, 4);
    EXPECT_FALSE(EventRecord::decode(bad, "s", v));
  }
  // The untouched record still decodes (the cases above did not pass by accident).
  EXPECT_TRUE(EventRecord::decode(good, "s", v));
}
