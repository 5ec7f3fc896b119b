// The daemon's control endpoint (text in, text out; docs/control.md). zpartisan-ctl asks with
// ask() (a REQ socket); the daemon serves with control_server, a ROUTER, so an answer may come
// later than the next request's (an acked forward waits for its delivery report while other
// requests are answered). Both bounded by timeouts: a dead daemon never hangs the CLI. Its own
// ZeroMQ context: the control endpoint shares nothing with the node's sockets.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zpartisan::control {

// The largest request the endpoint takes by default: room for a node's largest message
// (max_message_bytes, 4 MiB by default) as base64 in JSON. A larger one is answered with an
// error; one over twice the limit closes the asker's connection instead (ZMQ_MAXMSGSIZE),
// so no asker can make the daemon buffer more than that.
inline constexpr std::size_t control_request_max_bytes = std::size_t{8} << 20;

struct control_message {
    std::string text;
    std::vector<std::string> route;  // the envelope that addresses the answer to its asker
};

class control_server {
public:
    // Binds endpoint (ipc:// or tcp://127.0.0.1:port); throws transport::transport_error on failure. An
    // ipc:// socket file is created readable and writable by this process's user only.
    explicit control_server(const std::string& endpoint, std::size_t max_request_bytes = control_request_max_bytes);
    ~control_server();
    control_server(const control_server&) = delete;
    control_server& operator=(const control_server&) = delete;

    // The serving thread: the next request, or nullopt after timeout. Answers given meanwhile
    // by reply() go out as they come. Every request must be answered once by reply().
    std::optional<control_message> next_request(std::chrono::milliseconds timeout);
    // Any thread: queues the answer to the request `to`; the serving thread sends it in
    // next_request() or flush(). An asker that gave up meanwhile is gone: the answer is dropped.
    void reply(const control_message& to, const std::string& text);
    // The serving thread: sends what reply() queued, without waiting for requests.
    void flush();
    [[nodiscard]] const std::string& endpoint() const { return _endpoint; }

private:
    struct sockets;
    std::unique_ptr<sockets> _sockets;
    std::string _endpoint;
    std::size_t _max_request_bytes;
};

// One request/response; nullopt when nothing answered within timeout.
[[nodiscard]] std::optional<std::string> ask(const std::string& endpoint, const std::string& text,
                                             std::chrono::milliseconds timeout);

}  // namespace zpartisan::control
