#include "daemon/watch_stream.hpp"

namespace zpartisan::daemon {

using nlohmann::json;

namespace {

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string text_of(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

bool watch_stream::take(const control::control_message& request, clock::time_point now) {
    std::string cmd;
    try {
        const auto parsed = json::parse(request.text);
        if (!parsed.is_object()) return false;
        cmd = parsed.value("cmd", "");
    } catch (const std::exception&) {
        return false;  // the ordinary path answers the parse error
    }
    if (cmd == "unwatch") {
        _watchers.erase(request.route);
        _send(request, text_of({{"ok", true}, {"watching", false}}));
        return true;
    }
    if (cmd != "watch") return false;
    auto it = _watchers.find(request.route);
    if (it == _watchers.end()) {
        if (_watchers.size() >= max_watchers) {
            _send(request,
                  text_of({{"ok", false}, {"error", "too many watchers (" + std::to_string(max_watchers) + ")"}}));
            return true;
        }
        it = _watchers.emplace(request.route, watcher{request, now, now, 0}).first;
    }
    it->second.last_asked = now;
    _send(request, text_of({{"ok", true},
                            {"watching", true},
                            {"heartbeat_ms", heartbeat_interval.count()},
                            {"expires_ms", watcher_expiry.count()}}));
    return true;
}

void watch_stream::send(watcher& to, json message, clock::time_point now) {
    message["seq"] = ++to.seq;
    message["time_unix_ms"] = unix_ms();
    _send(to.route, text_of(message));
    to.last_sent = now;
}

void watch_stream::publish(const std::vector<membership_event>& events, clock::time_point now) {
    std::erase_if(_watchers, [now](const auto& entry) { return now - entry.second.last_asked > watcher_expiry; });
    for (auto& [route, w] : _watchers) {
        for (const auto& event : events) send(w, to_json(event), now);
        if (now - w.last_sent >= heartbeat_interval) send(w, {{"event", "heartbeat"}}, now);
    }
}

}  // namespace zpartisan::daemon
