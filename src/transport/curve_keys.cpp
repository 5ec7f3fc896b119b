#include "transport/curve_keys.hpp"

#include "core/log_text.hpp"

#include <zmq.h>

#include <array>
#include <cstdint>

#include "core/endpoint.hpp"
#include "transport/zmq_transport.hpp"

namespace zpartisan::transport {

bool curve_supported() { return zmq_has("curve") != 0; }

curve_keypair generate_curve_keypair() {
    std::array<char, 41> public_key{};
    std::array<char, 41> secret_key{};
    if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0)
        throw transport_error(std::string("cannot make a CURVE keypair: ") + zmq_strerror(zmq_errno()));
    return {public_key.data(), secret_key.data()};
}

std::optional<std::string> curve_public_of(const std::string& secret_key) {
    if (!core::is_z85_key(secret_key)) return std::nullopt;
    std::array<char, 41> public_key{};
    if (zmq_curve_public(public_key.data(), secret_key.c_str()) != 0) return std::nullopt;
    return std::string(public_key.data());
}

std::string short_key(std::string_view key) { return std::string(key.substr(0, 8)); }

key_lines parse_key_lines(std::string_view text) {
    key_lines out;
    std::set<std::string> seen;
    std::size_t number = 0;
    while (!text.empty()) {
        const auto end = text.find('\n');
        auto line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        ++number;
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string_view::npos || line[first] == '#') continue;
        line = line.substr(first);
        const auto key = line.substr(0, line.find_first_of(" \t\r"));
        if (!core::is_z85_key(key)) {
            out.errors.push_back("line " + std::to_string(number) + ": '" + core::log_text(key, 48) +
                                 "' is not a key (40 Z85 characters)");
            continue;
        }
        if (seen.emplace(key).second) out.keys.emplace_back(key);
    }
    return out;
}

allow_list_change compare_allow_lists(const std::set<std::string>& before, const std::set<std::string>& after) {
    allow_list_change change;
    for (const auto& key : after)
        if (!before.contains(key)) change.added.push_back(key);
    for (const auto& key : before)
        if (!after.contains(key)) change.removed.push_back(key);
    return change;
}

std::string describe(const allow_list_change& change) {
    auto list = [](const std::vector<std::string>& keys) {
        std::string out;
        for (const auto& key : keys) out += (out.empty() ? "" : " ") + short_key(key);
        return out.empty() ? std::string("none") : out;
    };
    return std::to_string(change.added.size()) + " added (" + list(change.added) + "), " +
           std::to_string(change.removed.size()) + " removed (" + list(change.removed) + ")";
}

}  // namespace zpartisan::transport
