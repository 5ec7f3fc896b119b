// Small simulated clusters for the core's unit tests.
#pragma once

#include <catch2/catch.hpp>
#include <vector>

#include "sim/sim_network.hpp"

namespace zpartisan::test {

// The forwards a node's output sends (taking all of its output).
inline std::vector<core::forward> forwards_sent(core::peer_service& node) {
    std::vector<core::forward> sent;
    for (auto& effect : node.take_output())
        if (auto* send = std::get_if<core::effect::send>(&effect))
            if (auto* data = std::get_if<core::forward>(&send->msg)) sent.push_back(*data);
    return sent;
}

// s1 and s2 meshed; c1 homed at s1, c2 at s2.
inline void two_servers_two_clients(sim::sim_network& net) {
    net.add("s1", role::server);
    net.add("s2", role::server);
    net.add("c1", role::client);
    net.add("c2", role::client);
    net.node("s2").join(net.router_of("s1"), 0);
    net.node("c1").join(net.router_of("s1"), 0);
    net.node("c2").join(net.router_of("s2"), 0);
}

inline void converged_two_servers_two_clients(sim::sim_network& net) {
    two_servers_two_clients(net);
    net.run_rounds(40);
    REQUIRE(net.converged({"c1", "c2", "s1", "s2"}));
}

}  // namespace zpartisan::test
