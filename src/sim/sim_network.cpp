#include "sim/sim_network.hpp"

#include <algorithm>

namespace zpartisan::sim {

sim_network::sim_network(std::uint64_t seed, faults f, timings t) : _seed(seed), _rng(seed), _faults(f), _timings(t) {
    // As the runtime's defaults: a 10,000-frame backlog, a quarter per hop, given up on after
    // the failure detection time.
    _flow_limits = {10000, 2500, std::max<std::uint64_t>(1000, t.heartbeat_interval_ms * t.missed_heartbeats)};
}

core::peer_service& sim_network::add(const std::string& name, role r, std::uint64_t incarnation) {
    auto& n = _nodes[name];
    n.node_role = r;
    n.incarnation = incarnation;
    start_process(name, nullptr);
    return *n.service;
}

void sim_network::start_process(const std::string& name, const core::membership_state* restored) {
    auto& n = _nodes.at(name);
    const auto r = n.node_role;
    core::peer_service_options options;
    options.self = node_spec{
        name, r, router_of(name), r == role::server ? "sim://" + name + "/pub" : "", "", n.incarnation, "", ""};
    options.cluster_name = "sim";
    options.handshake_retry_ms = _timings.handshake_retry_ms;
    options.gossip_interval_ms = _timings.gossip_interval_ms;
    options.heartbeat_interval_ms = _timings.heartbeat_interval_ms;
    options.beacon_interval_ms = _timings.heartbeat_interval_ms;
    options.missed_heartbeats = _timings.missed_heartbeats;
    options.ack_timeout_ms = _timings.ack_timeout_ms;
    options.rng_seed = _rng();
    n.dialed.clear();
    n.stopped_because.reset();
    _flow.lost_in_crash += n.held.size();  // a process that dies loses what it held
    n.held.clear();
    n.flow = core::flow_control(_flow_limits);
    n.service = std::make_unique<core::peer_service>(options);
    for (const auto& handler : _handlers) n.service->register_handler(handler);
    n.service->start(_now_ms, restored);
    collect(name);
}

void sim_network::register_handler_everywhere(const std::string& handler) {
    _handlers.insert(handler);
    for (auto& [name, n] : _nodes) n.service->register_handler(handler);
}

std::vector<std::string> sim_network::names() const {
    std::vector<std::string> out;
    for (const auto& [name, n] : _nodes) out.push_back(name);
    return out;
}

bool sim_network::live(const std::string& name) const {
    auto it = _nodes.find(name);
    return it != _nodes.end() && !_crashed.contains(name) && !_paused.contains(name) && it->second.service->running();
}

std::optional<std::string> sim_network::stop_reason(const std::string& name) const {
    auto it = _nodes.find(name);
    return it == _nodes.end() ? std::nullopt : it->second.stopped_because;
}

std::string sim_network::name_of_endpoint(const std::string& endpoint) {
    const auto start = std::string("sim://").size();
    return endpoint.substr(start, endpoint.find('/', start) - start);
}

void sim_network::partition(const std::set<std::string>& side_a, const std::set<std::string>& side_b) {
    for (const auto& a : side_a)
        for (const auto& b : side_b) {
            _cut.insert({a, b});
            _cut.insert({b, a});
        }
}

bool sim_network::cut(const std::string& a, const std::string& b) const { return _cut.contains({a, b}); }

bool sim_network::dials_us(const std::string& to, const std::string& from) const {
    auto peer = _nodes.find(to);
    return peer != _nodes.end() && !_crashed.contains(to) && peer->second.dialed.contains(router_of(from));
}

void sim_network::crash(const std::string& name) {
    if (_crashed.contains(name)) return;
    _crashed.insert(name);
    _paused.erase(name);
    auto& dead = _nodes.at(name);
    // The runtime persists at every membership_changed, and the simulation collects every
    // node's effects right after each of its inputs: what the disk holds at a crash is the
    // state the node holds. Taken here rather than at every change, where copying a whole
    // state per change was most of a large simulation's time.
    dead.stored = dead.service->membership().state();
    const auto dialed_by_dead = dead.dialed;
    dead.dialed.clear();
    // Its subscriptions die with it; its own PUB keeps its subscribers, whose SUB sockets
    // reconnect by themselves once it is back (ZeroMQ does).
    for (auto& [publisher, subscribers] : _subscribers) subscribers.erase(name);
    // TCP resets reach the peers' socket monitors: dialers see their dial drop, and the
    // nodes it dialed see a connection on their ROUTER close.
    for (auto& [other, n] : _nodes) {
        if (other == name || _crashed.contains(other) || _paused.contains(other)) continue;
        if (n.dialed.contains(router_of(name))) {
            n.service->on_connection_lost({core::link::kind::dialed, router_of(name)}, _now_ms);
            collect(other);
        }
        if (dialed_by_dead.contains(router_of(other))) {
            n.service->on_connection_lost({core::link::kind::accepted, ""}, _now_ms);
            collect(other);
        }
    }
}

void sim_network::restart(const std::string& name) {
    auto& n = _nodes.at(name);
    if (!_crashed.contains(name)) n.stored = n.service->membership().state();  // what it persisted last
    _crashed.erase(name);
    _paused.erase(name);
    ++n.incarnation;
    const auto stored = n.stored;
    start_process(name, stored ? &*stored : nullptr);
}

void sim_network::rejoin(const std::string& name, const std::string& endpoint) {
    auto& n = _nodes.at(name);
    if (!_crashed.contains(name) && n.service->running()) return;
    _crashed.erase(name);
    _paused.erase(name);
    ++n.incarnation;
    n.stored.reset();
    for (auto& [publisher, subscribers] : _subscribers) subscribers.erase(name);
    start_process(name, nullptr);
    n.service->join(endpoint, _now_ms);
    collect(name);
}

void sim_network::enqueue(std::string to, core::link from, const std::shared_ptr<const core::message>& msg,
                          const std::string& sender, bool fills_connection) {
    ++_traffic.messages;
    ++_traffic.by_type[core::type_of(*msg)];
    if (_sizer) _traffic.bytes += _sizer(*msg);
    if (cut(sender, to)) return;
    const bool in_order = _faults.connections_keep_order && from.via != core::link::kind::subscribed;
    std::uniform_real_distribution<> chance(0, 1);
    if (!in_order && _faults.loss > 0 && chance(_rng) < _faults.loss) return;
    const int copies = !in_order && _faults.duplication > 0 && chance(_rng) < _faults.duplication ? 2 : 1;
    const auto incarnation = _nodes.at(to).incarnation;
    for (int i = 0; i < copies; ++i) {
        std::uint64_t delay = 0;
        if (_faults.delay_rounds_max > 0)
            delay = std::uniform_int_distribution<std::uint64_t>(0, _faults.delay_rounds_max)(_rng);
        auto due = _round + 1 + delay;
        if (in_order) {  // a later message never overtakes an earlier one on its connection
            auto& last = _last_due[{sender, to, from.via}];
            due = std::max(due, last);
            last = due;
        }
        if (fills_connection) ++_in_flight[{to, from}];
        _queue.emplace(due, delivery{due, to, incarnation, from, msg, fills_connection});
    }
}

void sim_network::collect(const std::string& name) {
    auto& n = _nodes.at(name);
    std::vector<core::link> gone;
    std::vector<std::string> hung_up;  // the nodes whose ROUTER saw our dial close
    for (auto& out : n.service->take_output()) {
        trace(name, out.index());
        if (const auto* send = std::get_if<core::effect::send>(&out))
            trace(send->to.id, static_cast<std::uint64_t>(core::type_of(send->msg)));
        else if (const auto* publish = std::get_if<core::effect::publish>(&out))
            trace(name, static_cast<std::uint64_t>(core::type_of(publish->msg)));
        else if (const auto* deliver = std::get_if<core::effect::deliver>(&out))
            trace(deliver->msg.origin, deliver->msg.id, deliver->msg.payload);
        else if (const auto* report = std::get_if<core::effect::delivery_report>(&out))
            trace(report->destination, report->id, report->reason);
        if (auto* send = std::get_if<core::effect::send>(&out)) {
            // A ROUTER send that finds no DEALER of the peer's dialed to us fails at once
            // (EHOSTUNREACH) and the runtime tells the core.
            if (send_or_hold(name, n, send->to, std::make_shared<const core::message>(std::move(send->msg))) ==
                core::hop_send::unreachable)
                gone.push_back(send->to);
        } else if (auto* publish = std::get_if<core::effect::publish>(&out)) {
            const auto audience = publish->to == core::effect::stream::mesh ? role::server : role::client;
            auto subscribers = _subscribers.find(name);
            if (subscribers == _subscribers.end()) continue;
            const auto shared = std::make_shared<const core::message>(std::move(publish->msg));
            for (const auto& [other, connects_at] : subscribers->second) {
                if (connects_at > _round) continue;  // slow joiner: not connected yet
                if (_nodes.at(other).node_role != audience || _crashed.contains(other)) continue;
                enqueue(other, {core::link::kind::subscribed, ""}, shared, name);
            }
        } else if (auto* dial = std::get_if<core::effect::dial>(&out)) {
            n.dialed.insert(dial->router_endpoint);
        } else if (auto* hang_up = std::get_if<core::effect::hang_up>(&out)) {
            if (n.dialed.erase(hang_up->router_endpoint) > 0)
                hung_up.push_back(name_of_endpoint(hang_up->router_endpoint));
        } else if (auto* sub = std::get_if<core::effect::subscribe>(&out)) {
            _subscribers[name_of_endpoint(sub->pub_endpoint)][name] = _round + _faults.slow_joiner_rounds;
        } else if (auto* unsub = std::get_if<core::effect::unsubscribe>(&out)) {
            _subscribers[name_of_endpoint(unsub->pub_endpoint)].erase(name);
        } else if (auto* deliver = std::get_if<core::effect::deliver>(&out)) {
            const auto cuts = n.service->partitions();
            const bool across = std::any_of(cuts.begin(), cuts.end(), [&](const core::partition_entry& cut) {
                return cut.peer == deliver->msg.origin;
            });
            _deliveries.push_back({name, n.incarnation, std::move(deliver->msg), across});
        } else if (auto* report_of = std::get_if<core::effect::delivery_report>(&out)) {
            _reports.push_back({name, n.incarnation, std::move(*report_of)});
        } else if (auto* answer = std::get_if<core::effect::partition_outcome>(&out)) {
            _partition_answers.push_back({name, n.incarnation, std::move(*answer)});
        } else if (auto* stopped = std::get_if<core::effect::stopped>(&out)) {
            n.stopped_because = stopped->reason;
        }
    }
    // A closed DEALER is a closed connection on the peer's ROUTER, which its socket monitor
    // reports at once, ahead of whatever news of our change of mind is still on its way.
    for (const auto& peer : hung_up) {
        if (!_nodes.contains(peer) || _crashed.contains(peer) || _paused.contains(peer)) continue;
        _nodes.at(peer).service->on_connection_lost({core::link::kind::accepted, ""}, _now_ms);
        collect(peer);
    }
    if (gone.empty()) return;
    for (const auto& link : gone) n.service->on_peer_gone(link, _now_ms);
    collect(name);
}

void sim_network::run_rounds(int rounds) {
    for (int r = 0; r < rounds; ++r) {
        ++_round;
        _now_ms += round_ms;
        auto due_end = _queue.upper_bound(_round);
        std::vector<delivery> due;
        for (auto it = _queue.begin(); it != due_end; ++it) due.push_back(std::move(it->second));
        _queue.erase(_queue.begin(), due_end);
        // What a paused node does not read waits in its peers' buffers, in order: ahead of
        // what is due next round (sent after it), so put back before this round sends more.
        const auto waiting_end = _queue.lower_bound(_round + 1);
        for (auto& d : due) {
            if (!_paused.contains(d.to) || _crashed.contains(d.to)) continue;
            d.due_round = _round + 1;
            _queue.emplace_hint(waiting_end, d.due_round, std::move(d));
            d.msg.reset();
        }
        for (auto& d : due) {
            if (d.msg && d.fills_connection) --_in_flight[{d.to, d.from}];  // read, or gone with its reader
            if (!d.msg || _crashed.contains(d.to)) continue;
            auto it = _nodes.find(d.to);
            if (it == _nodes.end() || it->second.incarnation != d.to_incarnation) continue;
            it->second.service->on_message(d.from, *d.msg, _now_ms);
            collect(d.to);
        }
        for (auto& [name, n] : _nodes) {
            if (_crashed.contains(name) || _paused.contains(name)) continue;
            if (!n.flow.empty()) retry_held(name);  // the runtime retries before it ticks
            if (!tick_due(*n.service)) {
                // What an API call left (a join, a partition) goes out as the runtime's would.
                if (n.service->has_output()) collect(name);
                continue;
            }
            n.service->tick(_now_ms);
            collect(name);
        }
    }
}

bool sim_network::tick_due(core::peer_service& service) {
    if (!_ticks_only_when_due) return true;
    const auto due = service.next_deadline_ms(_now_ms);
    if (due && *due <= _now_ms) return true;
    ++_ticks_skipped;
    if (_check_skipped_ticks) {
        auto copy = service;
        (void)copy.take_output();  // an API call's, not the tick's
        copy.tick(_now_ms);
        if (copy.has_output()) ++_skipped_ticks_with_output;
    }
    return false;
}

void sim_network::trace(std::string_view node, std::uint64_t what, std::string_view detail) {
    // Order matters: each step folds the previous digest in.
    const auto h = std::hash<std::string_view>{};
    _trace_hash =
        (_trace_hash * 1099511628211ULL) ^ h(node) ^ (what * 0x9e3779b97f4a7c15ULL) ^ (h(detail) << 1) ^ _round;
}

bool sim_network::converged(const std::vector<std::string>& expected) const {
    for (const auto& [name, n] : _nodes) {
        if (_crashed.contains(name) || !n.service->running()) continue;
        if (n.service->membership().members() != expected) return false;
    }
    return true;
}

int sim_network::run_until_converged(const std::vector<std::string>& expected, int rounds_max, int check_every) {
    for (int done = 0; done < rounds_max; done += check_every) {
        if (converged(expected)) return done;
        run_rounds(check_every);
    }
    return converged(expected) ? rounds_max : -1;
}

}  // namespace zpartisan::sim
