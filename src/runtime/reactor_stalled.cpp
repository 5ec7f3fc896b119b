// reactor: the executor of flow control (core/flow_control.hpp; docs/protocol.md §7, Full
// connections). The component decides what becomes of a data frame that met a full hop: held,
// sent, moved to another hop or dropped. Here are only the frames' bytes, by handle, the sends
// it asks for, and telling the core of a peer a send found gone.
#include <spdlog/spdlog.h>

#include "runtime/reactor.hpp"
#include "wire/routed_codec.hpp"

namespace zpartisan::runtime {

void reactor::stall(const core::link& to, transport::frame frame, std::string_view channel, std::uint32_t lane) {
    const auto routed = wire::peek_routed(frame.view());
    const auto handle = _free_held_slots.empty() ? _held_frames.size() : _free_held_slots.back();
    const auto held = _flow.hold(to, handle, routed ? routed->destination : std::string_view{}, now_ms());
    if (held == core::flow_control::hold_result::dropped_backlog_full) return;
    if (handle == _held_frames.size()) {
        _held_frames.push_back({std::move(frame), std::string(channel), lane});
    } else {
        _free_held_slots.pop_back();
        _held_frames[handle] = {std::move(frame), std::string(channel), lane};
    }
    if (held == core::flow_control::hold_result::held_new_hop)
        refresh_route_snapshot();  // the destinations behind this hop are now congested
}

core::hop_send reactor::send_held(const core::link& hop, core::frame_handle handle, bool use_control_connection) {
    auto& [frame, channel, lane] = _held_frames[handle];
    if (use_control_connection) _transport->use_control_connection(hop, channel, lane);
    const auto bytes = frame.size();
    const auto status = _transport->send(hop, frame, channel, lane);
    if (status == transport::send_status::congested) return core::hop_send::congested;
    if (status == transport::send_status::lane_not_connected) return core::hop_send::lane_not_connected;
    if (status == transport::send_status::ok) {
        _bytes_sent += bytes;
        ++_messages_out;
    } else {
        count(std::string("send_") + describe(status));
    }
    free_held_slot(handle);
    if (status == transport::send_status::ok) return core::hop_send::ok;
    return status == transport::send_status::unreachable ? core::hop_send::unreachable : core::hop_send::failed;
}

void reactor::retry_stalled() {
    if (_flow.empty()) return;
    follow_routes();
    const auto gone = _flow.retry(now_ms(), [this](const core::link& hop, core::frame_handle handle, bool control) {
        return send_held(hop, handle, control);
    });
    if (!gone.empty()) {
        // The peer behind a hop is gone: the core hears it once, routes move, what waited for
        // it bound elsewhere follows, and what was for it alone is dropped, counted.
        for (const auto& link : gone) _core->on_peer_gone(link, now_ms());
        apply_output();
        follow_routes();
        _flow.drop_unreachable(gone);
    }
    for (const auto& stuck : _flow.drop_stuck_hops(now_ms()))
        spdlog::warn("[{}] dropped {} frames waiting for '{}', which took none for {} ms", _config.name, stuck.frames,
                     core::log_text(stuck.hop.id), stuck.idle_ms);
    release_dropped_frames();
    if (_flow.take_hops_changed()) refresh_route_snapshot();
}

void reactor::follow_moved_routes() {
    const auto moved = _flow.follow_routes(_core->route_epoch(), _route_of, now_ms());
    if (moved.over_bound > 0)
        spdlog::warn("[{}] dropped {} rerouted frames: their new hop already holds its share of the backlog",
                     _config.name, moved.over_bound);
    release_dropped_frames();
}

void reactor::release_dropped_frames() {
    for (const auto& dropped : _flow.take_drops()) free_held_slot(dropped.frame);
}

void reactor::free_held_slot(core::frame_handle handle) {
    _held_frames[handle].frame = transport::frame();  // the bytes go now, not when the slot is reused
    _free_held_slots.push_back(handle);
}

core::route_status reactor::route_for_senders(const std::string& name, core::route_status status) {
    if (status != core::route_status::ok || _flow.empty()) return status;
    core::link hop;
    return _core->app_route(name, &hop) == core::route_status::ok && _flow.holds(hop) ? core::route_status::congested
                                                                                      : status;
}

}  // namespace zpartisan::runtime
