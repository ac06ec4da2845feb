// Filter by run id and by type: each takes one value or a set (match any of them); an empty
// set matches everything. Used by subscriptions and store queries.
#pragma once
#include <sessionring/event_view.hpp>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace sessionring {

class EventFilter {
 public:
  EventFilter() = default;

  EventFilter& run_id(std::string id) { run_ids_.push_back(std::move(id)); return *this; }
  EventFilter& type(EventType t) {
    types_ |= bit(t);
    return *this;
  }
  EventFilter& types(std::initializer_list<EventType> ts) {
    for (EventType t : ts) type(t);
    return *this;
  }

  const std::vector<std::string>& run_ids() const noexcept { return run_ids_; }
  std::uint32_t type_mask() const noexcept { return types_; }
  bool matches_everything() const noexcept { return run_ids_.empty() && types_ == 0; }

  bool matches_type(EventType t) const noexcept { return types_ == 0 || (types_ & bit(t)) != 0; }
  bool matches_run(std::string_view run) const noexcept {
    return run_ids_.empty() ||
           std::any_of(run_ids_.begin(), run_ids_.end(), [&](const std::string& r) { return r == run; });
  }
  bool matches(const EventView& e) const noexcept { return matches_type(e.type) && matches_run(e.run_id); }
  /// True when type()/types() was given a value outside the 28 enumerators (it matches no
  /// event); Session::subscribe refuses such a filter with Errc::validation_error.
  bool has_invalid_type() const noexcept { return (types_ >> kEventTypeCount) != 0; }

 private:
  // A value outside the enumeration maps to bit 31 (never a valid type's bit): no shift by 32
  // or more (undefined behaviour), and it matches no event.
  static_assert(kEventTypeCount < 32, "one bit per type plus the invalid-type bit 31");
  static std::uint32_t bit(EventType t) noexcept {
    const auto i = static_cast<unsigned>(t);
    return std::uint32_t{1} << (i < kEventTypeCount ? i : 31u);
  }
  std::vector<std::string> run_ids_;
  std::uint32_t types_ = 0;  // bit i set: EventType(i) matches; 0: every type
};

}  // namespace sessionring
