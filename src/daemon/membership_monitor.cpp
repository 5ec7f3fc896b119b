#include "daemon/membership_monitor.hpp"

namespace zpartisan::daemon {

void membership_monitor::poll(clock::time_point now) {
    if (!_watchers.watched() && _metrics == nullptr) {
        _last.reset();
        return;
    }
    if (now < _next_sample) return;
    _next_sample = now + sample_interval;
    auto sample = sample_of(_node);
    std::vector<membership_event> events;
    if (_last) events = changes_between(*_last, sample);
    _last = std::move(sample);
    if (_metrics) _metrics->observe(events);
    _watchers.publish(events, now);
}

}  // namespace zpartisan::daemon
