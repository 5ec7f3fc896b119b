// reactor: how long the leader may sleep. No fixed tick: an idle node wakes when the core has
// something due (a heartbeat, a failure, a retry: core::peer_service::next_deadline_ms) or
// one of the runtime's own waits ends, and otherwise only when input comes.
#include "runtime/reactor.hpp"

namespace zpartisan::runtime {

std::optional<std::uint64_t> reactor::wait_budget_ms(std::uint64_t now) const {
    std::optional<std::uint64_t> until = _core_due;
    const auto lower = [&](std::uint64_t at) {
        if (!until || at < *until) until = at;
    };
    // Frames waiting on a full queue: looked at again when flow control says.
    if (const auto retry_at = _flow.next_deadline_ms(now)) lower(*retry_at);
    // A membership change coalesced with the ones that follow it into one write.
    if (_store && _persist_dirty && _core->running()) lower(_last_persist_ms + persist_coalesce_ms);
    for (const auto& waiter : _waiters) lower(waiter.deadline_ms);
    // Acked deliveries held for a full handler queue: nothing wakes us when it drains.
    if (_deliveries_backlogged && _core->holds_deliveries()) lower(now + held_deliveries_retry_ms);
    if (!until) return std::nullopt;
    return *until > now ? *until - now : 0;
}

}  // namespace zpartisan::runtime
