// Where zpartisan-ctl send/forward take their payload from: the PAYLOAD argument or
// --payload-file, either as it is or, with --base64, as base64 of the bytes to send. Bytes that
// are not UTF-8 travel as payload_base64 (docs/control.md), so they arrive exactly as given.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace zpartisan::cli {

struct payload_input {
    std::optional<std::string> argument;
    std::string file;     // empty: none; "-": standard input
    bool base64 = false;  // the argument or file holds base64 (whitespace ignored)
};

// Sets request's "payload" (UTF-8 text given as it is) or "payload_base64" (anything else).
// Throws std::runtime_error saying what is wrong: neither or both of the argument and the
// file, a file that cannot be read, text that is not base64.
void put_payload(nlohmann::json& request, const payload_input& input);

}  // namespace zpartisan::cli
