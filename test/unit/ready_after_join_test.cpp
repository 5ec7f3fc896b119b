// "Joined" means messages flow both ways (docs/protocol.md §3 sync_join): the moment a
// joiner is settled, the nodes it joined route to it; and an acked message that waited for a
// route leaves the moment there is one, not at its next retransmission.
#include <catch2/catch.hpp>

#include "sim/sim_network.hpp"
#include "unit/two_servers.hpp"

using namespace zpartisan;
using namespace zpartisan::test;

namespace {

// Runs single rounds until `node` is settled; returns the rounds it took (fails after max).
int rounds_until_settled(sim::sim_network& net, const std::string& node, int max_rounds = 300) {
    for (int round = 1; round <= max_rounds; ++round) {
        net.run_rounds(1);
        if (net.node(node).settled()) return round;
    }
    FAIL(node << " never settled");
    return -1;
}

core::outgoing acked_to(const std::string& destination) {
    core::outgoing out;
    out.destination = destination;
    out.handler = "h";
    out.ack = true;
    out.payload = "hello";
    return out;
}

}  // namespace

TEST_CASE("a client settled by its join is routable from its server at once, both ways", "[peer_service][join]") {
    sim::sim_network net(11);
    net.register_handler_everywhere("h");
    net.add("s1", role::server);
    net.add("c1", role::client);
    net.node("c1").join(net.router_of("s1"), 0);
    rounds_until_settled(net, "c1");
    CHECK(net.node("c1").route_status_of("s1") == core::route_status::ok);
    CHECK(net.node("s1").route_status_of("c1") == core::route_status::ok);
}

TEST_CASE("a server settled by its join is routable from every server at once, both ways", "[peer_service][join]") {
    sim::sim_network net(12);
    net.register_handler_everywhere("h");
    net.add("s1", role::server);
    net.add("s2", role::server);
    net.node("s2").join(net.router_of("s1"), 0);
    net.run_rounds(40);
    REQUIRE(net.converged({"s1", "s2"}));
    net.add("s3", role::server);
    net.node("s3").join(net.router_of("s1"), 0);
    rounds_until_settled(net, "s3");
    for (const auto* server : {"s1", "s2"}) {
        INFO(server);
        CHECK(net.node("s3").route_status_of(server) == core::route_status::ok);
        CHECK(net.node(server).route_status_of("s3") == core::route_status::ok);
    }
}

TEST_CASE("an acked message waiting for a route leaves the moment the route appears", "[peer_service][join][ack]") {
    sim::sim_network net(13);
    net.register_handler_everywhere("h");
    converged_two_servers_two_clients(net);
    // s2 hangs: once s1 sees it fail, s1 has no route to it.
    net.pause("s2");
    for (int round = 0; round < 600 && net.node("s1").route_status_of("s2") == core::route_status::ok; ++round)
        net.run_rounds(1);
    REQUIRE(net.node("s1").route_status_of("s2") == core::route_status::unreachable);
    std::uint64_t id = 0;
    REQUIRE(net.node("s1").send_app(acked_to("s2"), net.now_ms(), &id) == core::route_status::ok);
    net.run_rounds(37);  // off the heartbeat beat, so a retransmission cannot pass for the route's return
    net.resume("s2");
    std::uint64_t route_back_ms = 0;
    for (int round = 0; round < 600 && route_back_ms == 0; ++round) {
        net.run_rounds(1);
        if (net.node("s1").route_status_of("s2") == core::route_status::ok) route_back_ms = net.now_ms();
    }
    REQUIRE(route_back_ms != 0);
    std::uint64_t delivered_ms = 0;
    for (int round = 0; round < 200 && delivered_ms == 0; ++round) {
        for (const auto& d : net.deliveries())
            if (d.at == "s2" && d.msg.origin == "s1" && d.msg.ack) delivered_ms = net.now_ms();
        if (delivered_ms == 0) net.run_rounds(1);
    }
    REQUIRE(delivered_ms != 0);
    // One hop, and a round's slack: far below the heartbeat interval a retransmission
    // would have waited.
    CHECK(delivered_ms - route_back_ms <= 2 * sim::sim_network::round_ms);
    CHECK(net.node("s1").counters()["acked_sent_when_routed"] >= 1);
}
