// The daemon's control endpoint (REQ/REP, text in, text out), kept in the transport so
// zmq.hpp stays in one layer. The daemon answers with control_server; zpartisan-ctl asks
// with control_request. Both bounded by timeouts: a dead daemon never hangs the CLI.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace zpartisan::transport {

class control_server {
public:
    // Binds endpoint (ipc:// or tcp://127.0.0.1:port); throws transport_error on failure.
    explicit control_server(const std::string& endpoint);
    ~control_server();
    // The next request, or nullopt after timeout. Every request must be answered by reply().
    std::optional<std::string> next_request(std::chrono::milliseconds timeout);
    void reply(const std::string& text);
    [[nodiscard]] const std::string& endpoint() const { return _endpoint; }

private:
    struct sockets;
    std::unique_ptr<sockets> _sockets;
    std::string _endpoint;
};

// One request/response; nullopt when nothing answered within timeout.
std::optional<std::string> control_request(const std::string& endpoint, const std::string& text,
                                           std::chrono::milliseconds timeout);

}  // namespace zpartisan::transport
