// The specs of an update_members control request (docs/control.md): JSON objects named like
// the `state` answer's specs, checked before they reach Node::update_members.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "zpartisan/node_spec.hpp"

namespace zpartisan::control {

// `specs` is an array of objects with `name` and any of role, router_endpoint, pub_endpoint,
// home, incarnation and tag. A field left out keeps the value of the current member of that
// name (`current`); a name that is not a member yet needs role and router_endpoint, the rest
// default to empty and 0. Throws std::invalid_argument saying which spec and field are wrong:
// an unknown field, a name the config would refuse or given twice, a role other than server
// or client, an endpoint that is not one a peer can dial.
[[nodiscard]] std::vector<node_spec> member_specs_of(const nlohmann::json& specs,
                                                     const std::vector<node_spec>& current);

}  // namespace zpartisan::control
