#include "wire/base64.hpp"

#include <array>
#include <cstdint>

namespace zpartisan::wire {

namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::int8_t not_base64 = -1;

constexpr std::array<std::int8_t, 256> make_values() {
    std::array<std::int8_t, 256> values{};
    for (auto& v : values) v = not_base64;
    for (std::size_t i = 0; i < alphabet.size(); ++i)
        values[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return values;
}
constexpr auto values = make_values();

std::optional<std::string> refuse(std::string* why, std::string text) {
    if (why) *why = std::move(text);
    return std::nullopt;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                                    static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                                    static_cast<unsigned char>(bytes[i + 2]);
        out += alphabet[group >> 18 & 63];
        out += alphabet[group >> 12 & 63];
        out += alphabet[group >> 6 & 63];
        out += alphabet[group & 63];
    }
    const auto rest = bytes.size() - i;
    if (rest == 0) return out;
    std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) group |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += alphabet[group >> 18 & 63];
    out += alphabet[group >> 12 & 63];
    out += rest == 2 ? alphabet[group >> 6 & 63] : '=';
    out += '=';
    return out;
}

std::optional<std::string> base64_decode(std::string_view text, std::string* why) {
    if (text.size() % 4 != 0)
        return refuse(why, "base64 comes in groups of 4 characters; this is " + std::to_string(text.size()) + " long");
    std::size_t padding = 0;
    if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    std::uint32_t group = 0;
    const auto data_chars = text.size() - padding;
    for (std::size_t i = 0; i < data_chars; ++i) {
        const auto value = values[static_cast<unsigned char>(text[i])];
        if (value == not_base64)
            return refuse(why, "not a base64 character at offset " + std::to_string(i) +
                                   (text[i] == '=' ? " ('=' pads the end only)" : ""));
        group = group << 6 | static_cast<std::uint32_t>(value);
        if (i % 4 == 3) {
            out += static_cast<char>(group >> 16 & 0xff);
            out += static_cast<char>(group >> 8 & 0xff);
            out += static_cast<char>(group & 0xff);
            group = 0;
        }
    }
    if (padding == 2) {  // 2 characters: 12 bits, one byte and 4 bits that must be zero
        if (group & 0xf) return refuse(why, "base64 with leftover bits set before its padding");
        out += static_cast<char>(group >> 4 & 0xff);
    } else if (padding == 1) {  // 3 characters: 18 bits, two bytes and 2 bits that must be zero
        if (group & 0x3) return refuse(why, "base64 with leftover bits set before its padding");
        out += static_cast<char>(group >> 10 & 0xff);
        out += static_cast<char>(group >> 2 & 0xff);
    }
    return out;
}

}  // namespace zpartisan::wire
