#include "core/log_text.hpp"

namespace zpartisan::core {

namespace {
bool shown_as_is(unsigned char byte) {
    return byte >= 0x20 && byte <= 0x7e && byte != '%' && byte != '"' && byte != '\\';
}
}  // namespace

std::string log_text(std::string_view peer_bytes, std::size_t max_bytes) {
    static constexpr char hex[] = "0123456789ABCDEF";
    const auto shown = peer_bytes.substr(0, max_bytes);
    std::string out;
    out.reserve(shown.size() + 16);
    for (const char c : shown) {
        const auto byte = static_cast<unsigned char>(c);
        if (shown_as_is(byte)) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(hex[byte >> 4]);
            out.push_back(hex[byte & 0xf]);
        }
    }
    if (shown.size() < peer_bytes.size()) out += "...(" + std::to_string(peer_bytes.size()) + " bytes)";
    return out;
}

}  // namespace zpartisan::core
