#include "core/log_limiter.hpp"

#include <algorithm>

namespace zpartisan::core {

namespace {
std::string key_of(std::string_view reason, std::string_view peer) {
    std::string key;
    key.reserve(reason.size() + 1 + peer.size());
    key.append(reason).push_back('\n');
    key.append(peer);
    return key;
}
}  // namespace

bool log_limiter::bucket::full(std::uint32_t burst, std::uint64_t refill_ms, std::uint64_t now_ms) const {
    if (tokens >= burst) return true;
    const auto elapsed = now_ms > refilled_at_ms ? now_ms - refilled_at_ms : 0;
    return tokens + elapsed / std::max<std::uint64_t>(refill_ms, 1) >= burst;
}

bool log_limiter::bucket::available(std::uint64_t refill_ms, std::uint64_t now_ms) const {
    return tokens > 0 || (now_ms > refilled_at_ms && now_ms - refilled_at_ms >= std::max<std::uint64_t>(refill_ms, 1));
}

bool log_limiter::bucket::take(std::uint32_t burst, std::uint64_t refill_ms, std::uint64_t now_ms) {
    refill_ms = std::max<std::uint64_t>(refill_ms, 1);
    if (now_ms > refilled_at_ms) {
        const auto added = (now_ms - refilled_at_ms) / refill_ms;
        if (tokens + added >= burst) {
            tokens = burst;
            refilled_at_ms = now_ms;
        } else {
            tokens += added;
            refilled_at_ms += added * refill_ms;  // the part of an interval already waited counts
        }
    }
    if (tokens == 0) return false;
    --tokens;
    return true;
}

void log_limiter::forget_quiet_keys(std::uint64_t now_ms) {
    std::erase_if(_keys, [&](const auto& entry) {
        const auto& state = entry.second;
        return state.suppressed == 0 && state.tokens.full(_limits.burst_per_key, _limits.refill_per_key_ms, now_ms);
    });
}

log_limiter::key_state& log_limiter::state_of(std::string_view reason, std::string_view peer, std::uint64_t now_ms) {
    auto key = key_of(reason, peer);
    if (auto found = _keys.find(key); found != _keys.end()) return found->second;
    if (_keys.size() >= _limits.max_keys) forget_quiet_keys(now_ms);
    if (_keys.size() >= _limits.max_keys) key = key_of(reason, other_peers);  // one per reason, beyond the bound
    auto [it, added] = _keys.try_emplace(std::move(key));
    if (added) it->second.tokens = bucket{_limits.burst_per_key, now_ms};
    return it->second;
}

log_limiter::verdict log_limiter::admit(std::string_view reason, std::string_view peer, std::uint64_t now_ms) {
    auto& state = state_of(reason, peer, now_ms);
    auto reason_bucket = _reasons.find(reason);
    if (reason_bucket == _reasons.end())
        reason_bucket = _reasons.emplace(std::string(reason), bucket{_limits.burst_per_reason, now_ms}).first;
    // The key's token is taken only when the reason has one too, so a key starved by the
    // reason's bucket keeps its own for later.
    if (state.tokens.available(_limits.refill_per_key_ms, now_ms) &&
        reason_bucket->second.take(_limits.burst_per_reason, _limits.refill_per_reason_ms, now_ms)) {
        (void)state.tokens.take(_limits.burst_per_key, _limits.refill_per_key_ms, now_ms);
        const verdict allowed{true, state.suppressed};
        state.suppressed = 0;
        return allowed;
    }
    ++state.suppressed;
    ++_suppressed_total;
    return {};
}

}  // namespace zpartisan::core
