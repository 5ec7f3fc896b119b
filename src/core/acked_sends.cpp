#include "core/acked_sends.hpp"

namespace zpartisan::core {

std::uint64_t acked_sends::add(forward& msg, std::uint64_t now_ms, bool routed) {
    msg.id = next_id_to(msg.destination);
    const auto report_id = ++_last_report_id;
    _by_wire_id.emplace(std::make_pair(msg.destination, msg.id), report_id);
    auto& last_on_lane = _last_id_on_lane[std::make_tuple(msg.destination, msg.channel, msg.lane)];
    msg.previous_id = std::exchange(last_on_lane, msg.id);
    msg.settled_below = settled_below_for(msg.destination);
    _pending.emplace(report_id, pending{msg, now_ms, now_ms + _limits.ack_timeout_ms, !routed});
    _due_ms = std::min(_due_ms, now_ms + std::min(_limits.retransmit_interval_ms, _limits.ack_timeout_ms));
    if (!routed) ++_awaiting_route;
    return report_id;
}

std::optional<acked_sends::given_up> acked_sends::acknowledge(const std::string& from, std::uint64_t id) {
    const auto index = _by_wire_id.find(std::make_pair(from, id));
    if (index == _by_wire_id.end()) return std::nullopt;
    const auto it = _pending.find(index->second);
    given_up answered{it->first, it->second.msg.destination};
    forget(it);
    return answered;
}

std::vector<acked_sends::given_up> acked_sends::take_all() {
    std::vector<given_up> all;
    all.reserve(_pending.size());
    for (const auto& [id, p] : _pending) all.push_back({id, p.msg.destination});
    _pending.clear();
    _by_wire_id.clear();
    _awaiting_route = 0;
    return all;
}

std::uint64_t acked_sends::settled_below_for(const std::string& destination) const {
    // The oldest message to destination still waiting for its ack: everything below it was
    // acked or given up on. Nothing waiting: everything handed out so far is settled.
    const auto oldest = _by_wire_id.lower_bound(std::make_pair(destination, std::uint64_t{0}));
    if (oldest != _by_wire_id.end() && oldest->first.first == destination) return oldest->first.second;
    const auto last = _last_id_to.find(destination);
    return last == _last_id_to.end() ? 1 : last->second + 1;
}

std::uint64_t acked_sends::next_id_to(const std::string& destination) {
    auto [last, created] = _last_id_to.try_emplace(destination, _id_high);
    _id_high = std::max(_id_high, ++last->second);
    return last->second;
}

void acked_sends::forget(pending_iterator it) {
    if (it->second.awaiting_route) --_awaiting_route;
    _by_wire_id.erase(std::make_pair(it->second.msg.destination, it->second.msg.id));
    _pending.erase(it);
}

}  // namespace zpartisan::core
