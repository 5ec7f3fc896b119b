#include "transport/zap_handler.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <vector>
#include <zmq.hpp>

#include "core/log_text.hpp"
#include "transport/zmq_transport.hpp"

namespace zpartisan::transport {

zap_handler::zap_handler(zmq::context_t& context, std::string node_name, std::set<std::string> allowed)
    : _name(std::move(node_name)), _allowed(std::move(allowed)) {
    try {
        _socket = std::make_unique<zmq::socket_t>(context, zmq::socket_type::rep);
        _socket->set(zmq::sockopt::linger, 0);
        _socket->bind("inproc://zeromq.zap.01");
    } catch (const zmq::error_t& e) {
        throw transport_error(std::string("cannot start the ZAP handler: ") + e.what());
    }
    _thread = std::thread([this] { run(); });
}

zap_handler::~zap_handler() {
    _stop = true;
    if (_thread.joinable()) _thread.join();
    _socket.reset();
}

allow_list_change zap_handler::set_allowed(std::set<std::string> keys) {
    std::lock_guard lock(_mutex);
    auto change = compare_allow_lists(_allowed, keys);
    _allowed = std::move(keys);
    return change;
}

void zap_handler::run() {
    while (!_stop) {
        zmq::pollitem_t item{_socket->handle(), 0, ZMQ_POLLIN, 0};
        try {
            // A short wait, so the destructor is never held up long.
            if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) > 0) answer_one();
        } catch (const zmq::error_t& e) {
            if (e.num() == ETERM) return;
            if (e.num() != EINTR) spdlog::error("[{}] ZAP handler: {}", _name, e.what());
        }
    }
}

void zap_handler::answer_one() {
    std::vector<zmq::message_t> request;
    do {
        zmq::message_t part;
        if (!_socket->recv(part, zmq::recv_flags::dontwait)) break;
        request.push_back(std::move(part));
    } while (request.back().more());
    // RFC 27: version, request id, domain, address, routing id, mechanism, credentials...
    const auto text = [&](std::size_t i) { return i < request.size() ? request[i].to_string() : std::string(); };
    const std::string request_id = text(1);
    const std::string address = text(3);
    const std::string mechanism = text(5);
    std::string status = "400";
    std::string why;
    std::string user;
    if (request.size() < 6 || text(0) != "1.0") {
        status = "500";
        why = "malformed ZAP request";
    } else if (mechanism != "CURVE" || request.size() < 7 || request[6].size() != 32) {
        why = "mechanism " + core::log_text(mechanism) + " is not CURVE";
    } else {
        std::array<char, 41> key{};
        zmq_z85_encode(key.data(), static_cast<const std::uint8_t*>(request[6].data()), 32);
        user = key.data();
        bool allowed = false;
        {
            std::lock_guard lock(_mutex);
            allowed = _allowed.contains(user);
        }
        if (allowed) {
            status = "200";
        } else {
            why = "public key " + user + " is not on the allow list (routing id '" + core::log_text(text(4)) + "')";
            user.clear();
        }
    }
    if (status == "200") {
        ++_accepted;
    } else {
        ++_refused;
        _refusals.warn(_name, "refused CURVE handshake from", core::log_text(address), why);
    }
    const std::array<std::string, 6> reply{"1.0", request_id, status, status == "200" ? "OK" : why, user, ""};
    for (std::size_t i = 0; i < reply.size(); ++i)
        (void)_socket->send(zmq::buffer(reply[i]),
                            i + 1 < reply.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
}

}  // namespace zpartisan::transport
