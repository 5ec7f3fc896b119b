#include "control/control_channel.hpp"

#include <sys/stat.h>

#include <deque>
#include <mutex>
#include <zmq.hpp>

#include "transport/transport_error.hpp"
#include "transport/wakeup_pipe.hpp"
#include "transport/zmq_context.hpp"

namespace zpartisan::control {

namespace {
// Answers still queued when the daemon closes the endpoint (a report that came while it
// stopped) get this long to leave.
constexpr int closing_linger_ms = 200;
constexpr std::string_view refused_several_frames =
    R"({"ok":false,"error":"a request is one frame; this one had several"})";

// Binds with a umask that leaves an ipc:// socket file to this user alone: connecting to a
// Unix socket needs write permission on it. Set around the bind rather than chmod after it,
// so there is no moment when another user could connect; chmod again in case the
// process's umask was changed meanwhile by another thread.
void bind_private(zmq::socket_t& socket, const std::string& endpoint) {
    constexpr std::string_view ipc = "ipc://";
    if (!endpoint.starts_with(ipc)) {
        socket.bind(endpoint);
        return;
    }
    const auto previous = ::umask(S_IRWXG | S_IRWXO);
    try {
        socket.bind(endpoint);
    } catch (...) {
        ::umask(previous);
        throw;
    }
    ::umask(previous);
    const auto path = endpoint.substr(ipc.size());
    if (!path.starts_with("@") && ::chmod(path.c_str(), S_IRUSR | S_IWUSR) != 0) throw zmq::error_t(errno);
}
}  // namespace

struct control_server::sockets {
    std::shared_ptr<zmq::context_t> context = transport::context_for_sockets();  // the daemon's node's, shared
    zmq::socket_t router{*context, zmq::socket_type::router};
    transport::wakeup_pipe answers_ready;
    std::mutex mutex;
    std::deque<std::pair<std::vector<std::string>, std::string>> answers;  // route, text
};

control_server::control_server(const std::string& endpoint, std::size_t max_request_bytes)
    : _sockets(std::make_unique<sockets>()), _max_request_bytes(max_request_bytes) {
    try {
        _sockets->router.set(zmq::sockopt::linger, closing_linger_ms);
        _sockets->router.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(std::min<std::uint64_t>(
                                                           std::uint64_t{max_request_bytes} * 2, INT64_MAX)));
        bind_private(_sockets->router, endpoint);
        _endpoint = _sockets->router.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
        throw transport::transport_error("cannot bind the control endpoint " + endpoint + ": " + e.what());
    }
}

control_server::~control_server() = default;

void control_server::reply(const control_message& to, const std::string& text) {
    {
        std::lock_guard lock(_sockets->mutex);
        _sockets->answers.emplace_back(to.route, text);
    }
    _sockets->answers_ready.notify();
}

void control_server::flush() {
    _sockets->answers_ready.drain();
    std::deque<std::pair<std::vector<std::string>, std::string>> ready;
    {
        std::lock_guard lock(_sockets->mutex);
        ready.swap(_sockets->answers);
    }
    for (const auto& [route, text] : ready) {
        try {
            for (const auto& part : route) (void)_sockets->router.send(zmq::buffer(part), zmq::send_flags::sndmore);
            (void)_sockets->router.send(zmq::buffer(text), zmq::send_flags::dontwait);
        } catch (const zmq::error_t&) {}
    }
}

std::optional<control_message> control_server::next_request(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    try {
        while (true) {
            flush();
            zmq::pollitem_t items[] = {{_sockets->router.handle(), 0, ZMQ_POLLIN, 0},
                                       {nullptr, _sockets->answers_ready.fd(), ZMQ_POLLIN, 0}};
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            zmq::poll(items, 2, std::max(left, std::chrono::milliseconds(0)));
            if (items[0].revents & ZMQ_POLLIN) {
                // A REQ asker's message: its routing id, the empty delimiter, then the request.
                // A DEALER may send no delimiter: the first frame alone routes the answer then.
                std::vector<std::string> frames;
                zmq::message_t frame;
                do {
                    if (!_sockets->router.recv(frame, zmq::recv_flags::dontwait)) break;
                    frames.push_back(frame.to_string());
                } while (frame.more());
                std::size_t body = 1;
                for (std::size_t i = 1; i < frames.size(); ++i)
                    if (frames[i].empty()) {
                        body = i + 1;
                        break;
                    }
                control_message request;
                request.route.assign(frames.begin(),
                                     frames.begin() + static_cast<std::ptrdiff_t>(std::min(body, frames.size())));
                if (frames.size() == body + 1 && frames.back().size() > _max_request_bytes) {
                    reply(request, R"({"ok":false,"error":"request of )" + std::to_string(frames.back().size()) +
                                       " bytes over the endpoint's limit of " + std::to_string(_max_request_bytes) +
                                       " (--control-max-request-bytes)\"}");
                    continue;
                }
                if (frames.size() == body + 1) {
                    request.text = frames.back();
                    return request;
                }
                // Empty, or several frames: refused whole, so no part of it runs as a
                // command of its own.
                reply(request, std::string(refused_several_frames));
                continue;
            }
            if (items[1].revents & ZMQ_POLLIN) continue;  // answers to send
            if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        }
    } catch (const zmq::error_t&) {
        return std::nullopt;  // EINTR (a signal): the caller checks its stop flag
    }
}

std::optional<std::string> ask(const std::string& endpoint, const std::string& text,
                               std::chrono::milliseconds timeout) {
    try {
        zmq::context_t context{1};
        zmq::socket_t req(context, zmq::socket_type::req);
        req.set(zmq::sockopt::linger, 0);
        req.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count()));
        req.set(zmq::sockopt::sndtimeo, static_cast<int>(timeout.count()));
        req.connect(endpoint);
        if (!req.send(zmq::buffer(text), zmq::send_flags::none)) return std::nullopt;
        zmq::message_t answer;
        if (!req.recv(answer)) return std::nullopt;
        return answer.to_string();
    } catch (const zmq::error_t&) {
        return std::nullopt;
    }
}

}  // namespace zpartisan::control
