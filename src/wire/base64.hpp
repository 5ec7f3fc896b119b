// Base64 (the standard alphabet, with '=' padding) for bytes that must travel inside JSON
// text: the control protocol's payloads (docs/control.md) may be any bytes, and JSON strings
// carry only UTF-8.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace zpartisan::wire {

[[nodiscard]] std::string base64_encode(std::string_view bytes);
// The bytes, or nullopt (with `why` filled) when text is not base64: a character outside
// the alphabet, a length that is not a multiple of 4, padding anywhere but the end, or
// leftover bits that are not zero (so every byte string has exactly one encoding).
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text, std::string* why = nullptr);

}  // namespace zpartisan::wire
