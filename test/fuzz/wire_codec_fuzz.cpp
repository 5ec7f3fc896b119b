// The wire codec (src/wire/codec.hpp): any frame decodes or is refused with a reason, never a
// throw; what decodes re-encodes to bytes that decode to the same message, and a routed
// message (whose layout is canonical) re-encodes to the very frame it came in. The membership
// state blob (decode_state) likewise.
#include <limits>
#include <variant>

#include "fuzz_targets.hpp"
#include "wire/codec.hpp"

namespace zpartisan::fuzz {

namespace {
constexpr std::size_t no_limit = std::numeric_limits<std::size_t>::max();
}

int fuzz_wire_codec(const std::uint8_t* data, std::size_t size) {
    const auto frame = as_text(data, size);
    const auto first = wire::decode(frame, no_limit);
    fuzz_require(first.message.has_value() == (first.error == wire::decode_error::none),
                 "a message exactly when no error");
    if (first.message) {
        const auto bytes = wire::encode(*first.message);
        const auto second = wire::decode(bytes, no_limit);
        fuzz_require(second.message.has_value(), "what decoded re-encodes to a frame that decodes");
        fuzz_require(second.type_byte == first.type_byte, "the type survives a round trip");
        fuzz_require(wire::encode(*second.message) == bytes, "decode(encode(m)) encodes as m");
        const bool routed = std::holds_alternative<core::forward>(*first.message) ||
                            std::holds_alternative<core::forward_ack>(*first.message);
        if (routed) fuzz_require(bytes == frame, "a routed message re-encodes to its frame");
        fuzz_require(wire::decode(frame, size == 0 ? 0 : size - 1).error == wire::decode_error::too_large,
                     "a frame over the limit is refused as too large");
    }

    if (const auto state = wire::decode_state(frame, no_limit)) {
        const auto bytes = wire::encode_state(*state);
        const auto again = wire::decode_state(bytes, no_limit);
        fuzz_require(again.has_value() && *again == *state, "decode_state(encode_state(s)) == s");
    }
    return 0;
}

}  // namespace zpartisan::fuzz
