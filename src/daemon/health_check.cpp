#include "daemon/health_check.hpp"

#include <map>

namespace zpartisan::daemon {

namespace {

std::string evidence(const liveness_info& seen) {
    std::string text;
    if (!seen.detected_by.empty()) text += "detected by " + seen.detected_by;
    if (seen.silent_ms > 0)
        text += (text.empty() ? "" : ", ") + std::string("silent ") + std::to_string(seen.silent_ms) + " ms";
    if (seen.connection_lost) text += (text.empty() ? "" : ", ") + std::string("connection lost");
    return text.empty() ? "" : " (" + text + ")";
}

}  // namespace

health_verdict judge_health(bool running, const std::string& stopped_reason, const node_status& status,
                            const std::vector<node_spec>& members, const std::vector<liveness_info>& liveness) {
    if (!running || !status.running)
        return {false, "not running" + (stopped_reason.empty() ? std::string() : ": " + stopped_reason)};
    std::map<std::string, liveness_info> seen;
    for (const auto& entry : liveness) seen[entry.node] = entry;
    const auto unreachable = [&seen](const std::string& name) {
        const auto it = seen.find(name);
        return it != seen.end() && !it->second.reachable;
    };
    if (status.self.role == role::client) {
        const auto& home = status.self.home_server;
        if (home.empty()) return {false, "no home server: not attached to any server yet"};
        if (unreachable(home)) return {false, "home server " + home + " is unreachable" + evidence(seen[home])};
    } else {
        for (const auto& spec : members)
            if (spec.role == role::server && spec.name != status.self.name && unreachable(spec.name))
                return {false, "server " + spec.name + " is unreachable" + evidence(seen[spec.name])};
    }
    if (!status.settled) {
        std::string waiting;
        for (const auto& dial : status.dials)
            if (!dial.welcomed) waiting += (waiting.empty() ? "" : ", ") + dial.endpoint;
        return {false, "not settled: " + (waiting.empty() ? std::string("joining, or waiting for peers to connect back")
                                                          : "no welcome yet from " + waiting)};
    }
    return {true, ""};
}

health_verdict health_of(const Node& node) {
    const bool running = node.running();
    return judge_health(running, node.stopped_reason(), node.status(), node.members_for_orchestration(),
                        node.liveness());
}

}  // namespace zpartisan::daemon
