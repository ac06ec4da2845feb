// `sessionring tail`: prints the stored events of one session of a LogStore, from a sequence
// on, optionally filtered by run and type; with --follow keeps streaming what another process
// appends, until SIGINT/SIGTERM (docs/cli.md "tail").
//
// Following: the session is opened with OpenMode::read, so this process never takes the
// writer lock. Each round reads by query everything in (next - 1, latest] and then long-polls
// SessionLog::wait_for(next - 1, ...): with no writer in this process the LogStore re-checks
// the files every poll_interval and publishes the whole records another process appended.
// `next` only moves to latest + 1 after a read that covered every sequence up to `latest`,
// so no event is skipped or printed twice (the store reads are contiguous, INV-1/INV-3).
#include "commands.hpp"
#include "event_json.hpp"
#include "store_access.hpp"

#include <sessionring/event_query.hpp>
#include <sessionring/event_type.hpp>
#include <sessionring/log_store.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace sessionring::tools {
namespace {

struct TailOptions {
  std::string store;
  std::string session;
  Sequence from = 1;
  std::vector<std::string> runs;
  std::vector<std::string> types;
  bool follow = false;
  std::string format = "text";
};

// Writer: the signal handler; reader: the tail loop and the read visitor. Lock-free, so the
// handler may store it; relaxed is enough: it carries no data, only "stop soon".
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "stored from a signal handler");

extern "C" void on_stop_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking call returns early (sleeps are short anyway)
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() noexcept { return g_stop.load(std::memory_order_relaxed); }

/// Buffers output lines and hands them to stdout in large writes.
class Output {
 public:
  void line(std::string&& s) {
    buf_ += s;
    buf_ += '\n';
    if (buf_.size() >= (64u << 10)) flush();
  }
  /// False when stdout failed (e.g. a closed pipe with SIGPIPE ignored, or a full disk).
  bool flush() {
    if (!buf_.empty()) {
      if (std::fwrite(buf_.data(), 1, buf_.size(), stdout) != buf_.size()) ok_ = false;
      buf_.clear();
    }
    if (std::fflush(stdout) != 0) ok_ = false;
    return ok_;
  }

 private:
  std::string buf_;
  bool ok_ = true;
};

int run_tail(const TailOptions& o) {
  EventFilter filter;
  for (const std::string& r : o.runs) filter.run_id(r);
  for (const std::string& t : o.types) filter.type(parse_event_type(t).value());  // validated by the parser
  const bool jsonl = o.format == "jsonl";

  g_stop.store(false, std::memory_order_relaxed);
  install_stop_handlers();

  auto store = open_existing_store(o.store);
  if (!store) return report_error("tail", store.error());
  auto log = (*store)->open(o.session, OpenMode::read);
  if (!log) return report_error("tail", log.error());

  Output out;
  Sequence next = o.from;  // the first sequence not yet covered by a read
  for (;;) {
    if (stop_requested()) break;
    const Sequence latest = (*log)->latest_sequence();
    if (latest >= next) {
      EventQuery q;
      q.after = next - 1;
      q.before = latest + 1;  // exactly (next - 1, latest]: what this round covers
      q.filter = filter;
      Status st = (*log)->read(q, [&](const EventView& e) {
        out.line(jsonl ? event_to_jsonl(e) : event_to_text(e));
        return !stop_requested();
      });
      if (!out.flush()) {
        std::fprintf(stderr, "sessionring tail: cannot write to standard output\n");
        return kExitFailure;
      }
      if (!st) return report_error("tail", st.error());
      if (stop_requested()) break;
      next = latest + 1;
    }
    if (!o.follow) break;
    // Long poll in short slices so a signal is noticed within ~100 ms.
    auto waited = (*log)->wait_for(next - 1, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
    if (!waited) return report_error("tail", waited.error());
  }
  return out.flush() ? kExitOk : kExitFailure;
}

}  // namespace

void add_tail_command(CLI::App& app, std::function<int()>& run) {
  auto opts = std::make_shared<TailOptions>();
  CLI::App* cmd = app.add_subcommand("tail", "Print the stored events of a session; --follow keeps streaming new ones");
  cmd->add_option("--store", opts->store, "Store: a log store root DIR (or log:DIR), or sqlite:PATH")->required()->type_name("STORE");
  cmd->add_option("--session", opts->session, "Session id")
      ->required()
      ->type_name("ID")
      ->check(session_id_validator());
  cmd->add_option("--from", opts->from, "First sequence to print (default 1)")
      ->type_name("SEQ")
      ->check(CLI::Range(Sequence{1}, kMaxSequence).description("SEQ >= 1"));
  cmd->add_option("--run", opts->runs, "Only events of this run id (repeatable or comma-separated)")
      ->type_name("RUN")
      ->delimiter(',');
  cmd->add_option("--type", opts->types, "Only events of this type (repeatable or comma-separated), e.g. run_started")
      ->type_name("TYPE")
      ->delimiter(',')
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            auto t = parse_event_type(s);
            return t ? std::string() : t.error().message();
          },
          "", "event type"));
  cmd->add_flag("--follow,-f", opts->follow,
                "Keep streaming events another process appends, until SIGINT/SIGTERM (then exit 0)");
  cmd->add_option("--format", opts->format, "Output format: text (one line per event) or jsonl")
      ->check(CLI::IsMember({"text", "jsonl"}));
  cmd->footer(std::string(kExitCodesFooter));
  cmd->callback([&run, opts] { run = [opts] { return run_tail(*opts); }; });
}

}  // namespace sessionring::tools
