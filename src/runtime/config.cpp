#include <algorithm>

#include "core/endpoint.hpp"
#include "transport/curve_keys.hpp"
#include "zpartisan/config.hpp"
#include "zpartisan/errors.hpp"

namespace zpartisan {

namespace {

[[noreturn]] void reject(const std::string& field, const std::string& why) {
    throw config_error("invalid config: " + field + ": " + why);
}

void check_bind_endpoint(const std::string& field, const std::string& text) {
    std::string why;
    if (!core::parse_endpoint(text, &why)) reject(field, why);
}

// An advertised endpoint is dialed by others: it must name one concrete address and port.
void check_advertised(const std::string& field, const std::string& text) {
    std::string why;
    const auto parsed = core::parse_endpoint(text, &why);
    if (!parsed) reject(field, why);
    if (parsed->has_wildcard_host() || parsed->has_wildcard_port())
        reject(field, "'" + text + "' has a wildcard; advertise an address peers can dial");
}

void require_advertised_for_wildcard(const std::string& bind_field, const std::string& bind,
                                     const std::string& advertised_field, const std::string& advertised) {
    const auto parsed = core::parse_endpoint(bind);
    if (parsed && parsed->has_wildcard_host() && advertised.empty())
        reject(advertised_field, "required because " + bind_field + " '" + bind + "' binds every interface");
}

}  // namespace

void config::validate() const {
    if (name.empty()) reject("name", "must not be empty");
    if (name.size() > 255) reject("name", "at most 255 bytes (it is the ZeroMQ routing id)");
    if (!std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 127; }))
        reject("name", "'" + name + "' must be printable ASCII without spaces");
    if (name.find_first_of("|@") != std::string::npos) reject("name", "'" + name + "' must not contain '|' or '@'");
    if (role != role::server && role != role::client) reject("role", "must be server or client");
    if (cluster_name.empty()) reject("cluster_name", "must not be empty");

    check_bind_endpoint("router_bind_endpoint", router_bind_endpoint);
    if (!advertised_router_endpoint.empty()) check_advertised("advertised_router_endpoint", advertised_router_endpoint);
    require_advertised_for_wildcard("router_bind_endpoint", router_bind_endpoint, "advertised_router_endpoint",
                                    advertised_router_endpoint);
    if (role == role::server) {
        check_bind_endpoint("pub_bind_endpoint", pub_bind_endpoint);
        if (!advertised_pub_endpoint.empty()) check_advertised("advertised_pub_endpoint", advertised_pub_endpoint);
        require_advertised_for_wildcard("pub_bind_endpoint", pub_bind_endpoint, "advertised_pub_endpoint",
                                        advertised_pub_endpoint);
    }

    if (heartbeat_interval_ms == 0) reject("heartbeat_interval_ms", "must be greater than 0");
    if (missed_heartbeats == 0) reject("missed_heartbeats", "must be greater than 0");
    if (gossip_interval_ms == 0) reject("gossip_interval_ms", "must be greater than 0");
    if (handshake_retry_ms == 0) reject("handshake_retry_ms", "must be greater than 0");
    if (heartbeat_interval_ms > 3'600'000 || gossip_interval_ms > 3'600'000 || handshake_retry_ms > 3'600'000)
        reject("intervals", "must be at most one hour");
    if (max_message_bytes < 4096) reject("max_message_bytes", "must be at least 4096");
    if (max_peers == 0) reject("max_peers", "must be greater than 0");
    if (listen_backlog < 1 || listen_backlog > 65535) reject("listen_backlog", "must be 1-65535");
    if (duplicate_windows_max == 0) reject("duplicate_windows_max", "must be greater than 0");
    if (duplicate_window_gaps_max == 0) reject("duplicate_window_gaps_max", "must be greater than 0");
    if (send_high_water_mark <= 0) reject("send_high_water_mark", "must be greater than 0");
    if (!channels.contains("default")) reject("channels", "must contain the 'default' channel");
    for (const auto& [channel, parallelism] : channels) {
        if (channel.empty() || channel.find_first_of("|@ ") != std::string::npos)
            reject("channels", "'" + channel + "' must be non-empty, without '|', '@' or spaces");
        if (parallelism == 0 || parallelism > 64) reject("channels", "'" + channel + "' parallelism must be 1-64");
        // Each connection of a channel is named "name|channel|lane", and ZeroMQ routing ids
        // hold at most 255 bytes.
        if (name.size() + channel.size() + 4 > 255)
            reject("channels", "'" + channel + "' is too long for node name '" + name +
                                   "': the two with 4 more bytes must fit in 255 (a ZeroMQ routing id)");
    }
    if (!curve_secret_key.empty()) {
        if (!transport::curve_supported()) reject("curve_secret_key", "this libzmq was built without CURVE");
        if (!core::is_z85_key(curve_secret_key)) reject("curve_secret_key", "must be 40 Z85 characters");
    }
    for (const auto& key : curve_allowed_keys)
        if (!core::is_z85_key(key))
            reject("curve_allowed_keys", "'" + key.substr(0, 48) + "' is not a public key (40 Z85 characters)");
    if (ack_timeout_ms == 0) reject("ack_timeout_ms", "must be greater than 0");
    if (send_queue_max == 0) reject("send_queue_max", "must be greater than 0");
}

const char* to_string(op_status status) {
    switch (status) {
        case op_status::ok:
            return "ok";
        case op_status::timeout:
            return "timeout";
        case op_status::refused:
            return "refused";
        case op_status::bad_endpoint:
            return "bad_endpoint";
        case op_status::unknown_node:
            return "unknown_node";
        case op_status::stopped:
            return "stopped";
    }
    return "unknown";
}

}  // namespace zpartisan
