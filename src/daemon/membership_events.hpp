// What `zpartisan-ctl watch` reports and the metrics' failure-detection histogram counts: the
// differences between two samples of how a node sees its cluster (docs/control.md, watch).
// Sampling rather than hooking the reactor keeps the daemon outside the node: a change that
// comes and goes between two samples is not reported, a state that changed is.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <string>
#include <vector>

#include "zpartisan/node.hpp"

namespace zpartisan::daemon {

struct member_sample {
    std::string role;
    std::string home;
    std::uint64_t incarnation = 0;
    liveness_info liveness;  // reachable, and the evidence when it is not
};

struct membership_sample {
    bool running = true;
    std::string stopped_reason;
    std::map<std::string, member_sample> members;              // by name, self included
    std::set<std::pair<std::string, std::string>> partitions;  // (ref, a peer it cuts off): one ref may cut several
};

// One change: "join", "removed", "restart", "up", "down", "rehome", "partition", "heal" or
// "stopped"; detail holds what backs it (a down's evidence, a re-homing's old and new home).
struct membership_event {
    std::string kind;
    std::string node;
    nlohmann::json detail = nlohmann::json::object();
};

// Asks the node (a few calls through its reactor).
membership_sample sample_of(const Node& node);

// In a fixed order per sample: joins and restarts, re-homings, ups, downs, partitions, heals,
// removals, then this node's own stop.
std::vector<membership_event> changes_between(const membership_sample& before, const membership_sample& after);

// {"event": kind, "node": ..., detail...}.
nlohmann::json to_json(const membership_event& event);

}  // namespace zpartisan::daemon
