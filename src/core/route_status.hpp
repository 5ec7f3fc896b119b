// Why a message could not even start its way (docs/protocol.md §7, Results). Its own header so
// parts below the peer service (flow control) can name a route's state.
#pragma once

namespace zpartisan::core {

enum class route_status {
    ok,
    unknown_node,
    not_yet_connected,
    disconnected,
    unreachable,
    partitioned,
    congested,
    stopped
};

}  // namespace zpartisan::core
