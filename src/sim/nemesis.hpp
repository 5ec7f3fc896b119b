// The nemesis: from one seed, a random cluster and a random schedule of the faults that
// production brings (crashes and restarts from disk, hung processes, leaves, removals,
// update_members with a member that never joined, link cuts both ways and one way, injected
// partitions, a lossy and reordering network) under a load of acked and plain messages on
// several channels and lanes. Then everything heals, time runs, and checkers assert the
// invariants of convergence under faults (docs/protocol.md §9): one membership everywhere,
// every pair of live members can deliver, every client has a live home, acked messages are
// handled once, none crosses a partition in force, each flow keeps its send order
// (sim/order_checker.hpp), and a member never heard from is never reported reachable. A
// failing schedule shrinks to the shortest story that still fails. Pure: no clock, no
// threads; a seed replays exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/sim_network.hpp"

namespace zpartisan::sim {

enum class fault_kind : std::uint8_t {
    crash,          // kill -9, restarted from its persisted state when the fault ends
    pause,          // SIGSTOP for the fault's length
    leave,          // the node leaves; joins again as a new process when the fault ends, if it does
    remove,         // `other` removes the node; joins again as a new process when the fault ends, if it does
    ghost_member,   // update_members at `other` adds `node`, a running client that never joined
    cut_link,       // no traffic between node and other, both ways
    cut_one_way,    // nothing from node reaches other
    partition,      // inject_partition at `other` with origin `node` (ttl in `ttl`), resolved at the end
    lossy_network,  // 10-30 % loss, duplication and reordering on PUB/SUB, delays on connections
};

struct fault {
    std::uint64_t at_round = 0;
    fault_kind kind = fault_kind::crash;
    std::string node;
    std::string other;
    std::uint64_t rounds = 0;  // how long it lasts (leave, remove: 0 = for good)
    std::uint32_t ttl = 0;
};

struct scenario {
    std::uint64_t seed = 0;
    int servers = 3;
    int clients = 3;
    timings timing;
    std::uint64_t fault_rounds = 1000;
    std::vector<fault> faults;
    bool ticks_only_when_due = false;  // sim_network::set_ticks_only_when_due, checked
};

struct outcome {
    std::vector<std::string> violations;
    std::size_t faults_injected = 0;
    std::size_t acked_messages = 0;        // sent under faults and, after healing, between every pair
    std::uint64_t rounds_to_converge = 0;  // after the heal, until the invariants held
    std::string final_state;               // when the invariants did not hold: how every node saw the cluster
    std::uint64_t trace_hash = 0;          // sim_network::trace_hash at the end
    std::uint64_t ticks_skipped = 0;
    std::uint64_t skipped_ticks_with_output = 0;
    [[nodiscard]] bool ok() const { return violations.empty(); }
};

// The names of a scenario's nodes: servers s1..sN, clients c1..cM.
[[nodiscard]] inline std::string server_name(int i) { return "s" + std::to_string(i); }
[[nodiscard]] inline std::string client_name(int i) { return "c" + std::to_string(i); }

// Plays the scenario, heals, settles and checks (nemesis.cpp).
[[nodiscard]] outcome run_scenario(const scenario& s);

// The schedules (scenario.cpp). A random cluster (2-6 servers, 0-max_clients clients, random
// timings) and 1-8 faults.
[[nodiscard]] scenario draw_scenario(std::uint64_t seed, int max_clients = 30);
// Drops faults one at a time while the scenario still fails; the result is a scenario whose
// every fault is needed for the failure. `last` receives the shrunk scenario's outcome.
[[nodiscard]] scenario shrink(const scenario& failing, outcome& last);
[[nodiscard]] std::string describe(const fault& f);
[[nodiscard]] std::string describe(const scenario& s);

}  // namespace zpartisan::sim
