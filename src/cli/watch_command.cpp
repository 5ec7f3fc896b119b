#include "cli/watch_command.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>

#include "control/control_stream.hpp"

namespace zpartisan::cli {

namespace {

using nlohmann::json;
using clock = std::chrono::steady_clock;

std::atomic<bool> interrupted{false};
void on_interrupt(int) { interrupted = true; }

// The node drops a watcher it has not heard from for its expiry (5 s): renewing each second
// keeps us well inside it. Silence for silence_limit (heartbeats come each second) means the
// node is gone or hung.
constexpr auto renew_every = std::chrono::milliseconds(1000);
constexpr auto silence_limit = std::chrono::milliseconds(4000);

std::string text_of(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string clock_time(std::int64_t unix_ms) {
    const std::time_t seconds = unix_ms / 1000;
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%H:%M:%S", &parts);
    char millis[8];
    std::snprintf(millis, sizeof millis, ".%03d", static_cast<int>(unix_ms % 1000));
    return std::string(text) + millis;
}

// "22:51:03.412 down s2 detected_by=s1 silent_ms=310 missed_heartbeats=3 connection_lost=true"
std::string line_of(const json& event) {
    std::string line = clock_time(event.value("time_unix_ms", std::int64_t{0})) + " " + event.value("event", "?");
    if (const auto node = event.value("node", ""); !node.empty()) line += " " + node;
    for (const auto& [key, value] : event.items()) {
        if (key == "event" || key == "node" || key == "seq" || key == "time_unix_ms") continue;
        line += " " + key + "=" + (value.is_string() ? value.get<std::string>() : text_of(value));
    }
    return line;
}

}  // namespace

int watch(const std::string& control, bool as_json) {
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    control::control_stream stream(control);
    const std::string request = R"({"cmd":"watch"})";
    stream.send(request);
    auto last_heard = clock::now();
    auto next_renewal = clock::now() + renew_every;
    bool subscribed = false;
    std::uint64_t last_seq = 0;
    while (!interrupted) {
        const auto now = clock::now();
        if (now - last_heard > silence_limit) {
            std::cerr << "zpartisan-ctl: " << control << (subscribed ? " stopped answering" : " does not answer")
                      << "\n";
            return 2;
        }
        if (now >= next_renewal) {
            stream.send(request);
            next_renewal = now + renew_every;
        }
        const auto text = stream.receive(std::chrono::duration_cast<std::chrono::milliseconds>(next_renewal - now));
        if (!text) continue;
        json message;
        try {
            message = json::parse(*text);
        } catch (const std::exception&) {
            std::cerr << "zpartisan-ctl: the node sent something that is not JSON\n";
            continue;
        }
        last_heard = clock::now();
        if (!message.contains("event")) {  // the answer to a watch request
            if (!message.value("ok", false)) {
                std::cerr << "zpartisan-ctl: " << message.value("error", "watch refused") << "\n";
                return 1;
            }
            if (!subscribed) std::cerr << "zpartisan-ctl: watching " << control << " (Ctrl-C to stop)" << std::endl;
            subscribed = true;
            continue;
        }
        const auto seq = message.value("seq", std::uint64_t{0});
        if (last_seq != 0 && seq > last_seq + 1)
            std::cerr << "zpartisan-ctl: " << seq - last_seq - 1 << " events lost (the watch queue was full)\n";
        if (seq != 0 && seq < last_seq) std::cerr << "zpartisan-ctl: the node forgot this watcher and took it back\n";
        last_seq = seq;
        const auto kind = message.value("event", "");
        if (kind == "heartbeat") continue;
        std::cout << (as_json ? text_of(message) : line_of(message)) << std::endl;
        if (kind == "stopped") return 3;
    }
    stream.send(R"({"cmd":"unwatch"})");
    return 0;
}

}  // namespace zpartisan::cli
