#include "control/control_request.hpp"

#include <array>
#include <limits>
#include <stdexcept>
#include <utility>

#include "wire/base64.hpp"

namespace zpartisan::control {

namespace {

using nlohmann::json;

// Thrown while reading a request only; parse_control_request() turns them into the answer.
struct bad_field : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};
// A well-formed request the daemon does not take: its answer says only why.
struct refused_request : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr std::array<std::pair<control_command, const char*>, 15> command_names{{
    {control_command::members, "members"},
    {control_command::status, "status"},
    {control_command::metrics, "metrics"},
    {control_command::state, "state"},
    {control_command::inbox, "inbox"},
    {control_command::send, "send"},
    {control_command::forward, "forward"},
    {control_command::update_members, "update_members"},
    {control_command::join, "join"},
    {control_command::leave, "leave"},
    {control_command::remove, "remove"},
    {control_command::partition, "partition"},
    {control_command::heal, "heal"},
    {control_command::partitions, "partitions"},
    {control_command::health, "health"},
}};

std::string text_field(const json& request, const char* field) {
    const auto it = request.find(field);
    if (it == request.end()) throw bad_field(std::string(field) + " is missing");
    if (!it->is_string()) throw bad_field(std::string(field) + " must be a string");
    return it->get<std::string>();
}

std::string text_field_or(const json& request, const char* field, std::string fallback) {
    return request.contains(field) ? text_field(request, field) : fallback;
}

bool flag_field(const json& request, const char* field) {
    const auto it = request.find(field);
    if (it == request.end()) return false;
    if (!it->is_boolean()) throw bad_field(std::string(field) + " must be true or false");
    return it->get<bool>();
}

// A whole number in [low, high] (low >= 0); a float, a string or one out of range is refused
// rather than converted (a float out of an integer's range does not convert at all).
std::uint64_t whole_field(const json& request, const char* field, std::uint64_t low, std::uint64_t high) {
    const auto& value = request.at(field);
    const bool whole = value.is_number_unsigned() || (value.is_number_integer() && value.get<std::int64_t>() >= 0);
    if (!whole || value.get<std::uint64_t>() < low || value.get<std::uint64_t>() > high)
        throw bad_field(std::string(field) + " must be a whole number from " + std::to_string(low) + " to " +
                        std::to_string(high));
    return value.get<std::uint64_t>();
}

// The payload as text ("payload") or as base64 ("payload_base64", any bytes); empty if neither.
std::string payload_of(const json& request) {
    const bool as_text = request.contains("payload");
    const bool as_base64 = request.contains("payload_base64");
    if (as_text && as_base64) throw bad_field("payload and payload_base64 are given both; give one");
    if (as_text) return text_field(request, "payload");
    if (!as_base64) return {};
    std::string why;
    auto bytes = wire::base64_decode(text_field(request, "payload_base64"), &why);
    if (!bytes) throw bad_field("payload_base64: " + why);
    return std::move(*bytes);
}

std::vector<std::vector<std::string>> groups_of(const json& groups) {
    if (!groups.is_array()) throw bad_field("groups must be a list of lists of node names");
    std::vector<std::vector<std::string>> out;
    for (const auto& group : groups) {
        if (!group.is_array()) throw bad_field("groups must be a list of lists of node names");
        auto& names = out.emplace_back();
        for (const auto& name : group) {
            if (!name.is_string()) throw bad_field("groups must be a list of lists of node names");
            names.push_back(name.get<std::string>());
        }
    }
    return out;
}

control_command command_of(const json& request) {
    const auto cmd = text_field_or(request, "cmd", "");
    for (const auto& [command, name] : command_names)
        if (cmd == name) return command;
    throw refused_request("unknown command '" + cmd + "'");
}

control_request read_request(json& request) {
    control_request r;
    r.command = command_of(request);
    switch (r.command) {
        case control_command::send:
            r.node = text_field(request, "node");
            r.payload = payload_of(request);
            break;
        case control_command::forward:
            r.node = text_field(request, "node");
            r.handler = text_field_or(request, "handler", "inbox");
            r.payload = payload_of(request);
            r.ack = flag_field(request, "ack");
            if (r.ack && request.contains("timeout_ms"))
                r.wait_ms = static_cast<std::int64_t>(whole_field(request, "timeout_ms", 1, longest_control_wait_ms));
            break;
        case control_command::remove:
            r.node = text_field(request, "node");
            break;
        case control_command::join:
            r.endpoint = text_field(request, "endpoint");
            r.wait_ms = request.contains("timeout_ms")
                            ? static_cast<std::int64_t>(whole_field(request, "timeout_ms", 1, longest_control_wait_ms))
                            : default_join_wait_ms;
            break;
        case control_command::partition:
            r.by_groups = request.contains("groups");
            if (r.by_groups) {
                r.groups = groups_of(request.at("groups"));
            } else {
                if (request.contains("origin")) r.origin = text_field(request, "origin");
                if (request.contains("ttl"))
                    r.ttl = static_cast<std::uint32_t>(
                        whole_field(request, "ttl", 0, std::numeric_limits<std::uint32_t>::max()));
            }
            break;
        case control_command::heal:
            r.ref = text_field(request, "ref");
            break;
        case control_command::health:
            r.live = flag_field(request, "live");
            break;
        case control_command::update_members:
            if (!request.contains("specs"))
                throw refused_request("specs is missing: a list of {name, role, router_endpoint, ...}");
            // Moved, not copied: a copy of JSON recurses as deep as it nests, and a request
            // nested a million deep would overflow the stack.
            r.specs = std::move(request.at("specs"));
            break;
        case control_command::members:
        case control_command::status:
        case control_command::metrics:
        case control_command::state:
        case control_command::inbox:
        case control_command::leave:
        case control_command::partitions:
            break;
    }
    return r;
}

}  // namespace

const char* name_of(control_command command) {
    for (const auto& [known, name] : command_names)
        if (known == command) return name;
    return "unknown";
}

std::variant<control_request, std::string> parse_control_request(std::string_view text) noexcept {
    try {
        auto request = json::parse(text);
        if (!request.is_object()) return std::string("a request is a JSON object");
        return read_request(request);
    } catch (const refused_request& e) {
        return std::string(e.what());
    } catch (const std::exception& e) {
        return std::string("bad request: ") + e.what();
    } catch (...) {
        return std::string("bad request");
    }
}

}  // namespace zpartisan::control
