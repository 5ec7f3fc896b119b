// reactor: frames waiting for a full hop (docs/protocol.md §7, Full connections): held per hop,
// retried as the hop drains, rerouted when the routes move, and dropped and counted when their
// hop is gone for good or the backlog is over its bound.
#include <spdlog/spdlog.h>

#include "runtime/reactor.hpp"
#include "wire/routed_codec.hpp"

namespace zpartisan::runtime {

void reactor::stall(const core::link& to, transport::frame frame, std::string_view channel, std::uint32_t lane) {
    auto [waiting, first] = _stalled.try_emplace(to);
    if (_stalled_frames >= _config.send_queue_max || waiting->second.size() >= stalled_per_hop_max()) {
        count("dropped_backlog_full");
        if (first) _stalled.erase(waiting);
        return;
    }
    waiting->second.push_back({to, std::move(frame), std::string(channel), lane});
    ++_stalled_frames;
    if (first) {
        _stall_progress_ms[to] = _last_stall_progress_ms = now_ms();
        refresh_route_snapshot();  // the destinations behind this hop are now congested
    }
}

void reactor::retry_stalled() {
    reroute_if_routes_moved();
    bool hop_cleared = false;
    std::vector<core::link> gone;
    for (auto hop = _stalled.begin(); hop != _stalled.end();) {
        auto& waiting = hop->second;
        bool moved = false;
        while (!waiting.empty()) {
            auto& next = waiting.front();
            const auto bytes = next.frame.size();
            const auto status = _transport->send(next.to, next.frame, next.channel, next.lane);
            if (status == transport::send_status::congested) break;  // still full: later
            if (status == transport::send_status::ok) {
                _bytes_sent += bytes;
                ++_messages_out;
                moved = true;
            } else {
                count(std::string("send_") + describe(status));
            }
            waiting.pop_front();
            --_stalled_frames;
            if (status == transport::send_status::unreachable) {
                gone.push_back(hop->first);
                break;
            }
        }
        if (moved) _stall_progress_ms[hop->first] = _last_stall_progress_ms = now_ms();
        if (!waiting.empty()) {
            ++hop;
            continue;
        }
        hop = _stalled.erase(hop);
        hop_cleared = true;
    }
    if (!gone.empty()) {
        // The peer behind a hop is gone: the core hears it once, routes move, what waited for
        // it bound elsewhere follows, and what was for it alone is dropped, counted.
        for (const auto& link : gone) _core->on_peer_gone(link, now_ms());
        apply_output();
        reroute_if_routes_moved();
        for (const auto& link : gone) {
            const auto it = _stalled.find(link);
            if (it == _stalled.end()) continue;
            _counters["send_unreachable"] += it->second.size();
            _stalled_frames -= it->second.size();
            _stalled.erase(it);
            hop_cleared = true;
        }
    }
    if (drop_stuck_hops()) hop_cleared = true;
    if (hop_cleared) refresh_route_snapshot();
}

bool reactor::drop_stuck_hops() {
    const auto now = now_ms();
    bool dropped = false;
    for (auto hop = _stalled.begin(); hop != _stalled.end();) {
        // A hop that frames were moved onto (reroute_stalled) starts its count now.
        const auto since = _stall_progress_ms.try_emplace(hop->first, now).first->second;
        if (now - since < stall_give_up_ms()) {
            ++hop;
            continue;
        }
        const auto frames = hop->second.size();
        _counters["stalled_frames_dropped_stuck_hop"] += frames;
        spdlog::warn("[{}] dropped {} frames waiting for '{}', which took none for {} ms", _config.name, frames,
                     core::log_text(hop->first.id), now - since);
        _stalled_frames -= frames;
        hop = _stalled.erase(hop);
        dropped = true;
    }
    std::erase_if(_stall_progress_ms, [&](const auto& entry) { return !_stalled.contains(entry.first); });
    return dropped;
}

core::route_status reactor::route_for_senders(const std::string& name, core::route_status status) {
    if (status != core::route_status::ok || _stalled.empty()) return status;
    core::link hop;
    return _core->app_route(name, &hop) == core::route_status::ok && _stalled.contains(hop)
               ? core::route_status::congested
               : status;
}

void reactor::reroute_stalled() {
    // A destination's route moves off a stalled hop when its client re-homes or a relay
    // fails. Its waiting frames would otherwise go to a hop no longer on the way (lost
    // there, or late: after the messages sent on the new route meanwhile). Moved, they go
    // ahead of everything sent to it from now on, which queues behind them.
    _rerouted_epoch = _core->route_epoch();
    std::vector<stalled_send> moved;
    for (auto& [hop, waiting] : _stalled) {
        std::deque<stalled_send> kept;
        for (auto& frame : waiting) {
            core::link now_via;
            const auto routed = wire::peek_routed(frame.frame.view());
            const auto route = routed ? _core->app_route(routed->destination, &now_via) : core::route_status::ok;
            if (routed && route == core::route_status::ok && now_via != hop) {
                frame.to = now_via;
                moved.push_back(std::move(frame));
            } else if (route == core::route_status::partitioned) {
                // Cut off since it began to wait: it must not cross the partition once the
                // hop drains.
                ++_counters["stalled_frames_dropped_partitioned"];
                --_stalled_frames;
            } else {
                kept.push_back(std::move(frame));
            }
        }
        waiting.swap(kept);
    }
    // Several hops' frames may move onto one: the per-hop bound holds for it too, and what
    // is over it is dropped, counted, as stall() drops it.
    std::size_t over_bound = 0;
    for (auto& frame : moved) {
        auto& waiting = _stalled[frame.to];
        if (waiting.size() >= stalled_per_hop_max()) {
            ++over_bound;
            --_stalled_frames;
            continue;
        }
        waiting.push_back(std::move(frame));  // retry_stalled sends them
    }
    if (!moved.empty()) _counters["stalled_frames_rerouted"] += moved.size() - over_bound;
    if (over_bound > 0) {
        _counters["dropped_backlog_full"] += over_bound;
        spdlog::warn("[{}] dropped {} rerouted frames: their new hop already holds its share of the backlog",
                     _config.name, over_bound);
    }
    std::erase_if(_stalled, [](const auto& hop) { return hop.second.empty(); });
}

}  // namespace zpartisan::runtime
