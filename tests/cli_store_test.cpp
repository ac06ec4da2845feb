// The `sessionring` store commands on stores that are read-only, damaged, of a newer format, or
// not stores at all (issue 17, defects 1-6): read-only commands never write (not even a lock
// file), a wrong --store says what it found, a newer format is its own error and never damage,
// damage never hides the intact prefix, and jsonl/text output is lossless and terminal-safe.
// Also the tail selections (--last, --count, --until, --id) and how tail ends (Ctrl-C during a
// dump, a reader that goes away).
#include "cli_test_support.hpp"

#include "detail/log_format.hpp"
#include "detail/log_root.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

extern "C" {  // libb64's C header declares no C linkage itself
#include <b64/cdecode.h>
}

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace sessionring {
namespace {

using namespace cli_support;
using ::testing::HasSubstr;
using ::testing::Not;

/// Every path under `root` with its size and modification time (a directory: size 0), and
/// whether it is a directory: a store "snapshot" to prove that nothing was created or written.
std::map<std::string, std::string> tree_of(const fs::path& root) {
  std::map<std::string, std::string> m;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const auto t = fs::last_write_time(e.path()).time_since_epoch().count();
    m[e.path().string()] = (e.is_directory() ? std::string("dir ") : std::to_string(e.file_size()) + " ") +
                           std::to_string(t);
  }
  return m;
}

/// Writes `payloads` as data of consecutive events of session `id` (metadata: the same bytes).
void write_payloads(const fs::path& root, const std::string& id, const std::vector<std::string>& payloads) {
  write_log_session(root, id, 64ull << 20, [&](Producer& producer) {
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      // The id outlives the append: EventInput borrows its bytes (BorrowedBytes).
      const std::string id_bytes = std::string("p").append(std::to_string(i + 1));
      EventInput e;
      e.type = EventType::message_streamed;
      e.id = id_bytes;
      e.data = payloads[i];
      e.metadata = payloads[i];
      ASSERT_TRUE(producer.append_wait(e));
    }
  });
}

std::vector<fs::path> segments_in(const fs::path& session_dir) {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(session_dir))
    if (e.path().extension() == ".seg") v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

void flip_byte(const fs::path& file, std::streamoff at) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(at);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(at);
  f.write(&c, 1);
}

std::string base64_decode(const std::string& text) {
  std::string out(text.size(), '\0');
  base64_decodestate st;
  base64_init_decodestate(&st);
  const int n = base64_decode_block(text.data(), static_cast<int>(text.size()), out.data(), &st);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Defect 1: read-only commands on a store nobody can write

/// The four read commands; each must exit 0 and leave `store` exactly as it was.
void expect_read_commands_work_and_write_nothing(const std::string& store, const std::vector<std::string>& prefix) {
  const auto before = tree_of(store);
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> all = prefix;
    all.push_back(SESSIONRING_CLI);
    all.insert(all.end(), args.begin(), args.end());
    Child c(all);
    CliResult r;
    r.exit_code = c.finish(Clock::now() + std::chrono::seconds(60));
    r.out = c.rest_of_stdout();
    r.err = c.stderr_text();
    return r;
  };
  auto sessions = run({"sessions", "--store", store});
  EXPECT_EQ(sessions.exit_code, 0) << sessions.err;
  EXPECT_THAT(sessions.out, HasSubstr("s1"));
  auto tail = run({"tail", "--store", store, "--session", "s1", "--format", "jsonl"});
  EXPECT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_EQ(tail.lines().size(), 40u);
  auto verify = run({"verify", "--store", store});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("s1: ok: 40 events"));
  {
    std::vector<std::string> all = prefix;
    all.insert(all.end(), {SESSIONRING_CLI, "tail", "--store", store, "--session", "s1", "--follow", "--format", "jsonl"});
    Child follower(all);
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    for (int i = 1; i <= 40; ++i) ASSERT_TRUE(follower.read_line(deadline)) << follower.stderr_text();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // several wait_for polls of the files
    follower.signal(SIGTERM);
    EXPECT_EQ(follower.finish(deadline), 0) << follower.stderr_text();
  }
  EXPECT_EQ(tree_of(store), before) << "a read command created or modified a file (a LOCK file, a marker, ...)";
}

TEST(CliReadOnly, readCommandsWorkOnAStoreNobodyCanWriteAndCreateNoFile) {
  TempDir dir;
  const fs::path store = dir.path() / "store";
  write_session(store, "s1", 40);
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  // `chmod -R a-w` of the store.
  for (const auto& e : fs::recursive_directory_iterator(store))
    fs::permissions(e.path(), fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                    fs::perm_options::remove);
  fs::permissions(store, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                  fs::perm_options::remove);
  // As this user (root in CI, where permissions do not bind: the snapshot proves no write).
  expect_read_commands_work_and_write_nothing(store.string(), {});
  // As an unprivileged user, where the missing write permission binds.
  if (::geteuid() == 0 && fs::exists("/usr/bin/setpriv")) {
    SCOPED_TRACE("as uid 65534 (setpriv)");
    expect_read_commands_work_and_write_nothing(
        store.string(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"});
  }
  fs::permissions(store, fs::perms::owner_write, fs::perm_options::add);
  for (const auto& e : fs::recursive_directory_iterator(store))
    fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
}

TEST(CliReadOnly, readOnlyLogStoreRefusesWriteOpensAndCreatesNothing) {
  TempDir dir;
  write_session(dir.path(), "s1", 3);
  const auto before = tree_of(dir.path());
  LogStoreOptions o;
  o.root = dir.path();
  o.read_only = true;
  auto store = LogStore::open(o);
  ASSERT_TRUE(store) << store.error();
  auto w = (*store)->open("s1", OpenMode::write);
  EXPECT_EQ(w.code(), Errc::validation_error);
  EXPECT_EQ((*store)->open("s2", OpenMode::write).code(), Errc::validation_error);
  auto r = (*store)->open("s1", OpenMode::read);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ((*r)->latest_sequence(), 3u);
  EXPECT_EQ(tree_of(dir.path()), before);
  o.root = dir.path() / "missing";
  EXPECT_EQ(LogStore::open(o).code(), Errc::not_found);
  EXPECT_FALSE(fs::exists(o.root)) << "a read-only open created the root";
}

// ---------------------------------------------------------------------------------------------
// Defect 2: a store root is recognisable

TEST(CliStoreRoot, aDirectoryThatIsNotAStoreIsRefusedSayingWhatItHolds) {
  TempDir dir;
  fs::create_directories(dir.path() / "etc-like" / "apt");
  fs::create_directories(dir.path() / "etc-like" / "ssh");
  std::ofstream(dir.path() / "etc-like" / "hosts") << "127.0.0.1 localhost\n";
  const std::string etc = (dir.path() / "etc-like").string();
  for (const char* sub : {"sessions", "verify"}) {
    auto r = cli({sub, "--store", etc});
    EXPECT_EQ(r.exit_code, 1) << sub << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(std::string("'").append(etc).append("' is not a sessionring store"))) << sub;
    EXPECT_THAT(r.err, HasSubstr("holds 3 entries")) << sub;
    EXPECT_THAT(r.out, Not(HasSubstr("ok"))) << sub;
  }
  auto real_etc = cli({"verify", "--store", "/etc"});
  EXPECT_EQ(real_etc.exit_code, 1) << real_etc.out;
  EXPECT_THAT(real_etc.err, HasSubstr("is not a sessionring store"));

  // One level too deep: the session directory, named with the store above it.
  const fs::path store = dir.path() / "sessionring-data";
  write_session(store, "demo", 5);
  auto deep = cli({"sessions", "--store", (store / "demo").string()});
  EXPECT_EQ(deep.exit_code, 1) << deep.out;
  EXPECT_THAT(deep.err, HasSubstr("is a session directory, not a store root"));
  EXPECT_THAT(deep.err, HasSubstr(std::string("open the store '").append(store.string()).append("' and the session 'demo'")));
  // One level too high (`--store .`): the store inside is named.
  std::ofstream(dir.path() / "README") << "x";
  auto high = cli({"sessions", "--store", dir.str()});
  EXPECT_EQ(high.exit_code, 1) << high.out;
  EXPECT_THAT(high.err, HasSubstr(std::string("'").append(store.string()).append("' is a store")));
  // An empty directory is not a store either; a store with no session lists none.
  TempDir empty;
  auto none = cli({"sessions", "--store", empty.str()});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_THAT(none.err, HasSubstr("the directory is empty"));
  LogStoreOptions lo;
  lo.root = empty.path();
  ASSERT_TRUE(LogStore::open(lo));
  EXPECT_TRUE(fs::exists(empty.path() / "SESSIONRING")) << "a new store gets its marker";
  auto listed = cli({"sessions", "--store", empty.str()});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr("no sessions"));
}

TEST(CliStoreRoot, writableOpenOfADirectoryThatIsNotAStoreIsRefusedAndWritesNothing) {
  TempDir dir;
  std::ofstream(dir.path() / "notes.txt") << "mine";
  const auto before = tree_of(dir.path());
  LogStoreOptions lo;
  lo.root = dir.path();
  auto store = LogStore::open(lo);
  EXPECT_EQ(store.code(), Errc::not_found);
  EXPECT_EQ(tree_of(dir.path()), before);
}

// ---------------------------------------------------------------------------------------------
// Defect 3: a newer format version is its own error, never damage

TEST(CliFormatVersion, newerSegmentVersionIsUnsupportedFormatNeverDamageAndTheFileIsUntouched) {
  TempDir dir;
  write_session(dir.path(), "s", 10);
  const auto segs = segments_in(dir.path() / "s");
  ASSERT_EQ(segs.size(), 1u);
  {  // version 2 with a valid header checksum: a newer writer's segment
    std::fstream f(segs[0], std::ios::in | std::ios::out | std::ios::binary);
    std::byte h[32];
    f.read(reinterpret_cast<char*>(h), 32);
    detail::log_format::store<std::uint32_t>(h, 8, 2);
    detail::log_format::store<std::uint64_t>(h, 24, detail::log_format::xxh3(h, 24));
    f.seekp(0);
    f.write(reinterpret_cast<const char*>(h), 32);
  }
  const auto before = tree_of(dir.path());
  for (std::vector<std::string> args : {std::vector<std::string>{"verify", "--store", dir.str()},
                                        std::vector<std::string>{"tail", "--store", dir.str(), "--session", "s"},
                                        std::vector<std::string>{"sessions", "--store", dir.str()}}) {
    auto r = cli(args);
    SCOPED_TRACE(args[0]);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("unsupported_format"));
    EXPECT_THAT(r.err, HasSubstr("written by a newer sessionring: format version 2, this build reads 1"));
    EXPECT_THAT(r.err + r.out, Not(HasSubstr("DAMAGED")));
    EXPECT_THAT(r.err, Not(HasSubstr("damaged_store")));
  }
  // A writer (even one allowed to repair) refuses it and leaves the file as it is.
  LogStoreOptions lo;
  lo.root = dir.path();
  lo.repair_damaged_tail = true;
  auto store = LogStore::open(lo);
  ASSERT_TRUE(store) << store.error();
  EXPECT_EQ((*store)->open("s", OpenMode::write).code(), Errc::unsupported_format);
  EXPECT_EQ(tree_of(dir.path()), before);
}

TEST(CliFormatVersion, newerStoreMarkerIsUnsupportedFormat) {
  TempDir dir;
  write_session(dir.path(), "s", 3);
  std::ofstream(dir.path() / "SESSIONRING", std::ios::trunc) << "sessionring log store\nformat 2\n";
  auto r = cli({"sessions", "--store", dir.str()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(std::string("unsupported_format: store '").append(dir.str()).append(
                               "' was written by a newer sessionring: format version 2, this build reads 1")));
  LogStoreOptions lo;
  lo.root = dir.path();
  EXPECT_EQ(LogStore::open(lo).code(), Errc::unsupported_format);
}

// ---------------------------------------------------------------------------------------------
// Defects 4 and 5: damage never hides the intact prefix, and is always reported

TEST(CliDamage, tailPrintsTheIntactPrefixThenReportsTheDamageWithExitThree) {
  TempDir dir;
  write_session(dir.path(), "bad", 200, 4096);
  const auto segs = segments_in(dir.path() / "bad");
  ASSERT_GE(segs.size(), 3u);
  flip_byte(segs[1], static_cast<std::streamoff>(fs::file_size(segs[1]) / 2));  // not the last: always damage
  auto v = cli({"verify", "--store", dir.str(), "--session", "bad", "--format", "jsonl"});
  ASSERT_EQ(v.exit_code, 3);
  const std::uint64_t intact = parse_jsonl(v.out).at(0).at("latest_seq").get<std::uint64_t>();
  ASSERT_GT(intact, 5u);
  ASSERT_LT(intact, 200u);

  auto all = cli({"tail", "--store", dir.str(), "--session", "bad", "--format", "jsonl"});
  EXPECT_EQ(all.exit_code, 3) << all.err;
  const auto events = parse_jsonl(all.out);
  ASSERT_EQ(events.size(), intact);
  for (std::uint64_t i = 0; i < intact; ++i) EXPECT_EQ(events[i].at("seq").get<std::uint64_t>(), i + 1);
  EXPECT_THAT(all.err, HasSubstr("damaged_store"));
  EXPECT_THAT(all.err, HasSubstr(segs[1].string() + " offset "));
  EXPECT_THAT(all.err, HasSubstr("intact prefix (seq 1.." + std::to_string(intact) + ")"));

  auto typed = cli({"tail", "--store", dir.str(), "--session", "bad", "--type", "run_started"});
  EXPECT_EQ(typed.exit_code, 3);
  EXPECT_EQ(typed.lines().size(), intact / 4) << typed.out;  // host event i is run_started when i % 4 == 0

  auto follow = cli({"tail", "--store", dir.str(), "--session", "bad", "--follow"}, std::chrono::seconds(30));
  EXPECT_EQ(follow.exit_code, 3) << "a follower cannot go past damage: it reports it instead of waiting";
  EXPECT_EQ(follow.lines().size(), intact);
}

TEST(CliDamage, sessionsReportsDamageOnStderrWithExitThreeAndAMarkedRow) {
  TempDir dir;
  write_session(dir.path(), "bad", 200, 4096);
  write_session(dir.path(), "good", 4);
  const auto segs = segments_in(dir.path() / "bad");
  ASSERT_GE(segs.size(), 3u);
  flip_byte(segs[0], 16);  // the first segment's header (sessions reads every header, not every record)
  auto r = cli({"sessions", "--store", dir.str()});
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_THAT(r.err, HasSubstr("sessionring sessions: damaged_store: session 'bad'"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("bad +DAMAGED"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("good +1 +4 +4"));
  EXPECT_THAT(r.out, HasSubstr("bad: damaged_store (see standard error"));
  auto j = cli({"sessions", "--store", dir.str(), "--format", "jsonl"});
  EXPECT_EQ(j.exit_code, 3);
  const auto rows = parse_jsonl(j.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("error"), "damaged_store");
}

TEST(CliSessions, columnsFitLongIdsAndShowHumanSizesAndAnActiveWriter) {
  TempDir dir;
  const std::string long_id = "session-0123456789abcdef0123456789abcdef";  // a generated id: 40 bytes
  write_session(dir.path(), long_id, 3);
  write_session(dir.path(), "b", 2);
  LogStoreOptions lo;
  lo.root = dir.path();
  auto store = LogStore::open(lo);
  ASSERT_TRUE(store);
  auto writer = (*store)->open("b", OpenMode::write);  // this process holds b's writer lock
  ASSERT_TRUE(writer) << writer.error();
  auto r = cli({"sessions", "--store", dir.str()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = r.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], ::testing::MatchesRegex("session +first_seq +latest_seq +events +size +segments +writer +first_time +last_time"));
  EXPECT_THAT(lines[1], ::testing::MatchesRegex("b +1 +2 +2 +[0-9.]+ k?B +1 +active +20[0-9-]+T[0-9:]+Z +20[0-9-]+T[0-9:]+Z"));
  EXPECT_THAT(lines[2], ::testing::MatchesRegex(long_id + " +1 +3 +3 +[0-9.]+ k?B +1 +- +20[0-9-]+T[0-9:]+Z +20[0-9-]+T[0-9:]+Z"));
  EXPECT_EQ(lines[1].size(), lines[0].size()) << "columns not aligned";
  EXPECT_EQ(lines[2].size(), lines[0].size()) << "columns not aligned";
  auto j = cli({"sessions", "--store", dir.str(), "--format", "jsonl"});
  const auto rows = parse_jsonl(j.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("writer_active"), true);
  EXPECT_EQ(rows[1].at("writer_active"), false);
}

// ---------------------------------------------------------------------------------------------
// Defect 6: lossless jsonl, terminal-safe text

TEST(CliOutput, jsonlKeepsEveryPayloadExactlyAndNamesItsEncoding) {
  TempDir dir;
  const std::vector<std::string> payloads = {
      "just a json string",                        // text that is not JSON
      "\"just a json string\"",                    // the JSON string
      R"({"n":123456789012345678901234567890})",   // an integer beyond 64 bits
      R"({"x":0.10000000000000000000001})",       // more digits than a double holds
      std::string("\xff\xfe bad utf-8 \x80", 15),  // not UTF-8
      std::string("bin\0ary\x01\x1b[31m", 13),     // control bytes, valid UTF-8
      "",                                          // empty
      R"({"delta":"Hi","k":[1,2.5,true,null]})",   // JSON kept as JSON
  };
  write_payloads(dir.path(), "p", payloads);
  auto r = cli({"tail", "--store", dir.str(), "--session", "p", "--format", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_jsonl(r.out);
  ASSERT_EQ(rows.size(), payloads.size());
  const std::vector<std::string> want = {"utf8", "json", "utf8", "utf8", "base64", "utf8", "utf8", "json"};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    SCOPED_TRACE(rows[i].dump());
    for (const char* key : {"data", "metadata"}) {
      const std::string enc = rows[i].at(std::string(key) + "_encoding").get<std::string>();
      EXPECT_EQ(enc, want[i]) << key;
      const auto& v = rows[i].at(key);
      if (enc == "json") {
        EXPECT_EQ(v, nlohmann::json::parse(payloads[i]));
      } else if (enc == "utf8") {
        EXPECT_EQ(v.get<std::string>(), payloads[i]);
      } else {
        EXPECT_EQ(base64_decode(v.get<std::string>()), payloads[i]);
      }
    }
  }
  // The two look-alikes differ: text vs the JSON string.
  EXPECT_NE(rows[0].at("data_encoding"), rows[1].at("data_encoding"));
}

TEST(CliOutput, textEscapesEveryControlByteAndEveryByteThatIsNotUtf8) {
  TempDir dir;
  write_payloads(dir.path(), "p",
                 {std::string("a\x1b[2Jb\x07\x7f", 8), std::string("\xff\xfe", 2), "caf\xc3\xa9 \xe2\x82\xac",
                  std::string("c1 \xc2\x85 end", 9)});
  auto r = cli({"tail", "--store", dir.str(), "--session", "p"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = r.lines();
  ASSERT_EQ(lines.size(), 4u);
  for (const auto& l : lines) {
    EXPECT_TRUE(valid_utf8(l)) << l;
    for (char c : l) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << l;
  }
  EXPECT_THAT(lines[0], HasSubstr("data=a\\x1b[2Jb\\x07\\x7f"));
  EXPECT_THAT(lines[1], HasSubstr("data=\\xff\\xfe"));
  EXPECT_THAT(lines[2], HasSubstr("data=caf\xc3\xa9 \xe2\x82\xac"));  // valid UTF-8 printed as it is
  EXPECT_THAT(lines[3], HasSubstr("data=c1 \\xc2\\x85 end"));        // a C1 control escaped
}

// ---------------------------------------------------------------------------------------------
// The --store syntax and the default store

TEST(CliStoreSpec, everyReadCommandTakesDirOrLogDirAndDefaultsToTheEnvironmentThenSessionringData) {
  TempDir dir;
  write_session(dir.path(), "s1", 3);
  for (const std::string& spec : {dir.str(), "log:" + dir.str()}) {
    auto t = cli({"tail", "--store", spec, "--session", "s1"});
    EXPECT_EQ(t.exit_code, 0) << spec << t.err;
    EXPECT_EQ(t.lines().size(), 3u);
    EXPECT_EQ(cli({"sessions", "--store", spec}).exit_code, 0) << spec;
    EXPECT_EQ(cli({"verify", "--store", spec}).exit_code, 0) << spec;
  }
  ::setenv("SESSIONRING_STORE", dir.str().c_str(), 1);  // the children inherit it
  auto from_env = cli({"tail", "--session", "s1"});
  ::unsetenv("SESSIONRING_STORE");
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;
  EXPECT_EQ(from_env.lines().size(), 3u);
  auto fallback = cli({"sessions"});  // the test's working directory holds no sessionring-data
  EXPECT_EQ(fallback.exit_code, 1);
  EXPECT_THAT(fallback.err, HasSubstr("no store at 'sessionring-data'"));
  auto help = cli({"tail", "--help"});
  EXPECT_THAT(help.out, HasSubstr("SESSIONRING_STORE"));
}

// ---------------------------------------------------------------------------------------------
// tail selections and endings

std::vector<std::uint64_t> seqs_of(const CliResult& r) {
  std::vector<std::uint64_t> v;
  for (const auto& j : parse_jsonl(r.out)) v.push_back(j.at("seq").get<std::uint64_t>());
  return v;
}

TEST(CliTailSelect, lastCountUntilAndIdSelectExactlyTheirEvents) {
  TempDir dir;
  write_session(dir.path(), "s", 100);
  const std::string store = dir.str();
  auto base = [&](std::vector<std::string> more) {
    std::vector<std::string> a = {"tail", "--store", store, "--session", "s", "--format", "jsonl"};
    a.insert(a.end(), more.begin(), more.end());
    return cli(a);
  };
  EXPECT_EQ(seqs_of(base({"-n", "3"})), (std::vector<std::uint64_t>{98, 99, 100}));
  EXPECT_EQ(seqs_of(base({"--last", "2", "--type", "run_started"})), (std::vector<std::uint64_t>{96, 100}));
  EXPECT_EQ(seqs_of(base({"--count", "2", "--from", "10"})), (std::vector<std::uint64_t>{10, 11}));
  EXPECT_EQ(seqs_of(base({"--from", "10", "--until", "12"})), (std::vector<std::uint64_t>{10, 11, 12}));
  EXPECT_EQ(seqs_of(base({"--id", "evt-42"})), (std::vector<std::uint64_t>{42}));
  auto missing = base({"--id", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("not_found"));
  // --count and --until end a follower too.
  auto followed = cli({"tail", "--store", store, "--session", "s", "--follow", "--from", "99", "--until", "100"},
                      std::chrono::seconds(30));
  EXPECT_EQ(followed.exit_code, 0);
  EXPECT_EQ(followed.lines().size(), 2u);
  auto bad = base({"--from", "20", "--until", "10"});
  EXPECT_EQ(bad.exit_code, 2);
}

TEST(CliTailSelect, sinceAndUntilTimeSelectByTheEventTimestamp) {
  TempDir dir;
  write_session(dir.path(), "s", 30);  // event i at 2023-11-14T22:13:20.123456789Z + i s
  const std::string store = dir.str();
  auto run = [&](std::vector<std::string> more) {
    std::vector<std::string> a = {"tail", "--store", store, "--session", "s", "--format", "jsonl"};
    a.insert(a.end(), more.begin(), more.end());
    return cli(a);
  };
  EXPECT_EQ(seqs_of(run({"--since", "2023-11-14T22:13:30.123456789Z", "--until-time", "2023-11-14T22:13:32.5Z"})),
            (std::vector<std::uint64_t>{10, 11, 12}));
  EXPECT_EQ(seqs_of(run({"--since", "2023-11-14T23:13:48.123456789+01:00"})),  // an offset: 22:13:48 UTC
            (std::vector<std::uint64_t>{28, 29, 30}));
  EXPECT_EQ(run({"--since", "1d"}).out, "");  // within the last day: none (2023)
  EXPECT_EQ(seqs_of(run({"--until-time", "2023-11-14T22:13:22.123456789Z"})), (std::vector<std::uint64_t>{1, 2}));
  auto bad = run({"--since", "yesterday"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--since 'yesterday' is not an RFC 3339 time"));
}

// `tail -n N` opens the session with LogStore::open_tail (segment headers and the last
// segment) and reads backwards only as far as its windows reach: a session whose early
// segments are damaged is still tailable, which a whole-session read could not be.
TEST(CliTailLast, lastEventsAreReadWithoutReadingTheSessionsEarlierSegments) {
  TempDir dir;
  write_session(dir.path(), "long", 3000, 4096);
  const auto segs = segments_in(dir.path() / "long");
  ASSERT_GE(segs.size(), 20u);
  // The first half of the segments (about sequences 1..1500) damaged; a filtered -n reads a first
  // window of 1024 sequences, within the intact half.
  for (std::size_t i = 0; i < segs.size() / 2; ++i)
    flip_byte(segs[i], static_cast<std::streamoff>(fs::file_size(segs[i]) / 2));
  const std::string store = dir.str();
  auto whole = cli({"tail", "--store", store, "--session", "long", "--format", "jsonl"});
  ASSERT_EQ(whole.exit_code, 3) << "the damage is real: a whole-session read meets it";

  auto last = cli({"tail", "--store", store, "--session", "long", "-n", "3", "--format", "jsonl"});
  EXPECT_EQ(last.exit_code, 0) << last.err;
  EXPECT_EQ(seqs_of(last), (std::vector<std::uint64_t>{2998, 2999, 3000}));
  // Filtered: windows read backwards until 2 matches are found (run_started: i % 4 == 0).
  auto typed = cli({"tail", "--store", store, "--session", "long", "-n", "2", "--type", "run_started", "--format", "jsonl"});
  EXPECT_EQ(typed.exit_code, 0) << typed.err;
  EXPECT_EQ(seqs_of(typed), (std::vector<std::uint64_t>{2996, 3000}));
  // -n reaching into a damaged segment reports that damage (exit 3), naming its file.
  auto deep = cli({"tail", "--store", store, "--session", "long", "-n", "2990", "--format", "jsonl"});
  EXPECT_EQ(deep.exit_code, 3);
  EXPECT_THAT(deep.err, HasSubstr("damaged_store"));
  EXPECT_THAT(deep.err, HasSubstr(".seg offset "));
  // A follower started with -n keeps following from the tail open.
  auto followed = cli({"tail", "--store", store, "--session", "long", "-n", "1", "--follow", "--count", "1"},
                      std::chrono::seconds(30));
  EXPECT_EQ(followed.exit_code, 0) << followed.err;
  EXPECT_EQ(followed.lines().size(), 1u);
}

TEST(CliSessions, firstAndLastEventTimesAreShownWithoutReadingTheWholeSession) {
  TempDir dir;
  write_session(dir.path(), "timed", 3000, 4096);  // event i at 2023-11-14T22:13:20.123456789Z + i s
  write_log_session(dir.path(), "empty", 64ull << 20, [](Producer&) {});
  const auto segs = segments_in(dir.path() / "timed");
  ASSERT_GE(segs.size(), 20u);
  flip_byte(segs[1], static_cast<std::streamoff>(fs::file_size(segs[1]) / 2));  // records of a middle segment
  auto j = cli({"sessions", "--store", dir.str(), "--format", "jsonl"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto rows = parse_jsonl(j.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_FALSE(rows[0].contains("first_time")) << "an empty session has no event times";
  EXPECT_EQ(rows[1].at("first_time"), "2023-11-14T22:13:21.123456789Z");
  EXPECT_EQ(rows[1].at("last_time"), "2023-11-14T23:03:20.123456789Z");
  auto t = cli({"sessions", "--store", dir.str()});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_THAT(t.out, ::testing::ContainsRegex("first_time +last_time"));
  EXPECT_THAT(t.out, ::testing::ContainsRegex("timed .* 2023-11-14T22:13:21Z  2023-11-14T23:03:20Z"));
  EXPECT_THAT(t.out, ::testing::ContainsRegex("empty +1 +0 +0 +0 B +0 +- +- +-"));
}

TEST(CliTailEnd, interruptedDumpExitsNonZeroSoAPartialDumpNeverLooksComplete) {
  TempDir dir;
  write_session(dir.path(), "big", 20000);
  // Nobody reads the pipe: the dump blocks once the pipe is full, then gets SIGINT.
  Child c({SESSIONRING_CLI, "tail", "--store", dir.str(), "--session", "big", "--format", "jsonl"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  c.signal(SIGINT);
  const int rc = c.finish(Clock::now() + std::chrono::seconds(60));
  EXPECT_EQ(rc, 130) << c.stderr_text();
}

TEST(CliTailEnd, followerExitsWhenItsReaderGoesAwayOnAnIdleSession) {
  TempDir dir;
  write_session(dir.path(), "idle", 5);
  Child c({SESSIONRING_CLI, "tail", "--store", dir.str(), "--session", "idle", "--follow"});
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  ASSERT_TRUE(c.read_line(deadline));
  ASSERT_TRUE(c.read_line(deadline));  // `| head -2`
  c.close_stdout();
  const int rc = c.finish(Clock::now() + std::chrono::seconds(10));
  EXPECT_EQ(rc, 141) << "still running (-1) or another exit; stderr: " << c.stderr_text();
}

// ---------------------------------------------------------------------------------------------
// The demo (defects 7 and 8)

/// run id -> (run_started count, terminal event count) of a stored session, via `tail`.
std::map<std::string, std::pair<int, int>> run_balance(const std::string& store, const std::string& session) {
  auto r = cli({"tail", "--store", store, "--session", session, "--format", "jsonl", "--type",
                "run_started,run_completed,run_failed,run_cancelled,run_timeout"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::pair<int, int>> m;
  for (const auto& j : parse_jsonl(r.out)) {
    auto& b = m[j.at("run_id").get<std::string>()];
    (j.at("type") == "run_started" ? b.first : b.second)++;
  }
  return m;
}

TEST(CliDemo, runsHaveUniqueIdsAcrossDemosAndACrashedDemosRunsAreClosedByTheNext) {
  TempDir dir;
  const std::string store = (dir.path() / "data").string();
  // A demo killed in the middle of its burst leaves its runs open ...
  {
    Child killed({SESSIONRING_CLI, "demo", "--store", store, "--events", "4000000", "--producers", "2",
                  "--paced-events", "0"});
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    ASSERT_TRUE(killed.read_line(deadline)) << killed.stderr_text();  // the header: the server started
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    killed.signal(SIGKILL);
    killed.finish(deadline);
  }
  // ... the next demo's server closes them on attach; each demo's runs have ids of their own.
  auto second = cli({"demo", "--store", store, "--events", "2000", "--producers", "2", "--paced-events", "500",
                     "--paced-rate", "5000"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  auto third = cli({"demo", "--store", store, "--events", "2000", "--producers", "2", "--paced-events", "0"});
  ASSERT_EQ(third.exit_code, 0) << third.out << third.err;
  const auto balance = run_balance(store, "demo");
  ASSERT_GE(balance.size(), 2u + 3u + 2u);
  for (const auto& [run, b] : balance) {
    EXPECT_EQ(b.first, 1) << "run id " << run << " was started " << b.first << " times";
    EXPECT_EQ(b.second, 1) << "run " << run << " has " << b.second << " terminal events";
  }
  // Latency only for the paced phase, labelled, with its unit; the burst shows throughput only.
  EXPECT_THAT(second.out, HasSubstr("delivery latency of the paced run (live subscriber: receipt - emit"));
  EXPECT_THAT(second.out, ::testing::ContainsRegex("p50 +p99 +p99.9 +max"));
  EXPECT_THAT(third.out, Not(HasSubstr("latency")));
  EXPECT_THAT(second.out, HasSubstr("left behind: session 'demo' in " + store));
  EXPECT_THAT(second.out, HasSubstr("remove with: rm -rf " + store + "/demo"));
  // The subscriber table: every row as wide as the header.
  std::istringstream lines(second.out);
  std::size_t header = 0;
  for (std::string l; std::getline(lines, l);) {
    if (l.find("subscriber") != std::string::npos && l.find("delivered") != std::string::npos) {
      header = l.size();
    } else if (header != 0 && l.rfind("  ", 0) == 0 && l.find("yes") != std::string::npos) {
      EXPECT_EQ(l.size(), header) << l;
    }
  }
  EXPECT_GT(header, 0u);
}

}  // namespace
}  // namespace sessionring
