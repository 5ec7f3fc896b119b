#include "core/endpoint.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace zpartisan::core {

bool endpoint::has_wildcard_host() const {
    return transport == "tcp" && (host == "*" || host == "0.0.0.0" || host == "[::]" || host == "::");
}

namespace {
bool fail(std::string* why, std::string text) {
    if (why) *why = std::move(text);
    return false;
}

bool valid_port(std::string_view port, std::string* why) {
    if (port == "*") return true;
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        return fail(why, "port must be a number 1-65535 or *");
    unsigned value = 0;
    std::from_chars(port.data(), port.data() + port.size(), value);
    if (value == 0 || value > 65535) return fail(why, "port must be a number 1-65535 or *");
    return true;
}
}  // namespace

std::optional<endpoint> parse_endpoint(std::string_view text, std::string* why) {
    const auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) {
        fail(why, "endpoint '" + std::string(text) + "' lacks a transport (tcp://, ipc://, inproc://)");
        return std::nullopt;
    }
    endpoint parsed;
    parsed.transport = std::string(text.substr(0, scheme_end));
    const auto rest = text.substr(scheme_end + 3);
    if (parsed.transport == "ipc" || parsed.transport == "inproc") {
        if (rest.empty()) {
            fail(why, "endpoint '" + std::string(text) + "' has an empty address");
            return std::nullopt;
        }
        parsed.host = std::string(rest);
        return parsed;
    }
    if (parsed.transport != "tcp") {
        fail(why, "endpoint '" + std::string(text) + "' uses unsupported transport '" + parsed.transport + "'");
        return std::nullopt;
    }
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        fail(why, "endpoint '" + std::string(text) + "' must be tcp://host:port");
        return std::nullopt;
    }
    parsed.host = std::string(rest.substr(0, colon));
    parsed.port = std::string(rest.substr(colon + 1));
    const bool host_ok = std::all_of(parsed.host.begin(), parsed.host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '*' ||
               c == ':' || c == '[' || c == ']';
    });
    if (!host_ok) {
        fail(why, "endpoint '" + std::string(text) + "' has an invalid host '" + parsed.host + "'");
        return std::nullopt;
    }
    std::string port_why;
    if (!valid_port(parsed.port, &port_why)) {
        fail(why, "endpoint '" + std::string(text) + "': " + port_why);
        return std::nullopt;
    }
    return parsed;
}

bool is_z85_key(std::string_view text) {
    static constexpr std::string_view alphabet =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    return text.size() == z85_key_chars &&
           std::all_of(text.begin(), text.end(), [](char c) { return alphabet.find(c) != std::string_view::npos; });
}

keyed_endpoint split_keyed_endpoint(std::string_view text) {
    if (text.size() > z85_key_chars + 1) {
        const auto mark = text.size() - z85_key_chars - 1;
        if (text[mark] == '#' && is_z85_key(text.substr(mark + 1)))
            return {std::string(text.substr(0, mark)), std::string(text.substr(mark + 1))};
    }
    return {std::string(text), {}};
}

}  // namespace zpartisan::core
