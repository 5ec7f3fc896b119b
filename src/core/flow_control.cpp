#include "core/flow_control.hpp"

#include <algorithm>
#include <utility>

namespace zpartisan::core {

std::size_t flow_control::held_for(const link& hop) const {
    const auto it = _hops.find(hop);
    return it == _hops.end() ? 0 : it->second.frames.size();
}

std::size_t flow_control::most_held_for_one_hop() const {
    std::size_t most = 0;
    for (const auto& [hop, queue] : _hops) most = std::max(most, queue.frames.size());
    return most;
}

flow_control::hold_result flow_control::hold(const link& hop, frame_handle frame, std::string_view destination,
                                             std::uint64_t now_ms) {
    auto [queue, first] = _hops.try_emplace(hop);
    if (_held >= _limits.held_max || queue->second.frames.size() >= _limits.held_per_hop_max) {
        ++_counters.dropped_backlog_full;
        if (first) _hops.erase(queue);
        return hold_result::dropped_backlog_full;
    }
    queue->second.frames.push_back({frame, std::string(destination)});
    ++_held;
    if (!first) return hold_result::held;
    queue->second.progress_ms = _last_progress_ms = now_ms;
    _hops_changed = true;
    return hold_result::held_new_hop;
}

std::vector<link> flow_control::retry(std::uint64_t now_ms, const send_fn& send) {
    std::vector<link> gone;
    for (auto hop = _hops.begin(); hop != _hops.end();) {
        auto& queue = hop->second;
        bool took = false;
        while (!queue.frames.empty()) {
            const bool waited_enough =
                queue.lane_awaited_since && now_ms - *queue.lane_awaited_since >= _limits.lane_wait_ms;
            const auto result = send(hop->first, queue.frames.front().frame, waited_enough);
            if (result == hop_send::congested) break;  // still full: later
            if (result == hop_send::lane_not_connected) {
                if (!queue.lane_awaited_since) queue.lane_awaited_since = now_ms;
                break;
            }
            queue.lane_awaited_since.reset();
            took = took || result == hop_send::ok;
            queue.frames.pop_front();
            --_held;
            if (result == hop_send::unreachable) {
                gone.push_back(hop->first);
                break;
            }
        }
        if (took) queue.progress_ms = _last_progress_ms = now_ms;
        if (!queue.frames.empty()) {
            ++hop;
            continue;
        }
        hop = _hops.erase(hop);
        _hops_changed = true;
    }
    return gone;
}

flow_control::rerouted flow_control::follow_routes(std::uint64_t route_epoch, const route_lookup& route_of,
                                                   std::uint64_t now_ms) {
    rerouted out;
    if (!routes_to_follow(route_epoch)) return out;
    _followed_epoch = route_epoch;
    // A destination's route moves off a held hop when its client re-homes or a relay fails.
    // Its frames would otherwise go to a hop no longer on the way (lost there, or late: after
    // the messages sent on the new route meanwhile). Moved, they go ahead of everything sent
    // to it from now on, which queues behind them.
    std::vector<std::pair<link, held_frame>> moved;
    for (auto& [hop, queue] : _hops) {
        std::deque<held_frame> kept;
        for (auto& frame : queue.frames) {
            link now_via;
            const auto route = frame.destination.empty() ? route_status::ok : route_of(frame.destination, &now_via);
            if (!frame.destination.empty() && route == route_status::ok && now_via != hop) {
                moved.emplace_back(std::move(now_via), std::move(frame));
            } else if (route == route_status::partitioned) {
                _drops.push_back({frame.frame, drop_reason::partitioned});
                ++_counters.stalled_frames_dropped_partitioned;
                ++out.partitioned;
                --_held;
            } else {
                kept.push_back(std::move(frame));
            }
        }
        queue.frames.swap(kept);
    }
    // Several hops' frames may move onto one: the per-hop bound holds for it too.
    for (auto& [to, frame] : moved) {
        auto [queue, first] = _hops.try_emplace(to);
        if (first) {
            queue->second.progress_ms = now_ms;  // its give-up count starts with the move
            _hops_changed = true;
        }
        if (queue->second.frames.size() >= _limits.held_per_hop_max) {
            _drops.push_back({frame.frame, drop_reason::backlog_full});
            ++out.over_bound;
            --_held;
            continue;
        }
        queue->second.frames.push_back(std::move(frame));
    }
    out.moved = moved.size() - out.over_bound;
    _counters.stalled_frames_rerouted += out.moved;
    _counters.dropped_backlog_full += out.over_bound;
    const auto before = _hops.size();
    std::erase_if(_hops, [](const auto& hop) { return hop.second.frames.empty(); });
    if (_hops.size() != before) _hops_changed = true;
    return out;
}

void flow_control::drop_hop(std::map<link, hop_queue>::iterator hop, drop_reason reason) {
    for (const auto& frame : hop->second.frames) _drops.push_back({frame.frame, reason});
    _held -= hop->second.frames.size();
    _hops.erase(hop);
    _hops_changed = true;
}

void flow_control::drop_unreachable(const std::vector<link>& gone) {
    for (const auto& link : gone) {
        const auto it = _hops.find(link);
        if (it == _hops.end()) continue;
        _counters.send_unreachable += it->second.frames.size();
        drop_hop(it, drop_reason::unreachable);
    }
}

std::vector<flow_control::stuck_hop> flow_control::drop_stuck_hops(std::uint64_t now_ms) {
    std::vector<stuck_hop> stuck;
    for (auto hop = _hops.begin(); hop != _hops.end();) {
        const auto since = hop->second.progress_ms;
        if (now_ms < since || now_ms - since < _limits.give_up_ms) {
            ++hop;
            continue;
        }
        const auto frames = hop->second.frames.size();
        stuck.push_back({hop->first, frames, now_ms - since});
        _counters.stalled_frames_dropped_stuck_hop += frames;
        drop_hop(hop++, drop_reason::stuck_hop);
    }
    return stuck;
}

std::optional<std::uint64_t> flow_control::next_deadline_ms(std::uint64_t now_ms) const {
    if (_hops.empty()) return std::nullopt;
    // Soon while some hop moves (a draining connection takes more within a millisecond),
    // else at a pace that costs an idle node little.
    const bool moving = now_ms < _last_progress_ms + 100;
    return now_ms + (moving ? 1 : idle_retry_ms);
}

}  // namespace zpartisan::core
