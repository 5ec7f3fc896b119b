// CurveZMQ keys (Z85 text, 40 characters) and the files that hold them (README, "Security"):
// a key file is lines of keys; blank lines and lines starting with '#' are comments, and
// anything after a key on its line is ignored (room for a note naming the node).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace zpartisan::transport {

struct curve_keypair {
    std::string public_key;  // Z85
    std::string secret_key;  // Z85
};

[[nodiscard]] bool curve_supported();
// Throws transport_error when libzmq cannot make one (built without CURVE).
[[nodiscard]] curve_keypair generate_curve_keypair();
// The public key of a Z85 secret key; nullopt when the text is not one.
[[nodiscard]] std::optional<std::string> curve_public_of(const std::string& secret_key);
// The first 8 characters: enough to tell keys apart in a log line, too few to be the key.
[[nodiscard]] std::string short_key(std::string_view key);

struct key_lines {
    std::vector<std::string> keys;    // in file order, duplicates kept once
    std::vector<std::string> errors;  // "line N: why", the offending text escaped and cut short
};
[[nodiscard]] key_lines parse_key_lines(std::string_view text);

// What replacing an allow list changed, for the log line that says so.
struct allow_list_change {
    std::vector<std::string> added;
    std::vector<std::string> removed;
};
[[nodiscard]] allow_list_change compare_allow_lists(const std::set<std::string>& before,
                                                    const std::set<std::string>& after);
[[nodiscard]] std::string describe(const allow_list_change& change);

}  // namespace zpartisan::transport
