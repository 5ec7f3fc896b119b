// Log lines about refused peers, rate-limited: one line a minute per peer host and reason,
// the next one saying how many were held back, so a peer that retries (ZeroMQ reconnects
// every few seconds) or floods cannot fill a disk. Not thread-safe: one per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace zpartisan::transport {

class refusal_log {
public:
    // "[node] what address: why"; address may carry a port, which the rate limit ignores
    // (each reconnection comes from a new one).
    void warn(std::string_view node, std::string_view what, const std::string& address, const std::string& why);

private:
    struct window {
        std::chrono::steady_clock::time_point logged_at;
        std::uint64_t held_back = 0;
    };
    std::map<std::string, window> _windows;
};

}  // namespace zpartisan::transport
