// Flow control in the seeded simulation: connections that hold a few data frames, a steady
// load of plain and acked messages between clients through their servers, and from the seed a
// schedule of hung processes (their connections fill), crashes (clients re-home: routes move)
// and partitions. Whatever happens, held frames leave in order, never cross a partition, stay
// within the backlog's bounds, and each one ends sent or dropped and counted, none held for ever.
#include <catch2/catch.hpp>

#include <random>

#include "sim/sim_network.hpp"

using namespace zpartisan;

namespace {

constexpr std::size_t backlog_max = 40;
constexpr std::size_t backlog_per_hop_max = 10;
const std::vector<std::string> servers{"s1", "s2", "s3"};
const std::vector<std::string> clients{"c1", "c2", "c3", "c4", "c5"};

struct flow_run {
    sim::flow_stats stats;
    std::size_t held_at_end = 0;
    std::size_t faults = 0;
};

flow_run run_congested(std::uint64_t seed) {
    sim::faults congested;
    congested.connections_keep_order = true;
    congested.connection_capacity = 3;
    const sim::timings timing{100, 3, 100, 50, 2000};
    sim::sim_network net(seed, congested, timing);
    net.set_flow_limits({backlog_max, backlog_per_hop_max, 1000});
    net.register_handler_everywhere("inbox");
    net.add("s1", role::server);
    for (const auto& s : {"s2", "s3"}) net.add(s, role::server).join(net.router_of("s1"), net.now_ms());
    for (std::size_t i = 0; i < clients.size(); ++i)
        net.add(clients[i], role::client).join(net.router_of(servers[i % servers.size()]), net.now_ms());
    std::vector<std::string> everyone = servers;
    everyone.insert(everyone.end(), clients.begin(), clients.end());
    std::sort(everyone.begin(), everyone.end());
    REQUIRE(net.run_until_converged(everyone, 3000) >= 0);
    net.run_rounds(50);

    std::mt19937_64 rng(seed);
    const auto below = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
    flow_run out;
    // What ends each fault, by the round it ends at.
    std::multimap<int, std::function<void()>> ends;
    std::uint64_t sent = 0;
    constexpr int load_rounds = 800;
    for (int round = 0; round < load_rounds; ++round) {
        if (round % 100 == 10) {
            ++out.faults;
            const auto length = static_cast<int>(20 + below(200));  // some outlast the give-up time
            switch (below(4)) {
                case 0: {  // a hung server: the connections to it fill
                    const auto& s = servers[below(servers.size())];
                    net.pause(s);
                    ends.emplace(round + length, [&net, s] { net.resume(s); });
                    break;
                }
                case 1: {  // a hung client: its home's connection to it fills
                    const auto& c = clients[below(clients.size())];
                    net.pause(c);
                    ends.emplace(round + length, [&net, c] { net.resume(c); });
                    break;
                }
                case 2: {  // a crashed server: its clients re-home, routes move
                    const auto& s = servers[1 + below(servers.size() - 1)];
                    net.crash(s);
                    ends.emplace(round + length, [&net, s] { net.restart(s); });
                    break;
                }
                default: {  // a partition between two servers' sides
                    const auto& at = servers[below(servers.size())];
                    if (!net.live(at)) break;
                    const auto ref = net.node(at).partition_into_groups({{"s1", "c1", "c4"}, {"s2", "c2", "c5"}});
                    ends.emplace(round + length, [&net, at, ref] {
                        if (net.live(at)) (void)net.node(at).resolve_partition(ref);
                    });
                }
            }
        }
        for (auto end = ends.begin(); end != ends.end() && end->first <= round; end = ends.erase(end)) end->second();
        // A burst from every live client each round, more than a connection holds.
        for (const auto& from : clients) {
            if (!net.live(from)) continue;
            for (int i = 0; i < 4; ++i) {
                core::outgoing msg;
                msg.destination = clients[below(clients.size())];
                if (msg.destination == from) continue;
                msg.handler = "inbox";
                msg.ack = below(8) == 0;
                msg.payload = std::to_string(++sent);
                (void)net.node(from).send_app(std::move(msg), net.now_ms());
            }
            net.apply_output_of(from);
        }
        net.run_rounds(1);
        const auto& stats = net.flow();
        INFO("round " << round << ": " << (stats.violations.empty() ? "" : stats.violations.front()));
        REQUIRE(stats.violations.empty());
        REQUIRE(stats.held_most <= backlog_max);
        REQUIRE(stats.held_most_for_one_hop <= backlog_per_hop_max);
        REQUIRE(stats.held == stats.sent_after_holding + stats.failed_after_holding + stats.dropped +
                                  stats.lost_in_crash + net.held_now());
    }
    for (auto& [at, end] : ends) end();
    // The load stops and every fault is over: within the give-up time, nothing is held.
    net.run_rounds(150);
    out.stats = net.flow();
    out.held_at_end = net.held_now();
    return out;
}

}  // namespace

TEST_CASE("flow control in the simulation: held frames keep order and bounds, and each one is accounted for",
          "[sim][flow]") {
    sim::flow_stats all;
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
        CAPTURE(seed);
        const auto run = run_congested(seed);
        const auto& stats = run.stats;
        CHECK(stats.violations.empty());
        for (const auto& violation : stats.violations) UNSCOPED_INFO(violation);
        CHECK(run.held_at_end == 0);
        CHECK(stats.held ==
              stats.sent_after_holding + stats.failed_after_holding + stats.dropped + stats.lost_in_crash);
        all.held += stats.held;
        all.sent_after_holding += stats.sent_after_holding;
        all.refused += stats.refused;
        all.rerouted += stats.rerouted;
        for (const auto& [reason, count] : stats.dropped_because) all.dropped_because[reason] += count;
    }
    // The schedules reached every way out of the backlog.
    WARN("held " << all.held << ", sent " << all.sent_after_holding << ", refused " << all.refused << ", rerouted "
                 << all.rerouted << ", stuck " << all.dropped_because[core::drop_reason::stuck_hop] << ", partitioned "
                 << all.dropped_because[core::drop_reason::partitioned] << ", unreachable "
                 << all.dropped_because[core::drop_reason::unreachable]);
    CHECK(all.sent_after_holding > 0);
    CHECK(all.refused > 0);
    CHECK(all.dropped_because[core::drop_reason::stuck_hop] > 0);
    CHECK(all.rerouted + all.dropped_because[core::drop_reason::partitioned] > 0);
}
