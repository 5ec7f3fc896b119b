// A peer's bytes as they may appear in a log line. Routing ids, names, cluster names,
// references and payloads come from the network: written raw they could carry terminal escape
// sequences, forged line breaks or megabytes into the log, and break --log-format json. So
// every byte outside printable ASCII, and '%', '"' and '\', becomes %HH (upper-case hex), and
// what is longer than a few dozen bytes is cut, saying how long it was. The result is plain
// ASCII that is safe inside a JSON string and reads as the original when the original was a
// sane name. Pure: no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace zpartisan::core {

inline constexpr std::size_t log_text_max_bytes = 64;

// At most max_bytes of the input are shown; a longer input ends in "...(N bytes)".
[[nodiscard]] std::string log_text(std::string_view peer_bytes, std::size_t max_bytes = log_text_max_bytes);

}  // namespace zpartisan::core
