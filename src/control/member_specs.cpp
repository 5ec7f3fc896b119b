#include "control/member_specs.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "core/endpoint.hpp"

namespace zpartisan::control {

namespace {

using nlohmann::json;

const std::set<std::string> known_fields{"name",        "role", "router_endpoint", "pub_endpoint", "home",
                                         "incarnation", "tag",  "public_key"};

[[noreturn]] void reject(std::size_t index, const std::string& why) {
    throw std::invalid_argument("spec " + std::to_string(index + 1) + ": " + why);
}

std::string text_field(std::size_t index, const json& spec, const std::string& field) {
    const auto& value = spec.at(field);
    if (!value.is_string()) reject(index, field + " must be a string");
    return value.get<std::string>();
}

// The same rules as config::validate for a node's own name.
void check_name(std::size_t index, const std::string& name) {
    if (name.empty()) reject(index, "name must not be empty");
    if (name.size() > 255) reject(index, "name: at most 255 bytes (it is the ZeroMQ routing id)");
    if (!std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 127; }))
        reject(index, "name must be printable ASCII without spaces");
    if (name.find_first_of("|@") != std::string::npos) reject(index, "name '" + name + "' must not contain '|' or '@'");
}

// What peers dial: one concrete address and port.
void check_dialable(std::size_t index, const std::string& field, const std::string& text) {
    std::string why;
    const auto parsed = core::parse_endpoint(text, &why);
    if (!parsed) reject(index, field + ": " + why);
    if (parsed->has_wildcard_host() || parsed->has_wildcard_port())
        reject(index, field + " '" + text + "' has a wildcard; name an address peers can dial");
}

}  // namespace

std::vector<node_spec> member_specs_of(const json& specs, const std::vector<node_spec>& current) {
    if (!specs.is_array()) throw std::invalid_argument("specs must be an array of objects");
    std::map<std::string, node_spec> members;
    for (const auto& spec : current) members.emplace(spec.name, spec);
    std::vector<node_spec> out;
    std::set<std::string> named;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const auto& spec = specs[i];
        if (!spec.is_object()) reject(i, "a spec is an object with a name");
        for (const auto& [field, value] : spec.items())
            if (!known_fields.contains(field))
                reject(i, "unknown field '" + field +
                              "' (known: name, role, router_endpoint, pub_endpoint, home, "
                              "incarnation, tag, public_key)");
        if (!spec.contains("name")) reject(i, "name is missing");
        const auto name = text_field(i, spec, "name");
        check_name(i, name);
        if (!named.insert(name).second) reject(i, "name '" + name + "' is given twice");
        const auto member = members.find(name);
        const bool is_member = member != members.end();
        node_spec result = is_member ? member->second : node_spec{};
        result.name = name;
        if (spec.contains("role")) {
            const auto role_text = text_field(i, spec, "role");
            const auto parsed = parse_role(role_text);
            if (!parsed) reject(i, "role '" + role_text + "' is neither server nor client");
            result.role = *parsed;
        } else if (!is_member) {
            reject(i, "'" + name + "' is not a member yet: its role is needed");
        }
        if (spec.contains("router_endpoint")) {
            result.router_endpoint = text_field(i, spec, "router_endpoint");
            check_dialable(i, "router_endpoint", result.router_endpoint);
        } else if (!is_member) {
            reject(i, "'" + name + "' is not a member yet: its router_endpoint is needed");
        }
        if (spec.contains("pub_endpoint")) {
            result.pub_endpoint = text_field(i, spec, "pub_endpoint");
            if (!result.pub_endpoint.empty()) check_dialable(i, "pub_endpoint", result.pub_endpoint);
        }
        if (spec.contains("home")) result.home_server = text_field(i, spec, "home");
        if (spec.contains("tag")) result.tag = text_field(i, spec, "tag");
        if (spec.contains("public_key")) {
            result.public_key = text_field(i, spec, "public_key");
            if (!result.public_key.empty() && !core::is_z85_key(result.public_key))
                reject(i, "public_key must be 40 Z85 characters (or empty)");
        }
        if (spec.contains("incarnation")) {
            const auto& value = spec.at("incarnation");
            if (!value.is_number_integer() || (!value.is_number_unsigned() && value.get<std::int64_t>() < 0))
                reject(i, "incarnation must be a whole number of at least 0");
            result.incarnation = value.get<std::uint64_t>();
        }
        out.push_back(std::move(result));
    }
    return out;
}

}  // namespace zpartisan::control
