// Where the daemon may serve its control endpoint. Whoever can send it a request can remove
// any member, inject partitions and read the inbox, with no key asked (docs/control.md,
// "Who may ask"), so by default it is reachable from this host only: an ipc:// socket file
// (created for the daemon's user alone), or TCP on a loopback address. Anything else needs
// --control-allow-remote, said out loud.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace zpartisan::daemon {

// Why the endpoint is refused (one line for the operator), or nullopt when it may be bound.
[[nodiscard]] std::optional<std::string> control_endpoint_refusal(std::string_view endpoint, bool allow_remote);

// The host part of a tcp:// endpoint is a loopback address: 127.0.0.0/8, ::1 or localhost.
[[nodiscard]] bool is_loopback_tcp(std::string_view endpoint);

}  // namespace zpartisan::daemon
