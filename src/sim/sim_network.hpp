// A deterministic simulated network for pure peer_service nodes: hundreds or thousands of
// nodes in one thread, no sockets, no clock. Effects become queued deliveries; loss,
// duplication, delay (hence reordering), slow joiners and partitions all come from one seed,
// so a failing seed replays exactly. Used by the simulation tests and the benchmark.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/peer_service.hpp"

namespace zpartisan::sim {

struct faults {
    double loss = 0.0;                    // share of deliveries dropped
    double duplication = 0.0;             // share of deliveries delivered twice
    std::uint32_t delay_rounds_max = 0;   // each delivery waits 0..max rounds: reordering
    std::uint32_t slow_joiner_rounds = 0;  // a new SUB misses publishes for this many rounds
};

struct traffic {
    std::uint64_t messages = 0;  // deliveries attempted (before loss)
    std::uint64_t bytes = 0;     // when a sizer is set
    std::map<core::message_type, std::uint64_t> by_type;
};

class sim_network {
public:
    static constexpr std::uint64_t round_ms = 10;

    explicit sim_network(std::uint64_t seed, faults f = {});

    core::peer_service& add(const std::string& name, role r, std::uint64_t incarnation = 1);
    core::peer_service& node(const std::string& name) { return *_nodes.at(name).service; }
    [[nodiscard]] static std::string router_of(const std::string& name) { return "sim://" + name + "/router"; }

    // One round: deliver what is due, then tick every live node.
    void run_rounds(int rounds);
    // Runs until every live, running node holds the same membership as `expected` (checked
    // every check_every rounds). Returns the rounds it took, or -1 after rounds_max.
    int run_until_converged(const std::vector<std::string>& expected, int rounds_max, int check_every = 1);

    void set_faults(faults f) { _faults = f; }
    // Cuts all traffic between the two groups, both ways, until heal().
    void partition(const std::set<std::string>& side_a, const std::set<std::string>& side_b);
    void heal() { _cut.clear(); }
    void crash(const std::string& name) { _crashed.insert(name); }
    // Measures each delivered message (e.g. with the wire codec) for traffic().bytes.
    void set_sizer(std::function<std::size_t(const core::message&)> sizer) { _sizer = std::move(sizer); }

    [[nodiscard]] bool converged(const std::vector<std::string>& expected) const;
    [[nodiscard]] const traffic& stats() const { return _traffic; }
    [[nodiscard]] std::uint64_t now_ms() const { return _now_ms; }
    [[nodiscard]] std::uint64_t seed() const { return _seed; }

private:
    struct delivery {
        std::uint64_t due_round = 0;
        std::string to;
        core::link from;
        std::shared_ptr<const core::message> msg;  // one copy, however many subscribers
    };
    struct sim_node {
        std::unique_ptr<core::peer_service> service;
        std::set<std::string> dialed;  // router endpoints
    };

    static std::string name_of_endpoint(const std::string& endpoint);
    void collect(const std::string& name);
    void enqueue(std::string to, core::link from, const std::shared_ptr<const core::message>& msg,
                 const std::string& sender);
    [[nodiscard]] bool cut(const std::string& a, const std::string& b) const;

    std::uint64_t _seed;
    std::mt19937_64 _rng;
    faults _faults;
    std::uint64_t _round = 0;
    std::uint64_t _now_ms = 0;
    std::map<std::string, sim_node> _nodes;
    std::set<std::string> _crashed;
    // publisher -> subscriber -> the round its SUB connects (earlier publishes are lost)
    std::map<std::string, std::map<std::string, std::uint64_t>> _subscribers;
    std::set<std::pair<std::string, std::string>> _cut;
    std::multimap<std::uint64_t, delivery> _queue;  // by due round
    traffic _traffic;
    std::function<std::size_t(const core::message&)> _sizer;
};

}  // namespace zpartisan::sim
