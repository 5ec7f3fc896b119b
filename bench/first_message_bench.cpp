#include "first_message_bench.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sample_stats.hpp"
#include "zpartisan/node.hpp"

namespace zpartisan::bench {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Arrival times at one node's "probe" handler, in arrival order.
class arrivals {
public:
    void add() {
        std::lock_guard lock(_mutex);
        _times.push_back(clock_type::now());
        _changed.notify_all();
    }
    // The time of the n-th arrival (0-based), or nullopt after timeout.
    std::optional<clock_type::time_point> wait_for(std::size_t n, std::chrono::milliseconds timeout) {
        std::unique_lock lock(_mutex);
        if (!_changed.wait_for(lock, timeout, [&] { return _times.size() > n; })) return std::nullopt;
        return _times[n];
    }
    std::size_t count() {
        std::lock_guard lock(_mutex);
        return _times.size();
    }

private:
    std::mutex _mutex;
    std::condition_variable _changed;
    std::vector<clock_type::time_point> _times;
};

// Default timings, as a new user has them: a 1 s heartbeat, so an acked message that
// waited for its retransmission would show as about a second.
std::unique_ptr<Node> make_node(const std::string& name, role r) {
    config cfg;
    cfg.name = name;
    cfg.role = r;
    cfg.cluster_name = "first-message-bench";
    return std::make_unique<Node>(cfg);
}

double ms_since(clock_type::time_point start, clock_type::time_point end) {
    return std::chrono::duration<double, std::milli>(end - start).count();
}

double worst(const std::vector<double>& samples) {
    return samples.empty() ? std::nan("") : *std::max_element(samples.begin(), samples.end());
}

struct pair_of_nodes {
    std::unique_ptr<Node> joined, joiner;
    std::shared_ptr<arrivals> at_joined = std::make_shared<arrivals>();
    std::shared_ptr<arrivals> at_joiner = std::make_shared<arrivals>();
};

// One way, the moment sync_join returned: the time until the handler has it (nan if it never
// came within 5 s, or the send was refused).
double first_arrival_ms(Node& from, const std::string& to, arrivals& at, bool ack) {
    const auto before = at.count();
    message_options options;
    options.ack = ack;
    const auto sent = clock_type::now();
    if (from.forward_message(to, "probe", "first", options) != send_status::ok) return std::nan("");
    const auto arrived = at.wait_for(before, 5s);
    return arrived ? ms_since(sent, *arrived) : std::nan("");
}

// The steady round trip: a probe and its echo, after the pair has settled, median of 50.
double steady_round_trip_ms(pair_of_nodes& pair) {
    std::vector<double> samples;
    for (int i = 0; i < 50; ++i) {
        const auto before = pair.at_joiner->count();
        const auto sent = clock_type::now();
        if (pair.joiner->forward_message(pair.joined->name(), "echo", "ping") != send_status::ok) continue;
        if (auto back = pair.at_joiner->wait_for(before, 5s)) samples.push_back(ms_since(sent, *back));
    }
    return median(samples);
}

}  // namespace

void run_first_message(int trials, const reporter& out) {
    for (const role joiner_role : {role::client, role::server}) {
        const std::string joiner_name = joiner_role == role::client ? "c1" : "s2";
        // Samples: [direction][kind], direction 0 = joined -> joiner, 1 = joiner -> joined.
        std::vector<double> first[2][2];
        std::vector<double> round_trips;
        int refused = 0;
        for (int trial = 0; trial < trials; ++trial) {
            pair_of_nodes pair;
            pair.joined = make_node("s1", role::server);
            pair.joiner = make_node(joiner_name, joiner_role);
            pair.joined->register_handler("probe", [at = pair.at_joined](const inbound_message&) { at->add(); });
            pair.joiner->register_handler("probe", [at = pair.at_joiner](const inbound_message&) { at->add(); });
            Node* joined = pair.joined.get();
            pair.joined->register_handler(
                "echo", [joined](const inbound_message& m) { (void)joined->forward_message(m.from, "probe", "pong"); });
            if (!pair.joiner->sync_join(pair.joined->router_endpoint(), 10s).ok()) {
                ++refused;
                continue;
            }
            // Alternating which kind goes first each trial, so neither always meets the cold path.
            for (int k = 0; k < 2; ++k) {
                const bool ack = (k + trial) % 2 == 1;
                const auto to_joiner = first_arrival_ms(*pair.joined, joiner_name, *pair.at_joiner, ack);
                const auto to_joined = first_arrival_ms(*pair.joiner, "s1", *pair.at_joined, ack);
                if (std::isnan(to_joiner) || std::isnan(to_joined)) ++refused;
                if (!std::isnan(to_joiner)) first[0][ack].push_back(to_joiner);
                if (!std::isnan(to_joined)) first[1][ack].push_back(to_joined);
            }
            round_trips.push_back(steady_round_trip_ms(pair));
        }
        const auto rtt = median(round_trips);
        for (int direction = 0; direction < 2; ++direction)
            for (int ack = 0; ack < 2; ++ack) {
                const auto& samples = first[direction][ack];
                const auto p50 = median(samples);
                out.figure({{"bench", "first_message_after_sync_join"},
                            {"joiner", joiner_role == role::client ? "client" : "server"},
                            {"direction", direction == 0 ? "joined -> joiner" : "joiner -> joined"},
                            {"kind", ack ? "acked" : "plain"},
                            {"trials", trials},
                            {"arrived", samples.size()},
                            {"first_median_ms", std::round(p50 * 100) / 100},
                            {"first_max_ms", std::round(worst(samples) * 100) / 100},
                            {"steady_rtt_median_ms", std::round(rtt * 100) / 100},
                            {"ratio_to_rtt", std::round(p50 / rtt * 100) / 100},
                            {"failed_sends", refused}});
            }
    }
}

}  // namespace zpartisan::bench
