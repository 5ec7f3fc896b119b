// Messaging benchmark: throughput and round-trip latency of zpartisan routes, each next to
// plain libzmq doing the same hops in the same run (DEALER -> ROUTER relays -> DEALER).
#pragma once

#include <string>
#include <vector>

#include "report.hpp"

namespace zpartisan::bench {

struct relay_settings {
    std::vector<std::string> routes{"ss", "cc1", "cc2"};  // server->server; client->client via 1 / 2 servers
    std::vector<std::size_t> sizes{64, 1024};
    // thread: handlers on the node's handler thread (the default); inline: on its reactor.
    std::vector<std::string> handlers{"thread", "inline"};
    std::size_t messages = 200000;   // per throughput run
    std::size_t round_trips = 2000;  // per latency run, after 200 warm-up
    // Ours and plain libzmq take turns this many times per figure: a machine whose speed
    // drifts during the run (a shared VM) then slows both alike instead of whichever ran last.
    std::size_t rounds = 3;
    // How A waits for each reply in the round trips, the same on both sides: spin = looks
    // without blocking, yielding between looks; block = sleeps until woken (a condition
    // variable for ours, a blocking recv for plain libzmq).
    std::string wait = "spin";
};

void run_relay(const relay_settings& settings, const reporter& out);

}  // namespace zpartisan::bench
