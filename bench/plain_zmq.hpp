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
// spin: A waits for each reply polling without blocking (yielding the CPU between looks), as
// the zpartisan side waits for its pong; otherwise in a blocking recv.
std::vector<double> plain_zmq_round_trip(std::size_t relays, std::size_t payload_bytes, std::size_t round_trips,
                                         bool spin);
latency percentiles(std::vector<double> samples_us);

}  // namespace zpartisan::bench
