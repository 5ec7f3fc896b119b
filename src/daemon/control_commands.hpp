// The control protocol of zpartisan-node (docs/control.md): one JSON object per request,
// {"cmd": "...", ...}, answered by one JSON object with "ok" and either the data or "error".
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "daemon/inbox.hpp"
#include "zpartisan/node.hpp"

namespace zpartisan::daemon {

// Never throws: a malformed request or a failing command is an {"ok": false} answer.
[[nodiscard]] std::string handle_control_request(Node& node, const inbox& box, const std::string& request);

}  // namespace zpartisan::daemon
