// zpartisan-ctl watch: membership and liveness events as the node sees them, one line each
// (or the node's JSON with --json), until Ctrl-C (docs/control.md, watch).
#pragma once

#include <string>

namespace zpartisan::cli {

// Exit status: 0 after Ctrl-C, 2 when the node does not answer or stops answering, 3 when the
// watched node stopped (left, removed or failed; its last event says why).
int watch(const std::string& control, bool as_json);

}  // namespace zpartisan::cli
