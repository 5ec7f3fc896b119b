#include "core/receive_order.hpp"

#include <algorithm>

namespace zpartisan::core {

bool receive_order::ready(const flow_state& flow, const lane_state& lane, const forward& msg) {
    // No earlier message on its lane, the earlier one went, or its origin settled it (so it
    // will not come, or it came to an earlier life of ours).
    return msg.previous_id == 0 || msg.previous_id <= lane.passed || msg.previous_id < flow.settled_below;
}

receive_order::flow_iterator receive_order::flow_of(std::string_view origin, std::uint64_t incarnation,
                                                    std::uint64_t now_ms, bool& older_origin) {
    auto it = _flows.find(std::make_pair(origin, incarnation));
    if (it == _flows.end()) {
        // An origin's new incarnation ends its older ones: what they held waited behind gaps
        // that only their retransmit buffers, gone with them, could fill.
        const auto first = _flows.lower_bound(std::make_pair(origin, std::uint64_t{0}));
        for (auto other = first; other != _flows.end() && other->first.first == origin; ++other)
            if (other->first.second > incarnation) {
                older_origin = true;
                return _flows.end();
            }
        for (auto older = first; older != _flows.end() && older->first.first == origin;) older = erase_flow(older);
        if (_flows.size() >= _limits.origins_max) evict_least_recent();
        it = _flows.emplace(flow_key{origin, incarnation}, flow_state{}).first;
    }
    it->second.last_used_ms = now_ms;
    return it;
}

receive_order::admission receive_order::admit(forward& msg, std::uint64_t now_ms) {
    bool older_origin = false;
    const auto it = flow_of(msg.origin, msg.origin_incarnation, now_ms, older_origin);
    if (older_origin) return admission::older_origin;
    auto& flow = it->second;
    if (msg.settled_below > flow.settled_below) {
        flow.settled_below = msg.settled_below;
        if (flow.held > 0) _to_examine.insert(it->first);
    }
    lane_key key{msg.channel, msg.lane};
    auto lane_it = flow.lanes.find(key);
    if (lane_it == flow.lanes.end()) {
        if (flow.lanes.size() >= _limits.lanes_per_origin_max) return admission::no_room;
        lane_it = flow.lanes.emplace(std::move(key), lane_state{}).first;
    }
    auto& lane = lane_it->second;
    if (msg.id <= lane.passed) return admission::late;
    if (lane.held.contains(msg.id)) return admission::held_already;
    // Nothing held before it on its lane, and its turn: the usual case, at once.
    if ((lane.held.empty() || lane.held.begin()->first > msg.id) && ready(flow, lane, msg)) return admission::now;
    if (_held >= _limits.messages_max || _held_bytes + msg.payload.size() > _limits.bytes_max)
        return admission::no_room;
    _held_bytes += msg.payload.size();
    ++_held;
    ++flow.held;
    ++_held_total;
    lane.held.emplace(msg.id, std::make_pair(std::move(msg), now_ms));
    _holding.insert(it->first);
    _to_examine.insert(it->first);
    return admission::held;
}

bool receive_order::admit_plain(std::string_view origin, std::uint64_t origin_incarnation, std::string_view channel,
                                std::uint32_t lane, std::uint64_t sequence, std::uint64_t now_ms) {
    if (sequence == 0) return true;
    bool older_origin = false;
    const auto it = flow_of(origin, origin_incarnation, now_ms, older_origin);
    // An earlier life of a restarted origin is not ordered against its later one.
    if (older_origin) return true;
    auto& lanes = it->second.lanes;
    auto lane_it = lanes.find(std::make_pair(channel, lane));
    if (lane_it == lanes.end()) {
        // Past the bound (a peer inventing channels), handed over as it comes: a plain
        // message has no retransmission that a refusal could wait for.
        if (lanes.size() >= _limits.lanes_per_origin_max) return true;
        lane_it = lanes.emplace(lane_key{channel, lane}, lane_state{}).first;
    }
    auto& passed = lane_it->second.plain_passed;
    if (sequence <= passed) return false;
    passed = sequence;
    return true;
}

void receive_order::passed(const position& at) {
    const auto it = _flows.find(flow_key{at.origin, at.origin_incarnation});
    if (it == _flows.end()) return;
    const auto lane = it->second.lanes.find(lane_key{at.channel, at.lane});
    if (lane == it->second.lanes.end()) return;
    lane->second.passed = std::max(lane->second.passed, at.id);
    if (!lane->second.held.empty()) _to_examine.insert(it->first);
}

void receive_order::release(flow_state& flow, lane_state& lane, std::vector<forward>& out,
                            const std::uint64_t* now_ms) {
    while (!lane.held.empty()) {
        auto first = lane.held.begin();
        auto& [msg, since] = first->second;
        if (!ready(flow, lane, msg)) {
            if (!now_ms || *now_ms < since + _limits.max_hold_ms) return;
            ++_gaps_skipped;
        }
        lane.passed = std::max(lane.passed, first->first);
        _held_bytes -= msg.payload.size();
        --_held;
        --flow.held;
        out.push_back(std::move(msg));
        lane.held.erase(first);
    }
}

void receive_order::release_flow(const flow_key& key, std::vector<forward>& out, const std::uint64_t* now_ms) {
    const auto it = _flows.find(key);
    if (it == _flows.end()) return;
    for (auto& [id, lane] : it->second.lanes)
        if (!lane.held.empty()) release(it->second, lane, out, now_ms);
    if (it->second.held == 0) _holding.erase(key);
}

void receive_order::take_ready(std::vector<forward>& out) {
    // Releasing never adds to the set: passed() is the caller's, for what it got before.
    for (const auto& key : _to_examine) release_flow(key, out, nullptr);
    _to_examine.clear();
}

std::optional<std::uint64_t> receive_order::next_overdue_ms() const {
    // release() looks at each lane's first held message only: the others wait behind it.
    std::optional<std::uint64_t> earliest;
    for (const auto& key : _holding) {
        const auto flow = _flows.find(key);
        if (flow == _flows.end()) continue;
        for (const auto& [lane_name, lane] : flow->second.lanes) {
            if (lane.held.empty()) continue;
            const auto at = lane.held.begin()->second.second + _limits.max_hold_ms;
            if (!earliest || at < *earliest) earliest = at;
        }
    }
    return earliest;
}

void receive_order::take_overdue(std::uint64_t now_ms, std::vector<forward>& out) {
    take_ready(out);
    const std::vector<flow_key> holding(_holding.begin(), _holding.end());
    for (const auto& key : holding) release_flow(key, out, &now_ms);
}

receive_order::flow_iterator receive_order::erase_flow(flow_iterator it) {
    for (const auto& [id, lane] : it->second.lanes)
        for (const auto& [held_id, entry] : lane.held) _held_bytes -= entry.first.payload.size();
    _held -= it->second.held;
    _dropped += it->second.held;
    _holding.erase(it->first);
    _to_examine.erase(it->first);
    return _flows.erase(it);
}

void receive_order::evict_least_recent() {
    const auto oldest = std::min_element(_flows.begin(), _flows.end(), [](const auto& a, const auto& b) {
        return a.second.last_used_ms < b.second.last_used_ms;
    });
    if (oldest == _flows.end()) return;
    erase_flow(oldest);
    ++_origins_evicted;
}

void receive_order::add_counters(std::map<std::string, std::uint64_t>& into) const {
    if (_held > 0) into["held_back_now"] = _held;
    if (_held_total > 0) into["held_back"] = _held_total;
    if (_gaps_skipped > 0) into["held_back_gaps_skipped"] = _gaps_skipped;
    if (_dropped > 0) into["held_back_dropped"] = _dropped;
    if (_origins_evicted > 0) into["held_back_origins_evicted"] = _origins_evicted;
}

}  // namespace zpartisan::core
