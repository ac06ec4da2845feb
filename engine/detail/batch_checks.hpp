// The checks every store's writer makes on an AppendBatch before it writes anything
// (SessionLog::append; docs/store.md "Writing a store"), so that the stores answer the same codes
// and texts. LogWriter keeps its own wording ("the log's last is"), which its tests pin.
#pragma once
#include <sessionring/append_batch.hpp>
#include <sessionring/result.hpp>

#include <string>
#include <string_view>

namespace sessionring::detail {

/// validation_error when the batch's events and records differ in number; sequence_conflict
/// when it does not start right after `latest`, the store's last sequence.
inline Status check_batch_start(std::string_view session, const AppendBatch& batch, Sequence latest) {
  const bool shapes_differ = batch.records.size() != batch.events.size();
  if (!shapes_differ && batch.first_sequence == latest + 1) return {};  // the hot path builds no text
  std::string text = "session '";
  text.append(session).append("': ");
  if (shapes_differ) {
    text.append("batch has ").append(std::to_string(batch.events.size())).append(" events but ");
    text.append(std::to_string(batch.records.size())).append(" records");
    return Status(Errc::validation_error, std::move(text));
  }
  text.append("batch starts at sequence ").append(std::to_string(batch.first_sequence)).append(" but the latest is ");
  text.append(std::to_string(latest)).append(" (is a second writer appending?)");
  return Status(Errc::sequence_conflict, std::move(text));
}

}  // namespace sessionring::detail
