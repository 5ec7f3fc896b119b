#include "transport/zmq_transport.hpp"
#include "transport/zmq_context.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <zmq.hpp>

#include "core/endpoint.hpp"
#include "transport/zap_handler.hpp"

namespace zpartisan::transport {

const char* describe(send_status status) {
    switch (status) {
        case send_status::ok:
            return "ok";
        case send_status::congested:
            return "congested";
        case send_status::unreachable:
            return "unreachable";
        case send_status::not_connected:
            return "not_connected";
        case send_status::too_large:
            return "too_large";
        case send_status::lane_not_connected:
            return "lane_not_connected";
    }
    return "unknown";
}

namespace {
std::string unique_inproc_address(const char* what) {
    static std::atomic<std::uint64_t> counter{0};
    return std::string("inproc://zpartisan-") + what + "-" + std::to_string(counter.fetch_add(1));
}
}  // namespace

namespace {
// Receives one multipart message without blocking; false when nothing is waiting.
bool receive_parts(zmq::socket_t& socket, std::vector<zmq::message_t>& parts) {
    parts.clear();
    zmq::message_t part;
    if (!socket.recv(part, zmq::recv_flags::dontwait)) return false;
    bool more = part.more();
    parts.push_back(std::move(part));
    while (more) {
        zmq::message_t next;
        if (!socket.recv(next, zmq::recv_flags::dontwait)) break;
        more = next.more();
        parts.push_back(std::move(next));
    }
    return true;
}
}  // namespace

zmq_transport::zmq_transport(transport_options options)
    : _options(std::move(options)), _context(context_for_sockets()) {
    try {
        _wakeup = std::make_unique<wakeup_pipe>();
        if (curve_enabled()) {
            auto allowed = _options.curve_allowed_keys;
            allowed.insert(_options.curve_public_key);  // a node that dials itself (a join of itself)
            _zap = std::make_unique<zap_handler>(*_context, _options.name, std::move(allowed));
        }

        _router = std::make_unique<zmq::socket_t>(*_context, zmq::socket_type::router);
        apply_common_options(*_router);
        make_curve_server(*_router);
        _router->set(zmq::sockopt::router_handover, 1);   // a restarted peer takes over its name
        _router->set(zmq::sockopt::router_mandatory, 1);  // unknown routing id: an error, not a silent drop
        _router->set(zmq::sockopt::backlog, _options.listen_backlog);
        _router->bind(_options.router_bind_endpoint);
        _router_endpoint = _router->get(zmq::sockopt::last_endpoint);
        start_monitor(*_router, {core::link::kind::accepted, ""}, curve_enabled());

        if (_options.node_role == role::server) {
            _pub = std::make_unique<zmq::socket_t>(*_context, zmq::socket_type::pub);
            apply_common_options(*_pub);
            make_curve_server(*_pub);
            _pub->set(zmq::sockopt::backlog, _options.listen_backlog);  // every client subscribes
            _pub->bind(_options.pub_bind_endpoint);
            _pub_endpoint = _pub->get(zmq::sockopt::last_endpoint);
            if (curve_enabled()) {
                start_monitor(*_pub, {core::link::kind::subscribed, ""}, true);
                _monitors.back()->reports_disconnects = false;  // a subscriber's going is no news
            }
        }
        _sub = std::make_unique<zmq::socket_t>(*_context, zmq::socket_type::sub);
        apply_common_options(*_sub);
        const char topic = static_cast<char>(_options.node_role == role::server ? core::effect::stream::mesh
                                                                                : core::effect::stream::clients);
        _sub->set(zmq::sockopt::subscribe, std::string(1, topic));
        if (curve_enabled()) {  // for its refused handshakes only
            start_monitor(*_sub, {core::link::kind::subscribed, ""});
            _monitors.back()->reports_disconnects = false;
        }
    } catch (const zmq::error_t& e) {
        throw transport_error(std::string("cannot set up sockets: ") + e.what());
    }
}

zmq_transport::~zmq_transport() {
    // Monitors stop first (they hold inproc pipes), then sockets close before the context
    // ends; the context waits for their linger.
    for (auto& m : _monitors) zmq_socket_monitor(m->watched, nullptr, 0);
    _monitors.clear();
    const int linger = _flush_on_close ? _options.linger_ms : 0;
    for (auto* socket : {_router.get(), _pub.get(), _sub.get()})
        if (socket) socket->set(zmq::sockopt::linger, linger);
    for (auto& [endpoint, dealer] : _dealers) dealer->set(zmq::sockopt::linger, linger);
    for (auto& [endpoint, channels] : _lanes)
        for (auto& [channel, sockets] : channels)
            for (auto& lane : sockets) lane->set(zmq::sockopt::linger, linger);
    _lanes.clear();
    _dealers.clear();
    _sub.reset();
    _pub.reset();
    _router.reset();
    _wakeup.reset();
    if (_epoll_fd >= 0) ::close(_epoll_fd);
    _zap.reset();
    _context.reset();
}

void zmq_transport::apply_common_options(zmq::socket_t& socket) const {
    socket.set(zmq::sockopt::linger, _options.linger_ms);
    socket.set(zmq::sockopt::sndhwm, _options.send_high_water_mark);
    socket.set(zmq::sockopt::rcvhwm, _options.send_high_water_mark);
    // ZeroMQ does not drop a frame over ZMQ_MAXMSGSIZE: it closes the whole connection, and
    // what was queued on it is lost. The limit is per node, not agreed between peers, so a
    // peer configured for more may send more: frames up to twice the limit arrive and are
    // dropped and counted (decode: too_large); only larger ones cost the connection.
    socket.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(std::min<std::uint64_t>(
                                             std::uint64_t{_options.max_message_bytes} * 2, INT64_MAX)));
    socket.set(zmq::sockopt::heartbeat_ivl, _options.zmtp_heartbeat_interval_ms);
    socket.set(zmq::sockopt::heartbeat_timeout, _options.zmtp_heartbeat_timeout_ms);
    socket.set(zmq::sockopt::heartbeat_ttl, _options.zmtp_heartbeat_timeout_ms);
    socket.set(zmq::sockopt::reconnect_ivl, _options.reconnect_interval_ms);
    socket.set(zmq::sockopt::reconnect_ivl_max, _options.reconnect_interval_max_ms);
}

void zmq_transport::start_monitor(zmq::socket_t& socket, core::link which, bool listening) {
    const auto address = unique_inproc_address("monitor");
    int mask = ZMQ_EVENT_DISCONNECTED;
    if (listening) mask |= ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
    if (curve_enabled())
        mask |= ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor(socket.handle(), address.c_str(), mask) != 0) return;
    auto events = std::make_unique<zmq::socket_t>(*_context, zmq::socket_type::pair);
    events->set(zmq::sockopt::linger, 0);
    events->connect(address);
    auto watch = std::make_unique<monitor>();
    watch->watched = socket.handle();
    watch->which = std::move(which);
    watch->events = std::move(events);
    watch->listening = listening;
    _monitors.push_back(std::move(watch));
    _poll_dirty = true;
}

void zmq_transport::stop_monitor(zmq::socket_t& socket) {
    auto it = std::find_if(_monitors.begin(), _monitors.end(), [&](auto& m) { return m->watched == socket.handle(); });
    if (it == _monitors.end()) return;
    zmq_socket_monitor(socket.handle(), nullptr, 0);
    forget_socket(*(*it)->events);
    _monitors.erase(it);
}

void zmq_transport::forget_socket(zmq::socket_t& socket) {
    void* handle = socket.handle();
    if (auto it = _source_of_socket.find(handle); it != _source_of_socket.end()) {
        auto& source = _poll_sources[it->second];
        // Still listed in _ready or _to_recheck maybe: those skip a source without a socket.
        source.socket = nullptr;
        source.endpoint = nullptr;
        source.of_monitor = nullptr;
        _source_of_socket.erase(it);
    }
    std::erase(_used_since_poll, handle);
    _poll_dirty = true;
}

void zmq_transport::drain_monitor(monitor& which, std::vector<inbound>& out) {
    std::vector<zmq::message_t> parts;
    while (receive_parts(*which.events, parts)) {
        // Frame 1: uint16 event id + uint32 value; frame 2: the endpoint.
        if (parts.size() != 2 || parts[0].size() < 6) continue;
        std::uint16_t event = 0;
        std::uint32_t value = 0;
        std::memcpy(&event, parts[0].data(), sizeof event);
        std::memcpy(&value, static_cast<const char*>(parts[0].data()) + sizeof event, sizeof value);
        if (which.listening) {
            note_handshake_event(which, event, value);
        } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                   event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
            note_refused_dial(which, std::string_view(static_cast<const char*>(parts[1].data()), parts[1].size()));
        }
        if (event == ZMQ_EVENT_DISCONNECTED && which.reports_disconnects) out.push_back({which.which, {}, true});
    }
}

std::unique_ptr<zmq::socket_t> zmq_transport::dialing_socket(const std::string& routing_id, const std::string& endpoint,
                                                             const std::string& server_key) {
    auto dealer = std::make_unique<zmq::socket_t>(*_context, zmq::socket_type::dealer);
    apply_common_options(*dealer);
    make_curve_client(*dealer, server_key);
    dealer->set(zmq::sockopt::routing_id, routing_id);
    // Each new connection announces itself with an empty message: the peer's ROUTER then
    // knows a lane is there, or that the control connection is new (connection_announced).
    dealer->set(zmq::sockopt::probe_router, 1);
    try {
        dealer->connect(endpoint);
    } catch (const zmq::error_t&) {
        // An endpoint we cannot even connect to (e.g. an unresolvable name) stays in the map
        // so sends report not_connected and the core's retries stay harmless.
    }
    return dealer;
}

void zmq_transport::dial(const std::string& endpoint, const std::string& server_key) {
    if (_dealers.contains(endpoint)) return;
    check_server_key(endpoint, server_key);
    // Every socket is made before any is kept, so running out of them (the context's limit,
    // descriptors) leaves nothing half-dialed.
    std::unique_ptr<zmq::socket_t> dealer;
    std::map<std::string, lane_sockets, std::less<>> channels;
    try {
        dealer = dialing_socket(_options.name, endpoint, server_key);
        for (const auto& [channel, parallelism] : _options.channels) {
            auto& sockets = channels[channel];
            // The peer's ROUTER tells lanes apart by routing id: "name|channel|lane".
            for (std::uint32_t lane = 0; lane < parallelism; ++lane)
                sockets.push_back(
                    dialing_socket(_options.name + "|" + channel + "|" + std::to_string(lane), endpoint, server_key));
        }
        start_monitor(*dealer, {core::link::kind::dialed, endpoint});
        if (curve_enabled()) _dial_keys[endpoint] = server_key;
    } catch (const zmq::error_t& e) {
        throw transport_error("cannot dial " + endpoint + ": " + e.what());
    }
    _dealers.emplace(endpoint, std::move(dealer));
    _lanes[endpoint] = std::move(channels);
    _poll_dirty = true;
}

void zmq_transport::hang_up(const std::string& endpoint) {
    auto it = _dealers.find(endpoint);
    if (it == _dealers.end()) return;
    // A hung-up peer may be gone for good: do not let its queue hold up the context's end.
    if (!_flush_on_close) it->second->set(zmq::sockopt::linger, 0);
    stop_monitor(*it->second);
    forget_socket(*it->second);
    _dealers.erase(it);
    _dial_keys.erase(endpoint);
    _redials.erase(endpoint);
    if (auto lanes = _lanes.find(endpoint); lanes != _lanes.end()) {
        for (auto& [channel, sockets] : lanes->second)
            for (auto& lane : sockets) {
                if (!_flush_on_close) lane->set(zmq::sockopt::linger, 0);
                forget_socket(*lane);
            }
        _lanes.erase(lanes);
    }
}

void zmq_transport::subscribe(const std::string& pub_endpoint, const std::string& server_key) {
    if (_subscriptions.contains(pub_endpoint)) {
        ++_subscriptions[pub_endpoint];
        return;
    }
    check_server_key(pub_endpoint, server_key);
    ++_subscriptions[pub_endpoint];
    mark_used(*_sub);
    try {
        // A connection takes the socket's options as they are at connect(): each publisher's
        // key is set just before its own connect.
        make_curve_client(*_sub, server_key);
        if (curve_enabled()) _subscription_keys[pub_endpoint] = server_key;
        _sub->connect(pub_endpoint);
    } catch (const zmq::error_t&) {}
}

void zmq_transport::unsubscribe(const std::string& pub_endpoint) {
    auto it = _subscriptions.find(pub_endpoint);
    if (it == _subscriptions.end()) return;
    if (--it->second > 0) return;
    _subscriptions.erase(it);
    _subscription_keys.erase(pub_endpoint);
    _resubscriptions.erase(pub_endpoint);
    mark_used(*_sub);
    try {
        _sub->disconnect(pub_endpoint);
    } catch (const zmq::error_t&) {}
}

zmq::socket_t* zmq_transport::lane_socket(std::string_view endpoint, std::string_view channel, std::uint32_t lane) {
    auto dial = _lanes.find(endpoint);
    if (dial == _lanes.end()) return nullptr;
    auto sockets = dial->second.find(channel);
    if (sockets == dial->second.end() || lane >= sockets->second.size()) return nullptr;
    return sockets->second[lane].get();
}

namespace {
// zmq_msg_send without blocking: true when queued, false on a full queue (the message is
// then untouched); other errors throw like cppzmq does.
bool send_frame(zmq::socket_t& socket, void* native) {
    if (zmq_msg_send(static_cast<zmq_msg_t*>(native), socket.handle(), ZMQ_DONTWAIT) >= 0) return true;
    if (zmq_errno() == EAGAIN) return false;
    throw zmq::error_t();
}

bool send_routing_id(zmq::socket_t& router, std::string_view id) {
    if (zmq_send(router.handle(), id.data(), id.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) return true;
    if (zmq_errno() == EAGAIN) return false;
    throw zmq::error_t();
}
}  // namespace

send_status zmq_transport::send(const core::link& to, frame& message, std::string_view channel, std::uint32_t lane) {
    if (message.size() > _options.max_message_bytes) return send_status::too_large;
    try {
        if (!channel.empty() && to.via == core::link::kind::accepted) {
            _routing_scratch.assign(to.id).append("|").append(channel).append("|").append(std::to_string(lane));
            // A lane given up on stays on the control connection for the rest of the peer's
            // session, even once it turns up: a frame sent on it could overtake those still
            // queued on the control connection.
            if (_lanes_given_up.empty() || !_lanes_given_up.contains(_routing_scratch)) {
                mark_used(*_router);
                try {
                    if (!send_routing_id(*_router, _routing_scratch)) return send_status::congested;
                    (void)send_frame(*_router, message.native());
                    return send_status::ok;
                } catch (const zmq::error_t& e) {
                    if (e.num() != EHOSTUNREACH) throw;
                }
                // Not there (yet): the frame stays intact, and the caller decides whether it
                // waits for the lane or the lane is given up on (use_control_connection).
                return send_status::lane_not_connected;
            }
        }
        if (!channel.empty() && to.via == core::link::kind::dialed) {
            if (auto* data = lane_socket(to.id, channel, lane)) {
                mark_used(*data);
                return send_frame(*data, message.native()) ? send_status::ok : send_status::congested;
            }
        }
        if (to.via == core::link::kind::accepted) {
            mark_used(*_router);
            if (!send_routing_id(*_router, to.id)) return send_status::congested;
            (void)send_frame(*_router, message.native());
            return send_status::ok;
        }
        auto it = _dealers.find(to.id);
        if (it == _dealers.end()) return send_status::not_connected;
        mark_used(*it->second);
        return send_frame(*it->second, message.native()) ? send_status::ok : send_status::congested;
    } catch (const zmq::error_t& e) {
        return e.num() == EHOSTUNREACH ? send_status::unreachable : send_status::not_connected;
    }
}

send_status zmq_transport::publish(core::effect::stream stream, std::string_view frame) {
    if (!_pub) return send_status::not_connected;
    if (frame.size() > _options.max_message_bytes) return send_status::too_large;
    try {
        const char topic = static_cast<char>(stream);
        if (!_pub->send(zmq::buffer(&topic, 1), zmq::send_flags::sndmore | zmq::send_flags::dontwait))
            return send_status::congested;
        (void)_pub->send(zmq::buffer(frame), zmq::send_flags::dontwait);
        return send_status::ok;
    } catch (const zmq::error_t&) {
        return send_status::not_connected;
    }
}

void zmq_transport::connection_announced(std::string_view routing_id) {
    if (_lanes_given_up.empty() || routing_id.find('|') != std::string_view::npos) return;
    // A new control connection: a new session of the peer (a restarted process, or one that
    // dialed anew), whose lanes are worth waiting for again even where the last session's
    // were given up.
    std::erase_if(_lanes_given_up, [&](const std::string& lane) {
        return lane.size() > routing_id.size() && lane.starts_with(routing_id) && lane[routing_id.size()] == '|';
    });
}

void zmq_transport::use_control_connection(const core::link& to, std::string_view channel, std::uint32_t lane) {
    if (channel.empty() || to.via != core::link::kind::accepted) return;
    // The bound only means a lane forgotten early may be waited for once more.
    if (_lanes_given_up.size() >= lanes_listed_max) _lanes_given_up.clear();
    _lanes_given_up.insert(to.id + "|" + std::string(channel) + "|" + std::to_string(lane));
}

}  // namespace zpartisan::transport
