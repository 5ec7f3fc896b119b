// peer_service: which clients a server holds (docs/protocol.md §5, holding clients): taken at
// their hello or, after our restart, at their first heartbeat; let go when the client's own
// spec names another home or it never confirmed us.
#include <vector>

#include "core/peer_service.hpp"

namespace zpartisan::core {

void peer_service::readopt_client(const std::string& name, std::uint64_t now_ms) {
    // Our previous life's client, whose connection ZeroMQ re-made by itself after our
    // restart: it never says hello again, since to it nothing happened. Its spec (restored
    // with our state) names us as home, so we take it back and welcome it, which brings it
    // our new incarnation and publisher sequence.
    const auto* spec = _membership.spec_of(name);
    if (!spec || spec->role != role::client || spec->home_server != _self.name) return;
    _attached_clients[name] = now_ms;
    routes_changed();
    watch(name, now_ms);
    count("clients_readopted");
    _output.emplace_back(
        effect::send{{link::kind::accepted, name},
                     welcome{_self, _membership.state(), _replication.published(effect::stream::clients),
                             _options.max_message_bytes}});
    pass_recent_heals({link::kind::accepted, name});
}

void peer_service::detach(const std::string& client) {
    _attached_clients.erase(client);
    routes_changed();
    if (!dial_of_peer(client)) unwatch(client);
}

void peer_service::drop_foreign_attachments(std::uint64_t now_ms) {
    const auto grace = _options.heartbeat_interval_ms * _options.missed_heartbeats + _options.handshake_retry_max_ms;
    std::vector<std::string> foreign;
    for (const auto& [name, since] : _attached_clients) {
        if (now_ms < since + grace) continue;
        const auto* spec = _membership.spec_of(name);
        if (!spec || (!spec->home_server.empty() && spec->home_server != _self.name)) foreign.push_back(name);
    }
    if (!foreign.empty()) _counters["clients_detached_foreign"] += foreign.size();
    for (const auto& name : foreign) detach(name);
}

bool peer_service::stale_hello(const node_spec& client) const {
    // A hello that waited in a hung server's buffers while its client moved on: it names us
    // as home, but that very life of the client has since published another home.
    const auto* known = _membership.spec_of(client.name);
    return known && known->incarnation == client.incarnation && client.home_server == _self.name &&
           !known->home_server.empty() && known->home_server != _self.name;
}

}  // namespace zpartisan::core
