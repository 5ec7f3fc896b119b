#include "zpartisan/node.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "core/endpoint.hpp"
#include "runtime/reactor.hpp"
#include "transport/curve_keys.hpp"
#include "wire/codec.hpp"

namespace zpartisan {

namespace {
// "Wait for ever" (milliseconds::max(), say) would overflow a deadline: ten years is enough.
std::chrono::milliseconds bounded_wait(std::chrono::milliseconds timeout) {
    constexpr std::chrono::milliseconds longest{std::chrono::hours(24 * 365 * 10)};
    return std::clamp(timeout, std::chrono::milliseconds::zero(), longest);
}

// What join answers a Node that stopped: it never runs again.
op_result cannot_join_again(const runtime::reactor& reactor) {
    auto why = reactor.stop_reason();
    if (why.empty()) why = "the peer service stopped";
    return {op_status::stopped,
            why + "; a Node that left, was removed or stopped cannot join again: construct a new Node"};
}

// A curve node dials only a peer whose key it has: a join target names it (README, "Security").
std::optional<op_result> check_key(const std::string& endpoint, const std::string& key, bool curve) {
    if (!curve || !key.empty()) return std::nullopt;
    return op_result{op_status::bad_endpoint, "curve is on: name the public key of the node at " + endpoint + " as " +
                                                  endpoint + "#<its 40-character Z85 public key>"};
}

std::optional<op_result> check_endpoint(const core::keyed_endpoint& target, bool curve) {
    std::string why;
    if (!core::parse_endpoint(target.endpoint, &why)) return op_result{op_status::bad_endpoint, why};
    return check_key(target.endpoint, target.server_key, curve);
}

// A spec is joined through its router endpoint, which must be one a peer can dial: a
// wildcard is where a node binds, not where it can be reached.
std::optional<op_result> check_spec(const node_spec& peer, const std::string& own_name, bool curve) {
    if (peer.router_endpoint.empty())
        return op_result{op_status::bad_endpoint, "the spec of '" + peer.name + "' has no router endpoint"};
    std::string why;
    const auto parsed = core::parse_endpoint(peer.router_endpoint, &why);
    if (!parsed) return op_result{op_status::bad_endpoint, why};
    if (parsed->has_wildcard_host() || parsed->has_wildcard_port())
        return op_result{op_status::bad_endpoint, "the spec's router endpoint " + peer.router_endpoint +
                                                      " is a wildcard: give the address peers dial"};
    if (peer.name == own_name)
        return op_result{op_status::refused, "the spec names this node ('" + own_name + "'): join another member"};
    return check_key(peer.router_endpoint, peer.public_key, curve);
}
}  // namespace

Node::Node(config cfg) {
    cfg.validate();
    _reactor = std::make_unique<runtime::reactor>(std::move(cfg));
}

Node::~Node() {
    if (!_reactor) return;
    if (!_reactor->on_own_thread()) {
        // Stopped while the Node is whole: the delivery reports the stop cut short may still
        // call it (and hear stopped). The reactor goes with _reactor.
        _reactor->stop();
        _reactor->events().drain_tasks();
        return;
    }
    // From one of the node's own handlers or callbacks, whose thread cannot join itself: the
    // node stops now, and a thread of its own joins the node's threads and frees them once
    // that handler has returned.
    _reactor->request_stop();
    std::thread([reactor = std::move(_reactor)]() mutable { reactor.reset(); }).detach();
}

void Node::stop() { _reactor->stop(); }

op_result Node::join(const std::string& endpoint) {
    const auto target = core::split_keyed_endpoint(endpoint);
    if (auto bad = check_endpoint(target, _reactor->curve_enabled())) return *bad;
    if (!_reactor->running()) return cannot_join_again(*_reactor);
    return _reactor->call([&](core::peer_service& core, std::uint64_t now) {
        if (!core.running()) return cannot_join_again(*_reactor);
        core.join(target.endpoint, now, {}, target.server_key);
        return op_result{};
    });
}

op_result Node::join(const node_spec& peer) {
    if (auto bad = check_spec(peer, name(), _reactor->curve_enabled())) return *bad;
    if (!_reactor->running()) return cannot_join_again(*_reactor);
    return _reactor->call([&](core::peer_service& core, std::uint64_t now) {
        if (!core.running()) return cannot_join_again(*_reactor);
        core.join(peer.router_endpoint, now, peer.name, peer.public_key);
        return op_result{};
    });
}

op_result Node::sync_join(const node_spec& peer, std::chrono::milliseconds timeout) {
    if (_reactor->on_reactor_thread())
        throw usage_error("sync_join from an inline handler would wait on its own reactor; use join()");
    if (auto bad = check_spec(peer, name(), _reactor->curve_enabled())) return *bad;
    if (!_reactor->running()) return cannot_join_again(*_reactor);
    timeout = bounded_wait(timeout);
    auto done = _reactor->join_and_wait(peer.router_endpoint, timeout, peer.name, peer.public_key);
    if (done.wait_for(timeout + std::chrono::seconds(1)) != std::future_status::ready)
        return {op_status::timeout, "no answer from the reactor"};
    return done.get();
}

op_result Node::sync_join(const std::string& endpoint, std::chrono::milliseconds timeout) {
    if (_reactor->on_reactor_thread())
        throw usage_error("sync_join from an inline handler would wait on its own reactor; use join()");
    const auto target = core::split_keyed_endpoint(endpoint);
    if (auto bad = check_endpoint(target, _reactor->curve_enabled())) return *bad;
    if (!_reactor->running()) return cannot_join_again(*_reactor);
    timeout = bounded_wait(timeout);
    auto done = _reactor->join_and_wait(target.endpoint, timeout, {}, target.server_key);
    // The reactor resolves the future at the deadline; the extra margin only covers a
    // reactor that died, so the caller is never blocked forever.
    if (done.wait_for(timeout + std::chrono::seconds(1)) != std::future_status::ready)
        return {op_status::timeout, "no answer from the reactor"};
    return done.get();
}

op_result Node::leave() {
    if (_reactor->stopped()) return {op_status::stopped, "node stopped"};
    return _reactor->call([](core::peer_service& core, std::uint64_t now) {
        if (!core.running()) return op_result{op_status::stopped, "the peer service already stopped"};
        core.leave(now);
        return op_result{};
    });
}

op_result Node::leave(const std::string& name) {
    if (_reactor->stopped()) return {op_status::stopped, "node stopped"};
    return _reactor->call([&](core::peer_service& core, std::uint64_t now) {
        if (!core.running()) return op_result{op_status::stopped, "the peer service stopped"};
        if (!core.remove_member(name, now)) return op_result{op_status::unknown_node, "no member named " + name};
        return op_result{};
    });
}

op_result Node::update_members(const std::vector<node_spec>& specs) {
    if (_reactor->stopped()) return {op_status::stopped, "node stopped"};
    return _reactor->call([&](core::peer_service& core, std::uint64_t now) {
        if (!core.running()) return op_result{op_status::stopped, "the peer service stopped"};
        core.update_members(specs, now);
        return op_result{};
    });
}

std::vector<std::string> Node::members() const {
    return _reactor->call([](core::peer_service& core, std::uint64_t) { return core.membership().members(); });
}

std::vector<node_spec> Node::members_for_orchestration() const {
    return _reactor->call([](core::peer_service& core, std::uint64_t) { return core.membership().specs(); });
}

std::string Node::get_local_state() const {
    return _reactor->call(
        [](core::peer_service& core, std::uint64_t) { return wire::encode_state(core.membership().state()); });
}

std::optional<std::vector<node_spec>> Node::decode(std::string_view state) {
    auto decoded = wire::decode_state(state, state.size());
    if (!decoded) return std::nullopt;
    return core::specs_of(*decoded);
}

node_status Node::status() const {
    auto status = _reactor->call([](core::peer_service& core, std::uint64_t) {
        node_status s;
        s.self = core.self();
        s.running = core.running();
        s.settled = core.settled();
        s.member_count = core.membership().members().size();
        for (const auto& dial : core.dials()) s.dials.push_back({dial.endpoint, dial.peer, dial.welcomed});
        s.attached_clients = core.attached_clients();
        return s;
    });
    status.counters = _reactor->counters();
    return status;
}

bool Node::running() const { return _reactor->running(); }

std::string Node::stopped_reason() const { return _reactor->stop_reason(); }

const char* to_string(send_status status) {
    switch (status) {
        case send_status::ok:
            return "ok";
        case send_status::unknown_node:
            return "unknown_node";
        case send_status::not_yet_connected:
            return "not_yet_connected";
        case send_status::disconnected:
            return "disconnected";
        case send_status::unreachable:
            return "unreachable";
        case send_status::partitioned:
            return "partitioned";
        case send_status::congested:
            return "congested";
        case send_status::too_large:
            return "too_large";
        case send_status::stopped:
            return "stopped";
    }
    return "unknown";
}

namespace {

std::pair<std::string, std::string> split_reference(const std::string& reference) {
    const auto at = reference.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == reference.size())
        throw usage_error("'" + reference + "' is not a remote reference handler@node");
    return {reference.substr(0, at), reference.substr(at + 1)};
}

}  // namespace

void Node::register_handler(const std::string& name, message_handler handler) {
    if (name.empty() || !handler) throw usage_error("register_handler: a name and a handler are required");
    // The core (which acks and admits) and the dispatcher (which runs handlers) change
    // together on the reactor, so threads registering and removing one name at once cannot
    // leave them disagreeing.
    (void)_reactor->call([&](core::peer_service& core, std::uint64_t) {
        _reactor->messages().set_handler(name, std::move(handler));
        core.register_handler(name);
        return true;
    });
}

bool Node::unregister_handler(const std::string& name) {
    return _reactor->call([&](core::peer_service& core, std::uint64_t) {
        core.unregister_handler(name);
        return _reactor->messages().remove_handler(name);
    });
}

send_status Node::forward_message(const std::string& node, const std::string& handler, std::string_view payload,
                                  const message_options& options) {
    return send_as(message_kind::forward, node, handler, payload, options, {});
}

send_status Node::forward_message(const std::string& reference, std::string_view payload,
                                  const message_options& options) {
    auto [handler, node] = split_reference(reference);
    return send_as(message_kind::forward, node, handler, payload, options, {});
}

send_status Node::cast_message(const std::string& reference, std::string_view payload, const message_options& options) {
    auto [handler, node] = split_reference(reference);
    return send_as(message_kind::cast, node, handler, payload, options, {});
}

call_result Node::call(const std::string& reference, std::string payload, std::chrono::milliseconds timeout,
                       const message_options& options) {
    auto [handler, node] = split_reference(reference);
    return call(node, handler, std::move(payload), timeout, options);
}

send_status Node::send_message(const std::string& node, std::string_view payload) {
    return send_as(message_kind::send, node, "inbox", payload, {}, {});
}

send_status Node::cast_message(const std::string& node, const std::string& handler, std::string_view payload,
                               const message_options& options) {
    return send_as(message_kind::cast, node, handler, payload, options, {});
}

send_status Node::reply(const inbound_message& request, std::string_view payload) {
    if (request.reply_to.empty()) throw usage_error("reply: the message is not a call");
    // On the request's channel (a call on a channel of its own is answered there too) when
    // this node has it; a request relayed from a node with more channels, on the default one.
    message_options acked;
    if (_reactor->cfg().channels.contains(request.channel)) acked.channel = request.channel;
    acked.ack = true;
    auto [handler, node] = split_reference(request.reply_to);
    return send_as(message_kind::reply, node, handler, payload, acked, {});
}

std::string Node::make_reference() {
    // The incarnation keeps a restarted node from handing out its previous life's references:
    // a reply to one of those, still retransmitted, must not answer a new call.
    static std::atomic<std::uint64_t> counter{0};
    return "zp.ref." + std::to_string(_reactor->advertised_self().incarnation) + "." + std::to_string(++counter) + "@" +
           name();
}

call_result Node::call(const std::string& node, const std::string& handler, std::string payload,
                       std::chrono::milliseconds timeout, const message_options& options) {
    if (_reactor->on_worker_thread())
        throw usage_error(
            "call from one of this node's handlers would wait for a reply that only a handler can take, "
            "after this one returns; use forward_message with a reply handler");
    const auto reference = make_reference();
    const auto ref_name = reference.substr(0, reference.rfind('@'));
    // The first of the reply (true, payload) and a failed delivery report (false, reason).
    auto outcome = std::make_shared<std::promise<std::pair<bool, std::string>>>();
    auto settled = outcome->get_future();
    auto once = std::make_shared<std::atomic<bool>>(false);
    register_handler(ref_name, [outcome, once](const inbound_message& message) {
        if (!once->exchange(true)) outcome->set_value({true, message.payload});
    });
    struct forget_reference {
        Node& node;
        const std::string& name;
        ~forget_reference() { node.unregister_handler(name); }
    } forget{*this, ref_name};  // also when send_as throws
    call_result result;
    // Requests and replies are acked: a call survives a lost frame or a client re-homing, and
    // a request that cannot be handled ends the wait with its reason.
    auto acked = options;
    acked.ack = true;
    acked.on_report = [outcome, once, user = options.on_report](const delivery_report& report) {
        if (user) user(report);
        if (!report.delivered && !once->exchange(true)) outcome->set_value({false, report.reason});
    };
    result.status = send_as(message_kind::call, node, handler, payload, acked, reference);
    if (result.status != send_status::ok) return result;
    // In slices: a node that stops meanwhile ends the wait with "stopped" even when its report
    // cannot reach this thread (a call from an on_up/on_down callback, whose thread runs it).
    const auto deadline = std::chrono::steady_clock::now() + bounded_wait(timeout);
    for (;;) {
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) return result;
        if (settled.wait_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(50))) ==
            std::future_status::ready)
            break;
        if (_reactor->stopped() && settled.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
            result.failure = "stopped";
            return result;
        }
    }
    auto [answered, text] = settled.get();
    result.answered = answered;
    (answered ? result.payload : result.failure) = std::move(text);
    return result;
}

send_status Node::send_as(message_kind kind_value, const std::string& node, const std::string& handler,
                          std::string_view payload, const message_options& options, std::string reply_to) {
    if (_reactor->stopped()) return send_status::stopped;
    const auto& channels = _reactor->cfg().channels;
    auto channel = channels.find(options.channel);
    if (channel == channels.end()) throw usage_error("unknown channel '" + options.channel + "'");
    // Without a key a message takes its destination's lane, so one sender's messages to one
    // receiver on one channel keep their order either way, while a channel's connections
    // still share out the traffic to different destinations.
    const auto spread = options.partition_key ? *options.partition_key : std::hash<std::string>{}(node);
    const auto lane = static_cast<std::uint32_t>(spread % channel->second);
    // message_kind lists the delivery kinds in wire order, from 1 (docs/protocol.md §6).
    const auto kind = static_cast<core::delivery_kind>(static_cast<int>(kind_value) + 1);
    wire::forward_fields request;
    request.destination = node;
    request.handler = handler;
    request.kind = kind;
    request.channel = options.channel;
    request.lane = lane;
    request.ack = options.ack;
    request.reply_to = reply_to;
    request.payload = payload;
    return _reactor->enqueue_send(request, options.ack ? options.on_report : nullptr);
}

op_result Node::receive_message(const std::string& peer, const std::string& channel, const std::string& frame) {
    (void)channel;  // the frame names its channel; the argument mirrors partisan's signature
    if (_reactor->stopped()) return {op_status::stopped, "node stopped"};
    return _reactor->call([&](core::peer_service& core, std::uint64_t now) {
        auto decoded = wire::decode(frame, _reactor->cfg().max_message_bytes);
        if (!decoded.message) return op_result{op_status::refused, wire::describe(decoded.error)};
        core.on_message(core::link{core::link::kind::accepted, peer}, *decoded.message, now);
        return op_result{};
    });
}

callback_handle Node::on_up(const std::string& node, std::function<void()> fn) {
    return on_up(node, [fn = std::move(fn)](const std::string&) { fn(); });
}

callback_handle Node::on_up(const std::string& node, std::function<void(const std::string&)> fn) {
    if (!fn) throw usage_error("on_up: empty callback");
    return _reactor->events().subscribe(true, node, std::move(fn));
}

callback_handle Node::on_down(const std::string& node, std::function<void()> fn) {
    return on_down(node, [fn = std::move(fn)](const std::string&) { fn(); });
}

callback_handle Node::on_down(const std::string& node, std::function<void(const std::string&)> fn) {
    if (!fn) throw usage_error("on_down: empty callback");
    return _reactor->events().subscribe(false, node, std::move(fn));
}

bool Node::remove_callback(callback_handle handle) { return _reactor->events().unsubscribe(handle); }

std::vector<liveness_info> Node::liveness() const {
    return _reactor->call([](core::peer_service& core, std::uint64_t now) {
        std::vector<liveness_info> out;
        for (const auto& entry : core.liveness_view()) {
            liveness_info info{.node = entry.node,
                               .reachable = entry.reachable,
                               .direct = entry.direct,
                               .detected_by = entry.detected_by,
                               .silent_ms = entry.silent_ms,
                               .missed_heartbeats = entry.missed_heartbeats,
                               .connection_lost = entry.connection_lost};
            if (entry.direct) info.last_heard_ms_ago = now > entry.last_heard_ms ? now - entry.last_heard_ms : 0;
            if (entry.direct && !entry.reachable) info.silent_ms = info.last_heard_ms_ago;
            out.push_back(std::move(info));
        }
        return out;
    });
}

partition_result Node::inject_partition(const std::string& origin, std::uint32_t ttl) {
    if (_reactor->stopped()) return {op_status::stopped, "", "node stopped"};
    if (_reactor->on_reactor_thread() && origin != name())
        throw usage_error(
            "inject_partition of another node from an inline handler would wait on its own reactor "
            "for the origin's confirmation; use the overload with a callback");
    // Answered once the origin holds the cut (at once when it is this node). The core gives a
    // request up at ack_timeout_ms; the margin only covers a reactor that died.
    auto answered = std::make_shared<std::promise<partition_result>>();
    auto done = answered->get_future();
    _reactor->inject_partition(origin, ttl,
                               [answered](partition_result result) { answered->set_value(std::move(result)); });
    const auto bound = std::chrono::milliseconds(_reactor->cfg().ack_timeout_ms) + std::chrono::seconds(1);
    if (done.wait_for(bound) != std::future_status::ready)
        return {op_status::timeout, "", "no answer from the reactor"};
    return done.get();
}

void Node::inject_partition(const std::string& origin, std::uint32_t ttl,
                            std::function<void(const partition_result&)> on_result) {
    if (!on_result) throw usage_error("inject_partition: empty callback");
    auto* events = &_reactor->events();
    _reactor->inject_partition(origin, ttl, [events, fn = std::move(on_result)](partition_result result) mutable {
        events->post_task([fn = std::move(fn), result = std::move(result)] { fn(result); });
    });
}

partition_result Node::partition_groups(const std::vector<std::vector<std::string>>& groups) {
    if (groups.size() < 2) throw usage_error("partition_groups: at least two groups");
    if (_reactor->stopped()) return {op_status::stopped, "", "node stopped"};
    return _reactor->call([&](core::peer_service& core, std::uint64_t) {
        if (!core.running()) return partition_result{op_status::stopped, "", "the peer service stopped"};
        return partition_result{op_status::ok, core.partition_into_groups(groups), ""};
    });
}

op_result Node::resolve_partition(const std::string& ref) {
    if (_reactor->stopped()) return {op_status::stopped, "node stopped"};
    return _reactor->call([&](core::peer_service& core, std::uint64_t) {
        if (!core.running()) return op_result{op_status::stopped, "the peer service stopped"};
        (void)core.resolve_partition(ref);  // held here or not, the heal floods the cluster
        return op_result{};
    });
}

std::vector<partition_entry> Node::partitions() const {
    return _reactor->call([](core::peer_service& core, std::uint64_t) {
        std::vector<partition_entry> out;
        for (const auto& p : core.partitions()) out.push_back({p.ref, p.peer});
        return out;
    });
}

op_result Node::reserve(const std::string& tag) {
    if (_reactor->stopped()) return {op_status::stopped, "node stopped"};
    return _reactor->call([&](core::peer_service& core, std::uint64_t) {
        switch (core.reserve(tag)) {
            case core::reserve_status::ok:
                return op_result{};
            case core::reserve_status::no_available_slots:
                return op_result{op_status::refused, "no_available_slots"};
            case core::reserve_status::not_a_server:
                return op_result{op_status::refused, "only servers hold client slots"};
        }
        return op_result{op_status::refused, "unknown"};
    });
}

std::vector<std::string> Node::capabilities() {
    std::vector<std::string> all{"ack",
                                 "anti_entropy",
                                 "call",
                                 "channels",
                                 "failure_detection",
                                 "membership_crdt",
                                 "monitoring",
                                 "partition_injection",
                                 "persistence",
                                 "rehoming",
                                 "relay",
                                 "reservations",
                                 "typed_payloads"};
    if (transport::curve_supported()) all.insert(all.begin() + 3, "curve");
    return all;
}

std::string Node::curve_public_key() const { return _reactor->advertised_self().public_key; }

curve_allow_list_change Node::set_curve_allowed_keys(const std::vector<std::string>& keys) {
    for (const auto& key : keys)
        if (!core::is_z85_key(key))
            throw usage_error("set_curve_allowed_keys: '" + key.substr(0, 48) +
                              "' is not a public key (40 Z85 characters)");
    auto change = _reactor->set_curve_allowed_keys(std::set<std::string>(keys.begin(), keys.end()));
    return {std::move(change.added), std::move(change.removed)};
}

bool Node::supports_capability(std::string_view name) {
    const auto all = capabilities();
    return std::find(all.begin(), all.end(), name) != all.end();
}

void Node::inject_publish_loss(double ratio) {
    if (!(ratio >= 0.0 && ratio <= 1.0)) throw usage_error("inject_publish_loss: ratio must be within [0, 1]");
    (void)_reactor->call([this, ratio](core::peer_service&, std::uint64_t) {
        _reactor->set_publish_loss(ratio);
        return true;
    });
}

const std::string& Node::name() const { return _reactor->cfg().name; }
std::string Node::router_endpoint() const { return _reactor->advertised_self().router_endpoint; }
std::string Node::pub_endpoint() const { return _reactor->advertised_self().pub_endpoint; }

}  // namespace zpartisan
