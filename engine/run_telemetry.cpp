#include "detail/run_telemetry.hpp"

#include <algorithm>
#include <set>
#include <vector>

namespace sessionring::detail {

void RunTelemetry::sample_lapped(const SessionStats& stats) {
  if (!sink_) return;
  struct Delta {
    std::string subscriber;
    std::uint64_t delta;
    const SubscriptionStats* sub;
  };
  std::vector<Delta> deltas;
  {
    std::lock_guard lock(lapped_mutex_);
    std::set<std::uint64_t> present;
    for (const SubscriptionStats& s : stats.subscribers) {
      present.insert(s.id);
      std::uint64_t& seen = lapped_seen_[s.id];
      if (s.lapped_count > seen) deltas.push_back(Delta{std::to_string(s.id), s.lapped_count - seen, &s});
      seen = std::max(seen, s.lapped_count);
    }
    std::erase_if(lapped_seen_, [&](const auto& kv) { return !present.contains(kv.first); });
  }
  for (const Delta& d : deltas)  // no lock held: the sink may call back into the server
    emit(telemetry::kSubscriberLapped,
         {{"lapped", static_cast<std::int64_t>(d.delta)},
          {"lapped_total", static_cast<std::int64_t>(d.sub->lapped_count)},
          {"cursor", static_cast<std::int64_t>(d.sub->cursor)},
          {"lag", static_cast<std::int64_t>(d.sub->lag)}},
         {{"subscriber_id", d.subscriber}});
}

}  // namespace sessionring::detail
