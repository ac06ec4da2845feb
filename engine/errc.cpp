#include <sessionring/errc.hpp>

namespace sessionring {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::ok: return "ok";
    case Errc::validation_error: return "validation_error";
    case Errc::unknown_event_type: return "unknown_event_type";
    case Errc::invalid_session_id: return "invalid_session_id";
    case Errc::event_too_large: return "event_too_large";
    case Errc::queue_full: return "queue_full";
    case Errc::timeout: return "timeout";
    case Errc::sequence_conflict: return "sequence_conflict";
    case Errc::writer_conflict: return "writer_conflict";
    case Errc::storage_error: return "storage_error";
    case Errc::damaged_store: return "damaged_store";
    case Errc::not_found: return "not_found";
    case Errc::run_not_found: return "run_not_found";
    case Errc::max_runs_exceeded: return "max_runs_exceeded";
    case Errc::cancelled: return "cancelled";
    case Errc::stopped: return "stopped";
    case Errc::closed: return "closed";
    case Errc::run_failed: return "run_failed";
    case Errc::pruned: return "pruned";
    case Errc::unsupported_format: return "unsupported_format";
    case Errc::unsupported: return "unsupported";
    case Errc::subscriber_too_slow: return "subscriber_too_slow";
  }
  return "unknown_error";
}

}  // namespace sessionring
