#include "sim/sim_network.hpp"

#include <algorithm>

namespace zpartisan::sim {

sim_network::sim_network(std::uint64_t seed, faults f) : _seed(seed), _rng(seed), _faults(f) {}

core::peer_service& sim_network::add(const std::string& name, role r, std::uint64_t incarnation) {
    core::peer_service_options options;
    options.self = node_spec{name, r, router_of(name), r == role::server ? "sim://" + name + "/pub" : "", "",
                             incarnation, ""};
    options.cluster_name = "sim";
    options.handshake_retry_ms = 50;
    options.gossip_interval_ms = 100;
    options.rng_seed = _rng();
    auto& n = _nodes[name];
    n.service = std::make_unique<core::peer_service>(options);
    n.service->start(_now_ms);
    collect(name);
    return *n.service;
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

void sim_network::enqueue(std::string to, core::link from, const std::shared_ptr<const core::message>& msg,
                          const std::string& sender) {
    ++_traffic.messages;
    ++_traffic.by_type[core::type_of(*msg)];
    if (_sizer) _traffic.bytes += _sizer(*msg);
    if (cut(sender, to)) return;
    std::uniform_real_distribution<> chance(0, 1);
    if (_faults.loss > 0 && chance(_rng) < _faults.loss) return;
    const int copies = _faults.duplication > 0 && chance(_rng) < _faults.duplication ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
        std::uint64_t delay = 0;
        if (_faults.delay_rounds_max > 0)
            delay = std::uniform_int_distribution<std::uint64_t>(0, _faults.delay_rounds_max)(_rng);
        const auto due = _round + 1 + delay;
        _queue.emplace(due, delivery{due, to, from, msg});
    }
}

void sim_network::collect(const std::string& name) {
    auto& n = _nodes.at(name);
    const auto& self = n.service->self();
    for (auto& out : n.service->take_output()) {
        if (auto* send = std::get_if<core::effect::send>(&out)) {
            if (send->to.via == core::link::kind::dialed) {
                if (!n.dialed.contains(send->to.id)) continue;
                const auto to = name_of_endpoint(send->to.id);
                if (!_nodes.contains(to)) continue;
                enqueue(to, {core::link::kind::accepted, name}, std::make_shared<const core::message>(std::move(send->msg)), name);
            } else {
                // A ROUTER reply reaches the peer's DEALER that is dialed to us.
                auto peer = _nodes.find(send->to.id);
                if (peer == _nodes.end() || !peer->second.dialed.contains(self.router_endpoint)) continue;
                enqueue(send->to.id, {core::link::kind::dialed, self.router_endpoint},
                        std::make_shared<const core::message>(std::move(send->msg)), name);
            }
        } else if (auto* publish = std::get_if<core::effect::publish>(&out)) {
            const auto audience = publish->to == core::effect::stream::mesh ? role::server : role::client;
            auto subscribers = _subscribers.find(name);
            if (subscribers == _subscribers.end()) continue;
            const auto shared = std::make_shared<const core::message>(std::move(publish->msg));
            for (const auto& [other, connects_at] : subscribers->second) {
                if (connects_at > _round) continue;  // slow joiner: not connected yet
                if (_nodes.at(other).service->self().role != audience) continue;
                enqueue(other, {core::link::kind::subscribed, ""}, shared, name);
            }
        } else if (auto* dial = std::get_if<core::effect::dial>(&out)) {
            n.dialed.insert(dial->router_endpoint);
        } else if (auto* hang_up = std::get_if<core::effect::hang_up>(&out)) {
            n.dialed.erase(hang_up->router_endpoint);
        } else if (auto* sub = std::get_if<core::effect::subscribe>(&out)) {
            _subscribers[name_of_endpoint(sub->pub_endpoint)][name] = _round + _faults.slow_joiner_rounds;
        } else if (auto* unsub = std::get_if<core::effect::unsubscribe>(&out)) {
            _subscribers[name_of_endpoint(unsub->pub_endpoint)].erase(name);
        }
    }
}

void sim_network::run_rounds(int rounds) {
    for (int r = 0; r < rounds; ++r) {
        ++_round;
        _now_ms += round_ms;
        auto due_end = _queue.upper_bound(_round);
        std::vector<delivery> due;
        for (auto it = _queue.begin(); it != due_end; ++it) due.push_back(std::move(it->second));
        _queue.erase(_queue.begin(), due_end);
        for (auto& d : due) {
            if (_crashed.contains(d.to)) continue;
            auto it = _nodes.find(d.to);
            if (it == _nodes.end()) continue;
            it->second.service->on_message(d.from, *d.msg, _now_ms);
            collect(d.to);
        }
        for (auto& [name, n] : _nodes) {
            if (_crashed.contains(name)) continue;
            n.service->tick(_now_ms);
            collect(name);
        }
    }
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
