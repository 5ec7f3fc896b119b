// A deterministic in-memory network for pure peer_service nodes: effects become queued
// deliveries, time is a counter, and everything (loss included) comes from one seed.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/peer_service.hpp"

namespace zpartisan::sim {

class sim_network {
public:
    explicit sim_network(std::uint64_t seed, double loss = 0.0) : _rng(seed), _loss(loss) {}

    core::peer_service& add(const std::string& name, role r, std::uint64_t incarnation = 1) {
        core::peer_service_options options;
        options.self = node_spec{name, r, "sim://" + name + "/router", r == role::server ? "sim://" + name + "/pub" : "",
                                 "", incarnation};
        options.cluster_name = "sim";
        options.handshake_retry_ms = 50;
        options.gossip_interval_ms = 100;
        options.rng_seed = _rng();
        auto& node = _nodes[name];
        node.service = std::make_unique<core::peer_service>(options);
        node.service->start(_now_ms);
        collect(name);
        return *node.service;
    }

    core::peer_service& node(const std::string& name) { return *_nodes.at(name).service; }
    std::string router_of(const std::string& name) const { return "sim://" + name + "/router"; }

    // Delivers queued messages (dropping a share `loss` of them) and ticks every node,
    // advancing time by step_ms per round.
    void run_rounds(int rounds, std::uint64_t step_ms = 10) {
        for (int r = 0; r < rounds; ++r) {
            auto in_flight = std::move(_queue);
            _queue.clear();
            std::shuffle(in_flight.begin(), in_flight.end(), _rng);  // reordering
            for (auto& d : in_flight) {
                if (!_nodes.contains(d.to) || _crashed.contains(d.to)) continue;
                if (_loss > 0 && std::uniform_real_distribution<>(0, 1)(_rng) < _loss) continue;
                _nodes[d.to].service->on_message(d.from, std::move(d.msg), _now_ms);
                collect(d.to);
            }
            _now_ms += step_ms;
            for (auto& [name, n] : _nodes) {
                if (_crashed.contains(name)) continue;
                n.service->tick(_now_ms);
                collect(name);
            }
        }
    }

    void set_loss(double loss) { _loss = loss; }
    void crash(const std::string& name) { _crashed.insert(name); }
    std::size_t messages_sent() const { return _messages_sent; }

    bool converged(const std::vector<std::string>& expected) {
        for (auto& [name, n] : _nodes) {
            if (_crashed.contains(name) || !n.service->running()) continue;
            if (n.service->membership().members() != expected) return false;
        }
        return true;
    }

private:
    struct delivery {
        std::string to;
        core::link from;
        core::message msg;
    };
    struct sim_node {
        std::unique_ptr<core::peer_service> service;
        std::set<std::string> dialed;      // router endpoints
        std::set<std::string> subscribed;  // publisher names
    };

    static std::string name_of_endpoint(const std::string& endpoint) {
        const auto start = std::string("sim://").size();
        return endpoint.substr(start, endpoint.find('/', start) - start);
    }

    void collect(const std::string& name) {
        auto& n = _nodes[name];
        const auto& self = n.service->self();
        for (auto& out : n.service->take_output()) {
            if (auto* send = std::get_if<core::effect::send>(&out)) {
                ++_messages_sent;
                if (send->to.via == core::link::kind::dialed) {
                    if (!n.dialed.contains(send->to.id)) continue;
                    _queue.push_back({name_of_endpoint(send->to.id), {core::link::kind::accepted, name}, send->msg});
                } else {
                    // A ROUTER reply reaches the peer's DEALER that is dialed to us.
                    auto peer = _nodes.find(send->to.id);
                    if (peer == _nodes.end() || !peer->second.dialed.contains(self.router_endpoint)) continue;
                    _queue.push_back({send->to.id, {core::link::kind::dialed, self.router_endpoint}, send->msg});
                }
            } else if (auto* publish = std::get_if<core::effect::publish>(&out)) {
                const auto audience = publish->to == core::effect::stream::mesh ? role::server : role::client;
                for (auto& [other, on] : _nodes) {
                    if (!on.subscribed.contains(name) || on.service->self().role != audience) continue;
                    ++_messages_sent;
                    _queue.push_back({other, {core::link::kind::subscribed, ""}, publish->msg});
                }
            } else if (auto* dial = std::get_if<core::effect::dial>(&out)) {
                n.dialed.insert(dial->router_endpoint);
            } else if (auto* hang_up = std::get_if<core::effect::hang_up>(&out)) {
                n.dialed.erase(hang_up->router_endpoint);
            } else if (auto* sub = std::get_if<core::effect::subscribe>(&out)) {
                n.subscribed.insert(name_of_endpoint(sub->pub_endpoint));
            } else if (auto* unsub = std::get_if<core::effect::unsubscribe>(&out)) {
                n.subscribed.erase(name_of_endpoint(unsub->pub_endpoint));
            }
        }
    }

    std::mt19937_64 _rng;
    double _loss;
    std::uint64_t _now_ms = 0;
    std::map<std::string, sim_node> _nodes;
    std::set<std::string> _crashed;
    std::vector<delivery> _queue;
    std::size_t _messages_sent = 0;
};

}  // namespace zpartisan::sim
