// peer_service: the handshake (docs/protocol.md §3): hello, welcome, referral and refusal, and
// what a join learns from them.
#include <algorithm>
#include <set>

#include "core/peer_service.hpp"
#include "core/protocol_version.hpp"
#include "core/topology.hpp"

namespace zpartisan::core {

// ---- handshake (docs/protocol.md §3) ---------------------------------------------------------

void peer_service::refuse(const link& to, refusal_reason reason, std::string detail) {
    count("refused_hellos");
    note(effect::notice::level::warn, "refusing hello from '" + log_text(to.id) + "': " + log_text(detail, 256),
         "refused_hello", to.id);
    _output.emplace_back(effect::send{to, refusal{reason, std::move(detail)}});
}

referral peer_service::make_referral(std::string reason) const {
    referral out;
    out.reason = std::move(reason);
    out.home_server = _self.home_server;
    std::vector<std::string> others;
    std::vector<std::string> other_keys;
    for (const auto& spec : _membership.specs()) {
        if (spec.role != role::server || spec.router_endpoint.empty() || spec.name == _self.name) continue;
        if (auto room = _server_room.find(spec.name); room != _server_room.end() && room->second == 0) continue;
        if (spec.name == _self.home_server) {
            out.server_endpoints.insert(out.server_endpoints.begin(), spec.router_endpoint);
            out.server_keys.insert(out.server_keys.begin(), spec.public_key);
        } else {
            others.push_back(spec.router_endpoint);
            other_keys.push_back(spec.public_key);
        }
    }
    out.server_endpoints.insert(out.server_endpoints.end(), others.begin(), others.end());
    out.server_keys.insert(out.server_keys.end(), other_keys.begin(), other_keys.end());
    // Still joining ourselves: point at where we are going, it is the best we know.
    if (out.server_endpoints.empty())
        for (const auto& [endpoint, target] : _join_targets) {
            out.server_endpoints.push_back(endpoint);
            out.server_keys.push_back(target.server_key);
        }
    return out;
}

void peer_service::handle(const link& from, const hello& msg, std::uint64_t now_ms) {
    if (from.via != link::kind::accepted) {
        count("dropped_hello_wrong_link");
        return;
    }
    if (msg.protocol_version != protocol_version) {
        refuse(from, refusal_reason::unsupported_version,
               "unsupported protocol version " + std::to_string(msg.protocol_version) + "; this node speaks " +
                   std::to_string(protocol_version));
        return;
    }
    if (msg.cluster_name != _options.cluster_name) {
        refuse(from, refusal_reason::wrong_cluster,
               "wrong cluster '" + msg.cluster_name + "'; this node belongs to '" + _options.cluster_name + "'");
        return;
    }
    const auto their_role = valid_role(msg.spec.role);
    if (!their_role) {
        refuse(from, refusal_reason::bad_role, "missing or unknown role");
        return;
    }
    if (msg.spec.name.empty() || msg.spec.name != from.id || msg.spec.router_endpoint.empty()) {
        refuse(from, refusal_reason::bad_spec, "the spec must carry the sender's name (its routing id) and endpoint");
        return;
    }
    if (msg.spec.name == _self.name) {
        if (msg.spec.incarnation == _self.incarnation) {
            _output.emplace_back(effect::send{from, welcome{_self, {}, 0}});  // dialed ourselves
        } else {
            refuse(from, refusal_reason::bad_spec, "name '" + _self.name + "' is already taken by a running node");
        }
        return;
    }
    switch (decide_join(_self.role, their_role)) {
        case join_decision::refuse:
            refuse(from, refusal_reason::bad_role, "missing or unknown role");
            return;
        case join_decision::refer:
            count("referrals_sent");
            _output.emplace_back(
                effect::send{from, make_referral("a client accepts no connections; attach to a server")});
            return;
        case join_decision::accept:
            break;
    }
    if (!has_room_for_peer(msg.spec.name)) {
        count("refused_hellos_too_many_peers");
        refuse(from, refusal_reason::too_many_peers,
               "server '" + _self.name + "' holds its maximum of " + std::to_string(_options.max_peers) + " peers");
        return;
    }
    if (*their_role == role::client && !can_accept_client(msg.spec)) {
        count("referrals_full");
        auto full = make_referral("server '" + _self.name + "' is full");
        if (full.server_endpoints.empty()) {
            refuse(from, refusal_reason::bad_spec, "server '" + _self.name + "' is full and knows no other with room");
            return;
        }
        _output.emplace_back(effect::send{from, std::move(full)});
        return;
    }
    if (*their_role == role::client && stale_hello(msg.spec)) {
        count("dropped_stale_hello");
        return;
    }
    merge(msg.state, provenance::first_hand, now_ms, msg.spec.name);
    note_frame_limit(from, msg.max_message_bytes);
    if (*their_role == role::client) _attached_clients[msg.spec.name] = now_ms;
    // Its dial to us is not welcomed until our welcome arrives: its first heartbeat says so.
    if (*their_role == role::server) _dialed_back_by.erase(msg.spec.name);
    // From now on we expect to hear from it every interval (a server heartbeats us on its
    // DEALER even before our own dial to it is welcomed).
    watch(msg.spec.name, now_ms);
    const auto seq =
        _replication.published(*their_role == role::client ? effect::stream::clients : effect::stream::mesh);
    _output.emplace_back(effect::send{from, welcome{_self, _membership.state(), seq, _options.max_message_bytes}});
    if (*their_role == role::client) {
        // Its new home speaks for it now: nodes that heard it was down (from a former home,
        // or from us before it moved away and back) hear it is up.
        const liveness word{_self.name, msg.spec.name, true, 0, 0, false};
        _output.emplace_back(effect::publish{effect::stream::mesh, word});
        _output.emplace_back(effect::publish{effect::stream::clients, word});
    }
    pass_recent_heals(from);
    // What we know is down, so the joiner does not take it for alive.
    for (const auto& [peer, lost] : _lost)
        _output.emplace_back(effect::send{
            from, liveness{_self.name, peer, false, now_ms - lost.last_heard_ms, lost.missed, lost.connection_lost}});
    reconcile_dials(now_ms);
}

void peer_service::handle(const link& from, const welcome& msg, std::uint64_t now_ms) {
    auto it = _dials.find(from.id);
    if (from.via != link::kind::dialed || it == _dials.end()) {
        count("dropped_welcome_unexpected");
        return;
    }
    // Joined by a spec whose endpoint another node now answers (a stale spec, a reused port).
    // Our hello already gave that node our state, so refusing here would not keep the two
    // apart: the join goes on, and the outcome says whom it reached.
    std::string spec_mismatch;
    if (auto target = _join_targets.find(from.id); target != _join_targets.end() &&
                                                   !target->second.expected_name.empty() &&
                                                   target->second.expected_name != msg.spec.name) {
        count("join_spec_name_mismatch");
        spec_mismatch =
            "the spec named '" + target->second.expected_name + "' but '" + msg.spec.name + "' answered at " + from.id;
        note(effect::notice::level::warn, "join by spec: " + log_text(spec_mismatch, 256), "join_spec_name_mismatch",
             from.id);
    }
    if (msg.spec.name == _self.name) {  // the endpoint was our own under another name
        resolve_join(from.id, join_status::joined, "joined itself");
        reconcile_dials(now_ms);
        return;
    }
    if (msg.spec.role != role::server) {
        count("dropped_welcome_from_non_server");
        return;
    }
    // How long this node waited from its start for any server to take it: a join storm's
    // cost as each joiner sees it (zpartisan-bench cluster); set once, a gauge.
    _counters.try_emplace("first_welcome_ms", now_ms - std::min(now_ms, _started_ms));
    auto& dial = it->second;
    const bool first_welcome = !dial.welcomed;
    dial.welcomed = true;
    dial.peer = msg.spec.name;
    note_frame_limit(from, msg.max_message_bytes);
    if (dial.pub_endpoint != msg.spec.pub_endpoint) {
        if (!dial.pub_endpoint.empty()) _output.emplace_back(effect::unsubscribe{dial.pub_endpoint});
        dial.pub_endpoint = msg.spec.pub_endpoint;
        if (!dial.pub_endpoint.empty()) _output.emplace_back(effect::subscribe{dial.pub_endpoint, msg.spec.public_key});
    }
    _replication.follow(msg.spec.name, msg.publisher_seq);
    if (from.id == _rehome_target) {
        _rehome_target.clear();
        _rehome_backoff_ms = 0;
    }
    if (first_welcome) {
        note(effect::notice::level::info, "connected to server '" + log_text(msg.spec.name) + "'");
        // At once rather than at the next beat: a server that joined us counts itself settled
        // only once it hears our dial to it works (docs/protocol.md §3).
        _output.emplace_back(effect::send{from, heartbeat{_self.name}});
        pass_recent_heals(from);
        if (_self.role == role::server) {
            // Our clients may have heard from us that it was never reached: it is now.
            const liveness word{_self.name, msg.spec.name, true, 0, 0, false};
            _output.emplace_back(effect::publish{effect::stream::clients, word});
        }
    }
    merge(msg.state, provenance::from_server, now_ms, msg.spec.name);
    const bool home_holds =
        !_self.home_server.empty() && dial_of_peer(_self.home_server) && _detector.is_up(_self.home_server);
    if (_self.role == role::client && _join_targets.contains(from.id) && _self.home_server != msg.spec.name &&
        _join_targets.at(from.id).alternative && home_holds) {
        // The first of several ways in already took us: moving now would hang up a home that
        // holds and watches us, which would see us vanish as a failure. This one is hung up
        // below instead, before it knows us as its client (docs/protocol.md §3).
        count("join_alternatives_declined");
    } else if (_self.role == role::client && _join_targets.contains(from.id) && _self.home_server != msg.spec.name) {
        // Attach here: our spec's home changes cluster-wide (the old home is hung up below).
        _self.home_server = msg.spec.name;
        propagate(_membership.add(_self));
        for (auto& [endpoint, target] : _join_targets)
            if (endpoint != from.id) target.alternative = true;
    } else if (_self.role == role::client && _self.home_server == msg.spec.name) {
        // Re-welcomed by our home (reconnect): make sure it has our current spec.
        _output.emplace_back(effect::send{from, delta{_self.name, 0, _membership.delta_since(digest_of(msg.state))}});
    }
    resolve_join(from.id, join_status::joined, spec_mismatch);
    reconcile_dials(now_ms);
    if (_dials.contains(from.id)) watch(msg.spec.name, now_ms);
}

void peer_service::handle(const link& from, const referral& msg, std::uint64_t now_ms) {
    if (from.via != link::kind::dialed || !_dials.contains(from.id)) {
        count("dropped_referral_unexpected");
        return;
    }
    count("referrals_received");
    auto target = _join_targets.find(from.id);
    if (target == _join_targets.end()) {
        // A peer we dial because of membership is a client after all: stop dialing it.
        _dials[from.id].refused = true;
        return;
    }
    const auto origin = target->second.origin;
    const int hops = target->second.referrals + 1;
    const bool alternative = target->second.alternative;
    _join_targets.erase(target);
    std::string next;
    std::string next_key;
    for (std::size_t i = 0; i < msg.server_endpoints.size(); ++i) {
        const auto& endpoint = msg.server_endpoints[i];
        if (endpoint != from.id && endpoint != _self.router_endpoint) {
            next = endpoint;
            if (i < msg.server_keys.size()) next_key = msg.server_keys[i];
            break;
        }
    }
    if (next.empty()) {
        _join_outcomes[origin] = {join_status::refused, "referred without a server to go to: " + msg.reason};
    } else if (hops > _options.referral_hops_max) {
        _join_outcomes[origin] = {join_status::refused, "too many referrals"};
    } else {
        note(effect::notice::level::info,
             "referred from " + log_text(from.id) + " to " + log_text(next) + " (" + log_text(msg.reason, 256) + ")",
             "referred", from.id);
        _join_targets[next] = join_target{origin, hops, {}, next_key, alternative};
        if (_dials.contains(next)) send_hello(next, now_ms);
    }
    reconcile_dials(now_ms);
}

void peer_service::handle(const link& from, const refusal& msg, std::uint64_t now_ms) {
    auto it = _dials.find(from.id);
    if (from.via != link::kind::dialed || it == _dials.end()) {
        count("dropped_refusal_unexpected");
        return;
    }
    note(effect::notice::level::warn, "refused by " + log_text(from.id) + ": " + log_text(msg.detail, 256),
         "refused_by", from.id);
    it->second.refused = true;
    resolve_join(from.id, join_status::refused, msg.detail);
    reconcile_dials(now_ms);
}

void peer_service::resolve_join(const std::string& target, join_status status, std::string reason) {
    auto it = _join_targets.find(target);
    if (it == _join_targets.end()) return;
    _join_outcomes[it->second.origin] = {status, std::move(reason)};
    _join_targets.erase(it);
}

}  // namespace zpartisan::core
