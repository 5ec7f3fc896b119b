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

}  // namespace zpartisan::test
