// peer_service: heartbeats, failure detection, liveness announcements, reachability events
// and client re-homing (docs/protocol.md §5).
#include <algorithm>
#include <set>

#include "core/peer_service.hpp"

namespace zpartisan::core {

std::optional<std::string> peer_service::sender_of_link(const link& from) const {
    if (from.via == link::kind::accepted) return from.id;  // a relay's name: the hop we heard from
    if (from.via == link::kind::dialed)
        if (auto it = _dials.find(from.id); it != _dials.end() && it->second.welcomed) return it->second.peer;
    return std::nullopt;
}

std::optional<std::string> peer_service::sender_of(const link& from, const message& msg) const {
    if (auto sender = sender_of_link(from)) return sender;
    // A dial's first answer names its peer; a PUB message names its publisher.
    if (from.via == link::kind::dialed)
        if (const auto* w = std::get_if<welcome>(&msg)) return w->spec.name;
    if (from.via == link::kind::subscribed) {
        if (const auto* d = std::get_if<delta>(&msg)) return d->origin;
        if (const auto* b = std::get_if<beacon>(&msg)) return b->origin;
        if (const auto* l = std::get_if<liveness>(&msg)) return l->origin;
    }
    return std::nullopt;
}

void peer_service::heard_from(const std::string& peer, std::uint64_t now_ms) {
    if (auto transition = _detector.heard(peer, now_ms)) apply_transition(*transition, now_ms);
}

void peer_service::watch(const std::string& peer, std::uint64_t now_ms) {
    if (_detector.watching(peer)) return;
    routes_changed();
    _detector.watch(peer, now_ms);
    _lost.erase(peer);
    refresh_reachability({peer});
}

void peer_service::unwatch(const std::string& peer) {
    if (!_detector.watching(peer)) return;
    routes_changed();
    _detector.unwatch(peer);
    _lost.erase(peer);
    refresh_reachability({peer});
}

void peer_service::send_heartbeats() {
    for (const auto& [endpoint, dial] : _dials)
        if (dial.welcomed) _output.emplace_back(effect::send{{link::kind::dialed, endpoint}, heartbeat{_self.name}});
    for (const auto& [client, since] : _attached_clients)
        _output.emplace_back(effect::send{{link::kind::accepted, client}, heartbeat{_self.name}});
}

void peer_service::apply_transition(const liveness_transition& transition, std::uint64_t now_ms) {
    routes_changed();
    if (transition.up) {
        _lost.erase(transition.peer);
        note(effect::notice::level::info, "'" + log_text(transition.peer) + "' is reachable again");
    } else {
        _lost[transition.peer] = transition;
        count("peers_failed");  // by this node's own detector
        note(effect::notice::level::warn, "'" + log_text(transition.peer) + "' failed: silent " +
                                              std::to_string(now_ms - transition.last_heard_ms) + " ms, " +
                                              std::to_string(transition.missed) + " heartbeats missed" +
                                              (transition.connection_lost ? ", connection closed" : ""));
    }
    if (_self.role == role::server) {
        // Servers speak for what they watch, so every node can tell who is reachable.
        liveness word{_self.name,        transition.peer,
                      transition.up,     now_ms > transition.last_heard_ms ? now_ms - transition.last_heard_ms : 0,
                      transition.missed, transition.connection_lost};
        _output.emplace_back(effect::publish{effect::stream::mesh, word});
        _output.emplace_back(effect::publish{effect::stream::clients, word});
    }
    const auto spec = _membership.find(transition.peer);
    // A server's fate is its clients' fate: refresh everyone then.
    refresh_reachability(spec && spec->role == role::server ? std::vector<std::string>{}
                                                            : std::vector<std::string>{transition.peer});
}

void peer_service::handle(const link& from, const heartbeat& msg, std::uint64_t now_ms) {
    (void)msg, (void)now_ms;  // on_message already counted it as heard
    // Heartbeats go out on welcomed dials only: a server's heartbeat on our ROUTER says its
    // dial to us is welcomed, so it routes to us (what settled() waits for).
    if (from.via == link::kind::accepted && _self.role == role::server && !_attached_clients.contains(from.id))
        _dialed_back_by.insert(from.id);
}

void peer_service::handle(const link& from, const liveness& msg, std::uint64_t now_ms) {
    (void)from;
    const auto origin = _membership.find(msg.origin);
    if (!origin || origin->role != role::server) {
        count("dropped_liveness_not_from_a_server");
        return;
    }
    // Our own heartbeats outrank hearsay; about ourselves we know best.
    if (msg.subject == _self.name || _detector.watching(msg.subject)) return;
    const auto subject = _membership.find(msg.subject);
    if (subject && subject->role == role::client && !subject->home_server.empty() &&
        subject->home_server != msg.origin) {
        count("dropped_liveness_not_from_home");
        return;
    }
    _announced.heard(msg, now_ms);
    // Our clients hear only us: a word about a client of another server reaches them
    // through us, still in its announcer's name (servers they watch themselves through us).
    if (_self.role == role::server && msg.origin != _self.name && subject && subject->role == role::client)
        _output.emplace_back(effect::publish{effect::stream::clients, msg});
    refresh_reachability(subject && subject->role == role::server ? std::vector<std::string>{}
                                                                  : std::vector<std::string>{msg.subject});
}

bool peer_service::compute_reachable(const std::string& name) const {
    if (const auto* spec = _membership.spec_of(name)) return compute_reachable(*spec);
    // Not a member (any more): only what we know first-hand.
    return name == _self.name || (_detector.watching(name) && _detector.is_up(name));
}

bool peer_service::compute_reachable(const node_spec& spec) const {
    if (spec.name == _self.name) return true;
    if (_detector.watching(spec.name)) return _detector.is_up(spec.name);
    // Those we would watch ourselves if we had ever heard from them: every server, for a
    // server; our own clients. And a client attached nowhere has been heard by no one. A
    // member named by update_members or gossip alone is not yet connected, not reachable.
    if (spec.role == role::server && _self.role == role::server) return false;
    if (spec.role == role::client && (spec.home_server.empty() || spec.home_server == _self.name)) return false;
    if (const auto* said = _announced.down_word(spec.name); said && speaks_for(said->origin, spec)) return false;
    if (spec.role == role::client && !spec.home_server.empty() && spec.home_server != _self.name &&
        spec.home_server != spec.name)
        return compute_reachable(spec.home_server);  // a client is cut off with its server
    return true;
}

void peer_service::expire_announcements(std::uint64_t now_ms) {
    const auto expired = _announced.expire(now_ms);
    if (expired.empty()) return;
    count("liveness_words_expired");
    routes_changed();
    refresh_reachability(expired);
}

void peer_service::repeat_down_words(std::uint64_t now_ms) {
    for (const auto& [peer, lost] : _lost) {
        if (!_detector.watching(peer) || _detector.is_up(peer)) continue;
        const liveness word{_self.name,  peer,
                            false,       now_ms > lost.last_heard_ms ? now_ms - lost.last_heard_ms : 0,
                            lost.missed, lost.connection_lost};
        _output.emplace_back(effect::publish{effect::stream::mesh, word});
        _output.emplace_back(effect::publish{effect::stream::clients, word});
    }
    const auto detection = _options.heartbeat_interval_ms * _options.missed_heartbeats;
    if (now_ms < _started_ms + detection) return;
    _membership.for_each_spec([&](const node_spec& spec) {
        if (spec.name == _self.name || _detector.watching(spec.name)) return;
        // A server we never reached (it left while its goodbye was lost, say) is down to our
        // clients as it is to us; so is a client naming us as home that we do not hold.
        const bool ours_unheld =
            spec.role == role::client && spec.home_server == _self.name && !_attached_clients.contains(spec.name);
        const auto dial = spec.role == role::server ? _dials.find(spec.router_endpoint) : _dials.end();
        const bool never_reached =
            dial != _dials.end() && !dial->second.welcomed && now_ms >= dial->second.dialed_ms + detection;
        if (!never_reached && !ours_unheld) return;
        const liveness word{_self.name, spec.name, false, 0, 0, false};
        _output.emplace_back(effect::publish{effect::stream::mesh, word});
        _output.emplace_back(effect::publish{effect::stream::clients, word});
    });
}

bool peer_service::speaks_for(const std::string& server, const node_spec& subject) const {
    // A client is watched by its home alone: a former home's word outlives its evidence the
    // moment the client moves. A server is watched by every server; a client hears of it
    // from its own home.
    if (subject.role == role::client) return subject.home_server == server;
    return _self.role == role::server || server == _self.home_server;
}

void peer_service::refresh_reachability(const std::vector<std::string>& names) {
    std::vector<std::string> subjects = names;
    if (subjects.empty()) {
        subjects = _membership.members();
        for (auto it = _reachable_view.begin(); it != _reachable_view.end();)
            it = _membership.contains(it->first) ? std::next(it) : _reachable_view.erase(it);
    }
    for (const auto& name : subjects) {
        if (name == _self.name) continue;
        if (!_membership.contains(name)) {
            _reachable_view.erase(name);
            continue;
        }
        const bool up = compute_reachable(name);
        auto [it, first_sight] = _reachable_view.try_emplace(name, up);
        if (!first_sight && it->second == up) continue;
        it->second = up;
        if (first_sight && !up) continue;     // never seen up: nothing went down
        if (!up) count("members_seen_down");  // detected here or told by a server
        _output.emplace_back(effect::reachability_changed{name, up});
    }
}

bool peer_service::reachable(const std::string& name) const { return compute_reachable(name); }

std::vector<member_liveness> peer_service::liveness_view() const {
    std::vector<member_liveness> view;
    for (const auto& name : _membership.members()) {
        member_liveness entry;
        entry.node = name;
        entry.reachable = compute_reachable(name);
        entry.direct = _detector.watching(name);
        if (entry.direct) {
            entry.last_heard_ms = _detector.last_heard_ms(name);
            if (auto lost = _lost.find(name); lost != _lost.end()) {
                entry.detected_by = _self.name;
                entry.missed_heartbeats = lost->second.missed;
                entry.connection_lost = lost->second.connection_lost;
            }
        } else if (const auto* said = _announced.down_word(name); said && !entry.reachable) {
            const auto& word = *said;
            entry.detected_by = word.origin;
            entry.silent_ms = word.silent_ms;
            entry.missed_heartbeats = word.missed_heartbeats;
            entry.connection_lost = word.connection_lost;
        }
        view.push_back(std::move(entry));
    }
    return view;
}

void peer_service::on_connection_lost(const link& which, std::uint64_t now_ms) {
    routes_changed();
    if (!_running) return;
    count("connections_lost");
    if (which.via == link::kind::dialed) {
        auto it = _dials.find(which.id);
        if (it != _dials.end() && it->second.welcomed) _detector.connection_lost(it->second.peer, now_ms);
        return;
    }
    // ROUTER side: probe every attached client; the one ZeroMQ no longer knows fails the
    // send, which comes back to us as on_peer_gone.
    for (const auto& [client, since] : _attached_clients)
        _output.emplace_back(effect::send{{link::kind::accepted, client}, heartbeat{_self.name}});
    // Servers dial us too (their DEALER, our ROUTER); their loss also shows on our dials.
}

void peer_service::on_peer_gone(const link& which, std::uint64_t now_ms) {
    routes_changed();
    if (!_running || which.via != link::kind::accepted) return;
    // A client we hold that has no connection to us and names another home, or none yet,
    // never took us as home (its hello overtook its change of mind, or it hung us up for
    // another way in that welcomed it first): holding it would route its messages into the
    // void until the attachment's grace ran out, and failing it would be a false failure.
    // One that went before naming any home stays unreachable everywhere all the same.
    if (const auto* spec = _membership.spec_of(which.id);
        spec && _attached_clients.contains(which.id) && spec->home_server != _self.name) {
        count("clients_detached_foreign");
        detach(which.id);
        return;
    }
    _detector.connection_lost(which.id, now_ms);
}

std::vector<std::string> peer_service::rehome_candidates() const {
    std::vector<std::string> candidates;
    for (const auto& spec : _membership.specs())
        if (spec.role == role::server && spec.name != _self.home_server && !spec.router_endpoint.empty() &&
            spec.router_endpoint != _rehome_target && compute_reachable(spec.name))
            candidates.push_back(spec.router_endpoint);
    return candidates;
}

bool peer_service::home_down(std::uint64_t now_ms, std::optional<std::uint64_t>* silent_at) const {
    // A home that left or was removed is hung up and no longer watched: it is as lost as a
    // failed one, for good, and its clients must move at once (docs/protocol.md §5, re-homing).
    const auto* home = _membership.spec_of(_self.home_server);
    if (home == nullptr) return true;
    if (_detector.watching(_self.home_server) && !_detector.is_up(_self.home_server)) return true;
    // A home that never answers our dial (we restarted from disk while it was gone, or it
    // went while we were away) is as failed as one that stopped answering.
    const auto dial = _dials.find(home->router_endpoint);
    if (dial == _dials.end() || dial->second.welcomed) return false;
    const auto silent_from = dial->second.dialed_ms + _options.heartbeat_interval_ms * _options.missed_heartbeats;
    if (silent_at) *silent_at = silent_from;
    return now_ms >= silent_from;
}

void peer_service::maybe_rehome(std::uint64_t now_ms) {
    if (_self.role != role::client || _self.home_server.empty()) return;
    const bool home_gone = _membership.spec_of(_self.home_server) == nullptr;
    if (!home_down(now_ms)) {
        if (!_rehome_target.empty()) {  // home came back first: stay
            _join_targets.erase(_rehome_target);
            _rehome_target.clear();
            _rehome_backoff_ms = 0;
            reconcile_dials(now_ms);
        }
        return;
    }
    if (!_rehome_target.empty() && now_ms < _rehome_deadline_ms) return;
    if (!_rehome_target.empty()) _join_targets.erase(_rehome_target);  // no answer: try another
    auto candidates = rehome_candidates();
    if (candidates.empty() && !_rehome_target.empty()) candidates.push_back(_rehome_target);
    if (candidates.empty()) return;
    std::uniform_int_distribution<std::size_t> pick(0, candidates.size() - 1);
    _rehome_target = candidates[pick(_rng)];
    _rehome_backoff_ms =
        std::min<std::uint64_t>(_rehome_backoff_ms == 0 ? 2 * _options.heartbeat_interval_ms : 2 * _rehome_backoff_ms,
                                _options.rehome_backoff_max_ms);
    _rehome_deadline_ms = now_ms + _rehome_backoff_ms;
    count("rehome_attempts");
    note(effect::notice::level::warn, "home server '" + log_text(_self.home_server) +
                                          (home_gone ? "' left the cluster" : "' failed") + "; moving to " +
                                          log_text(_rehome_target));
    _join_targets[_rehome_target] = join_target{_rehome_target, 0, {}, {}};  // the key: from its spec
    if (_dials.contains(_rehome_target)) send_hello(_rehome_target, now_ms);
    reconcile_dials(now_ms);
}

}  // namespace zpartisan::core
