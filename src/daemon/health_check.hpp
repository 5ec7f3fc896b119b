// `zpartisan-ctl health` (docs/control.md): whether a node is running and settled, the way a
// readiness probe needs it. Healthy means: running; settled (a member, every dial it should
// have welcomed, both ways between servers); a client's home server reachable; a server's
// peers, every other server it knows, reachable. Otherwise the first reason that fails.
#pragma once

#include <string>
#include <vector>

#include "zpartisan/node.hpp"

namespace zpartisan::daemon {

struct health_verdict {
    bool healthy = false;
    std::string reason;  // why not; empty when healthy
};

health_verdict judge_health(bool running, const std::string& stopped_reason, const node_status& status,
                            const std::vector<node_spec>& members, const std::vector<liveness_info>& liveness);

// Asks the node, then judges.
health_verdict health_of(const Node& node);

}  // namespace zpartisan::daemon
