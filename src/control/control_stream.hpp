// A control endpoint conversation of many answers (zpartisan-ctl watch, docs/control.md): a
// DEALER, so the daemon may send any number of messages for one request, and the asker may
// repeat its request on the same connection (the daemon knows it by its routing id).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace zpartisan::control {

class control_stream {
public:
    // Connects (a connection is made in the background; sends queue until it is up).
    explicit control_stream(const std::string& endpoint);
    ~control_stream();
    control_stream(const control_stream&) = delete;
    control_stream& operator=(const control_stream&) = delete;

    // False when it could not be queued.
    bool send(const std::string& text);
    // The next message, or nullopt after timeout (or when interrupted by a signal).
    std::optional<std::string> receive(std::chrono::milliseconds timeout);

private:
    struct sockets;
    std::unique_ptr<sockets> _sockets;
};

}  // namespace zpartisan::control
