// resolve_durable (engine/detail/durable_subscribe.hpp).
#include "detail/durable_subscribe.hpp"

#include <algorithm>
#include <string>

namespace sessionring::detail {

Result<std::unique_ptr<DurableCursor>> resolve_durable(const SessionCore& core, SubscribeOptions& options) {
  if (options.durable_name.empty()) {
    if (options.auto_commit) return Error(Errc::validation_error, "SubscribeOptions::auto_commit needs a durable_name");
    return std::unique_ptr<DurableCursor>();
  }
  if (core.options.follow)  // commits go through the writer handle; a follower holds a read handle
    return Error(Errc::unsupported, "session '" + core.options.session_id +
                                        "' is open as a follower (SessionOptions::follow): durable cursors are committed "
                                        "by the session's writer; subscribe there, or resume here with from_sequence");
  if (Status st = validate_cursor_name(options.durable_name); !st) return st.error();
  if (options.commit_interval.count() < 0 || options.commit_interval > std::chrono::hours(1))
    return Error(Errc::validation_error,
                 "SubscribeOptions::commit_interval = " + std::to_string(options.commit_interval.count()) +
                     " ms is outside [0, 1 hour]");
  SessionLog& log = *core.log;
  Sequence position = 0;
  auto stored = log.read_cursor(options.durable_name);
  if (stored) {
    position = *stored;  // from_sequence is ignored: the stored position wins
  } else if (stored.code() == Errc::not_found) {
    const Sequence from =
        options.from_sequence == 0 ? std::max<Sequence>(log.first_sequence(), 1) : options.from_sequence;
    position = std::min(from - 1, log.latest_sequence());
    if (Status st = log.commit_cursor(options.durable_name, position); !st) return st.error();
    if (from - 1 > position) {
      // A from_sequence past the head: the cursor waits there; stored once the head reaches it.
      options.from_sequence = from;
      return std::make_unique<DurableCursor>(core.log, options.durable_name, position, options.commit_interval,
                                             options.auto_commit);
    }
  } else {
    return stored.error();
  }
  options.from_sequence = position + 1;
  return std::make_unique<DurableCursor>(core.log, options.durable_name, position, options.commit_interval,
                                         options.auto_commit);
}

}  // namespace sessionring::detail
