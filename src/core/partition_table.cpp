#include "core/partition_table.hpp"

#include <algorithm>

namespace zpartisan::core {

std::string partition_table::next_ref(std::uint64_t incarnation) {
    return _self + "/" + std::to_string(incarnation) + "#" + std::to_string(++_counter);
}

bool partition_table::cuts_off(std::string_view peer) const {
    for (const auto& [ref, peers] : _cuts)
        if (peers.contains(peer)) return true;
    for (const auto& [ref, groups] : _groups) {
        int mine = -1, theirs = -1;
        for (std::size_t g = 0; g < groups.size(); ++g) {
            if (std::find(groups[g].begin(), groups[g].end(), _self) != groups[g].end()) mine = static_cast<int>(g);
            if (std::find(groups[g].begin(), groups[g].end(), peer) != groups[g].end()) theirs = static_cast<int>(g);
        }
        if (mine >= 0 && theirs >= 0 && mine != theirs) return true;
    }
    return false;
}

void partition_table::cut(const std::string& ref, const std::vector<std::string>& peers) {
    _cuts[ref].insert(peers.begin(), peers.end());
}

void partition_table::cut_into_groups(const std::string& ref, const std::vector<std::vector<std::string>>& groups) {
    _groups.try_emplace(ref, groups);
}

partition_table::heal partition_table::resolve(const std::string& ref) {
    heal out;
    if (_resolved.contains(ref)) return out;
    out.first_time = true;
    if (_resolved.size() >= resolved_max) _resolved.erase(_resolved.begin());
    _resolved.insert(ref);
    if (_recent_heals.size() >= recent_heals_max) _recent_heals.pop_front();
    _recent_heals.push_back(ref);
    out.held = _cuts.contains(ref) || _groups.contains(ref);
    if (auto it = _cuts.find(ref); it != _cuts.end()) {
        out.cut_peers.insert(it->second.begin(), it->second.end());
        _cuts.erase(it);
    }
    _groups.erase(ref);
    return out;
}

std::vector<partition_table::entry> partition_table::entries(const std::vector<std::string>& members) const {
    std::vector<entry> out;
    for (const auto& [ref, peers] : _cuts)
        for (const auto& peer : peers) out.push_back({ref, peer});
    for (const auto& [ref, groups] : _groups)
        for (const auto& peer : members)
            if (peer != _self && cuts_off(peer)) out.push_back({ref, peer});
    return out;
}

void partition_table::add_request(const std::string& ref, std::string origin, std::uint32_t ttl,
                                  std::uint64_t deadline_ms, std::uint64_t next_send_ms) {
    _requests[ref] = {std::move(origin), ttl, deadline_ms, next_send_ms};
}

std::vector<partition_table::due_request> partition_table::take_due_requests(std::uint64_t now_ms,
                                                                             std::uint64_t resend_interval_ms) {
    std::vector<due_request> due;
    for (auto it = _requests.begin(); it != _requests.end();) {
        auto& [ref, r] = *it;
        if (now_ms >= r.deadline_ms) {
            due.push_back({true, ref, r.origin, r.ttl});
            it = _requests.erase(it);
            continue;
        }
        if (now_ms >= r.next_send_ms) {
            r.next_send_ms = now_ms + resend_interval_ms;
            due.push_back({false, ref, r.origin, r.ttl});
        }
        ++it;
    }
    return due;
}

std::optional<std::uint64_t> partition_table::next_request_ms() const {
    std::optional<std::uint64_t> earliest;
    for (const auto& [ref, r] : _requests) {
        const auto at = std::min(r.deadline_ms, r.next_send_ms);
        if (!earliest || at < *earliest) earliest = at;
    }
    return earliest;
}

}  // namespace zpartisan::core
