// A control request (docs/control.md) read and checked before anything runs: the JSON text
// becomes a control_request, or the text of the error answer. Every field's type and range is
// checked here, so executing a request (control_commands.cpp) meets no malformed value.
// Pure: no node, no I/O; never throws.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace zpartisan::control {

enum class control_command {
    members,
    status,
    metrics,
    state,
    inbox,
    send,
    forward,
    update_members,
    join,
    leave,
    remove,
    partition,
    heal,
    partitions,
    health,
};

[[nodiscard]] const char* name_of(control_command command);

// The longest wait a request may ask for (an acked forward's report, a join).
inline constexpr std::int64_t longest_control_wait_ms = 600'000;
inline constexpr std::int64_t default_join_wait_ms = 5'000;

// Fields a command does not take keep their defaults.
struct control_request {
    control_command command = control_command::status;
    std::string node;                     // send, forward, remove
    std::string handler = "inbox";        // forward
    std::string payload;                  // send, forward: from payload or payload_base64
    bool ack = false;                     // forward
    std::optional<std::int64_t> wait_ms;  // forward with ack (else the daemon's default), join
    std::string endpoint;                 // join
    bool by_groups = false;               // partition: by groups, else by origin and ttl
    std::vector<std::vector<std::string>> groups;
    std::optional<std::string> origin;  // absent: the daemon's own node
    std::uint32_t ttl = 0;
    std::string ref;       // heal
    bool live = false;     // health: only that the daemon answers
    nlohmann::json specs;  // update_members: checked against the members by member_specs_of

    bool operator==(const control_request&) const = default;
};

// The request, or the error answer's text.
[[nodiscard]] std::variant<control_request, std::string> parse_control_request(std::string_view text) noexcept;

}  // namespace zpartisan::control
