// peer_service: partition injection (docs/protocol.md §6, partisan's HyParView semantics, plus named
// groups) and client capacity with reservations (docs/protocol.md §3).
#include <algorithm>

#include "core/peer_service.hpp"

namespace zpartisan::core {

// ---- partitions -------------------------------------------------------------------------------

bool peer_service::is_partition_control(const message& msg) {
    // These must cross the very cuts they create or heal.
    return std::holds_alternative<partition_request>(msg) || std::holds_alternative<partition_resolve>(msg) ||
           std::holds_alternative<partition_groups>(msg) || std::holds_alternative<partition_applied>(msg);
}

bool peer_service::link_blocked(const link& to) const {
    if (to.via == link::kind::accepted) return _partitions.cuts_off(to.id);
    auto dial = _dials.find(to.id);
    return dial != _dials.end() && !dial->second.peer.empty() && _partitions.cuts_off(dial->second.peer);
}

bool peer_service::blocked(const output_effect& out) const {
    if (const auto* send = std::get_if<effect::send>(&out)) {
        if (is_partition_control(send->msg)) return false;
        return link_blocked(send->to);
    }
    // A PUB cannot skip one subscriber: a node cut off from its peers publishes nothing.
    if (std::holds_alternative<effect::publish>(out)) return _partitions.has_origin_cuts();
    return false;
}

std::vector<std::string> peer_service::connected_peers() const {
    std::set<std::string> peers;
    for (const auto& [endpoint, dial] : _dials)
        if (dial.welcomed) peers.insert(dial.peer);
    for (const auto& [client, since] : _attached_clients) peers.insert(client);
    return {peers.begin(), peers.end()};
}

bool peer_service::send_to_peer(const std::string& peer, message msg) {
    if (auto endpoint = dial_of_peer(peer)) {
        _output.emplace_back(effect::send{{link::kind::dialed, *endpoint}, std::move(msg)});
        return true;
    }
    if (_attached_clients.contains(peer)) {
        _output.emplace_back(effect::send{{link::kind::accepted, peer}, std::move(msg)});
        return true;
    }
    return false;
}

void peer_service::cut_off(const std::string& ref, std::uint32_t ttl) {
    if (_partitions.holds_cut(ref)) return;  // already reached by this request
    // Healed already: the heal took a shorter way than the cut (or the cut waited in a hung
    // node's buffers). Cutting now would last for ever, since the heal passes each node once.
    if (_partitions.healed(ref)) {
        count("dropped_partition_request_healed");
        return;
    }
    const auto peers = connected_peers();
    if (ttl > 0)
        for (const auto& peer : peers) send_to_peer(peer, partition_request{ref, peer, ttl - 1, {}});
    _partitions.cut(ref, peers);
    count("partitions_injected");
    note(effect::notice::level::warn,
         "partition " + log_text(ref) + ": cut off from " + std::to_string(peers.size()) + " peers");
}

std::optional<std::string> peer_service::inject_partition(const std::string& origin, std::uint32_t ttl,
                                                          std::uint64_t now_ms) {
    routes_changed();
    if (!_running) return std::nullopt;
    const auto ref = _partitions.next_ref(_self.incarnation);
    if (origin == _self.name) {
        cut_off(ref, ttl);
        _output.emplace_back(effect::partition_outcome{ref, true, ""});
        return ref;
    }
    // Along the way application messages take (docs/protocol.md §6): the origin directly, or
    // through our home and the origin's home. A request that could reach no one is refused
    // here; one that leaves is answered when the origin confirms it, never before.
    if (_partitions.requests_full()) {
        count("partition_requests_refused_pending");
        return std::nullopt;
    }
    if (!compute_reachable(origin)) return std::nullopt;
    if (!route(partition_request{ref, origin, ttl, _self.name}, origin)) return std::nullopt;
    _partitions.add_request(ref, origin, ttl, now_ms + _options.ack_timeout_ms,
                            now_ms + _options.heartbeat_interval_ms);
    return ref;
}

void peer_service::retry_partition_requests(std::uint64_t now_ms) {
    for (auto& due : _partitions.take_due_requests(now_ms, _options.heartbeat_interval_ms)) {
        if (!due.give_up) {
            (void)route(partition_request{due.ref, due.origin, due.ttl, _self.name}, due.origin);
            continue;
        }
        // The cut may have taken effect with its answer lost: undone wherever it reached, so a
        // caller told it failed is not left with a partition it cannot name.
        const auto why =
            "no confirmation from " + due.origin + " within " + std::to_string(_options.ack_timeout_ms) + " ms";
        (void)resolve_partition(due.ref);
        count("partition_requests_timed_out");
        _output.emplace_back(effect::partition_outcome{due.ref, false, why});
    }
}

void peer_service::relay_partition_control(const link& from, message msg, const std::string& target) {
    // A server passes it on once towards the target's home; what a server brought goes only
    // to a direct peer, so two servers that disagree on a client's home cannot bounce it.
    const auto sender = sender_of_link(from);
    const auto* sender_spec = sender ? _membership.spec_of(*sender) : nullptr;
    const bool from_server = sender_spec && sender_spec->role == role::server;
    const char* dropped = std::holds_alternative<partition_request>(msg) ? "dropped_partition_request_unroutable"
                                                                         : "dropped_partition_applied_unroutable";
    if (send_to_peer(target, msg)) return;
    if (!from_server && route(std::move(msg), target)) return;
    count(dropped);
}

void peer_service::handle(const link& from, const partition_request& msg, std::uint64_t now_ms) {
    (void)now_ms;
    if (msg.target != _self.name) {
        relay_partition_control(from, msg, msg.target);
        return;
    }
    cut_off(msg.ref, msg.ttl);
    // Answered on every copy (the requester sends again until it hears), never for a cut
    // already healed: that one no longer holds.
    if (!msg.requester.empty() && _partitions.holds_cut(msg.ref) && msg.requester != _self.name &&
        !route(partition_applied{msg.ref, msg.requester, _self.name}, msg.requester))
        count("dropped_partition_applied_unroutable");
}

void peer_service::handle(const link& from, const partition_applied& msg, std::uint64_t now_ms) {
    (void)now_ms;
    if (msg.requester != _self.name) {
        relay_partition_control(from, msg, msg.requester);
        return;
    }
    if (!_partitions.confirm(msg.ref)) return;  // answered already, or given up
    count("partition_requests_applied");
    _output.emplace_back(effect::partition_outcome{msg.ref, true, ""});
}

bool peer_service::resolve_partition(const std::string& ref) {
    routes_changed();
    // Every node passes a given heal on once, so it reaches every node the cut reached
    // wherever it is asked for (partisan: resolve_partition at any node).
    auto heal = _partitions.resolve(ref);
    if (!heal.first_time) return false;
    auto& tell = heal.cut_peers;
    for (const auto& peer : connected_peers()) tell.insert(peer);
    for (const auto& peer : tell) send_to_peer(peer, partition_resolve{ref});
    if (heal.held) {
        count("partitions_resolved");
        note(effect::notice::level::info, "partition " + log_text(ref) + " healed");
    }
    return heal.held;
}

void peer_service::pass_recent_heals(const link& to) {
    for (const auto& ref : _partitions.recent_heals()) _output.emplace_back(effect::send{to, partition_resolve{ref}});
}

void peer_service::handle(const link& from, const partition_resolve& msg, std::uint64_t now_ms) {
    (void)from, (void)now_ms;
    (void)resolve_partition(msg.ref);
}

void peer_service::apply_groups(const std::string& ref, const std::vector<std::vector<std::string>>& groups) {
    if (_partitions.holds_groups(ref)) return;
    // Flood first: the cut must not stop the news of itself.
    for (const auto& peer : connected_peers()) send_to_peer(peer, partition_groups{ref, groups});
    _partitions.cut_into_groups(ref, groups);
    count("partitions_injected");
    note(effect::notice::level::warn,
         "partition " + log_text(ref) + ": the cluster is cut into " + std::to_string(groups.size()) + " groups");
}

std::string peer_service::partition_into_groups(const std::vector<std::vector<std::string>>& groups) {
    routes_changed();
    const auto ref = _partitions.next_ref(_self.incarnation);
    apply_groups(ref, groups);
    return ref;
}

void peer_service::handle(const link& from, const partition_groups& msg, std::uint64_t now_ms) {
    (void)from, (void)now_ms;
    apply_groups(msg.ref, msg.groups);
}

std::vector<partition_entry> peer_service::partitions() const {
    std::vector<partition_entry> out;
    for (auto& [ref, peer] : _partitions.entries(_membership.members()))
        out.push_back({std::move(ref), std::move(peer)});
    return out;
}

// ---- capacity ---------------------------------------------------------------------------------

std::uint32_t peer_service::slots_in_use() const {
    std::uint32_t used = static_cast<std::uint32_t>(_attached_clients.size());
    for (const auto& [tag, held] : _reservations) {
        std::uint32_t claimed = 0;
        for (const auto& [client, since] : _attached_clients) {
            const auto spec = _membership.find(client);
            if (spec && spec->tag == tag) ++claimed;
        }
        if (held > claimed) used += held - claimed;  // slots held for clients yet to come
    }
    return used;
}

std::uint32_t peer_service::free_client_slots() const {
    if (_self.role != role::server) return 0;
    if (_options.max_clients == 0) return unlimited_slots;
    const auto used = slots_in_use();
    return used >= _options.max_clients ? 0 : _options.max_clients - used;
}

bool peer_service::can_accept_client(const node_spec& client) const {
    if (_options.max_clients == 0 || _attached_clients.contains(client.name)) return true;
    if (!client.tag.empty()) {
        auto held = _reservations.find(client.tag);
        if (held != _reservations.end()) {
            std::uint32_t claimed = 0;
            for (const auto& [name, since] : _attached_clients) {
                const auto spec = _membership.find(name);
                if (spec && spec->tag == client.tag) ++claimed;
            }
            if (claimed < held->second) return true;  // its reserved slot is waiting
        }
    }
    return free_client_slots() > 0;
}

reserve_status peer_service::reserve(const std::string& tag) {
    if (_self.role != role::server) return reserve_status::not_a_server;
    if (_options.max_clients != 0 && free_client_slots() == 0) return reserve_status::no_available_slots;
    ++_reservations[tag];
    return reserve_status::ok;
}

}  // namespace zpartisan::core
