// zpartisan-bench: measured figures for membership (and, as they land, messaging).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdint>

#include "membership_bench.hpp"
#include "failure_bench.hpp"
#include "first_message_bench.hpp"
#include "relay_bench.hpp"
#include "cluster_bench.hpp"

int main(int argc, char** argv) {
    CLI::App app{
        "zpartisan-bench: messaging throughput and latency against plain libzmq, and membership "
        "convergence on real sockets and in simulation"};
    bool json = false;
    app.add_flag("--json", json, "print one JSON object per figure");
    app.require_subcommand(1);

    std::vector<int> real_nodes{50, 100, 200};
    auto* membership = app.add_subcommand("membership", "real Node objects on 127.0.0.1 in this process");
    membership->add_option("--nodes", real_nodes, "cluster sizes (servers = max(3, nodes/20))")->delimiter(',');

    std::vector<int> sim_nodes{1000, 5000, 10000};
    bool sim_bytes = false;
    auto* sim = app.add_subcommand("sim", "the deterministic simulation of the protocol");
    sim->add_option("--nodes", sim_nodes, "cluster sizes (servers = max(3, nodes/20))")->delimiter(',');
    sim->add_flag("--bytes", sim_bytes, "also encode every message to count bytes (slower)");

    zpartisan::bench::relay_settings relay_settings;
    auto* relay = app.add_subcommand(
        "relay",
        "messages/s and round-trip p50/p99 per route and size, each as a ratio of plain libzmq doing the "
        "same hops (DEALER -> ROUTER relays -> DEALER) in the same run");
    relay
        ->add_option("--routes", relay_settings.routes,
                     "ss = server to server; cc1 = client to client through one server; cc2 = through two servers")
        ->delimiter(',')
        ->check(CLI::IsMember({"ss", "cc1", "cc2"}));
    relay->add_option("--sizes", relay_settings.sizes, "payload sizes in bytes")->delimiter(',');
    relay
        ->add_option("--handlers", relay_settings.handlers,
                     "where handlers run: thread = the handler thread (default config), inline = the reactor "
                     "(config.inline_handlers)")
        ->delimiter(',')
        ->check(CLI::IsMember({"thread", "inline"}));
    relay->add_option("--messages", relay_settings.messages, "messages per throughput run (halved for >= 1 KiB)");
    relay->add_option("--round-trips", relay_settings.round_trips, "round trips per latency run (after 200 warm-up)");
    relay
        ->add_option("--rounds", relay_settings.rounds,
                     "turns ours and plain libzmq take per figure, each of ours followed by plain libzmq's: "
                     "ratios are the median of the turns' ratios; absolute figures are the median turn "
                     "(throughput) and the pooled samples (latency)")
        ->check(CLI::Range(1, 100));
    relay
        ->add_option("--wait", relay_settings.wait,
                     "how A waits for each round trip's reply, the same way on both sides: spin = polls without "
                     "blocking, yielding between looks (default); block = sleeps until woken (a condition variable "
                     "for ours, a blocking recv for plain libzmq)")
        ->check(CLI::IsMember({"spin", "block"}));

    int trials = 20;
    std::uint32_t heartbeat_ms = 100, missed = 3;
    auto* failure = app.add_subcommand("failure", "failure detection time (crash and hang) and client re-homing time");
    failure->add_option("--trials", trials, "trials per kind of failure");
    failure->add_option("--heartbeat-ms", heartbeat_ms, "heartbeat interval");
    failure->add_option("--missed", missed, "missed heartbeats before failed (X)");

    int first_trials = 20;
    auto* first_message = app.add_subcommand(
        "first-message", "the first message after sync_join, each way, plain and acked, against the steady round trip");
    first_message->add_option("--trials", first_trials, "fresh pairs of nodes per joiner role");

    zpartisan::bench::cluster_settings cluster_settings;
    auto* cluster = app.add_subcommand(
        "cluster",
        "real zpartisan-node daemons on 127.0.0.1 (servers = N/20): convergence after the last start, the "
        "join storm, and at rest idle CPU, memory, threads and false failures");
    cluster->add_option("--processes", cluster_settings.processes, "cluster sizes")
        ->delimiter(',')
        ->check(CLI::Range(2, 5000));
    cluster->add_option("--node-binary", cluster_settings.node_binary,
                        "the zpartisan-node to run (default: the one beside this binary)");
    cluster->add_option("--rest-seconds", cluster_settings.rest_seconds, "the rest window after convergence")
        ->check(CLI::Range(1, 3600));
    cluster
        ->add_option("--converge-timeout-seconds", cluster_settings.converge_timeout_seconds,
                     "give up on convergence after this long from the last start")
        ->check(CLI::Range(1, 3600));
    cluster->add_option("--node-flag", cluster_settings.node_flags,
                        "a flag for every daemon, repeatable (e.g. --node-flag=--heartbeat-ms --node-flag=500)");

    CLI11_PARSE(app, argc, argv);
    spdlog::set_level(spdlog::level::err);
    zpartisan::bench::reporter out{json};
    if (*membership) zpartisan::bench::run_real_membership(real_nodes, out);
    if (*sim) zpartisan::bench::run_simulated_membership(sim_nodes, sim_bytes, out);
    if (*relay) zpartisan::bench::run_relay(relay_settings, out);
    if (*failure) zpartisan::bench::run_failure_detection(trials, heartbeat_ms, missed, out);
    if (*first_message) zpartisan::bench::run_first_message(first_trials, out);
    // Non-zero when a cluster did not converge, did not stay so, or saw a false failure.
    if (*cluster && !zpartisan::bench::run_cluster(cluster_settings, out)) return 1;
    return 0;
}
