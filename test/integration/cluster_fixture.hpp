// Builds small clusters of real nodes in one process over tcp://127.0.0.1 with OS-chosen ports.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "wait_for.hpp"
#include "zpartisan/node.hpp"

namespace zpartisan::test {

inline config test_config(const std::string& name, role r, const std::string& cluster = "test") {
    config cfg;
    cfg.name = name;
    cfg.role = r;
    cfg.cluster_name = cluster;
    cfg.heartbeat_interval_ms = 100;
    cfg.gossip_interval_ms = 100;
    cfg.handshake_retry_ms = 100;
    return cfg;
}

inline std::unique_ptr<Node> make_node(const std::string& name, role r, const std::string& cluster = "test") {
    return std::make_unique<Node>(test_config(name, r, cluster));
}

inline std::vector<std::string> sorted(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    return names;
}

inline std::vector<std::string> welcomed_peers(const Node& node) {
    std::vector<std::string> peers;
    for (const auto& dial : node.status().dials)
        if (dial.welcomed) peers.push_back(dial.peer);
    return sorted(peers);
}

// Names alone are not enough to route: a client's home server travels in a later delta, and
// until a node has it, a send to that client is not_yet_connected (and a cut made right away
// could strand that delta).
inline bool every_client_home_known(const std::vector<const Node*>& nodes) {
    for (const auto* n : nodes)
        for (const auto& spec : n->members_for_orchestration())
            if (spec.role == role::client && spec.home_server.empty()) return false;
    return true;
}

// Three servers (s2, s3 joined through s1) and two clients (c1 at s1, c2 at s2), converged.
struct small_cluster {
    std::unique_ptr<Node> s1, s2, s3, c1, c2;
    small_cluster() {
        s1 = make_node("s1", role::server);
        s2 = make_node("s2", role::server);
        s3 = make_node("s3", role::server);
        c1 = make_node("c1", role::client);
        c2 = make_node("c2", role::client);
        REQUIRE(s2->sync_join(s1->router_endpoint(), std::chrono::seconds(10)).ok());
        REQUIRE(s3->sync_join(s1->router_endpoint(), std::chrono::seconds(10)).ok());
        REQUIRE(c1->sync_join(s1->router_endpoint(), std::chrono::seconds(10)).ok());
        REQUIRE(c2->sync_join(s2->router_endpoint(), std::chrono::seconds(10)).ok());
        const std::vector<std::string> all{"c1", "c2", "s1", "s2", "s3"};
        WAIT_FOR("converged", s1->members() == all && s2->members() == all && s3->members() == all &&
                                  c1->members() == all && c2->members() == all);
        // A test that cuts the cluster right away must not cut the homes' delta off (c1 would
        // never learn that c2 lives behind s2).
        WAIT_FOR("every node knows every client's home",
                 every_client_home_known({s1.get(), s2.get(), s3.get(), c1.get(), c2.get()}));
    }
};

}  // namespace zpartisan::test
