// Routed frames and bundles (src/wire/routed_codec.hpp): the relay's in-place view
// (peek_routed) agrees with the full read (read_forward, decode_forward_ack), a forward read
// re-encodes to its very frame, and a bundle's entries re-pack to its very payload.
#include <stdexcept>
#include <string>

#include "fuzz_targets.hpp"
#include "wire/routed_codec.hpp"

namespace zpartisan::fuzz {

namespace {

void check_bundle(std::string_view bundle) {
    wire::bundle_reader reader(bundle);
    std::string repacked;
    std::size_t entries = 0;
    std::string_view entry;
    while (reader.next(entry)) {
        wire::append_bundle_entry(repacked, entry);
        ++entries;
    }
    const auto counted = wire::bundle_entries(bundle);
    fuzz_require(counted == (reader.at_end() && entries > 0 ? entries : 0),
                 "bundle_entries counts what the reader reads");
    fuzz_require(bundle.substr(0, repacked.size()) == repacked, "a bundle's entries re-pack to its bytes");
    if (reader.at_end()) fuzz_require(repacked.size() == bundle.size(), "a bundle read to its end re-packs whole");
}

void check_forward(std::string_view frame, const std::optional<wire::routed_header>& peeked) {
    const char* why = nullptr;
    const auto view = wire::read_forward(frame, &why);
    if (!view) {
        fuzz_require(why != nullptr, "a refused forward says why");
        return;
    }
    const auto& f = view->fields;
    fuzz_require(peeked.has_value() && !peeked->is_ack, "a readable forward is peekable");
    fuzz_require(peeked->destination == f.destination && peeked->channel == f.channel && peeked->lane == f.lane &&
                     peeked->hops == f.hops,
                 "the relay's view agrees with the full read");
    fuzz_require(wire::encodable(f), "what was read is encodable");
    std::string again(wire::encoded_size(f), '\0');
    wire::encode_into(f, again.data());
    fuzz_require(again == frame, "a forward re-encodes to its frame");
    if (f.bundled) {
        fuzz_require(view->bundled_entries == wire::bundle_entries(f.payload), "a bundle's entry count");
        std::string rebuilt;
        wire::start_bundle(f, rebuilt);
        wire::bundle_reader reader(f.payload);
        for (std::string_view entry; reader.next(entry);) wire::append_bundle_entry(rebuilt, entry);
        fuzz_require(rebuilt == frame, "a bundle rebuilt from its entries is its frame");
    }
    const auto decoded = wire::decode_forward(frame);
    fuzz_require(decoded.payload == f.payload && decoded.destination == f.destination &&
                     decoded.bundled == view->bundled_entries,
                 "decode_forward agrees with read_forward");
}

void check_ack(std::string_view frame, const std::optional<wire::routed_header>& peeked) {
    core::forward_ack ack;
    try {
        ack = wire::decode_forward_ack(frame);
    } catch (const std::runtime_error&) {
        return;  // refused: the documented way for this body decoder
    }
    fuzz_require(
        peeked.has_value() && peeked->is_ack && peeked->destination == ack.destination && peeked->hops == ack.hops,
        "a decodable ack is peekable, alike");
    std::string again(wire::encoded_size(ack), '\0');
    wire::encode_into(ack, again.data());
    fuzz_require(again == frame, "an ack re-encodes to its frame");
}

// decode_forward_ack reads the body of a frame decode() already found to be an ack.
bool has_header(std::string_view frame, core::message_type type) {
    return frame.size() >= 4 && frame.substr(0, 3) == std::string_view("ZP\x01", 3) &&
           frame[3] == static_cast<char>(type);
}

}  // namespace

int fuzz_routed_codec(const std::uint8_t* data, std::size_t size) {
    const auto frame = as_text(data, size);
    const auto peeked = wire::peek_routed(frame);
    check_forward(frame, peeked);
    if (has_header(frame, core::message_type::forward_ack)) check_ack(frame, peeked);
    check_bundle(frame);
    return 0;
}

}  // namespace zpartisan::fuzz
