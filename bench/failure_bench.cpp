#include "failure_bench.hpp"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <memory>
#include <thread>

#include "zpartisan/node.hpp"

namespace zpartisan::bench {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

bool sees_down(const Node& observer, const std::string& name) {
    for (const auto& entry : observer.liveness())
        if (entry.node == name) return !entry.reachable;
    return false;
}

struct sample_stats {
    double median = 0, max = 0;
};

sample_stats stats(std::vector<double> samples) {
    if (samples.empty()) return {};
    std::sort(samples.begin(), samples.end());
    return {samples[samples.size() / 2], samples.back()};
}

}  // namespace

void run_failure_detection(int trials, std::uint32_t heartbeat_ms, std::uint32_t missed, const reporter& out) {
    auto make = [&](const std::string& name, role r) {
        config cfg;
        cfg.name = name;
        cfg.role = r;
        cfg.cluster_name = "failure-bench";
        cfg.heartbeat_interval_ms = heartbeat_ms;
        cfg.missed_heartbeats = missed;
        cfg.handshake_retry_ms = heartbeat_ms;
        return std::make_unique<Node>(cfg);
    };
    for (const bool crash : {true, false}) {
        std::vector<double> detection_ms, rehome_ms;
        for (int trial = 0; trial < trials; ++trial) {
            auto victim = make("s1", role::server);
            auto watcher = make("s2", role::server);
            auto client = make("c1", role::client);
            (void)watcher->sync_join(victim->router_endpoint(), 10s);
            (void)client->sync_join(victim->router_endpoint(), 10s);
            std::this_thread::sleep_for(std::chrono::milliseconds(2 * heartbeat_ms));  // steady state
            const auto failed_at = clock_type::now();
            if (crash)
                victim.reset();  // sockets closed, no goodbye: kill -9
            else
                victim->stop();  // silent with connections open: SIGSTOP
            const auto deadline = failed_at + 30s;
            bool seen = false, moved = false;
            while ((!seen || !moved) && clock_type::now() < deadline) {
                const auto now = clock_type::now();
                if (!seen && sees_down(*watcher, "s1")) {
                    seen = true;
                    detection_ms.push_back(std::chrono::duration<double, std::milli>(now - failed_at).count());
                }
                if (!moved && client->status().self.home_server == "s2") {
                    moved = true;
                    rehome_ms.push_back(std::chrono::duration<double, std::milli>(now - failed_at).count());
                }
                std::this_thread::sleep_for(1ms);
            }
        }
        const auto detection = stats(detection_ms);
        const auto rehome = stats(rehome_ms);
        out.figure({{"bench", "failure_detection"},
                    {"failure", crash ? "crash (sockets closed)" : "hang (silent, sockets open)"},
                    {"trials", trials},
                    {"heartbeat_ms", heartbeat_ms},
                    {"missed_heartbeats", missed},
                    {"bound_ms", heartbeat_ms * missed},
                    {"detected", detection_ms.size()},
                    {"detection_median_ms", std::round(detection.median)},
                    {"detection_max_ms", std::round(detection.max)},
                    {"rehome_median_ms", std::round(rehome.median)},
                    {"rehome_max_ms", std::round(rehome.max)}});
    }
}

}  // namespace zpartisan::bench
