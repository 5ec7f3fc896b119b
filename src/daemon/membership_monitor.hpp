// Samples the node's view of its cluster every sample_interval while someone wants the
// changes (a watcher, or the metrics' failure-detection histogram), and hands each change to
// both. Runs on the daemon's control thread, between requests.
#pragma once

#include <chrono>
#include <optional>

#include "daemon/membership_events.hpp"
#include "daemon/metrics_exporter.hpp"
#include "daemon/watch_stream.hpp"

namespace zpartisan::daemon {

class membership_monitor {
public:
    using clock = std::chrono::steady_clock;
    static constexpr auto sample_interval = std::chrono::milliseconds(100);

    // metrics may be null (no --metrics-bind); both must outlive this.
    membership_monitor(const Node& node, watch_stream& watchers, metrics_exporter* metrics)
        : _node(node), _watchers(watchers), _metrics(metrics) {}

    // Samples when one is due; with no one listening, forgets the last sample, so a watcher
    // that comes later is not told of what changed before it came.
    void poll(clock::time_point now);
    // Whether anyone wants the changes (then poll() wants calling every sample_interval).
    [[nodiscard]] bool listening() const { return _watchers.watched() || _metrics != nullptr; }

private:
    const Node& _node;
    watch_stream& _watchers;
    metrics_exporter* _metrics;
    std::optional<membership_sample> _last;
    clock::time_point _next_sample{};
};

}  // namespace zpartisan::daemon
