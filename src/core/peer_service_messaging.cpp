// peer_service: application messages (docs/protocol.md §7): routing through at most two relays,
// local delivery, acknowledgements with retransmission, and duplicate suppression.
#include <algorithm>
#include <type_traits>

#include "core/peer_service.hpp"

namespace zpartisan::core {

std::optional<link> peer_service::next_hop(const std::string& destination) const {
    return next_hop(destination, _membership.spec_of(destination));
}

std::optional<link> peer_service::next_hop(const std::string& destination, const node_spec* spec) const {
    if (auto endpoint = dial_of_peer(destination)) return link{link::kind::dialed, *endpoint};
    if (_attached_clients.contains(destination)) return link{link::kind::accepted, destination};
    if (_self.role == role::client) {
        // A client reaches everyone through its home server.
        if (auto home = dial_of_peer(_self.home_server)) return link{link::kind::dialed, *home};
        return std::nullopt;
    }
    // A server reaches a foreign client through that client's home server.
    if (spec && spec->role == role::client && !spec->home_server.empty())
        if (auto home = dial_of_peer(spec->home_server)) return link{link::kind::dialed, *home};
    return std::nullopt;
}

route_status peer_service::route_status_of(const std::string& destination) const {
    if (!_running) return route_status::stopped;
    if (destination == _self.name) return route_status::ok;
    const auto* spec = _membership.spec_of(destination);
    return spec ? route_status_of(*spec) : route_status::unknown_node;
}

route_status peer_service::route_status_of(const node_spec& destination) const {
    if (!_running) return route_status::stopped;
    if (destination.name == _self.name) return route_status::ok;
    if (_partitions.cuts_off(destination.name)) return route_status::partitioned;
    // A client not yet attached anywhere cannot be reached; relays would drop the message.
    // (Once we know its home, so does our home server: it told us.) Its server reaches it
    // from its hello on, before the client's spec naming us as home comes back: the client
    // counts itself joined from our welcome, and messages must flow both ways from then.
    if (destination.role == role::client && destination.home_server.empty() &&
        !_attached_clients.contains(destination.name))
        return route_status::not_yet_connected;
    const auto hop = next_hop(destination.name, &destination);
    // Through a relay cut off from us: as partitioned as the destination itself (senders
    // hear it at once, as app_route tells the reactor, rather than a drop after queueing).
    if (hop && link_blocked(*hop)) return route_status::partitioned;
    if (!hop) {
        // Known but no way there yet: still joining, or lost its link.
        return _self.home_server.empty() && _self.role == role::client ? route_status::not_yet_connected
                                                                       : route_status::disconnected;
    }
    if (!compute_reachable(destination)) return route_status::unreachable;
    return route_status::ok;
}

const cached_route& peer_service::route_for(std::string_view destination) {
    if (const auto* known = _routes.find(destination)) return *known;
    std::string name(destination);
    cached_route r;
    r.status = route_status_of(name);
    if (name != _self.name) {
        r.hop = next_hop(name);
        if (r.hop) r.hop_blocked = link_blocked(*r.hop);
    }
    return _routes.store(std::move(name), std::move(r), 2 * _membership.members().size() + 64);
}

route_status peer_service::app_route(std::string_view destination, link* hop) {
    return route_cache::app_route(route_for(destination), hop);
}

bool peer_service::admit_routed(const link& from, bool is_ack, std::uint64_t now_ms) {
    if (!_running) {
        count("dropped_stopped");
        return false;
    }
    static const std::size_t forward_index = message(std::in_place_type<forward>).index();
    static const std::size_t ack_index = message(std::in_place_type<forward_ack>).index();
    ++_received_by_type[is_ack ? ack_index : forward_index];
    return admit(sender_of_link(from), false, now_ms);
}

std::optional<link> peer_service::relay_hop(const link& from, std::string_view destination, std::uint8_t hops,
                                            bool is_ack, std::uint64_t now_ms) {
    if (!admit_routed(from, is_ack, now_ms)) return std::nullopt;
    return relay_decision(destination, hops);
}

std::optional<link> peer_service::relay_decision(std::string_view destination, std::uint8_t hops) {
    const auto& r = route_for(destination);
    switch (route_cache::relay(r, hops, max_hops)) {
        case relay_verdict::forward:
            ++_relayed;
            return r.hop;
        case relay_verdict::hop_limit:
            count("dropped_hop_limit");
            break;
        case relay_verdict::unroutable:
            count("dropped_unroutable");
            break;
        case relay_verdict::partitioned:
            count("dropped_partitioned_out");
            break;
    }
    return std::nullopt;
}

bool peer_service::admit_local_delivery(const link& from, const plain_arrival& arrival, std::uint64_t now_ms) {
    return admit_routed(from, false, now_ms) && !cut_off_origin(arrival.origin) &&
           handler_known(arrival.handler, arrival.entries) && plain_in_order(arrival, now_ms);
}

bool peer_service::cut_off_origin(std::string_view origin) {
    // The link is admitted already; through relays the origin may still be a node we are cut
    // off from (a group partition the relay is not part of, or a frame that waited in a
    // relay's queue while the cut was made).
    if (_partitions.empty() || !_partitions.cuts_off(origin)) return false;
    count("dropped_partitioned_in");
    return true;
}

bool peer_service::handler_known(std::string_view handler, std::uint32_t entries) {
    if (_handlers.contains(handler)) return true;
    _counters["dropped_unknown_handler"] += std::max<std::uint32_t>(entries, 1);
    return false;
}

bool peer_service::route(message msg, const std::string& destination) {
    const auto hop = next_hop(destination);
    if (!hop) return false;
    _output.emplace_back(effect::send{*hop, std::move(msg)});
    return true;
}

route_status peer_service::send_app(outgoing out, std::uint64_t now_ms, std::uint64_t* id) {
    const auto status = route_status_of(out.destination);
    // An acked message rides out a transient lack of route (a peer re-homing, a link being
    // re-established): retransmission takes it when there is one, or the deadline reports it.
    const bool transient = status == route_status::unreachable || status == route_status::disconnected ||
                           status == route_status::not_yet_connected;
    if (status != route_status::ok && !(transient && (out.ack || status == route_status::unreachable))) return status;
    if (out.ack && _acked_sends.full()) return route_status::congested;
    forward msg{_self.name,
                _self.incarnation,
                std::move(out.destination),
                std::move(out.handler),
                out.kind,
                std::move(out.channel),
                out.lane,
                0,
                0,
                out.ack,
                std::move(out.reply_to),
                std::move(out.payload)};
    if (!msg.ack) number_plain(msg);
    if (msg.ack) {
        const auto report_id = _acked_sends.add(msg, now_ms, status == route_status::ok);
        if (id) *id = report_id;
    }
    if (msg.destination == _self.name) {
        handle(link{link::kind::accepted, _self.name}, std::move(msg), now_ms);  // local: the same path
        return route_status::ok;
    }
    if (transient && !msg.ack) return status;  // acked ones wait for a route
    const auto destination = msg.destination;
    if (status == route_status::ok) route(std::move(msg), destination);
    return route_status::ok;
}

template <class Routed>
void peer_service::relay(const Routed& msg) {
    const auto hop = relay_decision(msg.destination, msg.hops);
    if (!hop) return;
    auto relayed = msg;
    ++relayed.hops;
    _output.emplace_back(effect::send{*hop, std::move(relayed)});
}

void peer_service::answer(const forward& msg, ack_status status, std::uint64_t now_ms) {
    if (!msg.ack) return;
    forward_ack ack{_self.name, msg.origin, msg.id, status, 0};
    if (msg.origin == _self.name)
        handle(link{link::kind::accepted, _self.name}, ack, now_ms);
    else if (!route(ack, msg.origin))
        count("dropped_unroutable_ack");
}

void peer_service::handle(const link& from, forward&& msg, std::uint64_t now_ms) {
    (void)from;
    if (msg.destination != _self.name) {
        relay(msg);
        return;
    }
    if (cut_off_origin(msg.origin)) return;
    if (msg.ack && _duplicate_windows.delivered_before(msg)) {
        count("duplicates_suppressed");
        answer(msg, ack_status::delivered, now_ms);  // the first ack may have been lost
        return;
    }
    if (msg.ack && _duplicate_windows.from_older_incarnation(msg)) {
        // A late copy from before its sender restarted (held up in a relay's queue): that
        // incarnation's window is gone, so it would be handled again; nobody waits for it.
        count("dropped_from_older_incarnation");
        return;
    }
    if (msg.ack && msg.settled_below != 0) {
        take_in_order(std::move(msg), now_ms);
        return;
    }
    if (!msg.ack &&
        !plain_in_order({msg.origin, msg.origin_incarnation, msg.handler, msg.channel, msg.lane, msg.id, msg.bundled},
                        now_ms))
        return;
    (void)hand_over(std::move(msg), now_ms);
}

bool peer_service::hand_over(forward&& msg, std::uint64_t now_ms) {
    // Not recorded as delivered: a copy retransmitted because this answer was lost gets the
    // same answer, not "delivered".
    if (!handler_known(msg.handler, msg.bundled)) {
        answer(msg, ack_status::unknown_handler, now_ms);
        return true;
    }
    if (msg.ack && _deliveries_backlogged) {
        count("acked_deferred_backlog");  // no answer: the sender's retransmission comes back
        return false;
    }
    if (msg.ack) _duplicate_windows.record(msg, now_ms, [&](const std::string& name) { return is_member(name); });
    answer(msg, ack_status::delivered, now_ms);
    _output.emplace_back(effect::deliver{std::move(msg)});
    return true;
}

void peer_service::handle(const link& from, const forward_ack& msg, std::uint64_t now_ms) {
    (void)from, (void)now_ms;
    if (msg.destination != _self.name) {
        relay(msg);
        return;
    }
    if (cut_off_origin(msg.origin)) return;
    // An ack names its message by its own sender and the id we gave the message for it. Ids
    // start at a point drawn from the seed (first_message_id), so an ack meant for an earlier
    // incarnation of this node matches nothing; neither does a duplicate ack, nor one from a
    // node the message was not for.
    auto answered = _acked_sends.acknowledge(msg.origin, msg.id);
    if (!answered) {
        count("acks_unmatched");
        return;
    }
    const bool delivered = msg.status == ack_status::delivered;
    _output.emplace_back(effect::delivery_report{answered->report_id, std::move(answered->destination), delivered,
                                                 delivered ? "" : "unknown_handler"});
}

void peer_service::fail_unacked(const std::string& reason) {
    for (auto& failed : _acked_sends.take_all())
        _output.emplace_back(effect::delivery_report{failed.report_id, std::move(failed.destination), false, reason});
}

void peer_service::prune_messaging_state(std::uint64_t now_ms) {
    const auto member = [&](const std::string& name) { return is_member(name); };
    _acked_sends.prune_sequences(member);
    _duplicate_windows.prune(now_ms, member);
    _receive_order.forget_strangers(now_ms, stranger_linger_ms, member);
}

void peer_service::retransmit_and_expire(std::uint64_t now_ms) {
    const auto copies = _acked_sends.retransmit_and_expire(
        now_ms, [&](const forward& msg) { return send_acked_copy(msg); },
        [&](acked_sends::given_up&& expired) {
            count("acks_timed_out");
            _output.emplace_back(
                effect::delivery_report{expired.report_id, std::move(expired.destination), false, "timeout"});
        });
    if (copies > 0) _counters["retransmissions"] += copies;
}

bool peer_service::send_acked_copy(const forward& msg) {
    return route_status_of(msg.destination) == route_status::ok && route(msg, msg.destination);
}

void peer_service::send_when_routed(std::uint64_t now_ms) {
    const auto sent = _acked_sends.send_when_routed(_routes.epoch(), now_ms,
                                                    [&](const forward& msg) { return send_acked_copy(msg); });
    if (sent > 0) _counters["acked_sent_when_routed"] += sent;
}

}  // namespace zpartisan::core
