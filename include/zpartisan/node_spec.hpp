/// @file
/// What the cluster knows about one node: its identity and where to reach it.
/// Plain data, standard library only, shared by the public API and the pure core.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zpartisan {

/// What a node is in the cluster: servers form a full mesh and relay; a client holds one
/// connection, to its home server.
enum class role : std::uint8_t { server = 1, client = 2 };

/// "server" or "client".
[[nodiscard]] std::string_view to_string(role r);
/// The role named "server" or "client"; nullopt for anything else.
[[nodiscard]] std::optional<role> parse_role(std::string_view text);

/// One member as the membership CRDT holds it; members_for_orchestration() lists them and
/// join(const node_spec&) dials one.
struct node_spec {
    std::string name;  ///< unique in the cluster
    zpartisan::role role = role::server;
    std::string router_endpoint;    ///< where peers dial this node's ROUTER
    std::string pub_endpoint;       ///< where membership deltas are published (servers)
    std::string home_server;        ///< clients: name of the server they are attached to
    std::uint64_t incarnation = 0;  ///< grows at every restart; part of the identity
    std::string tag;                ///< clients: may use a slot a server reserved for this tag
    /// Its CurveZMQ public key (Z85, 40 characters), which a peer needs to dial it when the
    /// cluster runs with curve on; empty for a plaintext node (protocol 6).
    std::string public_key;

    auto operator<=>(const node_spec&) const = default;
    bool operator==(const node_spec&) const = default;
};

}  // namespace zpartisan
