// peer_service::next_deadline_ms (the time an idle node may sleep until): ticking a node only
// when it says it is due must change nothing. Each nemesis schedule (crashes, hangs, leaves,
// removals, cuts, partitions, loss, acked and plain traffic) runs twice, once ticking every
// node every round and once ticking a node only in the rounds its deadline falls in; both
// runs must emit the same effects at the same times. Every skipped tick is also tried on a
// copy of the node, which must emit nothing.
#include <catch2/catch.hpp>

#include "sim/nemesis.hpp"
#include "sim/sim_network.hpp"
#include "workload.hpp"

using namespace zpartisan;

TEST_CASE("a node ticked only at its deadlines emits exactly what a node ticked every round does", "[sim][deadline]") {
    const std::uint64_t seeds = test::small_workload() ? 4 : 30;
    std::uint64_t skipped = 0;
    for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
        auto s = sim::draw_scenario(seed);
        CAPTURE(seed, sim::describe(s));
        const auto every_round = sim::run_scenario(s);
        s.ticks_only_when_due = true;
        const auto when_due = sim::run_scenario(s);
        CHECK(when_due.skipped_ticks_with_output == 0);
        CHECK(when_due.violations == every_round.violations);
        CHECK(when_due.trace_hash == every_round.trace_hash);
        CHECK(when_due.acked_messages == every_round.acked_messages);
        skipped += when_due.ticks_skipped;
    }
    CHECK(skipped > 0);
}

TEST_CASE("an idle cluster's nodes are due about once per heartbeat, not every round", "[sim][deadline]") {
    // 2 servers and 4 clients, heartbeat and gossip every second; settled, then 20 s idle.
    sim::timings timing;
    timing.gossip_interval_ms = 1000;
    timing.handshake_retry_ms = 500;
    sim::sim_network net(3, {}, timing);
    net.set_ticks_only_when_due(true, true);
    net.add("s1", role::server);
    net.add("s2", role::server).join(sim::sim_network::router_of("s1"), net.now_ms());
    for (const auto* client : {"c1", "c2", "c3", "c4"})
        net.add(client, role::client).join(sim::sim_network::router_of(client[1] % 2 ? "s1" : "s2"), net.now_ms());
    REQUIRE(net.run_until_converged({"c1", "c2", "c3", "c4", "s1", "s2"}, 1000) >= 0);
    net.run_rounds(500);
    const auto skipped_before = net.ticks_skipped();
    constexpr int rounds = 2000;  // 20 s of 10 ms rounds
    net.run_rounds(rounds);
    const auto ticked = std::uint64_t{6} * rounds - (net.ticks_skipped() - skipped_before);
    // Heartbeats, beacons and gossip share one beat per node: about 20 ticks per node, not 2000.
    CHECK(ticked <= 6 * 20 * 2);
    CHECK(net.skipped_ticks_with_output() == 0);
}
