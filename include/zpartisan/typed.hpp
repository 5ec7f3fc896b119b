/// @file
/// Typed payloads: any type cereal can serialize travels as the bytes of a message.
/// @code
///   node.forward_message("c3", "orders", zpartisan::encode_payload(order));
///   auto order = zpartisan::decode_payload<Order>(message.payload);  // nullopt if not one
/// @endcode
/// Portable binary, so nodes of different endianness agree. decode never throws.
/// It and bounded_archive.hpp are the public headers that include a third-party library:
/// cereal (header-only, libcereal-dev).
#pragma once

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include "zpartisan/bounded_archive.hpp"
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace zpartisan {

/// The bytes of value, to send as a payload; T is any type cereal can serialize.
template <class T>
[[nodiscard]] std::string encode_payload(const T& value) {
    std::ostringstream out;
    {
        cereal::PortableBinaryOutputArchive archive(out);
        archive(value);
    }
    return std::move(out).str();
}

/// The T in bytes from encode_payload<T>; nullopt when they are not exactly one T.
/// A size the payload cannot hold (a forged length) is refused before anything is allocated
/// for it (bounded_archive.hpp).
template <class T>
[[nodiscard]] std::optional<T> decode_payload(std::string_view bytes) noexcept {
    try {
        bounded_input_archive archive(bytes);
        T value{};
        archive(value);
        if (archive.remaining() != 0) return std::nullopt;  // not exactly one T
        return value;
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace zpartisan
