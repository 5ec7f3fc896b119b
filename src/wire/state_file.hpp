// The bytes of a node's persisted state file (runtime/state_store.hpp does the I/O):
// "ZPDS", a version byte, u64 incarnation, u64 length, the membership state as
// encode_state() writes it, then a u64 FNV-1a checksum of everything before it; integers
// little-endian. Pure: decoding checks every length against the bytes present and never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/membership_set.hpp"

namespace zpartisan::wire {

struct persisted_node {
    std::uint64_t incarnation = 0;
    core::membership_state state;

    bool operator==(const persisted_node&) const = default;
};

// The largest state a file may hold; a larger file is refused before it is read.
inline constexpr std::size_t state_file_state_max = std::size_t{256} << 20;
// Magic, version, incarnation, length and checksum: a file's bytes beside its state.
inline constexpr std::size_t state_file_overhead = 4 + 1 + 8 + 8 + 8;

[[nodiscard]] std::string encode_state_file(const persisted_node& node);
// The node, or nullopt with *why saying what is wrong (truncated, bad checksum...).
[[nodiscard]] std::optional<persisted_node> decode_state_file(std::string_view bytes,
                                                              std::string* why = nullptr) noexcept;

}  // namespace zpartisan::wire
