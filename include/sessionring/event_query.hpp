// A store read: events with after < sequence < before that match the filter, oldest first,
// at most `limit` of them (0 = no limit).
#pragma once
#include <sessionring/event_filter.hpp>

#include <cstddef>
#include <limits>

namespace sessionring {

struct EventQuery {
  Sequence after = 0;                                     ///< exclusive
  Sequence before = std::numeric_limits<Sequence>::max(); ///< exclusive
  EventFilter filter;
  std::size_t limit = 0;  ///< 0: no limit
};

}  // namespace sessionring
