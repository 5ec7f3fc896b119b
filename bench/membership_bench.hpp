// Membership benchmarks: real nodes on 127.0.0.1 (one process), and the pure simulation.
#pragma once

#include <vector>

#include "report.hpp"

namespace zpartisan::bench {

// Node objects (each a reactor thread and real sockets) in this process: time from the last
// join call to full convergence, and bytes sent per node per membership change.
void run_real_membership(const std::vector<int>& node_counts, const reporter& out);

// The deterministic simulation: rounds, messages (and with measure_bytes, bytes) until every
// node agrees, wall time and peak resident memory; each size runs in a child process.
void run_simulated_membership(const std::vector<int>& node_counts, bool measure_bytes, const reporter& out);

}  // namespace zpartisan::bench
