// The daemon's side of `zpartisan-ctl watch` (docs/control.md, watch): a watcher asks
// {"cmd": "watch"} from a DEALER and from then on receives every membership event as one
// JSON message, numbered by "seq", plus a heartbeat each heartbeat_interval. It repeats the
// request to stay subscribed; one not heard from for watcher_expiry is dropped, so a watcher
// that vanished costs nothing for long. What one watcher has not read yet waits in its own
// queue of the control socket, bounded by ZeroMQ's high-water mark: beyond it messages are
// dropped, and the gap in "seq" tells the watcher.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "daemon/membership_events.hpp"
#include "control/control_channel.hpp"

namespace zpartisan::daemon {

class watch_stream {
public:
    using clock = std::chrono::steady_clock;
    using sender = std::function<void(const control::control_message& to, const std::string& text)>;

    static constexpr auto heartbeat_interval = std::chrono::milliseconds(1000);
    static constexpr auto watcher_expiry = std::chrono::milliseconds(5000);
    static constexpr std::size_t max_watchers = 32;

    explicit watch_stream(sender send) : _send(std::move(send)) {}

    // A `watch` or `unwatch` request: answered here (true), else not one of ours (false).
    bool take(const control::control_message& request, clock::time_point now);
    // Sends each event to every watcher, then heartbeats that are due; drops expired watchers.
    void publish(const std::vector<membership_event>& events, clock::time_point now);
    [[nodiscard]] bool watched() const { return !_watchers.empty(); }

private:
    struct watcher {
        control::control_message route;
        clock::time_point last_asked;
        clock::time_point last_sent;
        std::uint64_t seq = 0;
    };
    void send(watcher& to, nlohmann::json message, clock::time_point now);

    sender _send;
    std::map<std::vector<std::string>, watcher> _watchers;  // by route (the asker's identity)
};

}  // namespace zpartisan::daemon
