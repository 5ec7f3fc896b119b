#include "core/duplicate_windows.hpp"

namespace zpartisan::core {

bool duplicate_windows::delivered_before(const forward& msg) const {
    const auto it = _windows.find(std::make_pair(msg.origin, msg.origin_incarnation));
    return it != _windows.end() && (msg.id <= it->second.contiguous || it->second.above.contains(msg.id));
}

bool duplicate_windows::from_older_incarnation(const forward& msg) const {
    const auto newer = _windows.upper_bound(std::make_pair(msg.origin, msg.origin_incarnation));
    return newer != _windows.end() && newer->first.first == msg.origin;
}

void duplicate_windows::add(window& w, std::uint64_t id) {
    if (id <= w.contiguous) return;
    w.above.insert(id);
    // The first range folds into `contiguous` once nothing is missing below it, and so does
    // the oldest one when there are too many gaps (a sender that never fills them).
    while (!w.above.empty() &&
           (w.above.ranges().front().first == w.contiguous + 1 || w.above.ranges().size() > _limits.gaps_max)) {
        if (w.above.ranges().front().first != w.contiguous + 1) ++_gaps_given_up;
        w.contiguous = w.above.ranges().front().second;
        w.above.erase_first_range();
    }
}

void duplicate_windows::add_counters(std::map<std::string, std::uint64_t>& into) const {
    if (!_windows.empty()) into["duplicate_windows"] = _windows.size();
    if (_gaps_given_up > 0) into["duplicate_window_gaps_given_up"] += _gaps_given_up;
    if (_evicted > 0) into["duplicate_windows_evicted"] += _evicted;
}

}  // namespace zpartisan::core
