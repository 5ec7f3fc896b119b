// A deterministic simulated network for pure peer_service nodes: hundreds or thousands of
// nodes in one thread, no sockets, no clock. It carries every effect of the core: membership,
// liveness, handshakes, routed application messages with and without ack (their deliveries
// and delivery reports are recorded), partitions and referrals. What production does to a
// cluster is here too: crash and restart from the persisted state, a pause (a hung process),
// link cuts both ways or one way, loss, duplication, delay (hence reordering) and slow
// joiners, and connections that fill (flow control). Everything comes from one seed, so a failing seed replays exactly.
// Used by the simulation and nemesis tests and by the benchmark.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/flow_control.hpp"
#include "core/peer_service.hpp"

namespace zpartisan::sim {

struct faults {
    double loss = 0.0;                     // share of deliveries dropped
    double duplication = 0.0;              // share of deliveries delivered twice
    std::uint32_t delay_rounds_max = 0;    // each delivery waits 0..max rounds: reordering
    std::uint32_t slow_joiner_rounds = 0;  // a new SUB misses publishes for this many rounds
    // As ZeroMQ over TCP: a DEALER/ROUTER connection neither loses, duplicates nor reorders
    // what it carries (only a cut or a crash loses it); loss, duplication and reordering hit
    // PUB/SUB, which drops on a full queue, a slow joiner or a reconnection. Off: every
    // delivery is exposed alike.
    bool connections_keep_order = false;
    // Data frames one connection carries undelivered at most (its high-water mark), so a
    // receiver that reads slowly or not at all (paused) fills it: the sender's flow control
    // then holds what meets it (core/flow_control.hpp), as the runtime does. 0: unbounded.
    std::size_t connection_capacity = 0;
};

// What the nodes' flow control did with data frames that met a full connection, and any
// broken promise of it found as it happened.
struct flow_stats {
    std::uint64_t held = 0;                  // frames that waited
    std::uint64_t sent_after_holding = 0;    // of those, sent at last
    std::uint64_t failed_after_holding = 0;  // ... found no connection when their turn came
    std::uint64_t dropped = 0;               // ... dropped, counted by a reason
    std::uint64_t lost_in_crash = 0;         // ... held by a process that died
    std::uint64_t refused = 0;               // over the backlog bound: never held, counted
    std::map<core::drop_reason, std::uint64_t> dropped_because;
    std::uint64_t rerouted = 0;  // held frames moved to another hop as their route moved
    std::size_t held_most = 0;   // the most one node held at once
    std::size_t held_most_for_one_hop = 0;
    // A held frame sent out of its destination's order, or to a destination the sender was
    // cut off from while it waited.
    std::vector<std::string> violations;
};

// The protocol timings every node of a network is given.
struct timings {
    std::uint64_t heartbeat_interval_ms = 1000;
    std::uint32_t missed_heartbeats = 3;
    std::uint64_t gossip_interval_ms = 100;
    std::uint64_t handshake_retry_ms = 50;
    std::uint64_t ack_timeout_ms = 5000;
};

struct traffic {
    std::uint64_t messages = 0;  // deliveries attempted (before loss)
    std::uint64_t bytes = 0;     // when a sizer is set
    std::map<core::message_type, std::uint64_t> by_type;
};

// An application message handed to a node's handler.
struct delivered {
    std::string at;
    std::uint64_t at_incarnation = 0;
    core::forward msg;
    bool across_partition = false;  // a partition the receiver holds cut it off from the origin
};

// The fate of an acked message, as its sender heard it.
struct report {
    std::string at;
    std::uint64_t at_incarnation = 0;  // report ids count afresh in every life
    core::effect::delivery_report what;
};

// The answer to a partition request, as its requester heard it.
struct partition_answer {
    std::string at;
    std::uint64_t at_incarnation = 0;
    core::effect::partition_outcome what;
};

class sim_network {
public:
    static constexpr std::uint64_t round_ms = 10;

    explicit sim_network(std::uint64_t seed, faults f = {}, timings t = {});

    core::peer_service& add(const std::string& name, role r, std::uint64_t incarnation = 1);
    core::peer_service& node(const std::string& name) { return *_nodes.at(name).service; }
    [[nodiscard]] const core::peer_service& node(const std::string& name) const { return *_nodes.at(name).service; }
    [[nodiscard]] bool has(const std::string& name) const { return _nodes.contains(name); }
    [[nodiscard]] std::vector<std::string> names() const;
    [[nodiscard]] static std::string router_of(const std::string& name) { return "sim://" + name + "/router"; }

    // Carries out what an API call (send_app, a partition) left in the node's output at once,
    // as the runtime does; otherwise it goes out with the node's next input or tick.
    void apply_output_of(const std::string& name) { collect(name); }
    // One round: deliver what is due, then tick every live node.
    void run_rounds(int rounds);
    // Runs until every live, running node holds the same membership as `expected` (checked
    // every check_every rounds). Returns the rounds it took, or -1 after rounds_max.
    int run_until_converged(const std::vector<std::string>& expected, int rounds_max, int check_every = 1);

    void set_faults(faults f) { _faults = f; }
    [[nodiscard]] const faults& current_faults() const { return _faults; }
    // Cuts all traffic between the two groups, both ways, until heal().
    void partition(const std::set<std::string>& side_a, const std::set<std::string>& side_b);
    // Cuts what `from` sends to `to` only (the other way still flows), until restore or heal.
    void cut_one_way(const std::string& from, const std::string& to) { _cut.insert({from, to}); }
    void restore_one_way(const std::string& from, const std::string& to) { _cut.erase({from, to}); }
    void heal() { _cut.clear(); }

    // The process dies: what it had not persisted is gone, and its peers' connections to it
    // close (their socket monitors report it, as ZeroMQ's do).
    void crash(const std::string& name);
    // A crashed node starts again from its persisted state with the next incarnation.
    void restart(const std::string& name);
    // A node that stopped (it left or was removed) starts afresh, as a new process with an
    // empty data directory and the next incarnation, and joins through `endpoint`.
    void rejoin(const std::string& name, const std::string& endpoint);
    // A hung process: it neither ticks nor reads; what is sent to it waits (its peers' TCP
    // buffers), and it reads all of it when it resumes.
    void pause(const std::string& name) { _paused.insert(name); }
    void resume(const std::string& name) { _paused.erase(name); }
    [[nodiscard]] bool crashed(const std::string& name) const { return _crashed.contains(name); }
    [[nodiscard]] bool paused(const std::string& name) const { return _paused.contains(name); }
    // A process that runs and whose node runs: neither crashed, nor paused, nor stopped.
    [[nodiscard]] bool live(const std::string& name) const;

    // Measures each delivered message (e.g. with the wire codec) for traffic().bytes.
    void set_sizer(std::function<std::size_t(const core::message&)> sizer) { _sizer = std::move(sizer); }
    // Nodes' handlers are registered on every node added (the application's "handlers").
    void register_handler_everywhere(const std::string& handler);

    // Off (the default): every live node ticks every round. On: a node ticks only in a round
    // its next_deadline_ms() says is due, as the runtime sleeps until then; a run must not
    // differ in anything (trace_hash). With checking on, each tick skipped is tried on a copy
    // of the node, which must emit nothing (skipped_ticks_with_output counts those that did).
    void set_ticks_only_when_due(bool on, bool check_skipped = false) {
        _ticks_only_when_due = on;
        _check_skipped_ticks = check_skipped;
    }
    [[nodiscard]] std::uint64_t ticks_skipped() const { return _ticks_skipped; }
    [[nodiscard]] std::uint64_t skipped_ticks_with_output() const { return _skipped_ticks_with_output; }
    // A digest of everything the nodes emitted, in order, with the round and the node: two
    // runs that emit the same effects at the same times have the same one.
    [[nodiscard]] std::uint64_t trace_hash() const { return _trace_hash; }

    [[nodiscard]] bool converged(const std::vector<std::string>& expected) const;
    [[nodiscard]] const traffic& stats() const { return _traffic; }
    [[nodiscard]] std::uint64_t now_ms() const { return _now_ms; }
    [[nodiscard]] std::uint64_t round() const { return _round; }
    [[nodiscard]] std::uint64_t seed() const { return _seed; }
    [[nodiscard]] const std::vector<delivered>& deliveries() const { return _deliveries; }
    [[nodiscard]] const std::vector<report>& reports() const { return _reports; }
    [[nodiscard]] const std::vector<partition_answer>& partition_answers() const { return _partition_answers; }
    // Why a node stopped (effect::stopped), if it did.
    [[nodiscard]] std::optional<std::string> stop_reason(const std::string& name) const;
    // Flow control (sim_flow.cpp): every node's limits (the runtime's by default), what it did,
    // and what is held now across the network.
    void set_flow_limits(core::flow_limits limits) { _flow_limits = limits; }
    [[nodiscard]] const flow_stats& flow() const { return _flow; }
    [[nodiscard]] std::size_t held_now() const;
    [[nodiscard]] const core::flow_control& flow_of(const std::string& name) const { return _nodes.at(name).flow; }

private:
    struct delivery {
        std::uint64_t due_round = 0;
        std::string to;
        std::uint64_t to_incarnation = 0;  // a delivery never reaches a later process
        core::link from;
        std::shared_ptr<const core::message> msg;  // one copy, however many subscribers
        bool fills_connection = false;             // counted against connection_capacity
    };
    struct sim_node {
        std::unique_ptr<core::peer_service> service;
        role node_role = role::server;
        std::uint64_t incarnation = 1;
        std::set<std::string> dialed;                  // router endpoints
        std::optional<core::membership_state> stored;  // what a restart finds on disk
        std::optional<std::string> stopped_because;
        // Data frames held for a full connection: their order and fate in flow, their
        // message here by handle (the handle is the frame's sequence number, see transmit).
        core::flow_control flow{core::flow_limits{}};
        struct held_frame {
            std::shared_ptr<const core::message> msg;
            bool cut_off_when_held = false;  // its destination was partitioned already
        };
        std::map<core::frame_handle, held_frame> held;
    };

    static std::string name_of_endpoint(const std::string& endpoint);
    void start_process(const std::string& name, const core::membership_state* restored);
    void collect(const std::string& name);
    void enqueue(std::string to, core::link from, const std::shared_ptr<const core::message>& msg,
                 const std::string& sender, bool fills_connection = false);
    // sim_flow.cpp: a send effect goes out, or waits in the node's flow control when it is a
    // data frame that meets a full connection or one that already holds frames.
    [[nodiscard]] core::hop_send send_or_hold(const std::string& name, sim_node& n, const core::link& to,
                                              std::shared_ptr<const core::message> msg);
    // Puts a frame on the connection behind `to`, as the transport would; seq orders data frames.
    [[nodiscard]] core::hop_send transmit(const std::string& name, sim_node& n, const core::link& to,
                                          const std::shared_ptr<const core::message>& msg, std::uint64_t seq);
    void retry_held(const std::string& name);
    void follow_routes(sim_node& n);
    void release_dropped(sim_node& n);
    void note_flow_bounds(const sim_node& n);
    [[nodiscard]] bool cut(const std::string& a, const std::string& b) const;
    // Whether a ROUTER send from `from` to the peer `to` finds the peer's connection.
    [[nodiscard]] bool dials_us(const std::string& to, const std::string& from) const;

    std::uint64_t _seed;
    std::mt19937_64 _rng;
    faults _faults;
    timings _timings;
    std::uint64_t _round = 0;
    std::uint64_t _now_ms = 0;
    std::map<std::string, sim_node> _nodes;
    std::set<std::string> _crashed;
    std::set<std::string> _paused;
    std::set<std::string> _handlers;
    // publisher -> subscriber -> the round its SUB connects (earlier publishes are lost)
    std::map<std::string, std::map<std::string, std::uint64_t>> _subscribers;
    std::set<std::pair<std::string, std::string>> _cut;
    std::multimap<std::uint64_t, delivery> _queue;  // by due round
    // (sender, receiver, via) -> the last due round on that connection (connections_keep_order)
    std::map<std::tuple<std::string, std::string, core::link::kind>, std::uint64_t> _last_due;
    traffic _traffic;
    bool _ticks_only_when_due = false;
    bool _check_skipped_ticks = false;
    std::uint64_t _ticks_skipped = 0;
    std::uint64_t _skipped_ticks_with_output = 0;
    std::uint64_t _trace_hash = 0;
    void trace(std::string_view node, std::uint64_t what, std::string_view detail = {});
    // Whether the node has something to do this round (always, unless ticks only when due).
    bool tick_due(core::peer_service& service);
    std::function<std::size_t(const core::message&)> _sizer;
    std::vector<delivered> _deliveries;
    std::vector<report> _reports;
    std::vector<partition_answer> _partition_answers;
    core::flow_limits _flow_limits;
    flow_stats _flow;
    std::uint64_t _data_frames = 0;  // data frames sent or held so far: their sequence numbers
    // Undelivered data frames per connection (receiver, the link it hears them from).
    std::map<std::pair<std::string, core::link>, std::size_t> _in_flight;
    // The sequence number of the last data frame each node sent to each destination.
    std::map<std::pair<std::string, std::string>, std::uint64_t> _last_sent_to;
};

}  // namespace zpartisan::sim
