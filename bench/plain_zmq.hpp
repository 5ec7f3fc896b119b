// The baseline: plain libzmq moving the same payloads over the same hops, no protocol.
// A (DEALER) -> relay 1 (ROUTER) -> ... -> relay h (ROUTER) -> B (DEALER), each a thread.
#pragma once

#include <cstddef>
#include <vector>

namespace zpartisan::bench {

struct latency {
    double p50_us = 0;
    double p99_us = 0;
};

double plain_zmq_throughput(std::size_t relays, std::size_t payload_bytes, std::size_t messages);
// One sample (µs) per round trip, after 200 unrecorded warm-up round trips.
std::vector<double> plain_zmq_round_trip(std::size_t relays, std::size_t payload_bytes, std::size_t round_trips);
latency percentiles(std::vector<double> samples_us);

}  // namespace zpartisan::bench
