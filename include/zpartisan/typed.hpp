// Typed payloads: any type cereal can serialize travels as the bytes of a message.
//   node.forward_message("c3", "orders", zpartisan::encode_payload(order));
//   auto order = zpartisan::decode_payload<Order>(message.payload);  // nullopt if not one
// Portable binary, so nodes of different endianness agree. decode never throws.
#pragma once

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace zpartisan {

template <class T>
[[nodiscard]] std::string encode_payload(const T& value) {
    std::ostringstream out;
    {
        cereal::PortableBinaryOutputArchive archive(out);
        archive(value);
    }
    return std::move(out).str();
}

template <class T>
[[nodiscard]] std::optional<T> decode_payload(std::string_view bytes) noexcept {
    try {
        std::istringstream in{std::string(bytes)};
        cereal::PortableBinaryInputArchive archive(in);
        T value{};
        archive(value);
        if (in.peek() != std::char_traits<char>::eof()) return std::nullopt;  // not exactly one T
        return value;
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace zpartisan
