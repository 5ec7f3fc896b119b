// The control protocol of zpartisan-node (docs/control.md): one JSON object per request,
// {"cmd": "...", ...}, answered by one JSON object with "ok" and either the data or "error".
#pragma once

#include <string>

#include "daemon/inbox.hpp"
#include "daemon/report_waits.hpp"
#include "zpartisan/node.hpp"

namespace zpartisan::daemon {

// Answers `request` through `answer`, exactly once, and never throws: a malformed request or a
// failing command is an {"ok": false} answer. Every answer is given before this returns except
// an acked forward's, which waits in `waits` for its delivery report: it comes from the node's
// callback thread, or from waits.expire() at its deadline. `waits` must outlive the node's
// reports (destroy the node first).
void handle_control_request(Node& node, const inbox& box, report_waits& waits, const std::string& request,
                            const answer_sink& answer);

}  // namespace zpartisan::daemon
