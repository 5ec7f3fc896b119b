// The control protocol's requests (src/control/control_request.hpp): any text is a checked
// request or an error answer, never a throw; a request written back as JSON (as zpartisan-ctl
// writes one) parses to the same request; update_members' specs are refused with
// std::invalid_argument or accepted, against a fixed membership.
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <variant>

#include "control/control_request.hpp"
#include "control/member_specs.hpp"
#include "fuzz_targets.hpp"
#include "sample_state.hpp"
#include "wire/base64.hpp"

namespace zpartisan::fuzz {

namespace {

using control::control_command;
using nlohmann::json;

// The request as a client would write it: every field the command takes, payloads as base64.
json to_json(const control::control_request& r) {
    json j{{"cmd", control::name_of(r.command)}};
    switch (r.command) {
        case control_command::send:
        case control_command::forward:
            j["node"] = r.node;
            j["payload_base64"] = wire::base64_encode(r.payload);
            if (r.command == control_command::forward) {
                j["handler"] = r.handler;
                j["ack"] = r.ack;
                if (r.wait_ms) j["timeout_ms"] = *r.wait_ms;
            }
            break;
        case control_command::remove:
            j["node"] = r.node;
            break;
        case control_command::join:
            j["endpoint"] = r.endpoint;
            j["timeout_ms"] = *r.wait_ms;
            break;
        case control_command::partition:
            if (r.by_groups) {
                j["groups"] = r.groups;
            } else {
                if (r.origin) j["origin"] = *r.origin;
                j["ttl"] = r.ttl;
            }
            break;
        case control_command::heal:
            j["ref"] = r.ref;
            break;
        case control_command::update_members:
            j["specs"] = r.specs;
            break;
        default:
            break;
    }
    return j;
}

void check_specs(const json& specs) {
    const auto& members = sample_membership();
    try {
        const auto checked = control::member_specs_of(specs, members.specs());
        fuzz_require(checked.size() == specs.size(), "one spec out per spec in");
    } catch (const std::invalid_argument&) {}
}

}  // namespace

int fuzz_control_request(const std::uint8_t* data, std::size_t size) {
    const auto parsed = control::parse_control_request(as_text(data, size));
    if (const auto* why = std::get_if<std::string>(&parsed)) {
        fuzz_require(!why->empty(), "a refusal says why");
        return 0;
    }
    const auto& request = std::get<control::control_request>(parsed);
    const auto again = control::parse_control_request(to_json(request).dump());
    const auto* reread = std::get_if<control::control_request>(&again);
    fuzz_require(reread != nullptr, "a request written back parses");
    fuzz_require(*reread == request, "a request written back parses to the same request");
    if (request.command == control_command::update_members) check_specs(request.specs);
    return 0;
}

}  // namespace zpartisan::fuzz
