#include "core/peer_service.hpp"

#include <algorithm>
#include <set>

#include "core/topology.hpp"
#include "core/protocol_version.hpp"

namespace zpartisan::core {

namespace {
std::string actor_of(const node_spec& self) { return self.name + "/" + std::to_string(self.incarnation); }

// Acked message ids start at a point drawn from the seed (which differs per incarnation), so
// an ack still travelling for a restarted node's previous incarnation cannot match a message
// of this one (splitmix64's finaliser; below 2^62, so the count never wraps).
std::uint64_t first_message_id(std::uint64_t seed) {
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31)) >> 2;
}
}  // namespace

peer_service::peer_service(peer_service_options options)
    : _options(std::move(options)),
      _self(_options.self),
      _membership(actor_of(_self)),
      _rng(_options.rng_seed),
      _partitions(_self.name),
      _replication(_options.gossip_interval_ms),
      _hello_backoff{.first_ms = _options.handshake_retry_ms, .max_ms = _options.handshake_retry_max_ms},
      _detector(_options.heartbeat_interval_ms, _options.missed_heartbeats),
      // A word lives a few beacons: the announcer repeats it at every one.
      _announced((_options.missed_heartbeats + 2) * _options.beacon_interval_ms),
      _acked_sends(acked_sends::limits{.ack_timeout_ms = _options.ack_timeout_ms,
                                       .retransmit_interval_ms = _options.heartbeat_interval_ms,
                                       .messages_max = _options.unacked_max},
                   first_message_id(_options.rng_seed)),
      _duplicate_windows(duplicate_windows::limits{.strangers_max = _options.duplicate_windows_max,
                                                   .gaps_max = _options.duplicate_window_gaps_max,
                                                   .linger_ms = stranger_linger_ms}),
      // A message held for the ack timeout waits for nothing more: by then its origin gave
      // up on every message it sent before it.
      _receive_order(
          receive_order::limits{.messages_max = _options.unacked_max, .max_hold_ms = _options.ack_timeout_ms}) {}

void peer_service::start(std::uint64_t now_ms, const membership_state* restored) {
    routes_changed();
    _running = true;
    _started_ms = now_ms;
    if (restored) {
        _membership.join(*restored);
        if (const auto previous = _membership.find(_self.name); previous && _self.role == role::client)
            _self.home_server = previous->home_server;
    }
    _membership.add(_self);  // replaces every spec of ours from an earlier incarnation
    _replication.start_gossip(now_ms);
    _output.emplace_back(effect::membership_changed{});
    reconcile_dials(now_ms);
}

std::vector<output_effect> peer_service::take_output() {
    std::vector<output_effect> out;
    out.swap(_output);
    if (_partitions.empty()) return out;
    // Partitions in force drop traffic both ways: here outbound, in on_message inbound.
    const auto before = out.size();
    std::erase_if(out, [this](const output_effect& e) { return blocked(e); });
    if (out.size() != before) _counters["dropped_partitioned_out"] += before - out.size();
    return out;
}

void peer_service::note(effect::notice::level severity, std::string text, std::string reason, std::string peer) {
    _output.emplace_back(effect::notice{severity, std::move(text), std::move(reason), std::move(peer)});
}

// ---- API commands -------------------------------------------------------------------------

void peer_service::join(const std::string& endpoint, std::uint64_t now_ms, const std::string& expected_name,
                        const std::string& server_key) {
    routes_changed();
    if (!_running) {
        _join_outcomes[endpoint] = {join_status::refused, "node is stopped"};
        return;
    }
    if (endpoint == _self.router_endpoint) {
        _join_outcomes[endpoint] = {join_status::joined, "joined itself"};
        return;
    }
    _join_outcomes[endpoint] = {join_status::pending, ""};
    _join_targets[endpoint] = join_target{endpoint, 0, expected_name, server_key};
    if (auto it = _dials.find(endpoint); it != _dials.end()) {
        // Already dialed (e.g. a known server): say hello again so the outcome resolves.
        it->second.refused = false;
        send_hello(endpoint, now_ms);
    }
    reconcile_dials(now_ms);
}

void peer_service::leave(std::uint64_t now_ms) {
    routes_changed();
    if (!_running) return;
    const auto change = _membership.remove(_self.name);
    // Tell every peer directly before closing: PUB/SUB alone may lose the last word.
    propagate(change);
    if (_self.role == role::server) {
        for (const auto& [endpoint, dial] : _dials)
            if (dial.welcomed)
                _output.emplace_back(effect::send{{link::kind::dialed, endpoint}, delta{_self.name, 0, change}});
        for (const auto& [client, since] : _attached_clients)
            _output.emplace_back(effect::send{{link::kind::accepted, client}, delta{_self.name, 0, change}});
    }
    (void)now_ms;
    stop("left the cluster");
}

bool peer_service::remove_member(const std::string& name, std::uint64_t now_ms) {
    routes_changed();
    if (!_running) return false;
    if (name == _self.name) {
        leave(now_ms);
        return true;
    }
    if (!_membership.contains(name)) return false;
    const auto change = _membership.remove(name);
    propagate(change);
    // The removed node must learn it even if it misses the broadcast: tell it directly too.
    if (auto endpoint = dial_of_peer(name))
        _output.emplace_back(effect::send{{link::kind::dialed, *endpoint}, delta{_self.name, 0, change}});
    if (_attached_clients.contains(name)) {
        _output.emplace_back(effect::send{{link::kind::accepted, name}, delta{_self.name, 0, change}});
        detach(name);  // and stop watching it: a later life of it may attach elsewhere
    }
    reconcile_dials(now_ms);
    return true;
}

void peer_service::update_members(const std::vector<node_spec>& specs, std::uint64_t now_ms) {
    routes_changed();
    if (!_running) return;
    membership_state change;
    std::set<std::string> wanted;
    for (const auto& spec : specs) {
        wanted.insert(spec.name);
        if (spec.name == _self.name) continue;
        const auto current = _membership.find(spec.name);
        if (!current || *current != spec) join_states(change, _membership.add(spec));
    }
    for (const auto& name : _membership.members())
        if (name != _self.name && !wanted.contains(name)) join_states(change, _membership.remove(name));
    if (change.empty()) return;
    propagate(change);
    reconcile_dials(now_ms);
}

// ---- inputs -------------------------------------------------------------------------------

void peer_service::on_message(const link& from, message&& msg, std::uint64_t now_ms) {
    // Routed messages, heartbeats, beacons and digests leave routes as they were (a heartbeat
    // that brings a peer back says so through apply_transition); anything else may change them.
    if (!std::holds_alternative<forward>(msg) && !std::holds_alternative<forward_ack>(msg) &&
        !std::holds_alternative<heartbeat>(msg) && !std::holds_alternative<beacon>(msg) &&
        !std::holds_alternative<digest>(msg))
        routes_changed();
    if (!_running) {
        count("dropped_stopped");
        return;
    }
    ++_received_by_type[msg.index()];
    if (!admit(sender_of(from, msg), is_partition_control(msg), now_ms)) return;
    // A client of our previous life heartbeats us on a connection ZeroMQ re-made by itself
    // (looked at on heartbeats only: they come every interval, and routed messages stay cheap).
    if (from.via == link::kind::accepted && _self.role == role::server && std::holds_alternative<heartbeat>(msg) &&
        !_attached_clients.contains(from.id))
        readopt_client(from.id, now_ms);
    std::visit([&](auto& m) { handle(from, std::move(m), now_ms); }, msg);
    send_when_routed(now_ms);
}

bool peer_service::admit(const std::optional<std::string>& sender, bool partition_control, std::uint64_t now_ms) {
    if (!sender) return true;
    if (!partition_control && _partitions.cuts_off(*sender)) {
        count("dropped_partitioned_in");
        return false;
    }
    heard_from(*sender, now_ms);  // any message is a heartbeat (docs/protocol.md §5)
    return true;
}

void peer_service::tick(std::uint64_t now_ms) {
    // No routes_changed() here: time alone changes no route. What a tick may change says so
    // itself (apply_transition for liveness, reconcile_dials for links), so that a quiet
    // cluster's routes stay put and the runtime need not recompute them every tick.
    if (!_running) return;
    // Unanswered dials, and peers we saw fail (a restarted one must hear us again), with a
    // bounded backoff so a dead address costs little.
    for (auto& [endpoint, dial] : _dials)
        if (dial.take_hello_due(dial.welcomed && _detector.is_up(dial.peer), now_ms, _hello_backoff, _rng))
            send_hello(endpoint, now_ms);
    if (now_ms >= _next_heartbeat_ms) {
        _next_heartbeat_ms = now_ms + _options.heartbeat_interval_ms;
        send_heartbeats();
        if (!_attached_clients.empty()) drop_foreign_attachments(now_ms);
        if (!_duplicate_windows.empty() || _acked_sends.has_sequences() || !_receive_order.empty())
            prune_messaging_state(now_ms);
    }
    for (const auto& transition : _detector.tick(now_ms)) apply_transition(transition, now_ms);
    maybe_rehome(now_ms);
    if (const auto due = _acked_sends.due_ms(); due && now_ms >= *due) retransmit_and_expire(now_ms);
    send_when_routed(now_ms);
    if (_partitions.has_requests()) retry_partition_requests(now_ms);
    if (_receive_order.held() > 0) release_held(now_ms, true);
    if (_self.role == role::server && now_ms >= _next_beacon_ms) {
        _next_beacon_ms = now_ms + _options.beacon_interval_ms;
        _output.emplace_back(
            effect::publish{effect::stream::mesh,
                            beacon{_self.name, _replication.published(effect::stream::mesh), free_client_slots()}});
        _output.emplace_back(
            effect::publish{effect::stream::clients,
                            beacon{_self.name, _replication.published(effect::stream::clients), free_client_slots()}});
        repeat_down_words(now_ms);
    }
    if (!_announced.empty()) expire_announcements(now_ms);
    if (_replication.take_gossip_round(now_ms)) {
        std::vector<std::string> peers;
        for (const auto& [endpoint, dial] : _dials)
            if (dial.welcomed) peers.push_back(dial.peer);
        if (!peers.empty()) {
            std::uniform_int_distribution<std::size_t> pick(0, peers.size() - 1);
            const auto fingerprint = _membership.fingerprint();
            request_sync(peers[pick(_rng)], _replication.moved_since_gossip(fingerprint));
            _replication.gossiped(fingerprint);
            count("anti_entropy_rounds");
        }
    }
}

// ---- limits (README "Limits") -------------------------------------------------------------

bool peer_service::has_room_for_peer(const std::string& name) const {
    if (_attached_clients.contains(name)) return true;
    const auto* spec = _membership.spec_of(name);
    if (spec && spec->role == role::server) return true;
    std::size_t held = _attached_clients.size();
    _membership.for_each_spec([&](const node_spec& member) {
        if (member.role == role::server && member.name != _self.name) ++held;
    });
    return held < _options.max_peers;
}

void peer_service::note_frame_limit(const link& peer, std::uint64_t advertised) {
    // 0: a peer before protocol 6 said nothing; it is taken to share our limit.
    const bool lower = advertised != 0 && advertised < _options.max_message_bytes;
    const auto known = _lower_frame_limits.find(peer);
    if (!lower) {
        if (known != _lower_frame_limits.end()) {
            _lower_frame_limits.erase(known);
            routes_changed();
        }
        return;
    }
    if (known != _lower_frame_limits.end() && known->second == advertised) return;
    if (_lower_frame_limits.size() >= _options.max_peers + _dials.size())
        std::erase_if(_lower_frame_limits, [&](const auto& entry) {
            return entry.first.via == link::kind::dialed ? !_dials.contains(entry.first.id)
                                                         : !_membership.contains(entry.first.id);
        });
    _lower_frame_limits[peer] = advertised;
    routes_changed();
    count("peers_with_lower_frame_limit");
    note(effect::notice::level::warn,
         "peer '" + log_text(peer.id) + "' takes frames of at most " + std::to_string(advertised) +
             " bytes, fewer than this node's " + std::to_string(_options.max_message_bytes) +
             ": larger sends through it are refused too_large",
         "lower_frame_limit", peer.id);
}

std::uint64_t peer_service::frame_limit_of(const link& hop) const {
    const auto lower = _lower_frame_limits.find(hop);
    return lower == _lower_frame_limits.end() ? _options.max_message_bytes : lower->second;
}

std::uint64_t peer_service::frame_limit_to(std::string_view destination) {
    if (_lower_frame_limits.empty()) return _options.max_message_bytes;  // the usual case: one limit
    const auto& r = route_for(destination);
    return r.hop ? frame_limit_of(*r.hop) : _options.max_message_bytes;
}

// ---- connections --------------------------------------------------------------------------

void peer_service::send_hello(const std::string& endpoint, std::uint64_t now_ms) {
    auto& dial = _dials[endpoint];
    dial.hello_sent_ms = now_ms;
    _output.emplace_back(effect::send{
        {link::kind::dialed, endpoint},
        hello{protocol_version, _options.cluster_name, _self, _membership.state(), _options.max_message_bytes}});
}

void peer_service::reconcile_dials(std::uint64_t now_ms) {
    if (!_running) return;
    auto wanted_list = desired_dials(_self, _membership.specs());
    std::set<std::string> wanted(wanted_list.begin(), wanted_list.end());
    for (const auto& [endpoint, target] : _join_targets) wanted.insert(endpoint);
    wanted.erase(_self.router_endpoint);
    for (auto it = _dials.begin(); it != _dials.end();) {
        if (wanted.contains(it->first)) {
            ++it;
            continue;
        }
        if (!it->second.pub_endpoint.empty()) _output.emplace_back(effect::unsubscribe{it->second.pub_endpoint});
        _output.emplace_back(effect::hang_up{it->first});
        const auto peer = it->second.peer;
        if (it->second.welcomed) routes_changed();
        it = _dials.erase(it);
        if (!peer.empty() && !dial_of_peer(peer) && !_attached_clients.contains(peer)) unwatch(peer);
    }
    for (const auto& endpoint : wanted) {
        if (_dials.contains(endpoint)) continue;
        _output.emplace_back(effect::dial{endpoint, server_key_of(endpoint)});
        _dials[endpoint].dialed_ms = now_ms;
        send_hello(endpoint, now_ms);
    }
}

std::string peer_service::server_key_of(const std::string& router_endpoint) const {
    if (auto target = _join_targets.find(router_endpoint);
        target != _join_targets.end() && !target->second.server_key.empty())
        return target->second.server_key;
    for (const auto& spec : _membership.specs())
        if (spec.router_endpoint == router_endpoint && !spec.public_key.empty()) return spec.public_key;
    return {};
}

std::optional<std::string> peer_service::dial_of_peer(const std::string& name) const {
    if (name.empty()) return std::nullopt;
    for (const auto& [endpoint, dial] : _dials)
        if (dial.welcomed && dial.peer == name) return endpoint;
    return std::nullopt;
}

void peer_service::stop(std::string reason) {
    if (!_running) return;
    routes_changed();
    _running = false;
    fail_unacked("stopped");
    // First, so the runtime knows the hang-ups below must still flush the goodbyes.
    _output.emplace_back(effect::stopped{reason});
    for (const auto& [endpoint, dial] : _dials) {
        if (!dial.pub_endpoint.empty()) _output.emplace_back(effect::unsubscribe{dial.pub_endpoint});
        _output.emplace_back(effect::hang_up{endpoint});
    }
    _dials.clear();
    _join_targets.clear();
    _attached_clients.clear();
    note(effect::notice::level::info, "peer service stopped: " + log_text(reason, 256));
}

// ---- queries ------------------------------------------------------------------------------

bool peer_service::settled() const {
    if (!_running || !_join_targets.empty()) return false;
    const auto wanted = desired_dials(_self, _membership.specs());
    if (_self.role == role::client && wanted.empty()) return false;
    // Both ways: our dial welcomed (we route to it) and, between servers, its dial to us
    // (it routes to us). A client's server routes to it from its hello on.
    return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& endpoint) {
        auto it = _dials.find(endpoint);
        return it != _dials.end() && it->second.welcomed &&
               (_self.role == role::client || _dialed_back_by.contains(it->second.peer));
    });
}

std::optional<join_outcome> peer_service::outcome_of_join(const std::string& endpoint) const {
    auto it = _join_outcomes.find(endpoint);
    if (it == _join_outcomes.end()) return std::nullopt;
    return it->second;
}

std::vector<dial_view> peer_service::dials() const {
    std::vector<dial_view> views;
    for (const auto& [endpoint, dial] : _dials) views.push_back({endpoint, dial.peer, dial.welcomed});
    return views;
}

std::map<std::string, std::uint64_t> peer_service::counters() const {
    auto all = _counters;
    for (std::size_t i = 0; i < _received_by_type.size(); ++i)
        if (_received_by_type[i] > 0)
            all[std::string("received_") + name_of(static_cast<message_type>(i + 1))] = _received_by_type[i];
    if (_relayed > 0) all["relayed"] += _relayed;
    _duplicate_windows.add_counters(all);
    _receive_order.add_counters(all);
    return all;
}

std::vector<std::string> peer_service::attached_clients() const {
    std::vector<std::string> names;
    for (const auto& [name, since] : _attached_clients) names.push_back(name);
    return names;
}

}  // namespace zpartisan::core
