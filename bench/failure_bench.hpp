// Failure detection benchmark: how long until a crashed (sockets closed) or hung (silent)
// server is seen down, against heartbeat_interval x X, and how long its client takes to
// re-home, over repeated trials.
#pragma once

#include <cstdint>

#include "report.hpp"

namespace zpartisan::bench {

void run_failure_detection(int trials, std::uint32_t heartbeat_ms, std::uint32_t missed, const reporter& out);

}  // namespace zpartisan::bench
