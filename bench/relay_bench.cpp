#include "relay_bench.hpp"

#include <atomic>
#include <chrono>
#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "plain_zmq.hpp"
#include "sample_stats.hpp"
#include "zpartisan/node.hpp"

namespace zpartisan::bench {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The nodes of one route, A the sender and B the receiver.
struct route_cluster {
    std::vector<std::unique_ptr<Node>> nodes;
    Node* a = nullptr;
    Node* b = nullptr;
    std::size_t relays = 0;
    bool inline_handlers = false;

    Node& add(const std::string& name, role r) {
        config cfg;
        cfg.name = name;
        cfg.role = r;
        cfg.cluster_name = "relay-bench";
        cfg.send_high_water_mark = 100000;
        cfg.inline_handlers = inline_handlers;
        nodes.push_back(std::make_unique<Node>(cfg));
        return *nodes.back();
    }

    route_cluster(const std::string& route, bool inline_mode) : inline_handlers(inline_mode) {
        auto& s1 = add("s1", role::server);
        if (route == "ss") {
            auto& s2 = add("s2", role::server);
            (void)s2.sync_join(s1.router_endpoint(), 10s);
            a = &s1;
            b = &s2;
        } else if (route == "cc1") {
            auto& c1 = add("c1", role::client);
            auto& c2 = add("c2", role::client);
            (void)c1.sync_join(s1.router_endpoint(), 10s);
            (void)c2.sync_join(s1.router_endpoint(), 10s);
            a = &c1;
            b = &c2;
            relays = 1;
        } else {
            auto& s2 = add("s2", role::server);
            (void)s2.sync_join(s1.router_endpoint(), 10s);
            auto& c1 = add("c1", role::client);
            auto& c3 = add("c3", role::client);
            (void)c1.sync_join(s1.router_endpoint(), 10s);
            (void)c3.sync_join(s2.router_endpoint(), 10s);
            a = &c1;
            b = &c3;
            relays = 2;
        }
        // Ready when A can route to B.
        const auto deadline = clock_type::now() + 10s;
        while (a->forward_message(b->name(), "warm-up", "") != send_status::ok && clock_type::now() < deadline)
            std::this_thread::sleep_for(5ms);
    }
};

double zpartisan_throughput(route_cluster& c, std::size_t payload_bytes, std::size_t messages) {
    auto received = std::make_shared<std::atomic<std::size_t>>(0);
    c.b->register_handler("sink", [received](const inbound_message&) { ++*received; });
    const std::string payload(payload_bytes, 'x');
    const auto started = clock_type::now();
    for (std::size_t i = 0; i < messages; ++i) {
        while (c.a->forward_message(c.b->name(), "sink", payload) == send_status::congested) std::this_thread::yield();
    }
    const auto deadline = clock_type::now() + 60s;
    while (received->load() < messages && clock_type::now() < deadline) std::this_thread::sleep_for(100us);
    const double seconds = std::chrono::duration<double>(clock_type::now() - started).count();
    const auto got = received->load();
    c.b->unregister_handler("sink");
    return static_cast<double>(got) / seconds;
}

std::vector<double> zpartisan_round_trip(route_cluster& c, std::size_t payload_bytes, std::size_t round_trips,
                                         bool spin) {
    // Shared with the handler: a pong that comes after its deadline must find it alive.
    struct pong_count {
        std::atomic<std::size_t> value{0};
        std::mutex mutex;
        std::condition_variable arrived;
        std::size_t load() const { return value.load(); }
    };
    auto pongs = std::make_shared<pong_count>();
    Node* b = c.b;
    c.b->register_handler("echo",
                          [b](const inbound_message& m) { (void)b->forward_message(m.from, "pong", m.payload); });
    c.a->register_handler("pong", [pongs, spin](const inbound_message&) {
        if (spin) {
            ++pongs->value;
            return;
        }
        {
            std::lock_guard lock(pongs->mutex);
            ++pongs->value;
        }
        pongs->arrived.notify_one();
    });
    const std::string payload(payload_bytes, 'x');
    std::vector<double> samples;
    for (std::size_t i = 0; i < round_trips + 200; ++i) {
        const auto expected = pongs->load() + 1;
        const auto started = clock_type::now();
        if (c.a->forward_message(c.b->name(), "echo", payload) != send_status::ok) continue;
        const auto deadline = started + 2s;
        if (spin) {
            while (pongs->load() < expected && clock_type::now() < deadline) std::this_thread::yield();
        } else {
            std::unique_lock lock(pongs->mutex);
            pongs->arrived.wait_until(lock, deadline, [&] { return pongs->load() >= expected; });
        }
        if (i >= 200) samples.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - started).count());
    }
    c.b->unregister_handler("echo");
    c.a->unregister_handler("pong");
    return samples;
}

double round1(double value) { return std::round(value * 10) / 10; }

void append(std::vector<double>& to, const std::vector<double>& from) { to.insert(to.end(), from.begin(), from.end()); }

}  // namespace

void run_relay(const relay_settings& settings, const reporter& out) {
    // The targets, counted over this run's figures, so a run says at once where it stands.
    constexpr double throughput_target = 0.8;
    constexpr double p50_target = 1.3;
    std::vector<double> throughput_ratios, latency_ratios;
    for (const auto& route : settings.routes) {
        for (const auto& handlers : settings.handlers) {
            route_cluster cluster(route, handlers == "inline");
            for (const auto size : settings.sizes) {
                const auto messages = size >= 1024 ? settings.messages / 2 : settings.messages;
                const auto rounds = std::max<std::size_t>(settings.rounds, 1);
                // Each turn pairs ours with plain libzmq run right after it, on the same machine
                // state; the ratio reported is the median of the turns' ratios, so a machine whose
                // speed drifts between turns (this one moves 30-50 %) skews neither side.
                std::vector<double> our_rates, plain_rates, rate_ratios;
                for (std::size_t turn = 0; turn < rounds; ++turn) {
                    our_rates.push_back(zpartisan_throughput(cluster, size, messages));
                    plain_rates.push_back(plain_zmq_throughput(cluster.relays, size, messages));
                    rate_ratios.push_back(our_rates.back() / plain_rates.back());
                }
                throughput_ratios.push_back(median(rate_ratios));
                const double ours = median(our_rates);
                const double plain = median(plain_rates);
                out.figure({{"bench", "relay_throughput"},
                            {"route", route},
                            {"handlers", handlers},
                            {"payload_bytes", size},
                            {"relays", cluster.relays},
                            {"zpartisan_msgs_per_s", std::round(ours)},
                            {"libzmq_msgs_per_s", std::round(plain)},
                            {"ratio", std::round(median(rate_ratios) * 1000) / 1000}});
                std::vector<double> our_samples, plain_samples, p50_ratios;
                const auto per_turn = std::max<std::size_t>(settings.round_trips / rounds, 1);
                for (std::size_t turn = 0; turn < rounds; ++turn) {
                    const bool spin = settings.wait == "spin";
                    const auto our_turn = zpartisan_round_trip(cluster, size, per_turn, spin);
                    const auto plain_turn = plain_zmq_round_trip(cluster.relays, size, per_turn, spin);
                    if (!our_turn.empty() && !plain_turn.empty())
                        p50_ratios.push_back(percentiles(our_turn).p50_us / percentiles(plain_turn).p50_us);
                    append(our_samples, our_turn);
                    append(plain_samples, plain_turn);
                }
                if (!p50_ratios.empty()) latency_ratios.push_back(median(p50_ratios));
                const auto our_rtt = percentiles(std::move(our_samples));
                const auto plain_rtt = percentiles(std::move(plain_samples));
                out.figure({{"bench", "relay_rtt"},
                            {"route", route},
                            {"handlers", handlers},
                            {"payload_bytes", size},
                            {"relays", cluster.relays},
                            {"wait", settings.wait},
                            {"zpartisan_p50_us", round1(our_rtt.p50_us)},
                            {"zpartisan_p99_us", round1(our_rtt.p99_us)},
                            {"libzmq_p50_us", round1(plain_rtt.p50_us)},
                            {"libzmq_p99_us", round1(plain_rtt.p99_us)},
                            {"p50_ratio", p50_ratios.empty() ? 0.0 : std::round(median(p50_ratios) * 1000) / 1000},
                            {"p50_ratio_pooled", std::round(our_rtt.p50_us / plain_rtt.p50_us * 1000) / 1000}});
            }
        }
    }
    const auto met = [](const std::vector<double>& ratios, auto within) {
        return static_cast<std::size_t>(std::count_if(ratios.begin(), ratios.end(), within));
    };
    const auto round3 = [](double v) { return std::round(v * 1000) / 1000; };
    out.figure(
        {{"bench", "relay_targets"},
         {"throughput_target_ratio_min", throughput_target},
         {"throughput_figures", throughput_ratios.size()},
         {"throughput_met", met(throughput_ratios, [&](double r) { return r >= throughput_target; })},
         {"throughput_ratio_worst",
          throughput_ratios.empty() ? 0.0
                                    : round3(*std::min_element(throughput_ratios.begin(), throughput_ratios.end()))},
         {"p50_target_ratio_max", p50_target},
         {"p50_figures", latency_ratios.size()},
         {"p50_met", met(latency_ratios, [&](double r) { return r <= p50_target; })},
         {"p50_ratio_worst",
          latency_ratios.empty() ? 0.0 : round3(*std::max_element(latency_ratios.begin(), latency_ratios.end()))}});
}

}  // namespace zpartisan::bench
