// zpartisan-bench cluster: N real zpartisan-node daemons on 127.0.0.1 (servers = N/20, at least
// one), joined as a compose cluster would be: servers through s1, each client through two servers.
// Per N it reports the time from the last start until every node lists every member reachable,
// the join storm (each client's wait for its first welcome), and over a rest window idle CPU,
// resident memory and threads per daemon, and false failures (members seen down while every
// process is alive).
#pragma once

#include <string>
#include <vector>

#include "report.hpp"

namespace zpartisan::bench {

struct cluster_settings {
    std::vector<int> processes{200, 1000};
    std::string node_binary;  // empty: the zpartisan-node beside the bench
    int rest_seconds = 60;
    int converge_timeout_seconds = 300;
    std::vector<std::string> node_flags;  // extra flags for every daemon (e.g. --heartbeat-ms 500)
};

// True when every size converged, stayed converged and saw no false failure at rest.
bool run_cluster(const cluster_settings& settings, const reporter& out);

}  // namespace zpartisan::bench
