// LogStore: the embedded durable store. One directory per session under a root; each session
// an append-only log of checksummed records in segments, with a sparse sequence index and an
// id index rebuilt on open (docs/store.md). Implements SessionStore / SessionLog.
//
// Threads: every member function from any thread. One writer per session across processes
// (a byte-range lock on <root>/LOCKS, one descriptor for all the store's sessions: a second
// gets Errc::writer_conflict); read handles work while another process writes and see its new
// records. Descriptors: one for the locks, plus the segment files of writers that appended
// recently, at most LogStoreOptions::max_open_writer_files of them between appends; reads open
// a segment file for the duration of one call (docs/store.md "Descriptors").
#pragma once
#include <sessionring/log_store_options.hpp>
#include <sessionring/session_info.hpp>
#include <sessionring/session_store.hpp>
#include <sessionring/verify_report.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sessionring {

class LogStore final : public SessionStore {
 public:
  /// Validates the options (Errc::validation_error naming the option), creates the root
  /// directory if missing (Errc::storage_error with the OS reason when that fails), and checks
  /// its marker (docs/store.md "Layout"): a new or empty root gets one; a directory that is not
  /// a store is Errc::not_found saying what it holds (a session directory: naming the store
  /// above it); a marker of a newer format is Errc::unsupported_format. With
  /// options.read_only nothing is created or written (a missing root is Errc::not_found).
  static Result<std::shared_ptr<LogStore>> open(LogStoreOptions options);

  std::string_view kind() const noexcept override { return "log"; }

  /// write: creates the session if missing, takes the writer lock, recovers the tail
  /// (truncates a torn last record, INV-9) and continues the sequence (INV-1).
  /// read: Errc::not_found for a missing session. Damage found while opening is
  /// Errc::damaged_store naming the file and offset.
  Result<std::shared_ptr<SessionLog>> open(std::string_view session_id, OpenMode mode) override;

  /// A read handle on what survives of a session even when it is damaged (for tools that show
  /// it, `sessionring tail`): reads deliver the intact prefix (sequences 1..report.intact
  /// .latest_sequence); `report.damaged` and its problem/file/offset say where the damage is.
  /// wait_for past the prefix answers the damage (damaged_store) instead of waiting. For a
  /// session without damage it is open(session_id, OpenMode::read). Never modifies files.
  Result<std::shared_ptr<SessionLog>> open_intact_prefix(std::string_view session_id, VerifyReport& report);

  /// A read handle for reading near the end of a long session (`sessionring tail -n N`): the
  /// open checks the segment headers and reads the records of the last segment only (as info()
  /// does), so it costs one segment, not the session. Records of earlier segments are checked
  /// when a read reaches them (each is located from its segment's start, no sparse index):
  /// damage there is that read's damaged_store, naming the file and offset. Damage in what the
  /// open reads is handled as open_intact_prefix does (`report`). Never modifies files; the
  /// handle is not shared with other opens of this store.
  Result<std::shared_ptr<SessionLog>> open_tail(std::string_view session_id, VerifyReport& report);

  /// Subdirectories of the root that are valid session ids, sorted.
  Result<std::vector<std::string>> list_sessions() const override;

  /// Latest sequence, event count, bytes and segment count of one session (reads only the
  /// segment headers and the last segment). Errc::not_found for a missing session;
  /// Errc::damaged_store for damage in what it reads (damage in the records of earlier
  /// segments is found by verify() only).
  Result<SessionInfo> info(std::string_view session_id) const;

  /// Reads every record of the session, checking checksums and contiguity; reports the first
  /// problem with its file and offset. Never modifies the files.
  Result<VerifyReport> verify(std::string_view session_id) const;

  /// Whether a writer — of this store, another LogStore on the root or another process —
  /// holds the session's writer lock now. Takes no lock (a starting writer never fails
  /// because of it); works on a read-only store. A stale answer by the time it returns.
  /// Errc::validation_error for a bad id, Errc::storage_error when the OS cannot say.
  Result<bool> writer_active(std::string_view session_id) const;

  /// Segment files the writers of this store hold open now (statistics, tests).
  std::size_t open_writer_files_approx() const noexcept;

  const LogStoreOptions& options() const noexcept;

  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;
  ~LogStore() override;

 private:
  struct State;
  explicit LogStore(std::unique_ptr<State> state);
  /// open_intact_prefix (full: every record checked) and open_tail (headers and last segment).
  Result<std::shared_ptr<SessionLog>> open_reader(std::string_view session_id, VerifyReport& report, bool full);
  std::unique_ptr<State> state_;
};

}  // namespace sessionring
