// resolve_durable: the durable-name part of Session::subscribe / subscribe_push
// (SubscribeOptions::durable_name; docs/design.md §7 "Durable subscriptions").
#pragma once
#include <sessionring/subscribe_options.hpp>

#include "detail/durable_cursor.hpp"
#include "detail/session_core.hpp"

#include <memory>

namespace sessionring::detail {

/// Null without durable_name. Otherwise validates the name and interval, reads the stored
/// position (or stores from_sequence − 1 when the name has none) and sets
/// options.from_sequence to position + 1.
Result<std::unique_ptr<DurableCursor>> resolve_durable(const SessionCore& core, SubscribeOptions& options);

}  // namespace sessionring::detail
