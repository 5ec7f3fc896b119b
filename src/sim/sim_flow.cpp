// sim_network: connections that fill, and each node's flow control (core/flow_control.hpp)
// run as the runtime runs it (src/runtime/reactor_stalled.cpp): a data frame that meets a full
// connection, or one whose hop already holds frames, waits; held frames are retried every
// round, follow moved routes, and are dropped by the component's rules. Its promises are
// checked as frames go out (flow_stats::violations).
#include <algorithm>

#include "sim/sim_network.hpp"

namespace zpartisan::sim {

core::hop_send sim_network::send_or_hold(const std::string& name, sim_node& n, const core::link& to,
                                         std::shared_ptr<const core::message> msg) {
    const auto* data = std::get_if<core::forward>(msg.get());
    if (!data) return transmit(name, n, to, msg, 0);
    const auto seq = ++_data_frames;
    if (!n.flow.empty()) {
        follow_routes(n);  // held frames take their new routes before this one goes on one
        release_dropped(n);
    }
    if (!n.flow.holds(to)) {
        const auto sent = transmit(name, n, to, msg, seq);
        if (sent != core::hop_send::congested) return sent;
    }
    const auto held = n.flow.hold(to, seq, data->destination, _now_ms);
    if (held == core::flow_control::hold_result::dropped_backlog_full) {
        ++_flow.refused;
        return core::hop_send::failed;
    }
    ++_flow.held;
    // A frame the core sent to a destination it is partitioned from already (a relay whose
    // next hop is on no side of a group partition) is the core's decision, not flow control's.
    core::link via;
    const bool cut_off = n.service->app_route(data->destination, &via) == core::route_status::partitioned;
    n.held.emplace(seq, sim_node::held_frame{std::move(msg), cut_off});
    note_flow_bounds(n);
    return core::hop_send::ok;
}

core::hop_send sim_network::transmit(const std::string& name, sim_node& n, const core::link& to,
                                     const std::shared_ptr<const core::message>& msg, std::uint64_t seq) {
    std::string receiver;
    core::link from;
    if (to.via == core::link::kind::dialed) {
        if (!n.dialed.contains(to.id)) return core::hop_send::failed;
        receiver = name_of_endpoint(to.id);
        if (!_nodes.contains(receiver) || _crashed.contains(receiver)) return core::hop_send::failed;
        from = {core::link::kind::accepted, name};
    } else {
        if (!dials_us(to.id, name)) return core::hop_send::unreachable;
        receiver = to.id;
        from = {core::link::kind::dialed, router_of(name)};
    }
    const bool data = seq != 0;
    const bool bounded = data && _faults.connection_capacity > 0;
    if (bounded) {
        const auto in_flight = _in_flight.find({receiver, from});
        if (in_flight != _in_flight.end() && in_flight->second >= _faults.connection_capacity)
            return core::hop_send::congested;
    }
    if (data) {
        const auto& destination = std::get<core::forward>(*msg).destination;
        auto& last = _last_sent_to[{name, destination}];
        if (seq < last)
            _flow.violations.push_back(name + " sent frame " + std::to_string(seq) + " to " + destination +
                                       " after frame " + std::to_string(last));
        last = seq;
        core::link via;
        const auto held = n.held.find(seq);
        if (held != n.held.end() && !held->second.cut_off_when_held &&
            n.service->app_route(destination, &via) == core::route_status::partitioned)
            _flow.violations.push_back(name + " sent held frame " + std::to_string(seq) + " to " + destination +
                                       ", which it was cut off from while the frame waited");
    }
    enqueue(receiver, from, msg, name, bounded);
    return core::hop_send::ok;
}

void sim_network::retry_held(const std::string& name) {
    auto& n = _nodes.at(name);
    follow_routes(n);
    const auto gone = n.flow.retry(_now_ms, [&](const core::link& hop, core::frame_handle frame, bool) {
        const auto held = n.held.find(frame);
        const auto sent = transmit(name, n, hop, held->second.msg, frame);
        if (sent == core::hop_send::congested) return sent;
        ++(sent == core::hop_send::ok ? _flow.sent_after_holding : _flow.failed_after_holding);
        n.held.erase(held);
        return sent;
    });
    if (!gone.empty()) {
        for (const auto& link : gone) n.service->on_peer_gone(link, _now_ms);
        collect(name);
        follow_routes(n);
        n.flow.drop_unreachable(gone);
    }
    (void)n.flow.drop_stuck_hops(_now_ms);
    release_dropped(n);
    note_flow_bounds(n);
}

void sim_network::follow_routes(sim_node& n) {
    const auto route_of = [&](std::string_view destination, core::link* hop) {
        return n.service->app_route(destination, hop);
    };
    _flow.rerouted += n.flow.follow_routes(n.service->route_epoch(), route_of, _now_ms).moved;
}

void sim_network::release_dropped(sim_node& n) {
    for (const auto& dropped : n.flow.take_drops()) {
        n.held.erase(dropped.frame);
        ++_flow.dropped;
        ++_flow.dropped_because[dropped.reason];
    }
}

void sim_network::note_flow_bounds(const sim_node& n) {
    _flow.held_most = std::max(_flow.held_most, n.flow.held());
    _flow.held_most_for_one_hop = std::max(_flow.held_most_for_one_hop, n.flow.most_held_for_one_hop());
}

std::size_t sim_network::held_now() const {
    std::size_t held = 0;
    for (const auto& [name, n] : _nodes) held += n.held.size();
    return held;
}

}  // namespace zpartisan::sim
