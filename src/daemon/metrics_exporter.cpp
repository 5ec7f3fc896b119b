#include "daemon/metrics_exporter.hpp"

#include <prometheus/exposer.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace zpartisan::daemon {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Counter-map entries that are levels, not totals.
const std::map<std::string, std::pair<std::string, std::string>>& gauges() {
    static const std::map<std::string, std::pair<std::string, std::string>> names = {
        {"unacked",
         {"zpartisan_unacked_messages", "acked messages sent and not yet acknowledged (the retransmit buffer)"}},
        {"stalled_frames", {"zpartisan_stalled_frames", "frames waiting for a full connection to drain"}},
        {"stalled_hops", {"zpartisan_stalled_hops", "next hops with stalled frames"}},
        {"held_back_now", {"zpartisan_held_back_messages", "messages held back to restore send order"}},
        {"dealers", {"zpartisan_dialed_connections", "outgoing connections (one DEALER each)"}},
        {"duplicate_windows", {"zpartisan_duplicate_windows", "senders whose recent message ids are remembered"}},
        {"first_welcome_ms",
         {"zpartisan_first_welcome_milliseconds", "from this node's start to the first server's welcome"}},
    };
    return names;
}

// Counters with a name or label of their own; the rest become zpartisan_<name>_total.
struct labelled {
    std::string prefix, family, label, help;
};
const std::vector<labelled>& labelled_counters() {
    static const std::vector<labelled> list = {
        {"dropped_", "zpartisan_drops_total", "reason", "inbound frames or messages dropped, by reason"},
        {"received_", "zpartisan_messages_received_total", "type", "protocol messages received, by type"},
        {"deliveries_failed_", "zpartisan_deliveries_failed_total", "reason",
         "acked messages not delivered, by reason"},
    };
    return list;
}

ClientMetric with_value(MetricType type, double value, std::vector<ClientMetric::Label> labels = {}) {
    ClientMetric m;
    m.label = std::move(labels);
    if (type == MetricType::Gauge)
        m.gauge.value = value;
    else
        m.counter.value = value;
    return m;
}

// Prometheus names are [a-zA-Z_:][a-zA-Z0-9_:]*; a counter name from the node may hold
// spaces ("dropped_decode_frame shorter than the header"): those go in a label value.
std::string metric_name_part(const std::string& text) {
    std::string out;
    for (const char c : text) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
    return out;
}

MetricFamily gauge_family(std::string name, std::string help, std::vector<ClientMetric> metrics) {
    return MetricFamily{std::move(name), std::move(help), MetricType::Gauge, std::move(metrics)};
}

class node_metrics : public prometheus::Collectable {
public:
    explicit node_metrics(const Node& node) : _node(node) {}
    std::vector<MetricFamily> Collect() const override {
        const auto status = _node.status();
        auto counters = status.counters;
        counters.try_emplace("relayed", 0);  // the node counts it from the first; Prometheus wants it from the start
        auto families = families_of_counters(counters);
        std::size_t unreachable = 0;
        for (const auto& entry : _node.liveness())
            if (!entry.reachable) ++unreachable;
        const auto reachable = status.member_count - std::min(status.member_count, unreachable);
        families.push_back(gauge_family(
            "zpartisan_members", "cluster members as this node sees them, by state",
            {with_value(MetricType::Gauge, static_cast<double>(reachable), {{"state", "reachable"}}),
             with_value(MetricType::Gauge, static_cast<double>(unreachable), {{"state", "unreachable"}})}));
        const bool running = status.running && _node.running();
        families.push_back(gauge_family("zpartisan_running", "1 while the node runs (not left, removed or stopped)",
                                        {with_value(MetricType::Gauge, running ? 1 : 0)}));
        families.push_back(gauge_family("zpartisan_settled", "1 when joined and connected to every peer it should be",
                                        {with_value(MetricType::Gauge, status.settled ? 1 : 0)}));
        families.push_back(
            gauge_family("zpartisan_attached_clients", "servers: clients whose home is this node",
                         {with_value(MetricType::Gauge, static_cast<double>(status.attached_clients.size()))}));
        families.push_back(
            gauge_family("zpartisan_partitions", "injected partitions this node holds",
                         {with_value(MetricType::Gauge, static_cast<double>(_node.partitions().size()))}));
        return families;
    }

private:
    const Node& _node;
};

}  // namespace

std::vector<MetricFamily> families_of_counters(const std::map<std::string, std::uint64_t>& counters) {
    std::map<std::string, MetricFamily> families;
    const auto add = [&families](const std::string& name, const std::string& help, MetricType type,
                                 ClientMetric metric) {
        auto& family = families[name];
        if (family.name.empty()) family = MetricFamily{name, help, type, {}};
        family.metric.push_back(std::move(metric));
    };
    for (const auto& [key, value] : counters) {
        const auto v = static_cast<double>(value);
        if (const auto g = gauges().find(key); g != gauges().end()) {
            add(g->second.first, g->second.second, MetricType::Gauge, with_value(MetricType::Gauge, v));
            continue;
        }
        if (key == "relayed") {
            add("zpartisan_messages_relayed_total", "messages this node passed on for others", MetricType::Counter,
                with_value(MetricType::Counter, v));
            continue;
        }
        if (key == "messages_out") {
            add("zpartisan_messages_sent_total", "messages sent to peers", MetricType::Counter,
                with_value(MetricType::Counter, v));
            continue;
        }
        bool done = false;
        for (const auto& l : labelled_counters()) {
            if (key.rfind(l.prefix, 0) != 0 || key.size() == l.prefix.size()) continue;
            add(l.family, l.help, MetricType::Counter,
                with_value(MetricType::Counter, v, {{l.label, key.substr(l.prefix.size())}}));
            done = true;
            break;
        }
        if (done) continue;
        const auto name = "zpartisan_" + metric_name_part(key) + "_total";
        add(name, "the node's counter " + key, MetricType::Counter, with_value(MetricType::Counter, v));
    }
    std::vector<MetricFamily> out;
    for (auto& [name, family] : families) out.push_back(std::move(family));
    return out;
}

metrics_exporter::metrics_exporter(const Node& node, const std::string& bind)
    : _registry(std::make_shared<prometheus::Registry>()), _node_metrics(std::make_shared<node_metrics>(node)) {
    // Seconds a peer had been silent when it was seen failing: heartbeat interval times the
    // missed heartbeats allowed, plus what the connection's loss or the detector's phase adds.
    auto& family = prometheus::BuildHistogram()
                       .Name("zpartisan_failure_detection_delay_seconds")
                       .Help("how long a peer had been silent when this node saw it go down")
                       .Register(*_registry);
    _detection_delay =
        &family.Add({}, prometheus::Histogram::BucketBoundaries{0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30});
    try {
        _exposer = std::make_unique<prometheus::Exposer>(bind, 1);
    } catch (const std::exception& e) {
        throw std::runtime_error("cannot serve metrics on " + bind + ": " + e.what());
    }
    _exposer->RegisterCollectable(_registry);
    _exposer->RegisterCollectable(_node_metrics);
}

metrics_exporter::~metrics_exporter() = default;

void metrics_exporter::observe(const std::vector<membership_event>& events) {
    for (const auto& event : events)
        if (event.kind == "down") _detection_delay->Observe(event.detail.value("silent_ms", 0.0) / 1000.0);
}

int metrics_exporter::port() const {
    const auto ports = _exposer->GetListeningPorts();
    return ports.empty() ? 0 : ports.front();
}

}  // namespace zpartisan::daemon
