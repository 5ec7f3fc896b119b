#include "control/control_stream.hpp"

#include <zmq.hpp>

namespace zpartisan::control {

struct control_stream::sockets {
    zmq::context_t context{1};
    zmq::socket_t dealer{context, zmq::socket_type::dealer};
};

control_stream::control_stream(const std::string& endpoint) : _sockets(std::make_unique<sockets>()) {
    _sockets->dealer.set(zmq::sockopt::linger, 0);
    _sockets->dealer.connect(endpoint);
}

control_stream::~control_stream() = default;

bool control_stream::send(const std::string& text) {
    try {
        // The empty delimiter a REQ would send, so the daemon routes answers the same way.
        if (!_sockets->dealer.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait))
            return false;
        return _sockets->dealer.send(zmq::buffer(text), zmq::send_flags::dontwait).has_value();
    } catch (const zmq::error_t&) {
        return false;
    }
}

std::optional<std::string> control_stream::receive(std::chrono::milliseconds timeout) {
    try {
        zmq::pollitem_t items[] = {{_sockets->dealer.handle(), 0, ZMQ_POLLIN, 0}};
        zmq::poll(items, 1, timeout);
        if (!(items[0].revents & ZMQ_POLLIN)) return std::nullopt;
        std::optional<std::string> body;
        zmq::message_t frame;
        do {  // the delimiter, then the answer
            if (!_sockets->dealer.recv(frame, zmq::recv_flags::dontwait)) break;
            if (frame.size() > 0 || !frame.more()) body = frame.to_string();
        } while (frame.more());
        return body;
    } catch (const zmq::error_t&) {
        return std::nullopt;
    }
}

}  // namespace zpartisan::control
