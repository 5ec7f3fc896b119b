// The wire codec: core messages <-> one ZeroMQ frame (docs/protocol.md §1).
// Frame = 'Z' 'P' envelope_version type body, body in cereal portable binary.
// decode never throws: malformed input is an error value the runtime counts and logs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/messages.hpp"

namespace zpartisan::wire {

inline constexpr std::uint8_t envelope_version = 1;
inline constexpr std::size_t header_bytes = 4;
// Bounds on untrusted counts and lengths, checked before anything is allocated.
inline constexpr std::size_t max_string_bytes = 64 * 1024;
inline constexpr std::size_t max_collection_items = 1'000'000;

enum class decode_error {
    none,
    too_short,
    too_large,
    bad_magic,
    unsupported_envelope_version,
    unknown_type,
    malformed,
};

[[nodiscard]] const char* describe(decode_error error);

struct decode_result {
    std::optional<core::message> message;
    decode_error error = decode_error::none;
    std::uint8_t type_byte = 0;  // the claimed type, for logs
    std::string detail;
};

[[nodiscard]] std::string encode(const core::message& message);
[[nodiscard]] decode_result decode(std::string_view frame, std::size_t max_frame_bytes) noexcept;

// A membership state on its own (get_local_state, persistence): 'Z' 'S' version body.
[[nodiscard]] std::string encode_state(const core::membership_state& state);
[[nodiscard]] std::optional<core::membership_state> decode_state(std::string_view bytes,
                                                                 std::size_t max_bytes) noexcept;

}  // namespace zpartisan::wire
