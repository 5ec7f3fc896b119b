// What the core and the transport both name: a link (one socket's peer, as the core sees it)
// and the streams a server publishes. The transport includes this, not the peer service.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace zpartisan::core {

// Where a message came from or goes to, in transport terms the core can name.
struct link {
    enum class kind : std::uint8_t {
        dialed,      // our DEALER; id = the router endpoint we dialed
        accepted,    // our ROUTER; id = the peer's routing id (its node name)
        subscribed,  // our SUB; id = the pub endpoint (inbound only)
    };
    kind via = kind::dialed;
    std::string id;

    auto operator<=>(const link&) const = default;
};

namespace effect {
// Servers publish two streams on their PUB (docs/protocol.md §4): `mesh`, which other
// servers subscribe to, carries first-hand changes; `clients`, which clients subscribe to,
// carries every change of the server's state. So each change costs S + N messages, not S².
enum class stream : std::uint8_t { mesh = 'm', clients = 'c' };
}  // namespace effect

}  // namespace zpartisan::core
