// The daemon's /metrics in the Prometheus text format (--metrics-bind; docs/operations.md
// lists every metric). prometheus-cpp serves it; each scrape reads the node's counters,
// status and liveness afresh, so nothing here runs between scrapes except the failure-
// detection histogram, which the daemon feeds with the "down" events it samples.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/membership_events.hpp"

namespace prometheus {
class Exposer;
class Registry;
template <typename T>
class Family;
class Histogram;
}  // namespace prometheus

namespace zpartisan::daemon {

// The node's counter map as Prometheus families: renamed to conventions (dropped_X ->
// zpartisan_drops_total{reason="X"}, relayed -> zpartisan_messages_relayed_total, ...),
// gauges (queues, stalled frames) apart from counters. Pure, for the tests.
std::vector<prometheus::MetricFamily> families_of_counters(const std::map<std::string, std::uint64_t>& counters);

class metrics_exporter {
public:
    // Serves http://bind/metrics (bind: "host:port", port 0 = any free one); throws
    // std::runtime_error when it cannot listen. node must outlive this.
    metrics_exporter(const Node& node, const std::string& bind);
    ~metrics_exporter();
    metrics_exporter(const metrics_exporter&) = delete;
    metrics_exporter& operator=(const metrics_exporter&) = delete;

    // Counts each "down" into the failure-detection histogram, by how long the peer was silent.
    void observe(const std::vector<membership_event>& events);
    [[nodiscard]] int port() const;

private:
    std::shared_ptr<prometheus::Registry> _registry;
    prometheus::Histogram* _detection_delay = nullptr;
    std::shared_ptr<prometheus::Collectable> _node_metrics;
    std::unique_ptr<prometheus::Exposer> _exposer;
};

}  // namespace zpartisan::daemon
