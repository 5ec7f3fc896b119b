#include "zpartisan/node_spec.hpp"

namespace zpartisan {

std::string_view to_string(role r) {
    switch (r) {
        case role::server:
            return "server";
        case role::client:
            return "client";
    }
    return "unknown";
}

std::optional<role> parse_role(std::string_view text) {
    if (text == "server") return role::server;
    if (text == "client") return role::client;
    return std::nullopt;
}

}  // namespace zpartisan
