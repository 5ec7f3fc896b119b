// peer_service: membership replication (docs/protocol.md §4): deltas over PUB/SUB with their
// sequence numbers and gap repair, first-hand changes passed on, anti-entropy digests.
#include <set>

#include "core/peer_service.hpp"

namespace zpartisan::core {

void peer_service::publish(effect::stream to, const membership_state& change) {
    _output.emplace_back(effect::publish{to, delta{_self.name, _replication.next_published(to), change}});
}

peer_service::provenance peer_service::provenance_of(const std::string& sender) const {
    const auto spec = _membership.find(sender);
    return spec && spec->role == role::server ? provenance::from_server : provenance::first_hand;
}

std::uint64_t peer_service::stream_seq_for(const std::string& subscriber) const {
    const auto spec = _membership.find(subscriber);
    return _replication.published(spec && spec->role == role::client ? effect::stream::clients : effect::stream::mesh);
}

bool peer_service::touches_topology(const membership_state& delta) const {
    for (const auto& [d, spec] : delta.entries)
        if (spec->role == role::server) return true;
    // A removal of a server spec shows only as its dot in the delta's context.
    for (const auto& [actor, intervals] : delta.context.actors()) {
        const auto& entries = _membership.state().entries;
        for (auto it = entries.lower_bound(dot{actor, 0}); it != entries.end() && it->first.actor == actor; ++it)
            if (it->second->role == role::server && intervals.contains(it->first.counter)) return true;
    }
    return false;
}

void peer_service::merge(const membership_state& state, provenance source, std::uint64_t now_ms,
                         const std::string& told_by) {
    const bool topology_may_change = touches_topology(state);
    membership_state change;
    if (!_membership.join(state, &change)) return;
    _output.emplace_back(effect::membership_changed{});
    if (_self.role == role::server) {
        // Re-publishing only what changed us is what makes the flood terminate, and passing
        // on the effective change (not a whole received state) keeps each message small.
        if (source == provenance::first_hand) publish(effect::stream::mesh, change);
        publish(effect::stream::clients, change);
    }
    if (!_membership.contains(_self.name)) {
        // The CRDT's removal names no remover: the node that passed it on is what we know.
        stop("removed from the cluster by another node (the news came from " + told_by + ")");
        return;
    }
    // A client's attachment follows the spec it publishes: drop ours when the client went,
    // or when this merge brought a spec of it naming another home. Only a change counts: a
    // client that just attached here still has its previous home in our state until its own
    // update arrives, and an unrelated delta must not detach it meanwhile.
    std::set<std::string> detached;
    if (state.context.dot_count() > state.entries.size())  // the delta removes something
        for (const auto& [name, since] : _attached_clients)
            if (!_membership.contains(name)) detached.insert(name);
    for (const auto& [d, spec] : change.entries)
        if (_attached_clients.contains(spec->name) && !spec->home_server.empty() && spec->home_server != _self.name)
            detached.insert(spec->name);
    for (const auto& name : detached) detach(name);
    if (topology_may_change) reconcile_dials(now_ms);
    if (topology_may_change) {
        refresh_reachability({});
    } else {
        std::vector<std::string> names;
        for (const auto& [d, spec] : change.entries) names.push_back(spec->name);
        refresh_reachability(names);
    }
}

void peer_service::propagate(const membership_state& change) {
    if (change.empty()) return;
    _output.emplace_back(effect::membership_changed{});
    if (_self.role == role::server) {
        publish(effect::stream::mesh, change);
        publish(effect::stream::clients, change);
    } else if (auto home = dial_of_peer(_self.home_server)) {
        _output.emplace_back(effect::send{{link::kind::dialed, *home}, delta{_self.name, 0, change}});
    }
    // A client without a home yet hands the change over in its next hello's state.
}

void peer_service::handle(const link& from, const delta& msg, std::uint64_t now_ms) {
    if (from.via == link::kind::dialed) {
        count("dropped_delta_wrong_link");
        return;
    }
    merge(msg.state, from.via == link::kind::subscribed ? provenance::from_server : provenance_of(msg.origin), now_ms,
          msg.origin);
    if (from.via != link::kind::subscribed || !_running) return;
    observe_publisher_seq(msg.origin, msg.seq, true);
}

void peer_service::observe_publisher_seq(const std::string& publisher, std::uint64_t seq, bool is_delta) {
    if (_replication.observe(publisher, seq, is_delta)) {
        count("delta_gaps");
        request_sync(publisher, true);  // we know we missed something
    }
}

void peer_service::handle(const link& from, const beacon& msg, std::uint64_t now_ms) {
    (void)now_ms;
    if (from.via != link::kind::subscribed) {
        count("dropped_beacon_wrong_link");
        return;
    }
    _server_room[msg.origin] = msg.free_client_slots;
    observe_publisher_seq(msg.origin, msg.seq, false);
}

void peer_service::request_sync(const std::string& peer_name, bool full) {
    if (auto endpoint = dial_of_peer(peer_name))
        _output.emplace_back(effect::send{{link::kind::dialed, *endpoint}, our_digest(full)});
}

digest peer_service::our_digest(bool full) const {
    digest out{_self.name, {}, _membership.fingerprint(), full};
    if (full) out.seen = _membership.digest();
    return out;
}

void peer_service::handle(const link& from, const digest& msg, std::uint64_t now_ms) {
    (void)now_ms;
    // In step (a quiet cluster's every gossip round): neither side lacks anything.
    if (msg.fingerprint == _membership.fingerprint() && (!msg.full || msg.seen == _membership.digest())) {
        count("anti_entropy_in_step");
        return;
    }
    if (!msg.full) {
        // Out of step: show ours. The sender's answer to it is what either side lacks.
        _output.emplace_back(effect::send{from, our_digest(true)});
        return;
    }
    auto missing = _membership.delta_since(msg.seen);
    if (!missing.empty())
        _output.emplace_back(
            effect::send{from, sync_delta{_self.name, stream_seq_for(msg.origin), std::move(missing)}});
    // Push-pull: if the requester knows dots we lack, ask for them in turn.
    if (_membership.lacks_something_of(msg.seen)) _output.emplace_back(effect::send{from, our_digest(true)});
}

void peer_service::handle(const link& from, const sync_delta& msg, std::uint64_t now_ms) {
    (void)from;
    // At worst a delta overtook this answer and the next one looks like a gap: one extra sync.
    _replication.follow(msg.origin, msg.publisher_seq);
    merge(msg.state, provenance_of(msg.origin), now_ms, msg.origin);
}

}  // namespace zpartisan::core
