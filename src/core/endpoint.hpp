// Parses and checks ZeroMQ endpoint strings (tcp, ipc, inproc) without touching a socket,
// so configuration and join targets fail early with a message saying what is wrong.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace zpartisan::core {

struct endpoint {
    std::string transport;  // "tcp", "ipc" or "inproc"
    std::string host;       // tcp: host or address, "*" for any; ipc/inproc: the path/name
    std::string port;       // tcp only: digits or "*" (OS-assigned)

    [[nodiscard]] bool has_wildcard_host() const;
    [[nodiscard]] bool has_wildcard_port() const { return port == "*"; }
};

// Empty optional with `why` filled when the text is not a usable endpoint.
[[nodiscard]] std::optional<endpoint> parse_endpoint(std::string_view text, std::string* why = nullptr);

}  // namespace zpartisan::core
