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
#include "stop_signal.hpp"
#include "store_access.hpp"

#include <sessionring/event_query.hpp>
#include <sessionring/event_type.hpp>
#include <sessionring/log_store.hpp>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <deque>
#include <limits>
#include <memory>
#include <tuple>
#include <string>
#include <vector>

#include <poll.h>
#include <unistd.h>

namespace sessionring::tools {
namespace {

struct TailOptions {
  std::string store = default_store();
  std::string session;
  Sequence from = 1;
  Sequence until = 0;      // 0: no upper bound
  std::uint64_t count = 0; // 0: no limit
  std::uint64_t last = 0;  // 0: not --last
  std::string id;          // --id: the one event with this id
  std::string since;       // --since: events whose timestamp is at or after it
  std::string until_time;  // --until-time: events whose timestamp is at or before it
  std::vector<std::string> runs;
  std::vector<std::string> types;
  bool follow = false;
  std::string format = "text";
};


/// Exit code when the reader of standard output went away, as for a process killed by SIGPIPE.
constexpr int kExitReaderGone = 128 + SIGPIPE;


/// True when standard output is a pipe or socket whose reader has gone (`tail -f | head -2`):
/// poll reports POLLERR/POLLHUP on the write end without writing anything.
bool reader_gone() noexcept {
  pollfd p{STDOUT_FILENO, 0, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)) != 0;
}

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

/// Exit code when writing to standard output failed: interrupted by a stop signal (a write
/// cut short by it), the reader gone, or a real failure.
int write_failed(bool follow) {
  if (stop_requested()) return follow ? kExitOk : 128 + stop_signal();
  if (errno == EPIPE) return kExitReaderGone;  // the reader went away: quietly, like `cat | head`
  std::fprintf(stderr, "sessionring tail: cannot write to standard output\n");
  return kExitFailure;
}

int run_tail(const TailOptions& o) {
  EventFilter filter;
  for (const std::string& r : o.runs) filter.run_id(r);
  for (const std::string& t : o.types) filter.type(parse_event_type(t).value());  // validated by the parser
  const bool jsonl = o.format == "jsonl";
  if (o.until != 0 && o.until < o.from)
    return report_error("tail", Error(Errc::validation_error, "--until " + std::to_string(o.until) +
                                                                  " is below --from " + std::to_string(o.from)));

  // Time bounds select by the event timestamp (the producer's clock, not ordered by sequence:
  // docs/cli.md "Timestamps"), so they filter every event of the sequence range.
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
  std::int64_t t_lo = std::numeric_limits<std::int64_t>::min(), t_hi = std::numeric_limits<std::int64_t>::max();
  for (auto [text, bound, name] : {std::tuple{&o.since, &t_lo, "--since"}, std::tuple{&o.until_time, &t_hi, "--until-time"}}) {
    if (text->empty()) continue;
    auto t = parse_time_point(*text, now);
    if (!t)
      return report_error("tail", Error(Errc::validation_error,
                                        std::string(name) + " '" + *text +
                                            "' is not an RFC 3339 time (2024-05-01T10:00:00Z) or a duration (90s, 15m, 2h, 7d)"));
    *bound = *t;
  }
  const bool timed = !o.since.empty() || !o.until_time.empty();
  auto in_time = [&](const EventView& e) { return !timed || (e.timestamp_ns >= t_lo && e.timestamp_ns <= t_hi); };

  install_stop_handlers();

  auto store = open_existing_store(o.store);
  if (!store) return report_error("tail", store.error());
  // The intact prefix even of a damaged session: printed, then the damage reported (exit 3).
  VerifyReport damage;
  // --last reads near the end: a tail open reads the last segment, not the whole session
  // (earlier segments are read, and checked, only as far as the backward windows reach).
  auto log = o.last > 0 ? (*store)->open_tail(o.session, damage) : (*store)->open_intact_prefix(o.session, damage);
  if (!log) return report_error("tail", log.error());
  auto report_damage = [&] {
    return report_error("tail", Error(Errc::damaged_store,
                                      "session '" + o.session + "': " + damage.file + " offset " +
                                          std::to_string(damage.offset) + ": " + damage.problem +
                                          "; printed the intact prefix (seq 1.." +
                                          std::to_string(damage.intact.latest_sequence) + ")"));
  };
  auto format = [&](const EventView& e) { return jsonl ? event_to_jsonl(e) : event_to_text(e); };
  Output out;

  if (!o.id.empty()) {
    auto e = (*log)->find_by_id(o.id);
    if (!e) return report_error("tail", e.error());
    out.line(format(e->view()));
    if (!out.flush()) return write_failed(o.follow);
    return damage.damaged ? report_damage() : kExitOk;
  }

  const Sequence bound = o.until != 0 ? o.until : kMaxSequence;  // the last sequence wanted
  Sequence next = o.from;  // the first sequence not yet covered by a read
  std::uint64_t printed = 0;
  if (o.last > 0) {
    // The last N matching events of [next, latest], read backwards in windows of sequences:
    // unfiltered, one window of exactly N; filtered, windows that double until N matches are
    // kept or `next` is reached. Only what the windows cover is read (a long session is not).
    const Sequence latest = std::min((*log)->latest_sequence(), bound);
    const bool exact = filter.matches_everything() && !timed;
    std::deque<std::string> kept;  // the last matches found, oldest first
    std::uint64_t window = exact ? o.last : std::max<std::uint64_t>(std::min<std::uint64_t>(o.last, 1u << 30) * 4, 1024);
    Sequence hi = latest;
    while (hi >= next && kept.size() < o.last && !stop_requested()) {
      const Sequence lo = hi - next + 1 > window ? hi - window + 1 : next;
      const std::uint64_t need = o.last - kept.size();
      std::deque<std::string> found;  // the last `need` matches of this window
      EventQuery q;
      q.after = lo - 1;
      q.before = hi + 1;
      q.filter = filter;
      Status st = (*log)->read(q, [&](const EventView& e) {
        if (in_time(e)) {
          found.push_back(format(e));
          if (found.size() > need) found.pop_front();
        }
        return !stop_requested();
      });
      if (!st) return report_error("tail", st.error());
      for (auto it = found.rbegin(); it != found.rend(); ++it) kept.push_front(std::move(*it));
      hi = lo - 1;
      window = std::min<std::uint64_t>(window * 2, std::uint64_t{1} << 40);
    }
    next = std::max(next, latest + 1);
    if (stop_requested()) return 128 + stop_signal();
    while (o.count != 0 && kept.size() > o.count) kept.pop_back();
    for (auto& l : kept) out.line(std::move(l));
    if (!out.flush()) return write_failed(o.follow);
    printed = kept.size();  // --count N caps the total, --last's lines included
    if (o.count != 0 && printed >= o.count) return kExitOk;
  }
  for (;;) {
    if (stop_requested()) break;
    if (o.follow && reader_gone()) return kExitReaderGone;
    const Sequence latest = std::min((*log)->latest_sequence(), bound);
    if (latest >= next) {
      EventQuery q;
      q.after = next - 1;
      q.before = latest + 1;  // exactly (next - 1, latest]: what this round covers
      q.filter = filter;
      bool enough = false;
      Status st = (*log)->read(q, [&](const EventView& e) {
        if (!in_time(e)) return !stop_requested();
        out.line(format(e));
        enough = o.count != 0 && ++printed >= o.count;
        return !enough && !stop_requested();
      });
      if (!out.flush()) return write_failed(o.follow);
      if (!st) return report_error("tail", st.error());
      if (enough) return kExitOk;
      if (stop_requested()) break;
      next = latest + 1;
    }
    if (next > bound) break;  // --until reached
    if (damage.damaged) return report_damage();  // nothing past the damage can be read
    if (!o.follow) break;
    // Long poll in short slices so a signal or a gone reader is noticed within ~100 ms.
    auto waited = (*log)->wait_for(next - 1, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
    if (!waited) return report_error("tail", waited.error());
  }
  if (!out.flush()) return write_failed(o.follow);
  // A stop signal: a follower ends normally (exit 0); a dump cut short is not complete.
  if (stop_requested() && !o.follow) return 128 + stop_signal();
  return kExitOk;
}

}  // namespace

void add_tail_command(CLI::App& app, std::function<int()>& run) {
  auto opts = std::make_shared<TailOptions>();
  CLI::App* cmd = app.add_subcommand("tail", "Print the stored events of a session; --follow keeps streaming new ones");
  cmd->add_option("--store", opts->store, store_option_help())->type_name("STORE")->capture_default_str();
  cmd->add_option("--session", opts->session, "Session id")
      ->required()
      ->type_name("ID")
      ->check(session_id_validator());
  cmd->add_option("--from", opts->from, "First sequence to print")
      ->type_name("SEQ")
      ->capture_default_str()
      ->check(CLI::Range(Sequence{1}, kMaxSequence).description("SEQ >= 1"));
  cmd->add_option("--until", opts->until, "Last sequence to print (then exit, also with --follow)")
      ->type_name("SEQ")
      ->check(CLI::Range(Sequence{1}, kMaxSequence).description("SEQ >= 1"));
  cmd->add_option("--count,-c", opts->count, "Stop after printing N events (then exit, also with --follow)")
      ->type_name("N")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62).description("N >= 1"));
  cmd->add_option("--last,-n", opts->last, "Start with the last N matching events (of --from..--until)")
      ->type_name("N")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62).description("N >= 1"));
  cmd->add_option("--id", opts->id, "Print only the event with this event id (exit 1 not_found if none)")
      ->type_name("ID");
  cmd->add_option("--since", opts->since,
                  "Only events whose timestamp is at or after TIME: RFC 3339 (2024-05-01T10:00:00Z) or a duration "
                  "before now (90s, 15m, 2h, 7d)")
      ->type_name("TIME");
  cmd->add_option("--until-time", opts->until_time, "Only events whose timestamp is at or before TIME (as --since)")
      ->type_name("TIME");
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
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "jsonl"}));
  cmd->footer(std::string(kExitCodesFooter));
  cmd->callback([&run, opts] { run = [opts] { return run_tail(*opts); }; });
}

}  // namespace sessionring::tools
