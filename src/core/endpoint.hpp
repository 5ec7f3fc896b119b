// Parses and checks ZeroMQ endpoint strings (tcp, ipc, inproc) without touching a socket,
// so configuration and join targets fail early with a message saying what is wrong.
#pragma once

#include <cstddef>
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

// A CurveZMQ key in Z85: exactly 40 characters of the Z85 alphabet.
inline constexpr std::size_t z85_key_chars = 40;
[[nodiscard]] bool is_z85_key(std::string_view text);

// A join target may name the CurveZMQ public key of the node it reaches:
// "tcp://10.0.0.1:9000#<40 Z85 characters>" (README, "Security"). Z85 itself uses '#', so the
// key is recognised by its fixed length: the 41st character from the end is '#' and the 40
// after it are Z85. Anything else is an endpoint without a key.
struct keyed_endpoint {
    std::string endpoint;
    std::string server_key;  // empty when the text names none
};
[[nodiscard]] keyed_endpoint split_keyed_endpoint(std::string_view text);

}  // namespace zpartisan::core
