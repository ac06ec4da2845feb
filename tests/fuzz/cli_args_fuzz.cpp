// cli_args_fuzz: fuzzer bytes as the command line of the `sessionring` program, parsed by the
// real CLI11 app (tools/app.hpp make_app, docs/cli.md). Byte 0 picks the subcommand (demo,
// bench, tune, tail, sessions, verify); the rest is split into arguments at NUL and newline.
// Checks (docs/fuzzing.md):
//   * parsing either succeeds, with the subcommand's body chosen, or throws a CLI::ParseError
//     (help and usage errors); any other exception escapes and is a crash;
//   * the subcommands that only read a store (sessions, verify, tail without --follow) are
//     also run, always against a fixed store built at start-up (a temp dir with two small
//     sessions; any --store the input gives is replaced), and must exit with a documented code:
//     0, 1 (runtime failure, e.g. an unknown session) or 2 (usage), never 3 (the store is intact);
//   * demo, bench and tune (which start engines) and tail --follow are parsed only.
#include "app.hpp"
#include "commands.hpp"
#include "fuzz_check.hpp"
#include "temp_root.hpp"

#include <sessionring/sessionring.hpp>

#include <array>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace {

using namespace sessionring;
namespace fs = std::filesystem;

constexpr std::array<std::string_view, 6> kCommands = {"demo", "bench", "tune", "tail", "sessions", "verify"};
constexpr std::size_t kMaxArgs = 48;

/// The fixed store the read-only subcommands run against: sessions "s1" (6 events of two runs)
/// and "s2" (1 event), written once per process.
const fs::path& fixture_store() {
  static const sessionring::fuzz::TempRoot root("sessionring-fuzz-cli");
  static const bool built = [] {
    LogStoreOptions o;
    o.root = root.path();
    auto store = LogStore::open(o);
    FUZZ_CHECK(store.ok(), "fixture store");
    for (auto [sid, n] : {std::pair<const char*, int>{"s1", 6}, {"s2", 1}}) {
      SessionOptions so;
      so.store = *store;
      so.session_id = sid;
      so.ring_capacity = 16;
      auto session = Session::open(so);
      FUZZ_CHECK(session.ok(), "fixture session");
      for (int i = 0; i < n; ++i) {
        EventInput e;
        e.type = all_event_types()[static_cast<std::size_t>(i * 5) % kEventTypeCount];
        const std::string run = i % 2 ? "r1" : "r2";
        const std::string data = i % 3 ? R"({"n":)" + std::to_string(i) + "}" : std::string("not json\n\x01");
        e.run_id = run;
        e.data = data;
        e.metadata = i == 1 ? R"({"model":"m"})" : "";
        e.timestamp_ns = 1'700'000'000'000'000'000 + i;
        const std::string id = "evt-" + std::to_string(i);
        e.id = id;
        FUZZ_CHECK(session->append_wait(e).ok(), "fixture append");
      }
      FUZZ_CHECK(session->stop().ok(), "fixture stop");
    }
    return true;
  }();
  (void)built;
  return root.path();
}

/// std::cerr into nothing while a command body runs (its error reports are expected).
class QuietStderr {
 public:
  QuietStderr() : saved_(std::cerr.rdbuf(sink_.rdbuf())) {}
  ~QuietStderr() { std::cerr.rdbuf(saved_); }
  QuietStderr(const QuietStderr&) = delete;
  QuietStderr& operator=(const QuietStderr&) = delete;

 private:
  std::ostringstream sink_;
  std::streambuf* saved_;
};

/// Keeps libFuzzer's SIGINT/SIGTERM handlers: `tail` installs its own.
class SavedSignals {
 public:
  SavedSignals() {
    sigaction(SIGINT, nullptr, &int_);
    sigaction(SIGTERM, nullptr, &term_);
  }
  ~SavedSignals() {
    sigaction(SIGINT, &int_, nullptr);
    sigaction(SIGTERM, &term_, nullptr);
  }
  SavedSignals(const SavedSignals&) = delete;
  SavedSignals& operator=(const SavedSignals&) = delete;

 private:
  struct sigaction int_ {};
  struct sigaction term_ {};
};

std::vector<std::string> split_args(std::string_view rest) {
  std::vector<std::string> args;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= rest.size() && args.size() < kMaxArgs; ++i) {
    if (i == rest.size() || rest[i] == '\0' || rest[i] == '\n') {
      if (i > start || i < rest.size()) args.emplace_back(rest.substr(start, i - start));
      start = i + 1;
    }
  }
  return args;
}

/// Drops any --store the input gives and appends the fixture's.
void pin_store(std::vector<std::string>& args) {
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--store") {
      ++i;  // and its value
      continue;
    }
    if (args[i].starts_with("--store=")) continue;
    kept.push_back(std::move(args[i]));
  }
  kept.emplace_back("--store");
  kept.emplace_back(fixture_store().string());
  args = std::move(kept);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fixture_store();
  // Command output goes nowhere (libFuzzer reports on stderr, which stays).
  const int null_fd = ::open("/dev/null", O_WRONLY);
  if (null_fd >= 0) {
    std::fflush(stdout);
    ::dup2(null_fd, STDOUT_FILENO);
    ::close(null_fd);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view command = kCommands[data[0] % kCommands.size()];
  std::vector<std::string> args =
      split_args(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  const bool reads_store = command == "tail" || command == "sessions" || command == "verify";
  if (reads_store) pin_store(args);
  args.insert(args.begin(), std::string(command));
  args.insert(args.begin(), "sessionring");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  CLI::App app{sessionring::tools::kAppDescription};
  std::function<int()> run;
  sessionring::tools::make_app(app, run);
  try {
    app.parse(static_cast<int>(args.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    FUZZ_CHECK(e.get_exit_code() != 0 || e.get_name() == "CallForHelp" || e.get_name() == "CallForAllHelp" ||
                   e.get_name() == "CallForVersion",
               "a parse error that is not help has a non-zero exit code");
    return 0;  // usage error or --help: what the program reports with exit code 2 (or 0)
  }
  FUZZ_CHECK(static_cast<bool>(run), "a successful parse chooses a subcommand body");
  if (!reads_store) return 0;
  if (command == "tail" && app.get_subcommand("tail")->get_option("--follow")->count() > 0) return 0;
  int rc = -1;
  {
    QuietStderr quiet;
    SavedSignals keep;
    rc = run();
  }
  if (rc < 0 || rc > 2) std::fprintf(stderr, "exit code %d\n", rc);
  FUZZ_CHECK(rc == sessionring::tools::kExitOk || rc == sessionring::tools::kExitFailure ||
                 rc == sessionring::tools::kExitUsage,
             "a read-only subcommand on an intact store exits 0, 1 or 2");
  return 0;
}
