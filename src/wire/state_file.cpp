#include "wire/state_file.hpp"

#include <cstring>

#include "wire/codec.hpp"

namespace zpartisan::wire {

namespace {

constexpr char file_magic[4] = {'Z', 'P', 'D', 'S'};
constexpr std::uint8_t file_version = 1;
constexpr std::size_t file_header_bytes = 4 + 1 + 8 + 8;

std::uint64_t fnv1a64(std::string_view bytes) {
    std::uint64_t hash = 1469598103934665603ull;
    for (unsigned char c : bytes) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    return hash;
}

void put_u64(std::string& out, std::uint64_t value) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::uint64_t get_u64(std::string_view in) {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    return value;
}

}  // namespace

std::string encode_state_file(const persisted_node& node) {
    const auto state = encode_state(node.state);
    std::string bytes(file_magic, 4);
    bytes.reserve(state_file_overhead + state.size());
    bytes.push_back(static_cast<char>(file_version));
    put_u64(bytes, node.incarnation);
    put_u64(bytes, state.size());
    bytes += state;
    put_u64(bytes, fnv1a64(bytes));
    return bytes;
}

std::optional<persisted_node> decode_state_file(std::string_view bytes, std::string* why) noexcept {
    auto fail = [why](const char* reason) -> std::optional<persisted_node> {
        if (why) {
            try {
                *why = reason;
            } catch (...) {}
        }
        return std::nullopt;
    };
    if (bytes.size() < state_file_overhead) return fail("truncated");
    if (std::memcmp(bytes.data(), file_magic, 4) != 0) return fail("not a zpartisan state file");
    if (static_cast<std::uint8_t>(bytes[4]) != file_version) return fail("unsupported file version");
    const auto incarnation = get_u64(bytes.substr(5));
    const auto length = get_u64(bytes.substr(13));
    // Compared without adding to `length`, which is the file's word and may be near 2^64.
    if (length > state_file_state_max || length != bytes.size() - state_file_overhead)
        return fail("truncated or padded");
    const auto checksum = get_u64(bytes.substr(file_header_bytes + length));
    if (checksum != fnv1a64(bytes.substr(0, file_header_bytes + length))) return fail("checksum mismatch");
    auto state = decode_state(bytes.substr(file_header_bytes, length), state_file_state_max);
    if (!state) return fail("undecodable membership state");
    return persisted_node{incarnation, std::move(*state)};
}

}  // namespace zpartisan::wire
