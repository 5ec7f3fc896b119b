#include "daemon/control_endpoint_policy.hpp"

#include <arpa/inet.h>

namespace zpartisan::daemon {

namespace {
constexpr std::string_view tcp_scheme = "tcp://";
constexpr std::string_view ipc_scheme = "ipc://";

// tcp://HOST:PORT, tcp://[V6]:PORT -> HOST / V6; empty when there is no port separator.
std::string host_of(std::string_view endpoint) {
    auto rest = endpoint.substr(tcp_scheme.size());
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return {};
    auto host = rest.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return std::string(host);
}
}  // namespace

bool is_loopback_tcp(std::string_view endpoint) {
    if (!endpoint.starts_with(tcp_scheme)) return false;
    const auto host = host_of(endpoint);
    if (host == "localhost") return true;
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;  // a wildcard, an interface name or a host name that may not be local
}

std::optional<std::string> control_endpoint_refusal(std::string_view endpoint, bool allow_remote) {
    const std::string shown(endpoint);
    if (endpoint.starts_with(ipc_scheme)) {
        if (endpoint.size() == ipc_scheme.size()) return "control endpoint " + shown + " names no socket file";
        // An abstract socket has no file, hence no permissions: any local user could connect.
        if (endpoint[ipc_scheme.size()] == '@' && !allow_remote)
            return "control endpoint " + shown +
                   " is an abstract socket, which any local user can reach; use a path "
                   "(ipc:///run/zpartisan/NAME.ctl), "
                   "or --control-allow-remote";
        return std::nullopt;
    }
    if (endpoint.starts_with(tcp_scheme)) {
        if (allow_remote || is_loopback_tcp(endpoint)) return std::nullopt;
        return "control endpoint " + shown +
               " is not a loopback address: anyone who reaches it could remove members and read messages "
               "(docs/control.md); use ipc:// or tcp://127.0.0.1:PORT, or --control-allow-remote";
    }
    return "control endpoint " + shown + " must be ipc://PATH or tcp://HOST:PORT";
}

}  // namespace zpartisan::daemon
