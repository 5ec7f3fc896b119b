#include "core/topology.hpp"

#include <algorithm>

namespace zpartisan::core {

std::optional<role> valid_role(role claimed) {
    if (claimed == role::server || claimed == role::client) return claimed;
    return std::nullopt;
}

join_decision decide_join(role ours, std::optional<role> theirs) {
    if (!theirs) return join_decision::refuse;
    if (ours == role::server) return join_decision::accept;
    return join_decision::refer;  // a client accepts no one: it points at its server
}

std::vector<std::string> desired_dials(const node_spec& self, const std::vector<node_spec>& members) {
    std::vector<std::string> endpoints;
    for (const auto& spec : members) {
        if (spec.name == self.name || spec.role != role::server || spec.router_endpoint.empty()) continue;
        if (self.role == role::server || spec.name == self.home_server) endpoints.push_back(spec.router_endpoint);
    }
    std::sort(endpoints.begin(), endpoints.end());
    endpoints.erase(std::unique(endpoints.begin(), endpoints.end()), endpoints.end());
    return endpoints;
}

}  // namespace zpartisan::core
