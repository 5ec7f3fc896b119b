// peer_service: when tick() next has work, so an idle node sleeps until then. Each part below
// mirrors one step of tick() (peer_service.cpp) and solves its condition for the time; a part
// that cannot say exactly errs early (the tick then finds nothing and the next answer is
// exact), never late. A part due now must be one that the tick clears, or the runtime spins.
#include <algorithm>

#include "core/peer_service.hpp"

namespace zpartisan::core {

namespace {
void lower(std::optional<std::uint64_t>& earliest, std::uint64_t at) {
    if (!earliest || at < *earliest) earliest = at;
}
}  // namespace

std::optional<std::uint64_t> peer_service::next_deadline_ms(std::uint64_t now_ms) const {
    if (!_running) return std::nullopt;
    std::optional<std::uint64_t> earliest;
    for (const auto& [endpoint, dial] : _dials)
        if (const auto hello = dial.next_hello_ms(dial.welcomed && _detector.is_up(dial.peer), now_ms, _hello_backoff))
            lower(earliest, *hello);
    // The heartbeat's tick also prunes the duplicate windows of nodes long gone.
    lower(earliest, _next_heartbeat_ms);
    if (const auto failure = _detector.next_failure_ms()) lower(earliest, *failure);
    if (const auto rehome = rehome_deadline_ms(now_ms)) lower(earliest, *rehome);
    if (const auto acked_due = _acked_sends.due_ms()) lower(earliest, *acked_due);
    if (_acked_sends.awaits_route_at(_routes.epoch())) lower(earliest, now_ms);
    if (const auto request = _partitions.next_request_ms()) lower(earliest, *request);
    if (_receive_order.held() > 0 && !_deliveries_backlogged) {
        if (_receive_order.may_have_ready()) lower(earliest, now_ms);
        if (const auto overdue = _receive_order.next_overdue_ms()) lower(earliest, *overdue);
    }
    if (_self.role == role::server) lower(earliest, _next_beacon_ms);
    if (const auto expiry = _announced.next_expiry_ms()) lower(earliest, *expiry);
    lower(earliest, _replication.next_gossip_ms());
    return earliest;
}

std::optional<std::uint64_t> peer_service::rehome_deadline_ms(std::uint64_t now_ms) const {
    if (_self.role != role::client || _self.home_server.empty()) return std::nullopt;
    std::optional<std::uint64_t> silent_at;
    if (!home_down(now_ms, &silent_at)) {
        // Home is back while we were moving: the tick stays with it. Else its unanswered dial
        // may make it down later (the tick then finds work only if it can move).
        if (!_rehome_target.empty()) return now_ms;
        return silent_at;
    }
    if (!_rehome_target.empty()) return std::max(now_ms, _rehome_deadline_ms);
    // Down, and not moving yet: the tick moves as soon as there is somewhere to go.
    if (!rehome_candidates().empty()) return now_ms;
    return std::nullopt;
}

}  // namespace zpartisan::core
