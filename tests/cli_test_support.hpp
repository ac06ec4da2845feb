// Shared by the CLI tests (cli_test.cpp, cli_store_test.cpp): the `sessionring` program run as a
// child process with its output on pipes, temporary store directories, and sessions written by
// a test host. SESSIONRING_CLI is the program, SESSIONRING_CLI_HELPER the appending host.
#pragma once
#include <sessionring/log_store.hpp>
#include <sessionring/sessionring.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace sessionring::cli_support {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Processes

/// A child process with its stdout and stderr on pipes.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
    if (rc != 0) throw std::runtime_error("posix_spawn " + args[0] + " failed: " + std::to_string(rc));
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
  }

  /// The next complete stdout line (without '\n'), or nullopt at EOF or the deadline.
  std::optional<std::string> read_line(Clock::time_point deadline) {
    for (;;) {
      if (auto nl = out_.find('\n', out_pos_); nl != std::string::npos) {
        std::string line = out_.substr(out_pos_, nl - out_pos_);
        out_pos_ = nl + 1;
        return line;
      }
      if (out_fd_ < 0) return std::nullopt;  // stdout closed without another complete line
      if (!pump(deadline)) return std::nullopt;
    }
  }

  void signal(int sig) { ::kill(pid_, sig); }

  /// Closes this end of the child's stdout pipe (its reader goes away, as `| head` exiting).
  void close_stdout() {
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
  }

  /// Reads both pipes to EOF and reaps the child; returns its exit code (128 + signal when it
  /// was killed), or -1 when it did not end before the deadline (then it is killed).
  int finish(Clock::time_point deadline) {
    while ((out_fd_ >= 0 || err_fd_ >= 0) && pump(deadline)) {
    }
    if (out_fd_ >= 0 || err_fd_ >= 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      reaped_ = true;
      return -1;
    }
    int st = 0;
    ::waitpid(pid_, &st, 0);
    reaped_ = true;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }

  /// stdout not yet returned by read_line.
  std::string rest_of_stdout() const { return out_.substr(out_pos_); }
  const std::string& stderr_text() const { return err_; }

 private:
  /// Waits for data on the open pipes until the deadline; false when the deadline passed.
  bool pump(Clock::time_point deadline) {
    pollfd fds[2];
    nfds_t n = 0;
    if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
    if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
    if (n == 0) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    const int r = ::poll(fds, n, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0) return errno == EINTR;
    for (nfds_t i = 0; i < n; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      int& fd = fds[i].fd == out_fd_ ? out_fd_ : err_fd_;
      std::string& buf = fds[i].fd == out_fd_ ? out_ : err_;
      char chunk[65536];
      const ssize_t got = ::read(fd, chunk, sizeof chunk);
      if (got > 0) {
        buf.append(chunk, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(fd);
        fd = -1;
      }
    }
    return true;
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::size_t out_pos_ = 0;
  std::string err_;
};

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::vector<std::string> lines() const {
    std::vector<std::string> v;
    std::istringstream s(out);
    for (std::string l; std::getline(s, l);) v.push_back(l);
    return v;
  }
};

/// Runs `sessionring ARGS...` to completion.
inline CliResult cli(std::vector<std::string> args, std::chrono::seconds timeout = std::chrono::seconds(120)) {
  args.insert(args.begin(), SESSIONRING_CLI);
  Child c(args);
  CliResult r;
  r.exit_code = c.finish(Clock::now() + timeout);
  r.out = c.rest_of_stdout();
  r.err = c.stderr_text();
  return r;
}

// ---------------------------------------------------------------------------------------------
// Stores written by the test host

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};  // writer/reader: test threads; makes names unique
    path_ = fs::temp_directory_path() / ("sessionring-cli-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter.fetch_add(1, std::memory_order_relaxed)));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

inline constexpr std::int64_t kBaseTimestamp = 1'700'000'000'123'456'789;  // 2023-11-14T22:13:20.123456789Z

/// Event i of the host sessions: run "r<i % 3>", type cycling over four types, data JSON
/// except every 7th (plain text with a newline), metadata JSON on even i.
struct HostEvent {
  std::string id, run, data, metadata;
  EventType type;
  std::int64_t ts;
};
inline HostEvent host_event(std::uint64_t i) {
  static constexpr EventType kTypes[] = {EventType::run_started, EventType::message_streamed,
                                         EventType::tool_call_completed, EventType::run_completed};
  // Strings built with append: GCC 12 warns falsely (-Wrestrict) about `"literal" + std::string`.
  const std::string n = std::to_string(i);
  HostEvent e;
  e.id = std::string("evt-").append(n);
  e.run = std::string("r").append(std::to_string(i % 3));
  e.type = kTypes[i % 4];
  e.data = i % 7 == 0 ? std::string("plain text\nline two ").append(n)
                      : std::string(R"({"i":)").append(n).append(R"(,"s":"x"})");
  e.metadata = i % 2 == 0 ? std::string(R"({"m":)").append(n).append("}") : std::string("not json");
  e.ts = kBaseTimestamp + static_cast<std::int64_t>(i) * 1'000'000'000;
  return e;
}

inline void append_host_events(Producer& producer, std::uint64_t count);

/// Opens session `id` for writing through a Session on a LogStore at `root`, hands its producer
/// to `append`, then stops the session (everything appended is stored); `expect_latest` (if
/// given) is checked against the session's latest sequence after the stop.
template <class Append>
void write_log_session(const fs::path& root, const std::string& id, std::uint64_t segment_bytes, Append&& append,
                       std::optional<Sequence> expect_latest = std::nullopt) {
  LogStoreOptions lo;
  lo.root = root;
  lo.segment_bytes = segment_bytes;
  auto store = LogStore::open(lo);
  ASSERT_TRUE(store) << store.error();
  SessionOptions so;
  so.store = *store;
  so.session_id = id;
  auto session = Session::open(so);
  ASSERT_TRUE(session) << session.error();
  auto producer = session->producer();
  ASSERT_TRUE(producer) << producer.error();
  append(*producer);
  ASSERT_TRUE(session->stop());
  if (expect_latest) {
    ASSERT_EQ(session->latest_sequence(), *expect_latest);
  }
}

/// Writes `count` host events to session `id` through a Session on a LogStore at `root`.
inline void write_session(const fs::path& root, const std::string& id, std::uint64_t count,
                          std::uint64_t segment_bytes = 64ull << 20) {
  write_log_session(root, id, segment_bytes, [&](Producer& producer) { append_host_events(producer, count); },
                    count);
}

/// Appends host events 1..count through `producer`.
inline void append_host_events(Producer& producer, std::uint64_t count) {
  for (std::uint64_t i = 1; i <= count; ++i) {
    const HostEvent h = host_event(i);
    EventInput e;
    e.type = h.type;
    e.id = h.id;
    e.run_id = h.run;
    e.data = h.data;
    e.metadata = h.metadata;
    e.timestamp_ns = h.ts;
    e.correlation_id = i % 5 == 0 ? "corr" : "";
    ASSERT_TRUE(producer.append(e));
  }
}

/// "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (no std::regex: GCC 12 warns falsely inside it under ASan).
inline bool is_rfc3339_ns(const std::string& s) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddddddddZ";
  if (s.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (kShape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != kShape[i]) return false;
  return true;
}

inline std::vector<nlohmann::json> parse_jsonl(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream s(out);
  for (std::string l; std::getline(s, l);) v.push_back(nlohmann::json::parse(l));
  return v;
}


}  // namespace sessionring::cli_support
