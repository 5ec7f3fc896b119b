#include "transport/refusal_log.hpp"

#include <spdlog/spdlog.h>

namespace zpartisan::transport {

namespace {
constexpr auto interval = std::chrono::minutes(1);
constexpr std::size_t windows_max = 4096;

std::string host_of(const std::string& address) {
    const auto colon = address.rfind(':');
    const auto bracket = address.rfind(']');
    if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) return address;
    if (address.find(':') != colon && bracket == std::string::npos) return address;  // a bare IPv6 address
    return address.substr(0, colon);
}
}  // namespace

void refusal_log::warn(std::string_view node, std::string_view what, const std::string& address,
                       const std::string& why) {
    const auto now = std::chrono::steady_clock::now();
    if (_windows.size() >= windows_max) _windows.clear();
    auto [it, fresh] = _windows.try_emplace(host_of(address) + " " + why);
    if (!fresh && now - it->second.logged_at < interval) {
        ++it->second.held_back;
        return;
    }
    const auto held_back = it->second.held_back;
    it->second = {now, 0};
    if (held_back > 0)
        spdlog::warn("[{}] {} {}: {} ({} more like it in the last minute)", node, what, address, why, held_back);
    else
        spdlog::warn("[{}] {} {}: {}", node, what, address, why);
}

}  // namespace zpartisan::transport
