// The daemon's built-in `inbox` handler: keeps the last N messages for zpartisan-ctl inbox.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "zpartisan/messaging.hpp"

namespace zpartisan::daemon {

struct stored_message {
    std::string from;
    std::string kind;
    std::string payload;
    std::int64_t received_unix_ms = 0;
};

class inbox {
public:
    explicit inbox(std::size_t capacity) : _capacity(capacity) {}

    void store(const inbound_message& message);
    [[nodiscard]] std::vector<stored_message> snapshot() const;

private:
    std::size_t _capacity;
    mutable std::mutex _mutex;
    std::deque<stored_message> _messages;  // oldest first, at most _capacity
};

}  // namespace zpartisan::daemon
