#include "core/failure_detector.hpp"

namespace zpartisan::core {

void failure_detector::watch(const std::string& peer, std::uint64_t now_ms) {
    auto [it, inserted] = _peers.try_emplace(peer);
    if (inserted) it->second.last_heard_ms = now_ms;
}

std::optional<liveness_transition> failure_detector::heard(const std::string& peer, std::uint64_t now_ms) {
    auto it = _peers.find(peer);
    if (it == _peers.end()) return std::nullopt;
    auto& state = it->second;
    state.last_heard_ms = std::max(state.last_heard_ms, now_ms);
    state.lost_at_ms.reset();
    if (state.up) return std::nullopt;
    state.up = true;
    return liveness_transition{peer, true, now_ms, 0, false};
}

void failure_detector::connection_lost(const std::string& peer, std::uint64_t now_ms) {
    auto it = _peers.find(peer);
    if (it == _peers.end() || !it->second.up || it->second.lost_at_ms) return;
    it->second.lost_at_ms = now_ms;
}

std::vector<liveness_transition> failure_detector::tick(std::uint64_t now_ms) {
    std::vector<liveness_transition> failed;
    for (auto& [peer, state] : _peers) {
        if (!state.up) continue;
        const auto silent_ms = now_ms > state.last_heard_ms ? now_ms - state.last_heard_ms : 0;
        const auto missed = static_cast<std::uint32_t>(silent_ms / _interval_ms);
        const bool lost = state.lost_at_ms && now_ms >= *state.lost_at_ms + _interval_ms;
        if (missed >= _missed_max || lost) {
            state.up = false;
            failed.push_back({peer, false, state.last_heard_ms, missed, lost});
        }
    }
    return failed;
}

std::optional<std::uint64_t> failure_detector::next_failure_ms() const {
    // tick()'s two conditions solved for now_ms: missed >= missed_max once the silence reaches
    // missed_max whole intervals; a lost connection one interval after it closed.
    std::optional<std::uint64_t> earliest;
    for (const auto& [peer, state] : _peers) {
        if (!state.up) continue;
        auto at = state.last_heard_ms + std::uint64_t{_missed_max} * _interval_ms;
        if (state.lost_at_ms) at = std::min(at, *state.lost_at_ms + _interval_ms);
        if (!earliest || at < *earliest) earliest = at;
    }
    return earliest;
}

bool failure_detector::is_up(const std::string& peer) const {
    auto it = _peers.find(peer);
    return it != _peers.end() && it->second.up;
}

std::uint64_t failure_detector::last_heard_ms(const std::string& peer) const {
    auto it = _peers.find(peer);
    return it == _peers.end() ? 0 : it->second.last_heard_ms;
}

std::vector<std::string> failure_detector::peers() const {
    std::vector<std::string> names;
    for (const auto& [name, state] : _peers) names.push_back(name);
    return names;
}

}  // namespace zpartisan::core
