// zmq_transport: the security of its handshakes (README, "Security"): CURVE on each socket
// with curve on, the allow list the ZAP handler judges by, and handshakes refused by a peer or
// by us, logged with the peer's address and, for our own dials and subscriptions, made again
// after a pause (libzmq gives a refused connection up for good).
#include "transport/zmq_transport.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <spdlog/spdlog.h>

#include <zmq.hpp>

#include "core/endpoint.hpp"
#include "transport/zap_handler.hpp"

namespace zpartisan::transport {

void zmq_transport::make_curve_server(zmq::socket_t& socket) const {
    if (!curve_enabled()) return;
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey, _options.curve_secret_key);
    // Names the ZAP domain of every handshake on the socket (the handler answers any).
    socket.set(zmq::sockopt::zap_domain, "zpartisan");
}

void zmq_transport::make_curve_client(zmq::socket_t& socket, const std::string& server_key) const {
    if (!curve_enabled()) return;
    socket.set(zmq::sockopt::curve_serverkey, server_key);
    socket.set(zmq::sockopt::curve_publickey, _options.curve_public_key);
    socket.set(zmq::sockopt::curve_secretkey, _options.curve_secret_key);
}

void zmq_transport::check_server_key(const std::string& endpoint, const std::string& server_key) const {
    if (curve_enabled() && !core::is_z85_key(server_key))
        throw transport_error(
            "curve is on and no public key is known for " + endpoint +
            (server_key.empty() ? std::string() : " (not a key: '" + server_key.substr(0, 48) + "')"));
}

allow_list_change zmq_transport::set_allowed_keys(std::set<std::string> keys) {
    if (!_zap) return {};
    keys.insert(_options.curve_public_key);
    return _zap->set_allowed(std::move(keys));
}

std::map<std::string, std::uint64_t> zmq_transport::security_counters() const {
    std::map<std::string, std::uint64_t> out;
    auto count = [&](zmq::socket_t* socket) {
        if (!socket) return;
        switch (socket->get(zmq::sockopt::mechanism)) {
            case ZMQ_CURVE:
                ++out["sockets_mechanism_curve"];
                break;
            case ZMQ_NULL:
                ++out["sockets_mechanism_null"];
                break;
            default:
                ++out["sockets_mechanism_other"];
                break;
        }
    };
    count(_router.get());
    count(_pub.get());
    count(_sub.get());
    for (const auto& [endpoint, dealer] : _dealers) count(dealer.get());
    for (const auto& [endpoint, channels] : _lanes)
        for (const auto& [channel, sockets] : channels)
            for (const auto& lane : sockets) count(lane.get());
    out["curve"] = curve_enabled() ? 1 : 0;
    if (_zap) {
        out["zap_accepted"] = _zap->accepted();
        out["zap_refused"] = _zap->refused();
    }
    out["handshakes_refused"] = _handshakes_refused;
    return out;
}

void zmq_transport::note_refused_dial(const monitor& which, std::string_view endpoint) {
    const auto when = std::chrono::steady_clock::now() + std::chrono::milliseconds(_options.reconnect_interval_max_ms);
    if (which.which.via == core::link::kind::dialed) {
        _redials.try_emplace(which.which.id, when);
    } else if (which.which.via == core::link::kind::subscribed && _subscription_keys.contains(std::string(endpoint))) {
        _resubscriptions.try_emplace(std::string(endpoint), when);
    }
}

void zmq_transport::retry_refused_connections() {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = _redials.begin(); it != _redials.end();) {
        if (it->second > now) {
            ++it;
            continue;
        }
        const auto endpoint = it->first;
        it = _redials.erase(it);
        const auto key = _dial_keys.find(endpoint);
        if (key == _dial_keys.end() || !_dealers.contains(endpoint)) continue;
        const auto server_key = key->second;
        hang_up(endpoint);
        try {
            dial(endpoint, server_key);
        } catch (const transport_error& e) {
            spdlog::error("[{}] {}", _options.name, e.what());
        }
    }
    for (auto it = _resubscriptions.begin(); it != _resubscriptions.end();) {
        if (it->second > now) {
            ++it;
            continue;
        }
        const auto endpoint = it->first;
        it = _resubscriptions.erase(it);
        const auto key = _subscription_keys.find(endpoint);
        if (key == _subscription_keys.end()) continue;
        try {
            _sub->disconnect(endpoint);
        } catch (const zmq::error_t&) {}
        try {
            make_curve_client(*_sub, key->second);
            _sub->connect(endpoint);
        } catch (const zmq::error_t&) {}
        mark_used(*_sub);
    }
}

namespace {
std::string peer_address(int fd) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) return "an unknown address";
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
        inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
    }
    if (address.ss_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
        inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
    }
    return "a local peer";
}

std::string describe_handshake_failure(std::uint16_t event, std::uint32_t value) {
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        return "its key was refused (ZAP status " + std::to_string(value) + ")";
    // The peer saw the mismatch first and hung up.
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        return std::string("it hung up during the handshake (a plaintext node, or a wrong key for this node): ") +
               zmq_strerror(static_cast<int>(value));
    switch (value) {
        case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            return "a plaintext (NULL mechanism) peer; this node requires CURVE";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO:
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE:
        case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
            return "its CURVE handshake did not decrypt (a wrong server key?)";
        default:
            return "handshake protocol error " + std::to_string(value);
    }
}
}  // namespace

void zmq_transport::note_handshake_event(monitor& which, std::uint16_t event, std::uint32_t value) {
    constexpr std::size_t peers_max = 65536;
    switch (event) {
        case ZMQ_EVENT_ACCEPTED:
            if (which.peers.size() >= peers_max) which.peers.clear();
            which.peers[static_cast<int>(value)] = {peer_address(static_cast<int>(value)), ++which.accepted_count,
                                                    false};
            break;
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: {
            monitor::accepted_peer* oldest = nullptr;
            for (auto& [fd, peer] : which.peers)
                if (!peer.handshaken && (!oldest || peer.order < oldest->order)) oldest = &peer;
            if (oldest) oldest->handshaken = true;
            break;
        }
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            which.failure = describe_handshake_failure(event, value);
            break;
        case ZMQ_EVENT_DISCONNECTED: {
            auto peer = which.peers.find(static_cast<int>(value));
            if (peer == which.peers.end()) break;
            const auto [address, order, handshaken] = peer->second;
            which.peers.erase(peer);
            if (which.failure.empty() && handshaken) break;
            // A legacy ZMTP 1.0 greeting is closed without a failure event.
            const auto why = which.failure.empty()
                                 ? std::string(
                                       "it closed or was closed before the CURVE handshake (a ZMTP 1.0 peer, "
                                       "or not ZeroMQ)")
                                 : which.failure;
            which.failure.clear();
            ++_handshakes_refused;
            _refusals.warn(_options.name, "refused a connection at the handshake from", address, why);
            break;
        }
        default:
            break;
    }
}

}  // namespace zpartisan::transport
