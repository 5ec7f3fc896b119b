// The compact layout of the two routed messages, forward and forward_ack (docs/protocol.md §6):
// fixed-offset fields first, so a relay reads the destination and bumps `hops` in place
// without decoding the body; then strings with a u16 length; then (forward) the payload to
// the end of the frame. Written by hand rather than with cereal because these are the hot
// path: no stream, no allocation but the frame itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/messages.hpp"

namespace zpartisan::wire {

inline constexpr std::size_t hops_offset = 4;             // the byte a relay increments
inline constexpr std::size_t max_routed_string = 0xffff;  // a u16 length

// A forward as views, so application threads encode one without building a core::forward.
struct forward_fields {
    std::string_view origin;
    std::uint64_t origin_incarnation = 0;
    std::string_view destination;
    std::string_view handler;
    core::delivery_kind kind = core::delivery_kind::forward;
    std::string_view channel;
    std::uint32_t lane = 0;
    std::uint8_t hops = 0;
    std::uint64_t id = 0;
    bool ack = false;
    std::string_view reply_to;
    std::string_view payload;
    bool bundled = false;  // payload is a bundle (below)
    // Acked only: carried after reply_to, with the `ordered` flag (docs/protocol.md §1).
    std::uint64_t previous_id = 0;
    std::uint64_t settled_below = 0;
};

// What an acked forward's order fields (previous_id, settled_below) add to its frame.
inline constexpr std::size_t order_fields_bytes = 16;

[[nodiscard]] forward_fields fields_of(const core::forward& m);
// False when a string field is longer than a u16 length can say.
[[nodiscard]] bool encodable(const forward_fields& f);
[[nodiscard]] std::size_t encoded_size(const forward_fields& f);
// Writes exactly encoded_size(f) bytes to out. f must be encodable.
void encode_into(const forward_fields& f, char* out);

[[nodiscard]] std::size_t encoded_size(const core::forward_ack& m);
void encode_into(const core::forward_ack& m, char* out);

// A bundle: the payload of a forward flagged `bundled` carries several application payloads
// for the same destination, handler, kind, channel and lane, each a u32 length and its bytes.
// A sender packs what its application queued while the reactor was busy into one frame, so
// ZeroMQ, the TCP hops and every relay handle one message instead of many. Never acked.
inline constexpr std::size_t bundle_entry_overhead = 4;

// Writes f's header (flagged bundled, no payload yet) to out, replacing what it held.
void start_bundle(const forward_fields& f, std::string& out);
void append_bundle_entry(std::string& bundle, std::string_view payload);

// Reads a bundle's entries in order; next() is false at the end or on broken framing.
class bundle_reader {
public:
    explicit bundle_reader(std::string_view bundle) noexcept : _rest(bundle) {}
    bool next(std::string_view& entry) noexcept;
    [[nodiscard]] bool at_end() const noexcept { return _rest.empty(); }

private:
    std::string_view _rest;
};

// Entries in a well-formed bundle (at least one, framing exact to the end); 0 otherwise.
[[nodiscard]] std::size_t bundle_entries(std::string_view bundle) noexcept;

// What a relay needs, read in place (views into the frame).
struct routed_header {
    bool is_ack = false;
    std::uint8_t hops = 0;
    std::string_view destination;
    std::string_view channel;  // empty for acks
    std::uint32_t lane = 0;
};

// nullopt when the frame is not a well-formed routed message; decode() then says why.
[[nodiscard]] std::optional<routed_header> peek_routed(std::string_view frame) noexcept;
// The header's views point into the frame, so a temporary frame would leave them dangling.
std::optional<routed_header> peek_routed(std::string&& frame) = delete;

// A forward read in place, as views into its frame: what a node needs to hand a message for
// itself to its handler without building a core::forward. nullopt when malformed, with
// *error (when given) saying why, as decode() would.
struct forward_view {
    forward_fields fields;
    std::uint32_t bundled_entries = 0;  // > 0 when fields.bundled
};
[[nodiscard]] std::optional<forward_view> read_forward(std::string_view frame, const char** error = nullptr) noexcept;
std::optional<forward_view> read_forward(std::string&& frame, const char** error = nullptr) = delete;

// Body decoders, used by decode(); they throw std::runtime_error on malformed input.
[[nodiscard]] core::forward decode_forward(std::string_view frame);
[[nodiscard]] core::forward_ack decode_forward_ack(std::string_view frame);

}  // namespace zpartisan::wire
