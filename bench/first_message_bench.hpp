// The first message after sync_join: how long it takes to arrive, each way, plain and
// acked, against the steady round trip between the same two nodes (docs/protocol.md §3,
// "ready both ways").
#pragma once

#include "report.hpp"

namespace zpartisan::bench {

void run_first_message(int trials, const reporter& out);

}  // namespace zpartisan::bench
