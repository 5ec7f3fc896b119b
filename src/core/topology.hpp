// Who may join whom, and whom a node keeps dialed (docs/protocol.md §2; partisan client_server
// manager: accept_join_with_tag). Pure functions of roles and membership.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "zpartisan/node_spec.hpp"

namespace zpartisan::core {

enum class join_decision { accept, refer, refuse };

// Decision of a node of role `ours` receiving a hello from `theirs` (nullopt: missing or
// unknown role). Servers accept servers and clients; clients refer everyone to their server.
[[nodiscard]] join_decision decide_join(role ours, std::optional<role> theirs);

[[nodiscard]] std::optional<role> valid_role(role claimed);

// Router endpoints this node keeps a DEALER to: every other server for a server, the home
// server for a client (empty while it has none).
[[nodiscard]] std::vector<std::string> desired_dials(const node_spec& self, const std::vector<node_spec>& members);

}  // namespace zpartisan::core
