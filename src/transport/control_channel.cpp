#include "transport/control_channel.hpp"

#include <zmq.hpp>

#include "transport/zmq_transport.hpp"

namespace zpartisan::transport {

struct control_server::sockets {
    zmq::context_t context{1};
    zmq::socket_t rep{context, zmq::socket_type::rep};
};

control_server::control_server(const std::string& endpoint) : _sockets(std::make_unique<sockets>()) {
    try {
        _sockets->rep.set(zmq::sockopt::linger, 0);
        _sockets->rep.set(zmq::sockopt::maxmsgsize, std::int64_t{1} << 20);
        _sockets->rep.bind(endpoint);
        _endpoint = _sockets->rep.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
        throw transport_error("cannot bind the control endpoint " + endpoint + ": " + e.what());
    }
}

control_server::~control_server() = default;

std::optional<std::string> control_server::next_request(std::chrono::milliseconds timeout) {
    zmq::pollitem_t item{_sockets->rep.handle(), 0, ZMQ_POLLIN, 0};
    try {
        zmq::poll(&item, 1, timeout);
        if (!(item.revents & ZMQ_POLLIN)) return std::nullopt;
        zmq::message_t request;
        if (!_sockets->rep.recv(request, zmq::recv_flags::dontwait)) return std::nullopt;
        if (request.more()) {
            // A request is one frame. Read whole (the REP socket answers nothing before) and
            // refused, so no part of it runs as a command of its own.
            while (request.more() && _sockets->rep.recv(request, zmq::recv_flags::dontwait)) {
            }
            reply(R"({"ok":false,"error":"a request is one frame; this one had several"})");
            return std::nullopt;
        }
        return request.to_string();
    } catch (const zmq::error_t&) {
        return std::nullopt;  // EINTR (a signal): the caller checks its stop flag
    }
}

void control_server::reply(const std::string& text) {
    try {
        (void)_sockets->rep.send(zmq::buffer(text), zmq::send_flags::none);
    } catch (const zmq::error_t&) {
    }
}

std::optional<std::string> control_request(const std::string& endpoint, const std::string& text,
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

}  // namespace zpartisan::transport
